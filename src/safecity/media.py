"""Snapshots and clips of events, privacy masks, and media retention.

- :func:`apply_privacy_masks` blacks out per-camera polygons (image fractions) in a new array; the
  console uses it for live tiles and :class:`MediaRecorder` for every snapshot and clip.
- :class:`MediaRecorder` keeps a short ring buffer of downscaled frames per camera (bounded by
  seconds, thinned to ``fps``) and, as an ``EventSink``, writes ``root/<camera>/<uid>.jpg`` (the frame
  at the event start, masks applied, the event box drawn) and ``root/<camera>/<uid>.mp4`` (H.264, from
  ``pre_s`` before to ``post_s`` after the start; written once a frame ``post_s`` after the start has
  arrived, so time comes from frame timestamps). Encoding runs on a background thread; files appear
  atomically (written to a temporary name, then renamed).
- :func:`enforce_retention` deletes the oldest snapshots/clips until the age limit, each camera's size
  cap and the total size cap hold, never touching the files it is told to keep (open events, exports).

OpenCV and PyAV are imported when first needed, so the path helpers stay light for the store.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from safecity.errors import InputError

if TYPE_CHECKING:
    from safecity.monitor.types import Event, EventKind

__all__ = [
    "CLIP_START_TAG",
    "MEDIA_SUFFIXES",
    "MediaExistsError",
    "MediaRecorder",
    "apply_privacy_masks",
    "draw_box",
    "enforce_retention",
    "media_paths",
    "read_clip_start",
    "safe_name",
    "write_clip",
    "write_jpeg",
]

log = logging.getLogger(__name__)

U8 = npt.NDArray[np.uint8]
Polygon = Sequence[tuple[float, float]]
MEDIA_SUFFIXES = (".jpg", ".mp4")
_MAX_PENDING = 100  # pending clips / waiting snapshots per camera
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
CLIP_START_TAG = "safecity start_s="
"""Prefix of a clip's MP4 ``comment`` tag: the Unix time (events' clock) of its first frame."""


class MediaExistsError(InputError):
    """A snapshot or clip would replace an existing file (media files are written once)."""


def safe_name(name: str) -> str:
    """A file-name-safe form of a camera id or event uid (no separators, no leading dot).

    >>> safe_name("cam/01 east")
    'cam_01_east'
    >>> safe_name("..")
    '_.'
    """
    if not name:
        raise InputError("camera id and event uid must not be empty")
    out = _UNSAFE.sub("_", name)
    return "_" + out[1:] if out.startswith(".") else out


def media_paths(root: Path, camera: str, uid: str) -> tuple[Path, Path]:
    """Deterministic ``(snapshot, clip)`` paths of an event: ``root/<camera>/<uid>.jpg`` and ``.mp4``.

    >>> [p.as_posix() for p in media_paths(Path("media"), "cam1", "ev-7")]
    ['media/cam1/ev-7.jpg', 'media/cam1/ev-7.mp4']
    """
    folder = root / safe_name(camera)
    base = safe_name(uid)
    return folder / f"{base}.jpg", folder / f"{base}.mp4"


def _polygon_px(poly: Polygon, width: int, height: int) -> npt.NDArray[np.int32]:
    pts = np.asarray(poly, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] < 3:
        raise InputError(
            f"a privacy mask must be a polygon of at least 3 (x, y) points, got shape {pts.shape}; "
            "give points as fractions of the image, e.g. [[0.1, 0.1], [0.4, 0.1], [0.4, 0.3]]"
        )
    if not np.isfinite(pts).all() or pts.min() < 0.0 or pts.max() > 1.0:
        raise InputError(
            f"privacy mask points must be fractions of the image in 0..1, got {pts.tolist()}; "
            "divide pixel coordinates by the image width and height"
        )
    return np.asarray(np.rint(pts * np.array([width - 1, height - 1])), dtype=np.int32)


def apply_privacy_masks(bgr: U8, polygons_frac: Sequence[Polygon]) -> U8:
    """A copy of ``bgr`` with every polygon (points as fractions 0..1 of width, height) filled black.

    The input is never modified. With no polygons the copy equals the input.

    Raises:
        InputError: the image is not (h, w, 3) uint8 or a polygon is malformed or outside 0..1.

    >>> img = np.full((4, 4, 3), 255, np.uint8)
    >>> out = apply_privacy_masks(img, [[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]])
    >>> int(out.max()), int(img.min())
    (0, 255)
    """
    if bgr.dtype != np.uint8 or bgr.ndim != 3 or bgr.shape[2] != 3:
        raise InputError(f"image must be a BGR uint8 array of shape (h, w, 3), got {bgr.dtype} {bgr.shape}")
    out = bgr.copy()
    if not polygons_frac:
        return out
    import cv2

    h, w = bgr.shape[:2]
    for poly in polygons_frac:  # one call per polygon: overlapping polygons in one call cancel out
        cv2.fillPoly(out, [_polygon_px(poly, w, h)], (0, 0, 0))
    return out


def draw_box(
    bgr: U8, box_frac: tuple[float, float, float, float], *, color: tuple[int, int, int] = (0, 0, 255)
) -> U8:
    """A copy of ``bgr`` with the box ``(x1, y1, x2, y2)`` in fractions drawn as a rectangle."""
    import cv2

    out = bgr.copy()
    h, w = bgr.shape[:2]
    x1, y1, x2, y2 = (min(max(v, 0.0), 1.0) for v in box_frac)
    thick = max(1, round(h / 240))
    cv2.rectangle(
        out,
        (round(x1 * (w - 1)), round(y1 * (h - 1))),
        (round(x2 * (w - 1)), round(y2 * (h - 1))),
        color,
        thick,
    )
    return out


def _downscale(bgr: U8, max_height: int) -> U8:
    """A copy at most ``max_height`` tall with even width and height (for yuv420p H.264)."""
    import cv2

    h, w = bgr.shape[:2]
    scale = min(1.0, max_height / h)
    nw, nh = max(2, int(w * scale) // 2 * 2), max(2, int(h * scale) // 2 * 2)
    if (nw, nh) == (w, h):
        return bgr.copy()
    return np.asarray(cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _part_name(path: Path) -> Path:
    """A hidden temporary name next to ``path``, unique per writer (retention skips dot files)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")


