"""Video sources: PyAV readers for files and RTSP cameras that yield decoded frames or gaps.

A source yields :class:`DecodedFrame` (the Y plane, always; BGR converted only on demand) at the
camera's detect rate, and, for live cameras, :class:`SourceGap` while the camera is down. Nothing
here blocks forever: RTSP opens and reads run under timeouts and reconnect with a back-off.

Cost notes (measured on the 2-core project machine, 768x432 H.264 frame, PyAV 18.1):

* Y plane from ``frame.planes[0]`` (a copy of the raw luma rows): 0.02 ms per frame.
* ``frame.to_ndarray(format="gray")`` goes through swscale (and stretches limited-range luma to
  full range): 0.26 ms, 14x more, so plane 0 is used whenever the frame is planar YUV.
* ``to_ndarray(format="bgr24")``: 0.61 ms, which is why BGR is made only for frames that go to
  the detector or the wall (:meth:`DecodedFrame.bgr`).

Timestamps: file ``t_s`` is the frame's presentation time in seconds from the start of the file
(looping adds the video duration; a timestamp jump back, as in concatenated MPEG-TS segments,
is stitched on so time keeps increasing). RTSP ``t_s`` is Unix wall-clock time at receipt,
because RTSP timestamps restart on every reconnect and server-side loop.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import av
import cv2
import numpy as np
import numpy.typing as npt

from safecity.errors import SourceError
from safecity.monitor.types import Frame, SourceGap

__all__ = [
    "DecodedFrame",
    "FileSource",
    "RateGate",
    "RtspSource",
    "SourceGap",
    "decoded_frame",
    "open_source",
    "open_video_file",
]

T = TypeVar("T")

U8 = npt.NDArray[np.uint8]
log = logging.getLogger(__name__)

# Pixel formats whose plane 0 is the luma (Y) plane at full resolution.
_YUV_FORMATS = frozenset(
    {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray"}
)
# Low-latency demuxer options (stack-notes.md §3): first frame in ~1.5 s instead of ~2.8 s.
_RTSP_LOW_LATENCY = {
    "fflags": "nobuffer",
    "flags": "low_delay",
    "probesize": "32768",
    "analyzeduration": "0",
}
_LIVE_SCHEMES = ("rtsp://", "rtsps://")


def _scaled_size(width: int, height: int, max_height: int | None) -> tuple[int, int]:
    """Output (w, h) for a frame of ``width`` x ``height`` under ``max_height`` (even sizes)."""
    if max_height is None or height <= max_height:
        return width, height
    scale = max_height / height
    return max(2, round(width * scale / 2) * 2), max(2, round(max_height / 2) * 2)


def _u8(arr: Any) -> U8:
    """``arr`` typed as uint8 (no copy when it already is)."""
    return np.asarray(arr, dtype=np.uint8)


def _y_plane(frame: av.VideoFrame) -> U8:
    """The frame's luma plane as a fresh (h, w) uint8 array (raw Y, no range conversion)."""
    if frame.format.name in _YUV_FORMATS:
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(frame.height, plane.line_size)
        return rows[:, : frame.width].copy()
    return _u8(frame.to_ndarray(format="gray"))


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    """One kept frame: Y plane now, BGR on demand (converted once, then cached).

    Attributes:
        camera: camera id.
        t_s: seconds (see module docstring for files vs live cameras).
        index: 1-based number of the frame in the source's decoded sequence (not a clock).
        width: width of ``gray`` (and of ``bgr()``), after any ``max_height`` downscale.
        height: height of ``gray``.
        gray: Y plane, (height, width) uint8.
    """

    camera: str
    t_s: float
    index: int
    width: int
    height: int
    gray: U8
    _av_frame: Any = field(default=None, repr=False, compare=False)
    _cache: list[U8] = field(default_factory=list, repr=False, compare=False)

    def bgr(self) -> U8:
        """BGR picture (height, width, 3) uint8; converted on the first call, then cached."""
        if self._cache:
            return self._cache[0]
        if self._av_frame is None:
            img = _u8(cv2.cvtColor(self.gray, cv2.COLOR_GRAY2BGR))
        else:
            src: av.VideoFrame = self._av_frame
            if (src.width, src.height) == (self.width, self.height):
                img = _u8(src.to_ndarray(format="bgr24"))
            else:
                img = _u8(src.reformat(width=self.width, height=self.height, format="bgr24").to_ndarray())
        self._cache.append(img)
        return img

    def as_frame(self, with_bgr: bool = False) -> Frame:
        """The pipeline's :class:`~safecity.monitor.types.Frame` (BGR attached only if asked)."""
        return Frame(
            camera=self.camera,
            t_s=self.t_s,
            index=self.index,
            width=self.width,
            height=self.height,
            gray=self.gray,
            bgr=self.bgr() if with_bgr else None,
        )


