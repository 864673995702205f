"""Compressed packets of a camera, read without decoding (PyAV demux), for the compressed-domain gate.

:class:`PacketReader` yields, per stream session (a file round or an RTSP connection), one
:class:`StreamStart` with the stream's parameters, then :class:`Packet` values in decode order,
and for live cameras :class:`SourceGap` while the camera is down. File opening and RTSP
reconnects are the readers' (:func:`~safecity.monitor.sources.readers.open_video_file`,
:meth:`~safecity.monitor.sources.readers.RtspSource.sessions`).

Reading a packet costs about 10 microseconds; decoding a 640x360 frame about 1 ms (stack-notes.md
§12): the gate reads everything and decodes only what it needs.

Timestamps follow the readers: files give seconds from the start of the file (loops add the
duration, a jump back is stitched on), RTSP gives Unix time at receipt. Each packet keeps its
:class:`av.Packet` so that it can be decoded later (``Packet.av_packet``).

:func:`nal_unit_types` lists the NAL unit types of an H.264/HEVC packet (length-prefixed as in MP4,
or Annex B start codes as in MPEG-TS and RTSP): filler data (H.264 type 12, HEVC 38) is what
x264's ``nal-hrd=cbr`` pads frames with, and an in-band SPS (7 / 33) announces new stream
parameters (a mid-stream resolution change). :func:`hrd_constant_bitrate` reads the ``cbr_flag`` of
the stream's HRD parameters with FFmpeg's own header parser (the ``trace_headers`` bitstream
filter): a constant-bitrate encoder that never needs to pad is found that way too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.logging
from av.bitstream import BitStreamFilterContext

from safecity.monitor.sources.readers import RtspSource, open_video_file
from safecity.monitor.types import SourceGap

__all__ = [
    "FILLER_NAL",
    "Packet",
    "PacketReader",
    "SPS_NAL",
    "StreamParams",
    "StreamStart",
    "hrd_constant_bitrate",
    "nal_unit_types",
    "parameter_sets",
    "stream_params",
]

log = logging.getLogger(__name__)

FILLER_NAL = {"h264": 12, "hevc": 38}
"""NAL unit type of filler data per codec."""
SPS_NAL = {"h264": 7, "hevc": 33}
"""NAL unit type of a sequence parameter set per codec."""
_LIVE_SCHEMES = ("rtsp://", "rtsps://")


@dataclass(frozen=True, slots=True)
class StreamParams:
    """What the demuxer says about the video stream (nothing decoded).

    Attributes:
        codec: FFmpeg codec name (``h264``, ``hevc``, ``mjpeg``, ...).
        width, height: coded size from the container / stream header.
        fps: average frame rate, if the container knows it.
        time_base: seconds per pts tick.
        bit_rate: bits per second the container states (0 when unknown).
        has_b_frames: the stream reorders frames (decode order differs from display order).
        nal_length_size: bytes of the NAL length prefix (MP4 / MKV), or 0 for Annex B start codes.
    """

    codec: str
    width: int
    height: int
    fps: float | None
    time_base: Fraction
    bit_rate: int
    has_b_frames: bool
    nal_length_size: int


@dataclass(frozen=True, slots=True)
class StreamStart:
    """A new stream session begins (file opened or looped, RTSP (re)connected): reset decoders."""

    camera: str
    t_s: float
    session: int
    params: StreamParams
    stream: Any = field(default=None, repr=False, compare=False)  # av.VideoStream (decoder inside)


@dataclass(frozen=True, slots=True)
class Packet:
    """One compressed video packet in decode order.

    Attributes:
        camera: camera id.
        t_s: the packet's presentation time (files: seconds from the start; RTSP: Unix time at
            receipt).
        index: 1-based number of the packet in the source (all sessions).
        session: number of the :class:`StreamStart` it belongs to.
        size: bytes.
        keyframe: the demuxer flags it as a keyframe (decoding may start here).
        corrupt: the demuxer flags it as corrupt (e.g. an MPEG-TS continuity error).
        pts: presentation timestamp in ``time_base`` ticks (None when the stream has none).
        av_packet: the PyAV packet, to decode later.
    """

    camera: str
    t_s: float
    index: int
    session: int
    size: int
    keyframe: bool
    corrupt: bool
    pts: int | None
    av_packet: Any = field(default=None, repr=False, compare=False)


def _nal_length_size(codec: str, extradata: bytes) -> int:
    """Length-prefix size from avcC / hvcC extradata; 0 = Annex B (start codes)."""
    if not extradata or extradata[0] != 1:
        return 0
    if codec == "h264" and len(extradata) > 4:
        return (extradata[4] & 3) + 1
    if codec == "hevc" and len(extradata) > 21:
        return (extradata[21] & 3) + 1
    return 0


def _nal_type(codec: str, header: int) -> int:
    return (header >> 1) & 0x3F if codec == "hevc" else header & 0x1F


def _nal_units(data: bytes, length_size: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each NAL unit payload (header byte included)."""
    n = len(data)
    if length_size:
        i = 0
        while i + length_size < n:
            size = int.from_bytes(data[i : i + length_size], "big")
            start = i + length_size
            if size <= 0 or start + size > n:
                return
            yield start, start + size
            i = start + size
        return
    starts: list[int] = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        starts.append(i + 3)
        i = data.find(b"\x00\x00\x01", i + 3)
    for k, s in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else n
        while end > s and data[end - 1] == 0:  # trailing zero of a 4-byte start code
            end -= 1
        if end > s:
            yield s, end