def _publish(tmp: Path, path: Path) -> None:
    """Give the finished ``tmp`` its final name atomically, refusing to replace an existing file."""
    try:
        os.link(tmp, path)  # fails if ``path`` exists, unlike rename
    except FileExistsError as exc:
        raise MediaExistsError(
            f"media file {path} already exists; snapshots and clips are never overwritten "
            "(an event uid must be unique: is a second recorder writing the same camera?)"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():  # cheap early refusal; _publish is the real guard
        raise MediaExistsError(f"media file {path} already exists; snapshots and clips are never overwritten")
    tmp = _part_name(path)
    tmp.write_bytes(data)
    _publish(tmp, path)


def write_jpeg(path: Path, bgr: U8, quality: int = 85) -> None:
    """Encode ``bgr`` as JPEG and write it atomically; raises MediaExistsError if ``path`` exists."""
    import cv2

    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise InputError(f"cannot encode a {bgr.shape} image as JPEG")
    _write_atomic(path, buf.tobytes())


def write_clip(
    path: Path, frames: Sequence[tuple[float, U8]], *, codec: str = "libx264", crf: int = 28
) -> None:
    """Encode ``(t_s, bgr)`` frames as an MP4 whose timestamps follow ``t_s`` (variable frame rate).

    Frames of another size than the first are resized to it; the file is written atomically.

    Raises:
        MediaExistsError: ``path`` already exists (media files are never overwritten).
    """
    import av
    import cv2

    if not frames:
        raise InputError("a clip needs at least one frame")
    t0 = frames[0][0]
    h, w = frames[0][1].shape[:2]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise MediaExistsError(f"media file {path} already exists; snapshots and clips are never overwritten")
    tmp = _part_name(path)
    tb = Fraction(1, 1000)
    try:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            # the absolute time of the first frame: players seek to a moment by it (read_clip_start)
            container.metadata["comment"] = f"{CLIP_START_TAG}{t0:.3f}"
            stream = container.add_stream(codec, rate=30)
            assert isinstance(stream, av.VideoStream)
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            stream.time_base = tb
            stream.codec_context.time_base = tb
            if codec == "libx264":
                stream.options = {"preset": "veryfast", "crf": str(crf), "threads": "1"}
            last_pts = -1
            for t_s, img in frames:
                if img.shape[:2] != (h, w):
                    img = np.asarray(cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA), dtype=np.uint8)
                pts = max(round((t_s - t0) * 1000), last_pts + 1)
                last_pts = pts
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
                vf.pts, vf.time_base = pts, tb
                for packet in stream.encode(vf):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _publish(tmp, path)


