"""A camera source that decodes only when the compressed-domain gate says something is happening.

:class:`GatedSource` = :class:`~safecity.monitor.sources.packets.PacketReader` (demux, no
decoding) + :class:`~safecity.monitor.sources.gate.CompressedGate` (packet sizes) + the stream's
PyAV decoder. It yields the same ``DecodedFrame | SourceGap`` values as
:class:`~safecity.monitor.sources.readers.FileSource` / ``RtspSource`` (decimated to
``detect_fps``), and :meth:`GatedSource.marked` pairs each with ``watch``: True for the keyframes
decoded in watch mode for the health checks (about one per ``health_every_s``), False for frames
of learning / active periods, which the full pipeline should analyse.

* **Watch**: packets are read and kept in memory from the last keyframe on (at most
  ``GateConfig.max_buffer_bytes``); nothing is decoded except one keyframe every
  ``health_every_s``, which is also compared with the previous one (a 64x36 thumbnail: more than
  2 % of it changed by more than 12 grey levels) to catch what the sizes missed.
* While active, the same thumbnail comparison about once a second tells the gate whether the
  picture moves (``CompressedGate.picture``): only a still picture with a steady byte rate may
  become the new floor (lights or infrared switched), never people moving.
* **Active**: on the trigger the decoder starts at the kept keyframe and decodes every kept
  packet, so the frames between that keyframe and the trigger reach the pipeline too; then every
  packet is decoded until the gate is quiet again (``quiet_s``) or :meth:`GatedSource.hold_active`
  asks to stay.
* **Fallback** (logged once, then ``status().gate_mode == "decode"`` with ``fallback_reason``):
  HRD parameters with ``cbr_flag`` = 1 (read from the first keyframe of each session) or filler
  data in the packets (``constant_bitrate``, x264 ``nal-hrd=cbr``), nearly only keyframes
  (``all_intra``), more bytes since the last keyframe than the memory bound
  (``gop_exceeds_memory``), a corrupt packet or one the decoder refuses (``corrupt_packet``), a
  decoded frame of another size than the stream's or a changed in-band SPS that decodes to one
  (``resolution_change``). From then on every frame is decoded, as the plain readers do.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import av
import cv2
import numpy as np
import numpy.typing as npt

from safecity.monitor.sources.gate import FALLBACK_REASONS, CompressedGate, GateConfig, GateMode, GateState
from safecity.monitor.sources.packets import (
    FILLER_NAL,
    Packet,
    PacketReader,
    StreamParams,
    StreamStart,
    hrd_constant_bitrate,
    nal_unit_types,
    parameter_sets,
)
from safecity.monitor.sources.readers import DecodedFrame, RateGate, decoded_frame
from safecity.monitor.types import SourceGap

__all__ = ["GateStatus", "GatedSource"]

log = logging.getLogger(__name__)

_THUMB = (64, 36)
_CHANGE_LEVEL = 12
_CHANGE_SHARE = 0.02


@dataclass(frozen=True, slots=True)
class GateStatus:
    """What the camera's status shows about the gate.

    Attributes:
        gate_mode: ``compressed`` (the gate works) or ``decode`` (every frame decoded).
        fallback_reason: why the gate is off (a key of ``FALLBACK_REASONS``), else None.
        fallback_text: that reason in words.
        state: ``learning``, ``watch`` or ``active``.
        floor_bps / on_bps: learned quiet byte rate and trigger level (non-key bytes per second).
        packets: packets read; frames_decoded: frames the decoder produced.
        health_keyframes: keyframes decoded in watch mode.
        activations: watch -> active transitions.
        watch_s: seconds of stream time spent in watch mode.
        active_since_s: time of the packet that made the gate active (None unless active).
        fallback_since_s: time of the packet at which the gate fell back (None while it works).
        stream_s: time of the last packet read (how far into the stream the source is; a paced
            file source that keeps real time advances it by one second per second).
    """

    gate_mode: GateMode
    fallback_reason: str | None
    fallback_text: str | None
    state: GateState
    floor_bps: float | None
    on_bps: float | None
    packets: int
    frames_decoded: int
    health_keyframes: int
    activations: int
    watch_s: float
    active_since_s: float | None
    fallback_since_s: float | None
    stream_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _thumb(gray: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    return np.asarray(cv2.resize(gray, _THUMB, interpolation=cv2.INTER_AREA), dtype=np.int16)


def _changed_share(a: npt.NDArray[np.int16], b: npt.NDArray[np.int16]) -> float:
    """Share of thumbnail pixels that changed by more than ``_CHANGE_LEVEL`` grey levels."""
    return float(np.mean(np.abs(a - b) > _CHANGE_LEVEL))


class GatedSource:
    """Frames of a file or RTSP camera, decoded only while the compressed-domain gate is active.

    Args:
        url_or_path: ``rtsp://`` / ``rtsps://`` URL or a video file.
        camera: camera id put on every frame.
        detect_fps: frames per second to keep (by ``t_s``); None keeps every decoded frame.
        max_height: downscale frames taller than this.
        loop: (files) start again at the end.
        realtime: (files) pace to the wall clock.
        gate: gate settings.
        mode: ``auto`` (the gate, with its fallbacks) or ``decode`` (decode every frame).
        rtsp: (RTSP) keyword arguments of ``RtspSource`` (timeouts, back-off, transport).

    Raises:
        SourceError: the file is missing or unreadable, or bad RTSP settings.
    """

    def __init__(
        self,
        url_or_path: str | Path,
        *,
        camera: str,
        detect_fps: float | None = 5.0,
        max_height: int | None = None,
        loop: bool = False,
        realtime: bool = False,
        gate: GateConfig | None = None,
        mode: Literal["auto", "decode"] = "auto",
        rtsp: dict[str, Any] | None = None,
    ) -> None:
        if mode not in ("auto", "decode"):
            raise ValueError(f"mode must be 'auto' or 'decode', got {mode!r}")
        self.camera = camera
        self.max_height = max_height
        self.gate = CompressedGate(gate)
        self.mode = mode
        self._reader = PacketReader(url_or_path, camera=camera, loop=loop, realtime=realtime, rtsp=rtsp)
        self._live = self._reader.live
        self._rate = RateGate(detect_fps)
        self._lock = threading.Lock()
        self._reset_session()
        self._packets = 0
        self._frames_decoded = 0
        self._health = 0
        self._watch_s = 0.0
        self._last_pkt_t: float | None = None
        self._cur_t = 0.0
        self._last_decoded_t = -math.inf
        self._ref_thumb: npt.NDArray[np.int16] | None = None
        self._motion_thumb: tuple[float, npt.NDArray[np.int16]] | None = None
        self._logged = False
        self._fallback_t: float | None = None
        self._wake_t: float | None = None  # watch mode: decode the frame at this time (watch_at)
        if mode == "decode":
            self._fallback("configured", "")

    # -- public ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the iteration (at the next packet or retry)."""
        self._reader.close()

    def hold_active(self, until_t_s: float) -> None:
        """Keep decoding every frame until ``until_t_s`` (live tracks, open events)."""
        with self._lock:
            self.gate.hold(until_t_s)

    def watch_at(self, t_s: float) -> None:
        """In watch mode, also decode the frame at ``t_s`` (or the first after it) and hand it on as
        a watch frame: a health condition that matures between two health keyframes is checked
        when it matures (the kept packets are decoded from their keyframe up to it)."""
        with self._lock:
            self._wake_t = t_s if self._wake_t is None else min(self._wake_t, t_s)

    def status(self) -> GateStatus:
        g = self.gate
        return GateStatus(
            gate_mode=g.mode,
            fallback_reason=g.fallback_reason,
            fallback_text=FALLBACK_REASONS.get(g.fallback_reason or "", g.fallback_reason),
            state=g.state,
            floor_bps=None if g.floor_bps is None else round(g.floor_bps, 1),
            on_bps=None if g.on_bps is None else round(g.on_bps, 1),
            packets=self._packets,
            frames_decoded=self._frames_decoded,
            health_keyframes=self._health,
            activations=g.activations,
            watch_s=round(self._watch_s, 3),
            active_since_s=g.active_since,
            fallback_since_s=self._fallback_t,
            stream_s=round(self._cur_t, 3),
        )

    def __iter__(self) -> Iterator[DecodedFrame | SourceGap]:
        for item, _watch in self.marked():
            yield item

    def marked(self) -> Iterator[tuple[DecodedFrame | SourceGap, bool]]:
        """``(item, watch)``: ``watch`` is True for health keyframes decoded in watch mode."""
        for item in self._reader:
            if isinstance(item, SourceGap):
                yield item, False
            elif isinstance(item, StreamStart):
                self._start(item)
            else:
                yield from self._packet(item)

    # -- sessions --------------------------------------------------------------------------------

    def _reset_session(self) -> None:
        self._stream: Any = None
        self._params: StreamParams | None = None
        self._buffer: list[Packet] = []
        self._buffer_bytes = 0
        self._decoding = False
        self._pts_t: dict[int, float] = {}
        self._sps: bytes | None = None
        self._hrd_checked = False

    def _start(self, start: StreamStart) -> None:
        self._reset_session()
        self._stream = start.stream
        self._params = start.params
        if self._live:
            self._last_decoded_t = -math.inf
        with self._lock:
            self.gate.restart(start.t_s)

    def _fallback(self, reason: str, detail: str) -> None:
        if self.gate.fallback_reason is None:
            with self._lock:
                self.gate.fallback(reason)
        if self._logged or self.gate.fallback_reason != reason:
            return
        self._logged = True
        self._fallback_t = self._cur_t
        log.warning(
            "camera %r: compressed-domain gate off (%s: %s%s); decoding every frame",
            self.camera, reason, FALLBACK_REASONS[reason], f"; {detail}" if detail else "",
        )  # fmt: skip

    # -- packets ---------------------------------------------------------------------------------

    def _check_bytes(self, pkt: Packet) -> None:
        """Bad-input checks on the packet's bytes (only while the gate is on)."""
        params = self._params
        assert params is not None
        if pkt.corrupt:
            self._fallback("corrupt_packet", f"packet {pkt.index} at {pkt.t_s:.2f} s flagged corrupt")
            return
        if params.codec not in FILLER_NAL:
            return
        learning = self.gate.state == "learning"
        if not (learning or pkt.keyframe):
            return
        if pkt.keyframe and not self._hrd_checked:
            self._hrd_checked = True
            if hrd_constant_bitrate(self._stream, pkt.av_packet):
                self._fallback("constant_bitrate", "the stream's HRD parameters say cbr_flag = 1")
                return
        data = bytes(pkt.av_packet)
        if learning and FILLER_NAL[params.codec] in nal_unit_types(
            data, params.codec, params.nal_length_size
        ):
            self._fallback("constant_bitrate", f"filler data in packet {pkt.index}")
            return
        if pkt.keyframe:
            sps = parameter_sets(data, params.codec, params.nal_length_size)
            if sps and self._sps is not None and sps != self._sps:
                self._sps = sps
                self._check_keyframe_size(pkt)
            elif sps:
                self._sps = sps

    def _check_keyframe_size(self, pkt: Packet) -> None:
        """A new SPS: decode the keyframe and compare its size with the stream's."""
        for fr in self._decode_alone(pkt):
            self._check_size(fr)

    def _check_size(self, fr: av.VideoFrame) -> None:
        params = self._params
        if params is None or not params.width:
            return
        if (fr.width, fr.height) != (params.width, params.height):
            self._fallback("resolution_change", f"{params.width}x{params.height} -> {fr.width}x{fr.height}")

    def _packet(self, pkt: Packet) -> Iterator[tuple[DecodedFrame | SourceGap, bool]]:
        self._packets += 1
        self._cur_t = pkt.t_s
        if pkt.pts is not None:
            self._pts_t[pkt.pts] = pkt.t_s
            if len(self._pts_t) > 4096:
                for key in list(self._pts_t)[:1024]:
                    del self._pts_t[key]
        if self.gate.fallback_reason is None:
            self._check_bytes(pkt)
        gated = self.gate.fallback_reason is None
        # packets since the last keyframe: needed to start decoding there (not once decoding for good)
        if pkt.keyframe:
            self._buffer = [pkt]
            self._buffer_bytes = pkt.size
        elif self._buffer and (gated or not self._decoding):
            self._buffer.append(pkt)
            self._buffer_bytes += pkt.size
            if gated and self._buffer_bytes > self.gate.config.max_buffer_bytes:
                self._fallback(
                    "gop_exceeds_memory",
                    f"{self._buffer_bytes} bytes in {len(self._buffer)} packets since the last keyframe "
                    f"(bound {self.gate.config.max_buffer_bytes})",
                )
        elif not gated:
            self._buffer = []
        with self._lock:
            step = self.gate.observe(pkt.t_s, pkt.size, pkt.keyframe)
        if step.changed and step.reason in FALLBACK_REASONS:  # the gate's own verdict (all-intra)
            self._fallback(step.reason, f"{pkt.index} packets read")
        if self._last_pkt_t is not None and step.state == "watch" and not step.changed:
            self._watch_s += max(0.0, pkt.t_s - self._last_pkt_t)
        self._last_pkt_t = pkt.t_s
        if step.state != "watch":
            if self._wake_t is not None and pkt.t_s >= self._wake_t:
                self._wake_t = None  # decoded anyway
            pending = self._buffer if not self._decoding else [pkt]
            if not self._decoding:
                self._flush()
                self._decoding = True
            yield from self._decode(pending, watch=False)
            return
        if self._decoding:  # back to watch: the last decoded picture is the quiet reference
            self._flush()
            self._decoding = False
        if step.decode_keyframe and pkt.keyframe:
            if self._wake_t is not None and pkt.t_s >= self._wake_t:
                self._wake_t = None  # this keyframe is the frame asked for
            yield from self._health_keyframe(pkt)
        elif self._wake_t is not None and pkt.t_s >= self._wake_t:
            self._wake_t = None
            yield from self._wake_frame()

    # -- decoding --------------------------------------------------------------------------------

    def _flush(self) -> None:
        if self._stream is not None:
            self._stream.codec_context.flush_buffers()

    def _decode_alone(self, pkt: Packet) -> list[av.VideoFrame]:
        """Decode one keyframe by itself (the decoder is flushed before and after)."""
        cc = self._stream.codec_context
        self._flush()
        try:
            frames = list(cc.decode(pkt.av_packet)) + list(cc.decode(None))
        except (av.FFmpegError, ValueError) as exc:
            self._fallback("corrupt_packet", f"keyframe {pkt.index} does not decode ({exc})")
            frames = []
        self._flush()
        self._decoding = False
        return frames

    def _health_keyframe(self, pkt: Packet) -> Iterator[tuple[DecodedFrame | SourceGap, bool]]:
        self._health += 1
        for fr in self._decode_alone(pkt):
            self._check_size(fr)
            item = self._emit(fr, keep_always=True)
            if item is None:
                continue
            thumb = _thumb(item.gray)
            ref, self._ref_thumb = self._ref_thumb, thumb
            if ref is not None and ref.shape == thumb.shape and _changed_share(thumb, ref) > _CHANGE_SHARE:
                with self._lock:
                    self.gate.force_active(item.t_s, "keyframe_change")
            yield item, True

    def _wake_frame(self) -> Iterator[tuple[DecodedFrame | SourceGap, bool]]:
        """Decode the kept packets (last keyframe up to now) and hand on the newest frame (watch)."""
        if self._stream is None or not self._buffer:
            return
        cc = self._stream.codec_context
        self._flush()
        last: av.VideoFrame | None = None
        try:
            for p in self._buffer:
                for fr in cc.decode(p.av_packet):
                    last = fr
            for fr in cc.decode(None):
                last = fr
        except (av.FFmpegError, ValueError) as exc:
            self._fallback("corrupt_packet", f"packets since {self._buffer[0].index} do not decode ({exc})")
        self._flush()
        self._decoding = False
        if last is not None:
            item = self._emit(last, keep_always=True)
            if item is not None:
                self._health += 1
                yield item, True

    def _decode(
        self, packets: list[Packet], *, watch: bool
    ) -> Iterator[tuple[DecodedFrame | SourceGap, bool]]:
        if self._stream is None:
            return
        cc = self._stream.codec_context
        for p in packets:
            try:
                frames = cc.decode(p.av_packet)
            except (av.FFmpegError, ValueError) as exc:
                if self.gate.fallback_reason is None:
                    self._fallback("corrupt_packet", f"packet {p.index} does not decode ({exc})")
                else:
                    log.debug("camera %r: packet %d does not decode (%s); skipped", self.camera, p.index, exc)
                continue
            for fr in frames:
                if self.gate.fallback_reason is None:
                    self._check_size(fr)
                item = self._emit(fr)
                if item is not None:
                    yield item, watch

    def _frame_time(self, fr: av.VideoFrame) -> float:
        if fr.pts is not None and fr.pts in self._pts_t:
            return self._pts_t[fr.pts]
        return self._last_decoded_t + (1.0 / self._params.fps if self._params and self._params.fps else 0.1)

    def _emit(self, fr: av.VideoFrame, *, keep_always: bool = False) -> DecodedFrame | None:
        t_s = self._frame_time(fr)
        if t_s <= self._last_decoded_t:
            return None  # decoded again from the kept keyframe: already handed on
        self._last_decoded_t = t_s
        self._frames_decoded += 1
        if not self._rate.keep(t_s) and not keep_always:
            return None
        fps = self._params.fps if self._params else None
        index = round(t_s * fps) + 1 if fps and not self._live else self._frames_decoded
        frame = decoded_frame(self.camera, t_s, index, fr, self.max_height)
        if not keep_always:
            self._ref_thumb = None  # refreshed from the next quiet keyframe
            self._report_picture(frame)
        return frame

    def _report_picture(self, frame: DecodedFrame) -> None:
        """About once a second while active: tell the gate whether the picture moved (for relearning)."""
        last = self._motion_thumb
        if last is not None and frame.t_s - last[0] < 1.0 and frame.t_s >= last[0]:
            return
        thumb = _thumb(frame.gray)
        self._motion_thumb = (frame.t_s, thumb)
        if last is not None and last[1].shape == thumb.shape:
            with self._lock:
                self.gate.picture(frame.t_s, _changed_share(thumb, last[1]) <= _CHANGE_SHARE)