def nal_unit_types(data: bytes, codec: str, length_size: int) -> list[int]:
    """NAL unit types in one H.264 / HEVC packet (empty for other codecs).

    Args:
        data: the packet's bytes.
        codec: ``h264`` or ``hevc``.
        length_size: NAL length prefix in bytes (:attr:`StreamParams.nal_length_size`), 0 for
            Annex B start codes.

    Example:
        >>> nal_unit_types(b"\\x00\\x00\\x00\\x01\\x67\\x42\\x00\\x00\\x01\\x65\\x88", "h264", 0)
        [7, 5]
    """
    if codec not in FILLER_NAL:
        return []
    return [_nal_type(codec, data[s]) for s, _ in _nal_units(data, length_size)]


def parameter_sets(data: bytes, codec: str, length_size: int) -> bytes:
    """The in-band SPS NAL units of a packet, concatenated (empty when it carries none)."""
    if codec not in SPS_NAL:
        return b""
    sps = SPS_NAL[codec]
    return b"".join(data[s:e] for s, e in _nal_units(data, length_size) if _nal_type(codec, data[s]) == sps)


def hrd_constant_bitrate(stream: Any, keyframe: Any) -> bool | None:
    """Whether the stream's HRD parameters say constant bitrate (``cbr_flag`` = 1).

    Runs FFmpeg's ``trace_headers`` bitstream filter over the stream's extradata and one keyframe
    packet (in-band SPS) and reads the ``cbr_flag`` lines it logs. None when the stream carries no
    HRD parameters or the filter cannot parse it (another codec).

    Args:
        stream: the PyAV video stream (its codec parameters give the extradata).
        keyframe: an ``av.Packet`` holding a keyframe of that stream.
    """
    previous = av.logging.get_level()
    av.logging.set_level(av.logging.INFO)  # the filter logs at INFO; PyAV passes nothing on by default
    try:
        with av.logging.Capture() as logs:
            bsf = BitStreamFilterContext("trace_headers", stream)
            bsf.filter(av.Packet(bytes(keyframe)))  # a copy: the filter takes the packet's data
            bsf.filter(None)
    except (av.FFmpegError, ValueError) as exc:
        log.debug("trace_headers failed (%s): no HRD information", exc)
        return None
    finally:
        # Never back to None: PyAV's set_level(None) clears the threshold before it swaps the C
        # callback, so another thread's FFmpeg message in flight compares ``level <= None`` and
        # prints a TypeError traceback (seen in the city benchmark). PANIC logs nothing either.
        av.logging.set_level(av.logging.PANIC if previous is None else previous)
    flags = [line[2].split()[-1] for line in logs if "cbr_flag" in str(line[2])]
    if not flags:
        return None
    return any(f == "1" for f in flags)


def stream_params(stream: Any) -> StreamParams:
    """:class:`StreamParams` of a PyAV video stream."""
    cc = stream.codec_context
    codec = str(cc.name)
    rate = stream.average_rate
    return StreamParams(
        codec=codec,
        width=int(cc.width or 0),
        height=int(cc.height or 0),
        fps=float(rate) if rate else None,
        time_base=Fraction(stream.time_base) if stream.time_base else Fraction(1, 90000),
        bit_rate=int(cc.bit_rate or stream.bit_rate or 0),
        has_b_frames=bool(cc.has_b_frames),
        nal_length_size=_nal_length_size(codec, bytes(cc.extradata or b"")),
    )