class RateGate:
    """Time-based decimation: keep a frame when ``t_s`` reaches the next due time.

    The schedule advances by ``1 / fps`` per kept frame; a frame up to 10 % of a period early
    counts as due (absorbs arrival jitter of live streams); after a gap of more than a period
    the schedule restarts at the frame's time instead of bursting to catch up.

    Args:
        fps: target rate; ``None`` keeps every frame.

    Example:
        >>> gate = RateGate(5.0)
        >>> [t for t in [0.0, 0.1, 0.2, 0.3, 0.4] if gate.keep(t)]
        [0.0, 0.2, 0.4]
    """

    __slots__ = ("_next_due", "_period", "_slack")

    def __init__(self, fps: float | None) -> None:
        if fps is not None and not (fps > 0 and math.isfinite(fps)):
            raise SourceError(f"detect_fps must be a positive number of frames per second or None, got {fps}")
        self._period = 0.0 if fps is None else 1.0 / fps
        self._slack = 0.1 * self._period
        self._next_due = -math.inf

    def keep(self, t_s: float) -> bool:
        """Whether the frame at ``t_s`` is due; advances the schedule when it is."""
        if self._period == 0.0:
            return True
        if t_s + self._slack < self._next_due:
            return False
        self._next_due += self._period
        if self._next_due <= t_s or self._next_due - t_s > 2 * self._period:
            self._next_due = t_s + self._period
        return True

    def reset(self) -> None:
        """Forget the schedule (the next frame is kept)."""
        self._next_due = -math.inf


def decoded_frame(
    camera: str, t_s: float, index: int, frame: av.VideoFrame, max_height: int | None
) -> DecodedFrame:
    """A :class:`DecodedFrame` of a PyAV frame (Y plane copied, downscaled above ``max_height``)."""
    gray = _y_plane(frame)
    w, h = _scaled_size(frame.width, frame.height, max_height)
    if (w, h) != (frame.width, frame.height):
        gray = _u8(cv2.resize(gray, (w, h), interpolation=cv2.INTER_AREA))
    return DecodedFrame(camera, t_s, index, w, h, gray, frame)


def _check_max_height(max_height: int | None) -> None:
    if max_height is not None and max_height < 16:
        raise SourceError(f"max_height must be at least 16 pixels or None, got {max_height}")


def open_video_file(path: Path, camera: str) -> Any:
    """Open a video file with PyAV (an input container with at least one video stream).

    Raises:
        SourceError: the file is missing, is not a video FFmpeg can read, or has no video stream.
    """
    if not path.is_file():
        raise SourceError(f"camera {camera!r}: video file {path} does not exist; check the camera's `source`")
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise SourceError(
            f"camera {camera!r}: cannot read {path} as a video ({exc}); expected a video file "
            "FFmpeg can decode (mp4, mkv, ts, ...); re-encode or replace the file"
        ) from exc
    if not container.streams.video:
        container.close()
        raise SourceError(
            f"camera {camera!r}: {path} has no video stream; expected a video file, not audio or data only"
        )
    return container