def read_clip_start(path: Path) -> tuple[float | None, float]:
    """``(start_s, duration_s)`` of a clip written by :func:`write_clip`: the absolute time of its
    first frame (None for clips written before it was recorded) and its length in seconds.

    Raises:
        InputError: the file cannot be read as a video.
    """
    import av

    try:
        with av.open(str(path)) as container:
            tag = str(container.metadata.get("comment", ""))
            duration = (container.duration or 0) / 1_000_000
    except (OSError, av.FFmpegError) as exc:
        raise InputError(f"cannot read clip {path}: {exc}") from exc
    start: float | None = None
    if tag.startswith(CLIP_START_TAG):
        with contextlib.suppress(ValueError):
            start = float(tag[len(CLIP_START_TAG) :])
    return start, duration


@dataclass(slots=True)
class _PendingClip:
    event: Event
    frames: list[tuple[float, U8]] = field(default_factory=list)


class MediaRecorder:
    """Ring buffer of recent frames per camera that writes event snapshots and clips (an ``EventSink``).

    Args:
        root: media folder; files go to ``root/<camera>/<uid>.jpg|.mp4``.
        masks: privacy polygons per camera id (fractions 0..1), applied to every snapshot and clip.
        pre_s: seconds of video before the event start in the clip.
        post_s: seconds after the start; the clip is written when a frame that late arrives.
        fps: frames per second kept in the buffer and the clip (thinned by timestamp).
        max_height: frames are downscaled to at most this height for clips (snapshots keep full size).
        codec: PyAV encoder (``libx264``; ``mpeg4`` where x264 is missing).
        max_days: when given with ``max_bytes``, :func:`enforce_retention` runs on the writer thread
            after a clip is written, at most every ``retention_every_s`` seconds (wall clock).
        max_bytes: size cap of all snapshots and clips under ``root``.
        retention_every_s: minimum interval between two retention passes.
    """

    def __init__(
        self,
        root: Path,
        *,
        masks: Mapping[str, Sequence[Polygon]] | None = None,
        pre_s: float = 5.0,
        post_s: float = 5.0,
        fps: float = 4.0,
        max_height: int = 360,
        jpeg_quality: int = 85,
        codec: str = "libx264",
        max_days: float | None = None,
        max_bytes: int | None = None,
        retention_every_s: float = 600.0,
    ) -> None:
        if (max_days is None) != (max_bytes is None) or (max_days is not None and max_days <= 0):
            raise InputError(
                f"give both max_days (> 0) and max_bytes for retention, or neither; got max_days={max_days}, "
                f"max_bytes={max_bytes}"
            )
        if pre_s < 0 or post_s < 0 or fps <= 0 or max_height < 2:
            raise InputError(
                f"need pre_s >= 0, post_s >= 0, fps > 0, max_height >= 2; got pre_s={pre_s}, "
                f"post_s={post_s}, fps={fps}, max_height={max_height}"
            )
        self.root = Path(root)
        self.masks: dict[str, list[Polygon]] = {k: list(v) for k, v in (masks or {}).items()}
        for cam, polys in self.masks.items():
            for p in polys:
                _polygon_px(p, 2, 2)  # validate early: a bad mask must not wait for the first event
            if not cam:
                raise InputError("privacy masks need a camera id")
        self.pre_s, self.post_s, self.fps = float(pre_s), float(post_s), float(fps)
        self.max_height, self.jpeg_quality, self.codec = max_height, jpeg_quality, codec
        self.max_days, self.max_bytes, self.retention_every_s = max_days, max_bytes, retention_every_s
        self._last_retention = float("-inf")
        self.deleted: list[Path] = []  # what retention removed (latest pass)
        self._lock = threading.RLock()
        self._buffers: dict[str, deque[tuple[float, U8]]] = {}
        self._latest: dict[str, tuple[float, U8]] = {}
        self._pending: dict[str, list[_PendingClip]] = {}
        self._waiting_snapshots: dict[str, list[Event]] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="safecity-media")
        self._futures: set[Future[None]] = set()

    # ------------------------------------------------------------------ paths
    def snapshot_path(self, event: Event) -> Path:
        """``root/<camera>/<uid>.jpg``."""
        return media_paths(self.root, event.camera, event.uid)[0]

    def clip_path(self, event: Event) -> Path:
        """``root/<camera>/<uid>.mp4``."""
        return media_paths(self.root, event.camera, event.uid)[1]

    # ------------------------------------------------------------------ input
    def wants_frame(self, camera: str, t_s: float) -> bool:
        """Whether :meth:`add_frame` would keep a frame of ``camera`` at ``t_s`` (or needs it for a
        snapshot): lets the caller skip converting frames to BGR that would be thinned out anyway."""
        with self._lock:
            if self._waiting_snapshots.get(camera):
                return True
            buf = self._buffers.get(camera)
            return not buf or t_s - buf[-1][0] >= 1.0 / self.fps - 1e-6

    def add_frame(self, camera: str, t_s: float, bgr: U8) -> None:
        """Offer a frame (kept if ``1/fps`` has passed since the last kept one); finishes due clips."""
        due: list[_PendingClip] = []
        with self._lock:
            self._latest[camera] = (t_s, bgr)
            for ev in self._waiting_snapshots.pop(camera, []):
                self._submit(self._write_snapshot, ev, bgr)
            buf = self._buffers.setdefault(camera, deque())
            if not buf or t_s - buf[-1][0] >= 1.0 / self.fps - 1e-6:
                small = _downscale(bgr, self.max_height)
                buf.append((t_s, small))
                while buf and buf[0][0] < t_s - self.pre_s - 1.0 / self.fps:
                    buf.popleft()
                for clip in self._pending.get(camera, []):
                    clip.frames.append((t_s, small))
            keep: list[_PendingClip] = []
            for clip in self._pending.get(camera, []):
                (due if t_s >= clip.event.start_s + self.post_s else keep).append(clip)
            if due:
                self._pending[camera] = keep
        for clip in due:
            self._submit(self._write_clip, clip)

    def publish(self, kind: EventKind, event: Event) -> None:
        """On an event start, write the snapshot and start collecting its clip (other kinds: nothing)."""
        if kind != "start" or event.type == "camera_offline":
            return
        due: list[_PendingClip] = []
        with self._lock:
            latest = self._latest.get(event.camera)
            if latest is None:
                waiting = self._waiting_snapshots.setdefault(event.camera, [])
                waiting.append(event)
                if len(waiting) > _MAX_PENDING:
                    log.warning("media: no frames from camera %s; dropping a waiting snapshot", event.camera)
                    waiting.pop(0)
            else:
                self._submit(self._write_snapshot, event, latest[1])
            lo = event.start_s - self.pre_s
            frames = [(t, f) for t, f in self._buffers.get(event.camera, ()) if t >= lo - 1e-6]
            pending = self._pending.setdefault(event.camera, [])
            # Event times share the frames' clock: clips whose window is over are due even if no
            # frame arrives (a camera without frames must not pile up pending clips).
            keep = [c for c in pending if c.event.start_s + self.post_s > event.start_s]
            due = [c for c in pending if c.event.start_s + self.post_s <= event.start_s]
            keep.append(_PendingClip(event, frames))
            if len(keep) > _MAX_PENDING:
                due.append(keep.pop(0))
            self._pending[event.camera] = keep
        for clip in due:
            self._submit(self._write_clip, clip)

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Write every pending clip now (with the frames it has) and wait for all files to be written."""
        with self._lock:
            clips = [c for lst in self._pending.values() for c in lst]
            self._pending.clear()
        for clip in clips:
            self._submit(self._write_clip, clip)
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                futures = list(self._futures)
            if not futures:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            wait(futures, timeout=left)

    def close(self, timeout_s: float = 30.0) -> None:
        """Flush and stop the writer thread."""
        self.flush(timeout_s)
        self._pool.shutdown(wait=True)

    # ------------------------------------------------------------------ writing (worker thread)
    def _submit(self, fn: object, *args: object) -> None:
        assert callable(fn)
        with self._lock:
            fut: Future[None] = self._pool.submit(fn, *args)
            self._futures.add(fut)
        fut.add_done_callback(self._done)

    def _done(self, fut: Future[None]) -> None:
        with self._lock:
            self._futures.discard(fut)
        exc = fut.exception()
        if exc is not None:
            log.error("media: writing a snapshot or clip failed: %s", exc, exc_info=exc)

    def _write_snapshot(self, event: Event, bgr: U8) -> None:
        img = apply_privacy_masks(bgr, self.masks.get(event.camera, []))
        if event.box_frac is not None:
            img = draw_box(img, event.box_frac)
        write_jpeg(self.snapshot_path(event), img, self.jpeg_quality)

    def _write_clip(self, clip: _PendingClip) -> None:
        if not clip.frames:
            log.warning("media: no frames for the clip of event %s; none written", clip.event.uid)
            return
        polys = self.masks.get(clip.event.camera, [])
        frames = [(t, apply_privacy_masks(f, polys)) for t, f in clip.frames]
        write_clip(self.clip_path(clip.event), frames, codec=self.codec)
        if self.max_days is not None and self.max_bytes is not None:
            now = time.monotonic()
            if now - self._last_retention >= self.retention_every_s:
                self._last_retention = now
                self.deleted = enforce_retention(self.root, self.max_days, self.max_bytes)
                if self.deleted:
                    log.info("media retention: deleted %d file(s) under %s", len(self.deleted), self.root)


def enforce_retention(
    root: Path,
    max_days: float,
    max_bytes: int,
    *,
    camera_max_bytes: Mapping[str, int] | None = None,
    keep: Collection[str] = (),
    now: float | None = None,
) -> list[Path]:
    """Delete snapshots and clips under ``root`` older than ``max_days``; then, oldest first, those of
    each camera over its own cap in ``camera_max_bytes`` (camera id -> bytes); then, oldest first, until
    the total size is at most ``max_bytes``. Returns the deleted paths, oldest first.

    Files named in ``keep`` (paths relative to ``root``, as the store records them: media of open events
    and of evidence exports) are never deleted, even if a limit cannot be met without them. Only
    ``.jpg``/``.mp4`` files are considered; age comes from the modification time; ``now`` defaults to
    the current Unix time. Camera folders left empty are removed.

    Raises:
        InputError: ``max_days`` is not positive or a size cap is negative.
    """
    caps = dict(camera_max_bytes or {})
    if max_days <= 0 or max_bytes < 0 or any(v < 0 for v in caps.values()):
        raise InputError(
            f"max_days must be > 0 and the size caps >= 0, got {max_days}, {max_bytes} and per camera {caps}"
        )
    if not root.is_dir():
        return []
    now = time.time() if now is None else now
    kept = {Path(k).as_posix() for k in keep}
    files: list[tuple[float, str, int, Path, str]] = []  # mtime, path, size, path, camera folder
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            if p.suffix.lower() not in MEDIA_SUFFIXES or name.startswith("."):
                continue
            rel = p.relative_to(root)
            if rel.as_posix() in kept:
                continue
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            files.append((st.st_mtime, str(p), st.st_size, p, rel.parts[0] if len(rel.parts) > 1 else ""))
    files.sort()
    total = sum(f[2] for f in files) + _kept_size(root, kept)
    per_cam: dict[str, int] = {}
    for f in files:
        per_cam[f[4]] = per_cam.get(f[4], 0) + f[2]
    for rel_kept in kept:
        folder = Path(rel_kept).parts[0] if len(Path(rel_kept).parts) > 1 else ""
        per_cam[folder] = per_cam.get(folder, 0) + _size(root / rel_kept)
    cap_of = {safe_name(cam): cap for cam, cap in caps.items()}
    cutoff = now - max_days * 86400.0
    deleted: list[Path] = []
    gone: set[str] = set()

    def delete(size: int, p: Path, folder: str) -> None:
        nonlocal total
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
        total -= size
        per_cam[folder] -= size
        deleted.append(p)
        gone.add(str(p))

    for mtime, _, size, p, folder in files:  # by age
        if mtime < cutoff:
            delete(size, p, folder)
    for _mtime, key, size, p, folder in files:  # per camera cap
        cap = cap_of.get(folder)
        if cap is not None and key not in gone and per_cam[folder] > cap:
            delete(size, p, folder)
    for _mtime, key, size, p, folder in files:  # total cap
        if key not in gone and total > max_bytes:
            delete(size, p, folder)
    order = {f[3]: i for i, f in enumerate(files)}
    deleted.sort(key=order.__getitem__)
    for dirpath, _dirs, _names in sorted(os.walk(root), key=lambda x: -len(x[0])):
        d = Path(dirpath)
        if d != root and not any(d.iterdir()):
            d.rmdir()
    return deleted


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except FileNotFoundError:
        return 0


def _kept_size(root: Path, kept: Collection[str]) -> int:
    return sum(_size(root / k) for k in kept)