class PacketReader:
    """Packets of a video file or RTSP camera, demuxed and never decoded.

    Args:
        url_or_path: ``rtsp://`` / ``rtsps://`` URL, or a video file.
        camera: camera id.
        loop: (files) start again at the end; time goes on.
        realtime: (files) pace packets to the wall clock.
        rtsp: (RTSP) keyword arguments of :class:`~safecity.monitor.sources.readers.RtspSource`
            (``open_timeout_s``, ``read_timeout_s``, ``backoff_s``, ``transport``).

    Raises:
        SourceError: (files) the file is missing or not a video; (RTSP) bad settings.
    """

    def __init__(
        self,
        url_or_path: str | Path,
        *,
        camera: str,
        loop: bool = False,
        realtime: bool = False,
        rtsp: dict[str, Any] | None = None,
    ) -> None:
        self.camera = camera
        self.loop = loop
        self.realtime = realtime
        self.live = str(url_or_path).startswith(_LIVE_SCHEMES)
        self._closed = threading.Event()
        self._rtsp: RtspSource | None = None
        self.path: Path | None = None
        self._index = 0
        self._session = 0
        if self.live:
            self._rtsp = RtspSource(str(url_or_path), camera=camera, detect_fps=None, **(rtsp or {}))
        else:
            self.path = Path(url_or_path)
            open_video_file(self.path, camera).close()  # fail now on a bad file, as FileSource does

    def close(self) -> None:
        """Stop the iteration (at the next packet, retry or realtime wait)."""
        self._closed.set()
        if self._rtsp is not None:
            self._rtsp.close()

    def __iter__(self) -> Iterator[StreamStart | Packet | SourceGap]:
        if self._rtsp is not None:
            return self._rtsp.sessions(self._live_session)
        return self._file_items()

    # -- live ------------------------------------------------------------------------------------

    def _live_session(self, container: Any) -> Iterator[StreamStart | Packet]:
        stream = container.streams.video[0]
        self._session += 1
        session = self._session
        yield StreamStart(self.camera, time.time(), session, stream_params(stream), stream)
        for pkt in container.demux(stream):
            if pkt.size == 0:  # demuxer flush packet
                continue
            self._index += 1
            yield Packet(
                self.camera, time.time(), self._index, session, int(pkt.size), bool(pkt.is_keyframe),
                bool(pkt.is_corrupt), pkt.pts, pkt,
            )  # fmt: skip

    # -- files -----------------------------------------------------------------------------------

    def _file_items(self) -> Iterator[StreamStart | Packet | SourceGap]:
        assert self.path is not None
        offset_s = 0.0
        last_t: float | None = None
        frame_dt = 0.1
        wall0: float | None = None
        while not self._closed.is_set():
            container = open_video_file(self.path, self.camera)
            try:
                stream = container.streams.video[0]
                params = stream_params(stream)
                if params.fps:
                    frame_dt = 1.0 / params.fps
                tb = float(params.time_base)
                self._session += 1
                session = self._session
                yield StreamStart(
                    self.camera, 0.0 if last_t is None else last_t + frame_dt, session, params, stream
                )
                start_raw: float | None = None
                last_dts_t: float | None = None
                got_any = False
                try:
                    for pkt in container.demux(stream):
                        if self._closed.is_set():
                            return
                        if pkt.size == 0:
                            continue
                        stamp = pkt.pts if pkt.pts is not None else pkt.dts
                        raw = stamp * tb if stamp is not None else self._index * frame_dt
                        if raw < 0 and pkt.is_discard:  # edit-list pre-roll (a copy-cut file): never shown;
                            raw = 0.0  # the first shown frame is time 0, as FileSource decodes it
                        dts_raw = pkt.dts * tb if pkt.dts is not None else raw
                        if start_raw is None:
                            start_raw = raw
                            offset_s = -raw if last_t is None else last_t + frame_dt - raw
                        if last_dts_t is not None and dts_raw + offset_s < last_dts_t - 1e-6:
                            jump = last_dts_t - (dts_raw + offset_s)
                            log.warning(
                                "camera %r: timestamps in %s jump back by %.3f s; continuing",
                                self.camera, self.path, jump,
                            )  # fmt: skip
                            offset_s += jump + frame_dt
                        last_dts_t = dts_raw + offset_s
                        t_s = raw + offset_s
                        last_t = t_s if last_t is None else max(last_t, t_s)
                        got_any = True
                        self._index += 1
                        if self.realtime:
                            if wall0 is None:
                                wall0 = time.monotonic() - t_s
                            delay = wall0 + t_s - time.monotonic()
                            if delay > 0 and self._closed.wait(delay):
                                return
                        yield Packet(
                            self.camera, t_s, self._index, session, int(pkt.size), bool(pkt.is_keyframe),
                            bool(pkt.is_corrupt), pkt.pts, pkt,
                        )  # fmt: skip
                except (av.FFmpegError, OSError) as exc:
                    log.warning(
                        "camera %r: %s is damaged or truncated (%s); stopping after the last good packet",
                        self.camera, self.path, exc,
                    )  # fmt: skip
                    return
            finally:
                container.close()
            if not self.loop or not got_any:
                return