class FileSource:
    """Frames of a video file, decimated to ``detect_fps`` by presentation time.

    Args:
        path: video file (anything FFmpeg reads; first video stream is used).
        camera: camera id put on every frame.
        detect_fps: frames per second to keep (by ``t_s``); ``None`` keeps every frame.
        loop: start again at the end, adding the video duration to ``t_s`` each round.
        realtime: pace frames to the wall clock (demo playback), else as fast as decoding goes.
        max_height: downscale frames taller than this (keeps the aspect ratio).

    Raises:
        SourceError: the file is missing, is not a video FFmpeg can read, or has no video stream.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        camera: str,
        detect_fps: float | None = 5.0,
        loop: bool = False,
        realtime: bool = False,
        max_height: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.camera = camera
        self.detect_fps = detect_fps
        self.loop = loop
        self.realtime = realtime
        self.max_height = max_height
        _check_max_height(max_height)
        self._gate = RateGate(detect_fps)
        self._closed = threading.Event()
        self._iterating = False
        self._container: Any = self._open()

    def _open(self) -> Any:
        return open_video_file(self.path, self.camera)

    def close(self) -> None:
        """Stop the iteration (also wakes a realtime wait) and release the file."""
        self._closed.set()
        if not self._iterating and self._container is not None:
            self._container.close()
            self._container = None

    def __iter__(self) -> Iterator[DecodedFrame | SourceGap]:
        """Frames from the start of the file (each new iteration starts over)."""
        if self._closed.is_set():
            return iter(())
        self._iterating = True
        return self._frames()

    def _frames(self) -> Iterator[DecodedFrame]:
        offset_s = 0.0  # added to raw pts time: loops and timestamp jumps
        last_t: float | None = None
        frame_dt = 0.1
        index = 0
        wall0: float | None = None
        container = self._container if self._container is not None else self._open()
        self._container = None  # owned by this iteration now
        self._gate.reset()
        try:
            while not self._closed.is_set():
                stream = container.streams.video[0]
                if stream.average_rate:
                    frame_dt = 1.0 / float(stream.average_rate)
                start_raw: float | None = None
                got_any = False
                for frame in self._decode(container):
                    if self._closed.is_set():
                        return
                    raw = float(frame.time) if frame.time is not None else index * frame_dt
                    if start_raw is None:  # first frame of this round: the file start, or after the end
                        start_raw = raw
                        offset_s = -raw if last_t is None else last_t + frame_dt - raw
                    t_s = raw + offset_s
                    if last_t is not None and t_s <= last_t:  # time jumped back (joined segments)
                        log.warning(
                            "camera %r: timestamps in %s jump back by %.3f s; continuing from %.3f s",
                            self.camera, self.path, last_t - t_s, last_t,
                        )  # fmt: skip
                        offset_s += last_t + frame_dt - t_s
                        t_s = last_t + frame_dt
                    last_t = t_s
                    index += 1
                    got_any = True
                    if not self._gate.keep(t_s):
                        continue
                    if self.realtime:
                        if wall0 is None:
                            wall0 = time.monotonic() - t_s
                        delay = wall0 + t_s - time.monotonic()
                        if delay > 0 and self._closed.wait(delay):
                            return
                    yield decoded_frame(self.camera, t_s, index, frame, self.max_height)
                container.close()
                if not self.loop or not got_any:
                    return
                container = self._open()
        finally:
            container.close()
            self._iterating = False

    def _decode(self, container: Any) -> Iterator[av.VideoFrame]:
        """Decoded frames until the end or the first unreadable packet (then a warning, no crash)."""
        try:
            yield from container.decode(video=0)
        except (av.FFmpegError, OSError) as exc:
            log.warning(
                "camera %r: %s is damaged or truncated (%s); stopping after the last good frame",
                self.camera,
                self.path,
                exc,
            )


class RtspSource:
    """Frames of a live RTSP camera with timeouts, reconnects and gap reports.

    The iterator never raises for a camera fault: while the camera cannot be opened or read it
    yields a :class:`SourceGap` per attempt, waits the next back-off delay and tries again; the
    next :class:`DecodedFrame` means the camera is back. ``close()`` ends the iteration at the
    next frame or retry; a pending back-off wait is cut short at once, a blocked read after at
    most ``read_timeout_s``.

    Args:
        url: ``rtsp://`` or ``rtsps://`` URL (credentials may be in it; they are not logged).
        camera: camera id put on every frame.
        detect_fps: frames per second to keep (by arrival time); ``None`` keeps every frame.
        open_timeout_s: limit for connecting and reading the stream description.
        read_timeout_s: limit for waiting on the next packet (a stalled server).
        backoff_s: delays between reconnect attempts; the last one repeats. Reset by a frame.
        max_height: downscale frames taller than this.
        transport: ``"tcp"`` (default, no packet loss on busy links) or ``"udp"``.
    """

    def __init__(
        self,
        url: str,
        *,
        camera: str,
        detect_fps: float | None = 5.0,
        open_timeout_s: float = 5.0,
        read_timeout_s: float = 5.0,
        backoff_s: Sequence[float] = (0.5, 1, 2, 5, 10),
        max_height: int | None = None,
        transport: str = "tcp",
    ) -> None:
        if not url.startswith(_LIVE_SCHEMES):
            raise SourceError(f"camera {camera!r}: expected an rtsp:// or rtsps:// URL, got {_redact(url)!r}")
        if transport not in ("tcp", "udp"):
            raise SourceError(f"camera {camera!r}: transport must be 'tcp' or 'udp', got {transport!r}")
        if open_timeout_s <= 0 or read_timeout_s <= 0:
            raise SourceError(
                f"camera {camera!r}: timeouts must be positive seconds, got open={open_timeout_s}, "
                f"read={read_timeout_s}"
            )
        if not backoff_s or any(b < 0 for b in backoff_s):
            raise SourceError(f"camera {camera!r}: backoff_s must be non-negative seconds, got {backoff_s!r}")
        _check_max_height(max_height)
        self.url = url
        self.camera = camera
        self.detect_fps = detect_fps
        self.open_timeout_s = float(open_timeout_s)
        self.read_timeout_s = float(read_timeout_s)
        self.backoff_s = tuple(float(b) for b in backoff_s)
        self.max_height = max_height
        self.transport = transport
        self._gate = RateGate(detect_fps)
        self._closed = threading.Event()

    def close(self) -> None:
        """Ask the iteration to stop (wakes a pending back-off wait immediately)."""
        self._closed.set()

    def __iter__(self) -> Iterator[DecodedFrame | SourceGap]:
        return self._items()

    def _open(self) -> Any:
        options = {"rtsp_transport": self.transport, **_RTSP_LOW_LATENCY}
        container = av.open(
            self.url, mode="r", options=options, timeout=(self.open_timeout_s, self.read_timeout_s)
        )
        if not container.streams.video:
            container.close()
            raise SourceError(f"camera {self.camera!r}: the RTSP stream has no video track")
        return container

    def _reason(self, exc: Exception, *, opening: bool, waited_s: float) -> str:
        """Operator-readable cause of a failed open or read (URL password removed)."""
        limit = self.open_timeout_s if opening else self.read_timeout_s
        what = "open" if opening else "read"
        if isinstance(exc, av.ExitError) or waited_s >= 0.9 * limit:
            return f"{what} timed out: no answer within {limit:g} s"
        return f"{what} failed: {str(exc).replace(self.url, _redact(self.url))}"

    def _items(self) -> Iterator[DecodedFrame | SourceGap]:
        index = 0

        def decode(container: Any) -> Iterator[DecodedFrame | None]:
            nonlocal index
            for frame in container.decode(video=0):
                t_s = time.time()
                index += 1
                keep = self._gate.keep(t_s)
                yield decoded_frame(self.camera, t_s, index, frame, self.max_height) if keep else None

        for item in self.sessions(decode):
            if item is not None:
                yield item

    def sessions(self, body: Callable[[Any], Iterator[T]]) -> Iterator[T | SourceGap]:
        """Yield what ``body(container)`` yields, reconnecting with back-off and timeouts.

        ``body`` gets each freshly opened PyAV container and iterates it (decode or demux). A
        failed open or read, or the end of the stream, yields one :class:`SourceGap`, waits the
        next back-off delay and reopens. Every item ``body`` yields counts as proof of life (it
        resets the back-off and ends the outage). Stops when :meth:`close` is called.
        """
        attempt = 0
        down_since: float | None = None
        while not self._closed.is_set():
            container: Any = None
            started = time.monotonic()
            try:
                container = self._open()
                for item in body(container):
                    if self._closed.is_set():
                        return
                    down_since = None
                    attempt = 0
                    yield item
                    started = time.monotonic()
                reason = "stream ended (the server closed the session)"
            except (av.FFmpegError, OSError, SourceError) as exc:
                reason = self._reason(exc, opening=container is None, waited_s=time.monotonic() - started)
            finally:
                if container is not None:
                    container.close()
            if self._closed.is_set():
                return
            now = time.time()
            if down_since is None:
                down_since = now
            log.warning("camera %r: %s (%s); retrying", self.camera, reason, _redact(self.url))
            yield SourceGap(self.camera, now, reason, down_since)
            delay = self.backoff_s[min(attempt, len(self.backoff_s) - 1)]
            attempt += 1
            if self._closed.wait(delay):
                return


def _redact(url: str) -> str:
    """URL without its password (``rtsp://user:***@host/...``)."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.partition("@")
    if not sep or not at:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def open_source(url_or_path: str, *, camera: str, **kw: Any) -> FileSource | RtspSource:
    """A live source for ``rtsp://``/``rtsps://`` URLs, else a file source.

    Keyword arguments go to the chosen class; ones that only the other class takes are dropped
    (``loop``/``realtime`` for RTSP; timeouts, back-off and transport for files).

    Raises:
        SourceError: bad settings, or (files) the file cannot be opened.
    """
    if url_or_path.startswith(_LIVE_SCHEMES):
        for name in ("loop", "realtime"):
            kw.pop(name, None)
        return RtspSource(url_or_path, camera=camera, **kw)
    for name in ("open_timeout_s", "read_timeout_s", "backoff_s", "transport"):
        kw.pop(name, None)
    return FileSource(url_or_path, camera=camera, **kw)
