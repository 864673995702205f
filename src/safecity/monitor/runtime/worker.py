"""The camera worker: runs a set of cameras (one thread each) and emits typed messages.

::

    CameraWorker ─┬─ camera thread: source -> CameraPipeline -> emit(EventMsg | HealthMsg | StatsMsg ...)
                  │                                          └─ emit_tile(TileMsg)  (wall cameras only)
                  └─ camera thread: ...

The worker knows nothing about where its messages go: a transport gives it two callbacks. Local
worker processes put the messages on a multiprocessing queue, Ray actors buffer them for the
driver's poll, and replay hands them straight to the hub (:mod:`safecity.monitor.runtime.replay`
calls :meth:`CameraWorker.step` in its own thread with the video's clock).

A camera that raises is restarted with back-off (``RuntimeOptions.restart_backoff_s``) and reported
once per outage: a :class:`FailureMsg`, a ``camera_offline`` event and ``offline`` health. Its first
frame after a restart ends that event. A file camera whose source ends (no ``loop``) ends its live
events and sends :class:`EndedMsg`.

A camera config that changes while running (:meth:`CameraWorker.reconfigure`) restarts the pipeline
of each changed camera only: its live events are ended first (the new rules start afresh), new
cameras start, removed cameras stop. Unchanged cameras keep running untouched.

Each worker builds one detector per distinct detector config of its cameras and shares it among
them (onnxruntime sessions may be called from several threads; the detectors keep no per-call
state). With ``RuntimeOptions.media_root`` the worker also owns the
:class:`~safecity.media.MediaRecorder` of its cameras, fed the frames it analyses.

Event times: live cameras give Unix time. File cameras give seconds from the file start; the
worker adds ``clock()`` at the camera's first frame, so every event it emits is on the worker's
clock (Unix time by default; replay passes the video's own clock, so its events stay in file time).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from safecity.errors import ConfigError, SafecityError
from safecity.health import HEALTH_OF_TYPE, worst_health
from safecity.monitor.config.model import CameraConfig, DetectorConfig, MonitorConfig
from safecity.monitor.pipeline import CameraPipeline, StepResult
from safecity.monitor.runtime.messages import (
    ArmAnalytics,
    EndedMsg,
    EventMsg,
    FailureMsg,
    HealthMsg,
    StatsMsg,
    TileMsg,
    TileWish,
    TracksMsg,
    WorkerMessage,
)
from safecity.monitor.types import Event, EventKind, HealthState, SourceGap
from safecity.monitor.vision.factory import build_detector

if TYPE_CHECKING:
    from safecity.media import MediaRecorder
    from safecity.monitor.sources.gated import GatedSource
    from safecity.monitor.sources.readers import DecodedFrame, FileSource, RtspSource
    from safecity.monitor.vision.base import Detector
    from safecity.monitor.vision.detect import PoseEstimator

__all__ = [
    "CameraWorker",
    "Emit",
    "EmitTile",
    "RuntimeOptions",
    "TrackRecordingWorker",
    "health_from_events",
    "make_camera_worker",
    "tile_slot",
    "tile_wishes",
]

log = logging.getLogger(__name__)
U8 = npt.NDArray[np.uint8]

Emit = Callable[[WorkerMessage], None]
"""Where a worker's ordered messages go (called from the camera threads; must be thread-safe)."""
EmitTile = Callable[[TileMsg], bool]
"""Where tiles go; returns False when a tile had to be dropped (counted in :class:`StatsMsg`)."""

_MEDIA_FPS_HEADROOM = 1.25  # recorder rate / detect_fps: frames a little early are still kept
_MEDIA_FLUSH_S = 3.0  # a stopping worker waits this long for its pending clips
_STATS_EVERY_S = 1.0


def health_from_events(live: Collection[Event]) -> HealthState:
    """Health of a camera from its live health events (worst first; none = online).

    Example:
        >>> health_from_events([Event("u", "camera_blurred", "c", 0.0, 0.0)])
        'blurred'
    """
    return worst_health(HEALTH_OF_TYPE[e.type] for e in live if e.type in HEALTH_OF_TYPE)


@dataclass(frozen=True, slots=True)
class RuntimeOptions:
    """How the workers run their sources.

    Attributes:
        loop: file cameras start again at their end (demo).
        realtime: file cameras are paced to the wall clock (demo); else decoded as fast as possible.
        tile_fps: JPEG tiles per second sent for cameras on the wall or asked for.
        tile_height: tile JPEG height in pixels.
        restart_backoff_s: waits before restarting a camera that failed (the last repeats).
        select_every_s: selector period of the hub.
        detector_factory: ``"module:function"`` called with the ``DetectorConfig`` in each worker
            instead of :func:`~safecity.monitor.vision.factory.build_detector` (tests, custom models).
        media_root: when set, each worker keeps a :class:`~safecity.media.MediaRecorder` there and
            writes the snapshot and clip of every event of its cameras from the frames it analyses
            (privacy masks from the camera config, pre/post seconds from ``outputs``, clip rate =
            the camera's ``detect_fps``); None = no media.
        record_tracks: the workers also summarise every confirmed track and send the records of
            ended tracks as :class:`~safecity.monitor.runtime.messages.TracksMsg` (track index,
            issue 14; see :func:`make_camera_worker`).
    """

    loop: bool = False
    realtime: bool = False
    tile_fps: float = 3.0
    tile_height: int = 360
    restart_backoff_s: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
    select_every_s: float = 1.0
    detector_factory: str | None = None
    media_root: Path | None = None
    record_tracks: bool = False


def _load_detector(cfg: DetectorConfig, factory: str | None) -> Detector:
    if factory is None:
        return build_detector(cfg)
    module, _, name = factory.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        msg = f"detector factory {factory!r} cannot be imported ({exc}); use 'module:function'"
        raise ConfigError(msg) from exc
    detector: Detector = fn(cfg)
    return detector


def _jpeg(bgr: U8, height: int) -> bytes:
    import cv2

    h, w = bgr.shape[:2]
    if h > height:
        size = (max(1, round(w * height / h)), height)
        bgr = np.asarray(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 70])
    return bytes(buf.tobytes()) if ok else b""


def _effective(config: MonitorConfig, cam: CameraConfig) -> tuple[object, ...]:
    """Everything that shapes a camera's pipeline (a change restarts it)."""
    return (cam, config.detector_for(cam), config.tracker_for(cam), cam.motion or config.motion,
            config.timezone, config.outputs)  # fmt: skip


@dataclass(slots=True)
class _Camera:
    """One camera's run state (lives as long as the worker runs the camera)."""

    config: CameraConfig
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    source: FileSource | RtspSource | GatedSource | None = None
    pipeline: CameraPipeline | None = None
    watch: bool = False  # the item being stepped is a gated source's watch-mode keyframe
    offset_s: float | None = None  # added to file times
    live_health: dict[str, Event] = field(default_factory=dict)
    health: HealthState = "online"
    last_tile: float = 0.0
    last_stats: float = float("-inf")
    last_t_s: float = 0.0
    failures: int = 0
    offline_uid: str | None = None
    tiles_dropped: int = 0
    started: bool = False  # a frame arrived since the (re)start


class CameraWorker:
    """Runs a set of cameras, one thread each, and emits what they produce.

    Args:
        config: the :class:`~safecity.monitor.config.model.MonitorConfig` (detector, motion,
            tracker, outputs and time zone of the cameras).
        cameras: the cameras this worker runs.
        options: :class:`RuntimeOptions`.
        emit: receives every :data:`~safecity.monitor.runtime.messages.WorkerMessage` in each
            camera's order (called from the camera threads).
        emit_tile: receives tiles of the cameras in the tile wish; returns False when it dropped
            one. None = no tiles.
        detector: one detector for every camera instead of building them from the config (replay,
            tests).
        clock: the worker's clock: ``emitted_s`` of messages, the offset of file times, the rate of
            stats and tiles (replay passes the video's clock).
    """

    def __init__(
        self,
        config: MonitorConfig,
        cameras: Sequence[CameraConfig],
        options: RuntimeOptions,
        emit: Emit,
        emit_tile: EmitTile | None = None,
        *,
        detector: Detector | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.options = options
        self._emit = emit
        self._emit_tile = emit_tile
        self._fixed_detector = detector
        self._clock = clock
        self._lock = threading.Lock()  # the camera table (reconfigure vs camera threads)
        self._load_lock = threading.Lock()  # detectors and recorders are built one at a time
        self._cams: dict[str, _Camera] = {c.id: _Camera(c) for c in cameras}
        self._detectors: dict[str, Detector] = {}  # detector config (JSON) -> detector
        self._detector_errors: dict[str, str] = {}
        self._pose: PoseEstimator | None = None
        self._media: dict[str, MediaRecorder] = {}  # camera id -> recorder
        self._recorders: dict[float, MediaRecorder] = {}  # detect_fps -> recorder
        self._want_tiles: frozenset[str] = frozenset()
        self._stop = threading.Event()
        self._started = False

    # ------------------------------------------------------------------ introspection
    @property
    def cameras(self) -> list[CameraConfig]:
        """The cameras this worker runs now."""
        with self._lock:
            return [c.config for c in self._cams.values()]

    def detector_of(self, camera: str) -> Detector | None:
        """The detector ``camera`` uses (None before it is loaded or when it cannot be)."""
        key = self.config.detector_for(self._cams[camera].config).model_dump_json()
        return self._fixed_detector if self._fixed_detector is not None else self._detectors.get(key)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Load detectors (in the calling thread) and start one thread per camera; returns then.

        A camera whose detector cannot be loaded is reported as failed and does not start; when
        the pose model or the media settings are unusable every camera is reported failed.
        """
        if self._started:
            return
        self._started = True
        try:
            built_here = self._fixed_detector is None and self.options.detector_factory is None
            if built_here and any(self.config.detector_for(c).pose for c in self.cameras):
                from safecity.monitor.vision.detect import PoseEstimator

                self._pose = PoseEstimator(threads=self.config.detector.threads)
        except SafecityError as exc:  # the pose model is unusable
            for cam in self.cameras:
                self.fail(cam.id, f"worker cannot start: {exc}")
            return
        for cam in self.runnable():
            self._launch(cam.id)

    def runnable(self) -> list[CameraConfig]:
        """Load the detectors (one per distinct detector config, shared by the cameras that use it)
        and return the cameras that can run; the others are reported as failed."""
        out = []
        for cam in self.cameras:
            try:
                self._detector(cam)
            except SafecityError as exc:
                self.fail(cam.id, str(exc))
                continue
            out.append(cam)
        return out

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop every camera (sources closed, threads joined up to ``timeout_s``) and flush media."""
        self._stop.set()
        with self._lock:
            cams = list(self._cams.values())
        for c in cams:
            self._halt(c)
        deadline = time.monotonic() + timeout_s  # let camera threads leave onnxruntime first
        for c in cams:
            if c.thread is not None:
                c.thread.join(max(0.0, deadline - time.monotonic()))
        for rec in list(self._recorders.values()):
            rec.close(timeout_s=_MEDIA_FLUSH_S)  # pending clips are written with the frames they have

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def want_tiles(self, wish: TileWish) -> None:
        """The cameras (of this worker) that should send tiles from now on."""
        self._want_tiles = wish.cameras

    def reconfigure(self, config: MonitorConfig, cameras: Sequence[CameraConfig]) -> list[str]:
        """Run ``cameras`` under ``config`` from now on; returns the ids of the cameras restarted.

        Cameras whose effective config (camera, detector, tracker, motion, time zone, outputs) is
        unchanged keep running. A changed camera's pipeline is stopped (its live events ended),
        then started again with the new config; new cameras start, cameras not in ``cameras`` stop
        (their live events ended).
        """
        old_config = self.config
        wanted = {c.id: c for c in cameras}
        with self._lock:
            current = dict(self._cams)
        changed = [
            cid for cid, c in current.items()
            if cid not in wanted or _effective(old_config, c.config) != _effective(config, wanted[cid])
        ]  # fmt: skip
        for cid in changed:
            self._retire(current[cid])
        self.config = config
        started = []
        with self._lock:
            for cid in changed:
                self._cams.pop(cid, None)
            for cid, cam in wanted.items():
                if cid not in self._cams:
                    self._cams[cid] = _Camera(cam)
                    started.append(cid)
        if self._started and not self._stop.is_set():
            for cid in started:
                self._launch(cid)
        return sorted(started)

    def arm(self, msg: ArmAnalytics) -> None:
        """PTZ: pause a camera's analytics or arm them at a preset (:mod:`safecity.ptz.arming`)."""
        with self._lock:
            c = self._cams.get(msg.camera)
        pipe = c.pipeline if c is not None else None
        if pipe is not None and pipe.ptz is not None:
            pipe.ptz.request(msg.preset, msg.wait_still)

    # ------------------------------------------------------------------ reporting
    def fail(self, camera: str, reason: str) -> None:
        """Report a camera that cannot run: failure message, one offline event per outage, health."""
        c = self._cams[camera]
        c.failures += 1
        self._emit(FailureMsg(camera, reason))
        if c.offline_uid is None:
            now = self._clock()
            c.offline_uid = f"{camera}-offline-{int(now * 1000)}"
            ev = Event(c.offline_uid, "camera_offline", camera, now, now, severity=3,
                       detail={"reason": reason[:200]})  # fmt: skip
            self._emit(EventMsg("start", ev, now))
        self._set_health(c, "offline")

    def _recovered(self, c: _Camera) -> None:
        c.failures = 0
        if c.offline_uid is not None:
            now = self._clock()
            ev = Event(c.offline_uid, "camera_offline", c.config.id, now, now, end_s=now, severity=3)
            self._emit(EventMsg("end", ev, now))
            c.offline_uid = None

    def _set_health(self, c: _Camera, state: HealthState) -> None:
        if c.health != state:
            c.health = state
            self._emit(HealthMsg(c.config.id, state))

    def _send_stats(self, c: _Camera, now: float) -> None:
        c.last_stats = now
        from safecity.monitor.sources.camera import gate_status

        counters = c.pipeline.counters.as_dict() if c.pipeline is not None else {}
        self._emit(StatsMsg(c.config.id, counters, c.tiles_dropped, gate=gate_status(c.source, c.config)))

    # ------------------------------------------------------------------ in the calling thread
    def open(self, camera: str, source: GatedSource | None = None) -> CameraPipeline:
        """Make ``camera``'s pipeline for :meth:`step` in the calling thread (replay); with the
        gated ``source`` its items are stepped from, the pipeline holds its gate active while
        busy and the stats carry its status.

        Raises:
            ModelError: its detector cannot be loaded.
        """
        c = self._cams[camera]
        c.pipeline = self._make_pipeline(c.config)
        c.source = source
        c.offset_s, c.started = None, False
        return c.pipeline

    def step(self, camera: str, item: DecodedFrame | SourceGap, *, watch: bool = False) -> StepResult:
        """Run one source item through ``camera``'s pipeline and emit what it produced (``watch``:
        a keyframe a gated source decoded in watch mode, for the health checks only)."""
        c = self._cams[camera]
        if c.pipeline is None:
            raise RuntimeError(f"camera {camera!r} has no pipeline: call open({camera!r}) first")
        c.watch = watch
        return self._step(c, c.pipeline, item)

    def finish(self, camera: str) -> None:
        """End ``camera``'s live events (its source ended or it is reconfigured) and send its stats."""
        c = self._cams[camera]
        if c.pipeline is None:
            return
        now = self._clock()
        for kind, ev in c.pipeline.finish(c.last_t_s):  # on the worker's clock, like every other event
            self._publish(c, kind, self._on_clock(ev, None if c.config.live else c.offset_s), now)
        self._set_health(c, health_from_events(c.live_health.values()))
        self._send_stats(c, now)

    # ------------------------------------------------------------------ camera threads
    def _launch(self, camera: str) -> None:
        c = self._cams[camera]
        c.thread = threading.Thread(target=self._camera_loop, args=(c,), name=f"cam-{camera}", daemon=True)
        c.thread.start()

    def _halt(self, c: _Camera) -> None:
        c.stop.set()
        src = c.source
        if src is not None:
            with contextlib.suppress(Exception):  # a broken source must not stop the shutdown
                src.close()

    def _retire(self, c: _Camera) -> None:
        """Stop a camera for good (reconfigure): its thread ends and its live events end."""
        self._halt(c)
        if c.thread is not None:
            c.thread.join(5.0)
            if c.thread.is_alive():
                log.warning("camera %r did not stop within 5 s; its events are ended anyway", c.config.id)
        with contextlib.suppress(Exception):  # a broken pipeline must not stop the reconfiguration
            self.finish(c.config.id)
        self._recovered(c)  # an outage of the old config ends; the new one reports its own
        self._set_health(c, "online")  # the new pipeline starts from "online" and reports changes

    def _detector(self, cam: CameraConfig) -> Detector:
        if self._fixed_detector is not None:
            return self._fixed_detector
        dcfg = self.config.detector_for(cam)
        key = dcfg.model_dump_json()
        with self._load_lock:
            if key in self._detectors:
                return self._detectors[key]
            if key in self._detector_errors:
                raise ConfigError(f"detector cannot be loaded: {self._detector_errors[key]}")
            try:
                det = _load_detector(dcfg, self.options.detector_factory)
            except SafecityError as exc:
                self._detector_errors[key] = str(exc)
                raise ConfigError(f"detector cannot be loaded: {exc}") from exc
            self._detectors[key] = det
            return det

    def _recorder(self, cam: CameraConfig) -> MediaRecorder | None:
        """The :class:`~safecity.media.MediaRecorder` of ``cam`` (one per distinct ``detect_fps``)."""
        root = self.options.media_root
        if root is None:
            return None
        from safecity.media import MediaRecorder

        with self._load_lock:
            rec = self._recorders.get(cam.detect_fps)
            if rec is None:
                out = self.config.outputs
                # frames come at detect_fps with timestamp jitter: a little headroom keeps every one
                rec = MediaRecorder(root, pre_s=out.clip_pre_s, post_s=out.clip_post_s,
                                    fps=cam.detect_fps * _MEDIA_FPS_HEADROOM)  # fmt: skip
                self._recorders[cam.detect_fps] = rec
            if cam.privacy_masks:  # read when a snapshot or clip is written
                rec.masks[cam.id] = [list(p) for p in cam.privacy_masks]
            else:
                rec.masks.pop(cam.id, None)
            self._media[cam.id] = rec
        return rec

    def _make_pipeline(self, cam: CameraConfig) -> CameraPipeline:
        return CameraPipeline(
            cam, self._detector(cam), pose=self._pose, motion=cam.motion or self.config.motion,
            tracker=self.config.tracker_for(cam), tz=self.config.timezone,
            box_limits=self.config.filters.limits_for(cam.id),
        )  # fmt: skip

    def _camera_loop(self, c: _Camera) -> None:
        from safecity.monitor.sources.camera import open_camera_source

        cam = c.config
        try:
            self._detector(cam)
            media = self._recorder(cam)
        except SafecityError as exc:  # detector or media settings unusable: no restart helps
            self.fail(cam.id, str(exc))
            return
        opts = self.options
        while not (c.stop.is_set() or self._stop.is_set()):
            try:
                pipe = self._make_pipeline(cam)  # a failed camera starts afresh
                src = open_camera_source(cam, loop=opts.loop, realtime=opts.realtime)  # gated unless "decode"
                c.source, c.pipeline = src, pipe
                c.offset_s, c.started = None, False
                if self._run_source(c, src, pipe, media):
                    self.finish(cam.id)
                    self._emit(EndedMsg(cam.id, "source ended"))
                return
            except Exception as exc:  # any failure of one camera must not stop the others
                if c.stop.is_set() or self._stop.is_set():
                    return
                level = logging.WARNING if c.failures == 0 else logging.DEBUG  # once per outage
                log.log(level, "camera %r failed (restarting with back-off): %s", cam.id, exc)
                self.fail(cam.id, f"{type(exc).__name__}: {exc}")
                backoff = opts.restart_backoff_s
                if c.stop.wait(backoff[min(c.failures - 1, len(backoff) - 1)]):
                    return

    def _run_source(
        self,
        c: _Camera,
        src: FileSource | RtspSource | GatedSource,
        pipe: CameraPipeline,
        media: MediaRecorder | None,
    ) -> bool:
        """Feed the source to the pipeline; True when the source ended, False when stopped."""
        from safecity.monitor.sources.camera import marked_items

        for item, watch in marked_items(src):
            if c.stop.is_set() or self._stop.is_set():
                return False
            c.watch = watch
            res = self._step(c, pipe, item)
            if media is not None and not isinstance(item, SourceGap):
                self._feed_media(media, c, item, res)
        return not (c.stop.is_set() or self._stop.is_set())

    def _step(self, c: _Camera, pipe: CameraPipeline, item: DecodedFrame | SourceGap) -> StepResult:
        gap = isinstance(item, SourceGap)
        if not gap and not c.started:
            c.started = True
            self._recovered(c)
        res = pipe.watch_step(item) if c.watch and not isinstance(item, SourceGap) else pipe.step(item)
        c.watch = False
        hold = getattr(c.source, "hold_active", None)  # a gated source stays active while the camera is busy
        if hold is not None and pipe.busy:
            hold(res.t_s + c.config.gate.hold_s)
        wake = getattr(c.source, "watch_at", None)  # ... and decodes a frame when a health condition matures
        if wake is not None and pipe.health_due_s is not None:
            wake(pipe.health_due_s)
        c.last_t_s = res.t_s
        now = self._clock()
        if not c.config.live and c.offset_s is None:
            c.offset_s = now - res.t_s
        for kind, ev in res.events:
            self._publish(c, kind, self._on_clock(ev, None if c.config.live else c.offset_s), now)
        self._set_health(c, health_from_events(c.live_health.values()))
        if not isinstance(item, SourceGap) and self._emit_tile is not None:
            self._maybe_tile(c, item, now)
        if now - c.last_stats >= _STATS_EVERY_S:
            self._send_stats(c, now)
        return res

    def _publish(self, c: _Camera, kind: EventKind, ev: Event, now: float) -> None:
        media = self._media.get(c.config.id)
        if media is not None:
            media.publish(kind, ev)
        if ev.type in HEALTH_OF_TYPE:
            if kind == "end":
                c.live_health.pop(ev.uid, None)
            else:
                c.live_health[ev.uid] = ev
        self._emit(EventMsg(kind, ev, now))

    def _feed_media(self, media: MediaRecorder, c: _Camera, item: DecodedFrame, res: StepResult) -> None:
        """Hand the frame to the recorder when it keeps it, or when an event starts on it (its
        snapshot is this very frame); times are the events' clock."""
        t = float(item.t_s) + (0.0 if c.config.live else (c.offset_s or 0.0))
        if any(k == "start" for k, _ in res.events) or media.wants_frame(c.config.id, t):
            media.add_frame(c.config.id, t, item.bgr())

    @staticmethod
    def _on_clock(ev: Event, offset: float | None) -> Event:
        if not offset:
            return ev
        return dataclasses.replace(
            ev,
            start_s=ev.start_s + offset,
            last_s=ev.last_s + offset,
            end_s=None if ev.end_s is None else ev.end_s + offset,
        )

    def _maybe_tile(self, c: _Camera, item: DecodedFrame, now: float) -> None:
        if self._emit_tile is None or c.config.id not in self._want_tiles:
            return
        due = tile_slot(c.last_tile, now, self.options.tile_fps)
        if due is None:
            return
        c.last_tile = due
        if not self._emit_tile(TileMsg(c.config.id, now, _jpeg(item.bgr(), self.options.tile_height))):
            c.tiles_dropped += 1


def tile_slot(last: float, now: float, fps: float) -> float | None:
    """When a frame at ``now`` makes a tile: the new grid time to remember, else None (too soon).

    Tiles sit on a grid of ``1/fps`` with a quarter period of slack, so analysed frames that come at
    ``fps`` (the demo's 3 a second) each make a tile despite jitter and faster ones are thinned to
    ``fps``; the grid never lags more than half a period behind ``now``. (``last = now`` with no
    slack, as before, sent every other frame of a 3 fps camera: 1.4-1.6 tiles a second of 3.)
    """
    period = 1.0 / fps
    if now < last + 0.75 * period:
        return None
    return max(last + period, now - 0.5 * period)


def tile_wishes(wanted: frozenset[str], placement: Mapping[str, str]) -> dict[str, TileWish]:
    """Split the hub's wanted cameras by worker (``placement``: camera -> worker name)."""
    out: dict[str, set[str]] = {w: set() for w in set(placement.values())}
    for cam in wanted:
        w = placement.get(cam)
        if w is not None:
            out[w].add(cam)
    return {w: TileWish(frozenset(cams)) for w, cams in out.items()}


# ---------------------------------------------------------------------------------------------------
# Track index hook (issue 14, forensic search): a CameraWorker that also summarises tracks.
# Kept apart from CameraWorker on purpose: CameraWorker itself is unchanged.


class TrackRecordingWorker(CameraWorker):
    """A :class:`CameraWorker` that also feeds every camera's confirmed tracks to a
    :class:`~safecity.search.summary.TrackSummariser` and hands the records of ended tracks to
    ``on_records`` (called from the camera threads, like ``emit``; times on the worker's clock, like
    events). A restarted or reconfigured camera's summariser starts afresh (the old one's tracks are
    recorded first); :meth:`finish` records the tracks still alive.

    Args:
        on_records: receives each batch of records, e.g. :meth:`safecity.search.writer.TrackWriter.publish`.
        *args: as :class:`CameraWorker`.
        **kwargs: as :class:`CameraWorker`.
    """

    def __init__(self, *args: Any, on_records: Callable[[list[TrackRecord]], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_records = on_records
        self._summaries: dict[str, tuple[CameraPipeline, TrackSummariser]] = {}

    def _step(self, c: _Camera, pipe: CameraPipeline, item: DecodedFrame | SourceGap) -> StepResult:
        from safecity.search.summary import TrackSummariser

        res = super()._step(c, pipe, item)
        cid = c.config.id
        got = self._summaries.get(cid)
        if got is None or got[0] is not pipe:  # first frame, or a restarted pipeline
            if got is not None:
                self._deliver(c, got[1].finish())
            got = self._summaries[cid] = (pipe, TrackSummariser.for_camera(c.config))
        frame = None if isinstance(item, SourceGap) else item.bgr
        self._deliver(c, got[1].update(res.tracks, res.frame_wh, frame))
        return res

    def finish(self, camera: str) -> None:
        super().finish(camera)
        got = self._summaries.pop(camera, None)
        if got is not None:
            self._deliver(self._cams[camera], got[1].finish())

    def _deliver(self, c: _Camera, records: list[TrackRecord]) -> None:
        from safecity.search.records import shifted

        if not records:
            return
        offset = 0.0 if c.config.live else (c.offset_s or 0.0)
        self._on_records([shifted(r, offset) for r in records] if offset else records)


def make_camera_worker(
    config: MonitorConfig,
    cameras: Sequence[CameraConfig],
    options: RuntimeOptions,
    emit: Emit,
    emit_tile: EmitTile | None = None,
) -> CameraWorker:
    """The worker a transport runs: a :class:`TrackRecordingWorker` whose records go out on ``emit``
    as :class:`~safecity.monitor.runtime.messages.TracksMsg` when ``options.record_tracks``, else a
    plain :class:`CameraWorker` (local worker processes and Ray actors both build theirs here)."""
    if not options.record_tracks:
        return CameraWorker(config, cameras, options, emit, emit_tile)

    def send(records: list[TrackRecord]) -> None:
        emit(TracksMsg(records[0].camera, tuple(records)))

    return TrackRecordingWorker(config, cameras, options, emit, emit_tile, on_records=send)


if TYPE_CHECKING:
    from typing import Any

    from safecity.search.records import TrackRecord
    from safecity.search.summary import TrackSummariser
