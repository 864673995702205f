"""Running the pipelines: many cameras in worker processes, the wall selector and the event sinks.

::

    worker process 1 ─┬─ camera thread: source -> CameraPipeline ─┐
                      └─ camera thread: ...                        ├─► events queue (unbounded) ─┐
    worker process 2 ─── camera thread: ...                        └─► tiles queue (bounded,     │
                                                                        drop-oldest)             │
    parent: receiver thread ── live events, health, counters, latest JPEG per camera ◄───────────┘
              ├─ Selector every second (and on every new event) -> WallLayout
              └─ one pump thread per sink (unbounded queue: a slow sink never blocks anything)

Workers are started with ``spawn`` so they share nothing with the parent. Each camera runs in its
own thread inside its worker (decoding and onnxruntime release the GIL), so a camera that stalls
blocks only itself; a camera that raises is restarted with back-off and reported as
``camera_offline``. Only small picklable values cross the process boundary: events, health states,
counters, and a downscaled JPEG (~2 fps) of cameras that are on the wall or were asked for.

Each worker builds one detector per distinct detector config of its cameras (a camera's own
``detector`` or the top-level one) and shares it among the cameras that use it. With
``RuntimeOptions.media_root`` each worker also owns the :class:`~safecity.media.MediaRecorder` of its
cameras: it is fed the frames the worker analyses and the events of its cameras, so snapshots are
the frame the event started on and clips run at the camera's ``detect_fps``; the paths are
deterministic (``safecity.media.media_paths``), so the parent's event store records them without
any frame crossing the process boundary.

Event times: live cameras give Unix time. File cameras give seconds from the file start; the
runtime adds the Unix time of the camera's first frame, so every event the runtime publishes is
in Unix seconds (with ``realtime=True`` this is the wall clock).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from safecity.errors import ConfigError, SafecityError
from safecity.health import HEALTH_OF_TYPE, worst_health
from safecity.monitor.types import Event, EventKind, EventSink, HealthState, WallLayout

__all__ = [
    "MonitorRuntime",
    "RuntimeOptions",
    "build_detector",
    "health_from_events",
    "make_selector",
]

log = logging.getLogger(__name__)
U8 = npt.NDArray[np.uint8]

_MEDIA_FPS_HEADROOM = 1.25  # recorder rate / detect_fps: frames a little early are still kept
_MEDIA_FLUSH_S = 3.0  # a stopping worker waits this long for its pending clips


def health_from_events(live: Collection[Event]) -> HealthState:
    """Health of a camera from its live health events (worst first; none = online).

    Example:
        >>> health_from_events([Event("u", "camera_blurred", "c", 0.0, 0.0)])
        'blurred'
    """
    return worst_health(HEALTH_OF_TYPE[e.type] for e in live if e.type in HEALTH_OF_TYPE)


def _stage(stage: Any) -> dict[str, Any]:
    """A cascade stage as ``load_detector`` arguments: ``kind``, ``model_path``, ``conf``."""
    return {"kind": stage.kind, "model_path": stage.model, "conf": stage.conf}


def build_detector(cfg: Any) -> Any:
    """The :class:`~safecity.monitor.vision.detect.Detector` of a ``DetectorConfig``.

    The config ``type`` is mapped to the ``load_detector`` kind by ``DetectorConfig.kind`` (the one
    place: ``onnx-yolo`` -> ``yolo``). A ``cascade`` gets ``first_pass`` and ``confirm`` as dicts of
    ``load_detector`` arguments (``kind``, ``model_path``, ``conf``) and ``confirm_when``.

    Raises:
        ModelError: a model file is missing or does not fit its kind.
    """
    from safecity.monitor.vision.detect import load_detector

    kw: dict[str, Any] = {"conf": cfg.conf, "threads": cfg.threads, "classes": list(cfg.classes)}
    if cfg.kind == "cascade":
        kw.update(
            first_pass=_stage(cfg.first_pass), confirm=_stage(cfg.confirm), confirm_when=cfg.confirm_when
        )
    return load_detector(cfg.kind, cfg.model, **kw)


def _load_detector(cfg: Any, factory: str | None) -> Any:
    if factory is None:
        return build_detector(cfg)
    import importlib

    module, _, name = factory.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        msg = f"detector factory {factory!r} cannot be imported ({exc}); use 'module:function'"
        raise ConfigError(msg) from exc
    return fn(cfg)


@dataclass(frozen=True, slots=True)
class RuntimeOptions:
    """How a runtime runs its sources.

    Attributes:
        loop: file cameras start again at their end (demo).
        realtime: file cameras are paced to the wall clock (demo); else decoded as fast as possible.
        tile_fps: JPEG tiles per second sent for cameras on the wall or asked for.
        tile_height: tile JPEG height in pixels.
        restart_backoff_s: waits before restarting a camera that failed (the last repeats).
        select_every_s: selector period.
        detector_factory: ``"module:function"`` called with the ``DetectorConfig`` in each worker
            instead of :func:`build_detector` (tests, custom models).
        media_root: when set, each worker keeps a :class:`~safecity.media.MediaRecorder` there and
            writes the snapshot and clip of every event of its cameras from the frames it analyses
            (privacy masks from the camera config, pre/post seconds from ``outputs``, clip rate =
            the camera's ``detect_fps``); None = no media.
    """

    loop: bool = False
    realtime: bool = False
    tile_fps: float = 2.0
    tile_height: int = 360
    restart_backoff_s: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
    select_every_s: float = 1.0
    detector_factory: str | None = None
    media_root: Path | None = None


# --------------------------------------------------------------------------------------------
# Worker side


@dataclass(slots=True)
class _CameraState:
    offset_s: float | None = None  # added to file times
    live_health: dict[str, Event] = field(default_factory=dict)
    health: HealthState = "online"
    last_tile: float = 0.0
    failures: int = 0
    offline_uid: str | None = None


def _jpeg(bgr: U8, height: int) -> bytes:
    import cv2

    h, w = bgr.shape[:2]
    if h > height:
        size = (max(1, round(w * height / h)), height)
        bgr = np.asarray(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 70])
    return bytes(buf.tobytes()) if ok else b""


class _Worker:
    """Runs the cameras of one worker process (one thread per camera)."""

    def __init__(self, cfg: Any, cameras: Sequence[Any], opts: RuntimeOptions, out_q: Any, tile_q: Any,
                 ctl_q: Any, stop: Any) -> None:  # fmt: skip
        self.cfg = cfg
        self.cameras = list(cameras)
        self.opts = opts
        self.out_q = out_q
        self.tile_q = tile_q
        self.ctl_q = ctl_q
        self.stop = stop
        self.want_tiles: frozenset[str] = frozenset()
        self.detectors: dict[str, Any] = {}  # camera id -> detector (one instance per distinct config)
        self.pose: Any = None
        self.media: dict[str, Any] = {}  # camera id -> MediaRecorder (one per distinct detect_fps)
        self.states = {c.id: _CameraState() for c in self.cameras}
        self.sources: dict[str, Any] = {}
        self.tiles_dropped = 0

    def _load_detectors(self) -> list[Any]:
        """One detector per distinct detector config of this worker's cameras, shared by the cameras
        that use it (onnxruntime's ``InferenceSession.run`` may be called from several threads, and
        the detectors keep no per-call state). Returns the cameras that can run; the others are
        reported as failed."""
        by_key: dict[str, Any] = {}
        failed: dict[str, str] = {}
        runnable = []
        for cam in self.cameras:
            dcfg = self.cfg.detector_for(cam)
            key = dcfg.model_dump_json()
            if key not in by_key and key not in failed:
                try:
                    by_key[key] = _load_detector(dcfg, self.opts.detector_factory)
                except SafecityError as exc:
                    failed[key] = str(exc)
            if key in failed:
                self._fail(cam.id, f"detector cannot be loaded: {failed[key]}")
                continue
            self.detectors[cam.id] = by_key[key]
            runnable.append(cam)
        return runnable

    def _make_media(self) -> None:
        """One :class:`~safecity.media.MediaRecorder` per distinct ``detect_fps`` of the cameras."""
        if self.opts.media_root is None:
            return
        from safecity.media import MediaRecorder

        out = self.cfg.outputs
        by_fps: dict[float, Any] = {}
        for cam in self.cameras:
            if cam.detect_fps not in by_fps:
                masks = {  # liftable masks too: recordings are always masked
                    c.id: [list(p) for p in (*c.privacy_masks, *c.liftable_privacy_masks)]
                    for c in self.cameras
                    if c.privacy_masks or c.liftable_privacy_masks
                }
                # frames come at detect_fps with timestamp jitter: a little headroom keeps every one
                by_fps[cam.detect_fps] = MediaRecorder(
                    self.opts.media_root, masks=masks, pre_s=out.clip_pre_s, post_s=out.clip_post_s,
                    fps=cam.detect_fps * _MEDIA_FPS_HEADROOM,
                )  # fmt: skip
            self.media[cam.id] = by_fps[cam.detect_fps]

    def run(self) -> None:
        try:
            cameras = self._load_detectors()
            if self.opts.detector_factory is None and any(self.cfg.detector_for(c).pose for c in cameras):
                from safecity.monitor.vision.detect import PoseEstimator

                self.pose = PoseEstimator(threads=self.cfg.detector.threads)
            self._make_media()
        except SafecityError as exc:  # pose model or media settings unusable
            for cam in self.cameras:
                self._fail(cam.id, f"worker cannot start: {exc}")
            self.stop.wait()
            return
        threads = [
            threading.Thread(target=self._camera_loop, args=(cam,), name=f"cam-{cam.id}", daemon=True)
            for cam in cameras
        ]
        for t in threads:
            t.start()
        parent = mp.parent_process()
        while not self.stop.wait(0.1):
            self._poll_control()
            if parent is not None and not parent.is_alive():
                # the runtime's process died without stop(): do not run on as an orphan
                log.warning("the monitoring runtime's process is gone; worker %d stops", os.getpid())
                for q in (self.out_q, self.tile_q):
                    q.cancel_join_thread()
                self.stop.set()
                break
        for src in list(self.sources.values()):
            with contextlib.suppress(Exception):  # a broken source must not stop the shutdown
                src.close()
        deadline = time.monotonic() + 2.0  # let camera threads leave onnxruntime before exiting
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        for rec in {id(r): r for r in self.media.values()}.values():
            rec.close(timeout_s=_MEDIA_FLUSH_S)  # pending clips are written with the frames they have

    def _poll_control(self) -> None:
        try:
            while True:
                msg = self.ctl_q.get_nowait()
                if msg[0] == "tiles":
                    self.want_tiles = frozenset(msg[1])
        except queue.Empty:
            return

    def _send(self, *msg: Any) -> None:
        self.out_q.put(msg)

    def _set_health(self, cam: str, state: HealthState) -> None:
        st = self.states[cam]
        if st.health != state:
            st.health = state
            self._send("health", cam, state)

    def _fail(self, cam: str, reason: str) -> None:
        """Report a camera that cannot run: error message, offline state and one offline event."""
        st = self.states[cam]
        st.failures += 1
        self._send("error", cam, reason)
        if st.offline_uid is None:
            now = time.time()
            st.offline_uid = f"{cam}-offline-{int(now * 1000)}"
            ev = Event(
                st.offline_uid, "camera_offline", cam, now, now, severity=3, detail={"reason": reason[:200]}
            )
            self._send("event", "start", ev, now)
        self._set_health(cam, "offline")

    def _recovered(self, cam: str) -> None:
        st = self.states[cam]
        st.failures = 0
        if st.offline_uid is not None:
            now = time.time()
            ev = Event(st.offline_uid, "camera_offline", cam, now, now, end_s=now, severity=3)
            self._send("event", "end", ev, now)
            st.offline_uid = None

    def _camera_loop(self, cam: Any) -> None:
        from safecity.monitor.pipeline import CameraPipeline
        from safecity.monitor.sources.readers import open_source

        st = self.states[cam.id]
        while not self.stop.is_set():
            try:
                src = open_source(
                    cam.source, camera=cam.id, detect_fps=cam.detect_fps, loop=self.opts.loop,
                    realtime=self.opts.realtime, max_height=cam.max_height,
                )  # fmt: skip
                self.sources[cam.id] = src
                motion = cam.motion or self.cfg.motion
                pipe = CameraPipeline(cam, self.detectors[cam.id], pose=self.pose, motion=motion,
                                      tracker=self.cfg.tracker_for(cam), tz=self.cfg.timezone)  # fmt: skip
                self._run_source(cam, src, pipe)
                if not self.stop.is_set():
                    self._send("ended", cam.id, "source ended")
                return
            except Exception as exc:  # any failure of one camera must not stop the others
                if self.stop.is_set():
                    return
                level = logging.WARNING if st.failures == 0 else logging.DEBUG  # once per outage
                log.log(level, "camera %r failed (restarting with back-off): %s", cam.id, exc)
                self._fail(cam.id, f"{type(exc).__name__}: {exc}")
                backoff = self.opts.restart_backoff_s
                wait = backoff[min(st.failures - 1, len(backoff) - 1)]
                if self.stop.wait(wait):
                    return

    def _run_source(self, cam: Any, src: Any, pipe: Any) -> None:
        st = self.states[cam.id]
        live = bool(cam.live)
        media = self.media.get(cam.id)
        last_counters = 0.0
        first = True
        for item in src:
            if self.stop.is_set():
                return
            if first and hasattr(item, "gray"):
                self._recovered(cam.id)
                first = False
            res = pipe.step(item)
            if not live and st.offset_s is None:
                st.offset_s = time.time() - res.t_s
            now = time.time()
            if media is not None and hasattr(item, "gray"):
                self._feed_media(media, cam.id, item, res, 0.0 if live else (st.offset_s or 0.0))
            for kind, ev in res.events:
                ev = self._to_unix(ev, st.offset_s if not live else None)
                if media is not None:
                    media.publish(kind, ev)
                if ev.type in HEALTH_OF_TYPE:
                    if kind == "end":
                        st.live_health.pop(ev.uid, None)
                    else:
                        st.live_health[ev.uid] = ev
                self._send("event", kind, ev, now)
            self._set_health(cam.id, health_from_events(st.live_health.values()))
            if hasattr(item, "gray"):
                self._maybe_tile(cam.id, item, now)
            if now - last_counters >= 1.0:
                last_counters = now
                self._send("counters", cam.id, pipe.counters.as_dict(), self.tiles_dropped)

    @staticmethod
    def _feed_media(media: Any, cam: str, item: Any, res: Any, offset: float) -> None:
        """Hand the frame to the recorder when it keeps it, or when an event starts on it (its
        snapshot is this very frame); times are the events' (Unix) clock."""
        t = float(item.t_s) + offset
        if any(k == "start" for k, _ in res.events) or media.wants_frame(cam, t):
            media.add_frame(cam, t, item.bgr())

    @staticmethod
    def _to_unix(ev: Event, offset: float | None) -> Event:
        if offset is None:
            return ev
        return dataclasses.replace(
            ev,
            start_s=ev.start_s + offset,
            last_s=ev.last_s + offset,
            end_s=None if ev.end_s is None else ev.end_s + offset,
        )

    def _maybe_tile(self, cam: str, item: Any, now: float) -> None:
        st = self.states[cam]
        if cam not in self.want_tiles or now - st.last_tile < 1.0 / self.opts.tile_fps:
            return
        st.last_tile = now
        data = _jpeg(item.bgr(), self.opts.tile_height)
        msg = ("tile", cam, now, data)
        try:
            self.tile_q.put_nowait(msg)
        except queue.Full:
            self.tiles_dropped += 1
            try:  # drop the oldest tile, then retry once
                self.tile_q.get_nowait()
                self.tile_q.put_nowait(msg)
            except (queue.Empty, queue.Full):
                pass


def _worker_main(cfg: Any, cameras: Sequence[Any], opts: RuntimeOptions, out_q: Any, tile_q: Any,
                 ctl_q: Any, stop: Any) -> None:  # fmt: skip
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _Worker(cfg, cameras, opts, out_q, tile_q, ctl_q, stop).run()


# --------------------------------------------------------------------------------------------
# Parent side


class _SinkPump:
    """Feeds one sink from its own unbounded queue in its own thread (never blocks the caller)."""

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink
        self.q: queue.SimpleQueue[tuple[EventKind, Event] | None] = queue.SimpleQueue()
        self.failures = 0
        self.thread = threading.Thread(target=self._run, name=f"sink-{type(sink).__name__}", daemon=True)
        self.thread.start()

    def put(self, kind: EventKind, ev: Event) -> None:
        self.q.put((kind, ev))

    def _run(self) -> None:
        while True:
            item = self.q.get()
            if item is None:
                return
            try:
                self.sink.publish(*item)
            except Exception as exc:  # a failing sink must not stop the others
                self.failures += 1
                log.warning("event sink %s failed: %s", type(self.sink).__name__, exc)

    def close(self, timeout_s: float) -> None:
        self.q.put(None)
        self.thread.join(timeout_s)


def make_selector(selection: Any, cameras: Sequence[Any] = ()) -> Any:
    """The wall :class:`~safecity.monitor.selection.wall.Selector` of a ``SelectionConfig`` (and cameras)."""
    from safecity.monitor.selection.wall import Selector

    return Selector.from_config(selection, cameras)


class MonitorRuntime:
    """Runs every enabled camera of a config in worker processes; implements ``MonitorService``.

    Args:
        config: the :class:`~safecity.monitor.config.model.MonitorConfig`.
        sinks: event sinks (store, media, MQTT, webhooks, JSONL); more with :meth:`add_sink`.
        workers: worker processes (cameras are dealt round-robin); capped at the camera count.
        loop: file cameras loop (demo).
        realtime: file cameras play at their frame rate (demo).
        options: further :class:`RuntimeOptions` (``loop``/``realtime`` given here win).
        clock: time source for the selector (tests).
    """

    def __init__(
        self,
        config: Any,
        *,
        sinks: Sequence[EventSink] = (),
        workers: int = 2,
        loop: bool = False,
        realtime: bool = False,
        options: RuntimeOptions | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.opts = dataclasses.replace(options or RuntimeOptions(), loop=loop, realtime=realtime)
        self._cameras = [c for c in config.cameras if c.enabled]
        self._n_workers = max(1, min(workers, len(self._cameras)))
        self._clock = clock
        self._pumps: list[_SinkPump] = [_SinkPump(s) for s in sinks]
        self._lock = threading.Lock()
        self._select_lock = threading.Lock()
        self._live: dict[str, Event] = {}
        self._recent: dict[str, Event] = {}  # ended events kept for the selector's recency
        self._health: dict[str, HealthState] = {c.id: "online" for c in self._cameras}
        self._errors: dict[str, str] = {}
        self._counters: dict[str, dict[str, int]] = {}
        self._ended: set[str] = set()
        self._tiles: dict[str, tuple[float, bytes]] = {}
        self._requested: dict[str, float] = {}
        self._wishes: frozenset[str] = frozenset()
        self._acked: set[str] = set()
        self._wall = WallLayout(0.0, ())
        self._selector: Any = None
        self._pending_latency: dict[str, tuple[str, float]] = {}
        self.latencies_s: list[float] = []
        self.events_received = 0
        self.tiles_dropped = 0
        self._procs: list[Any] = []
        self._ctl_qs: list[Any] = []
        self._cam_worker: dict[str, int] = {}
        self._threads: list[threading.Thread] = []
        self._stop_evt = threading.Event()
        self._mp_stop: Any = None
        self._started = False

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the workers and the receiver/selector threads (returns at once)."""
        if self._started:
            return
        self._started = True
        self._selector = make_selector(self.config.selection, self._cameras)
        ctx = mp.get_context("spawn")
        self._out_q = ctx.Queue()
        self._tile_q = ctx.Queue(maxsize=max(8, 2 * len(self._cameras)))
        self._mp_stop = ctx.Event()
        groups: list[list[Any]] = [[] for _ in range(self._n_workers)]
        for i, cam in enumerate(self._cameras):
            groups[i % self._n_workers].append(cam)
            self._cam_worker[cam.id] = i % self._n_workers
        for i, group in enumerate(groups):
            ctl = ctx.Queue()
            p = ctx.Process(
                target=_worker_main,
                args=(self.config, group, self.opts, self._out_q, self._tile_q, ctl, self._mp_stop),
                name=f"safecity-worker-{i}",
                daemon=True,
            )
            p.start()
            self._procs.append(p)
            self._ctl_qs.append(ctl)
        for target, name in (
            (self._receive, "events"),
            (self._receive_tiles, "tiles"),
            (self._tick, "select"),
        ):
            t = threading.Thread(target=target, name=f"safecity-runtime-{name}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop workers (terminated if they do not exit within ``timeout_s``) and flush the sinks."""
        if not self._started:
            return
        self._mp_stop.set()
        deadline = time.monotonic() + timeout_s
        for p in self._procs:
            p.join(max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                p.terminate()
                p.join(1.0)
        self._stop_evt.set()
        for t in self._threads:
            t.join(2.0)
        self._drain()
        for pump in self._pumps:
            pump.close(max(0.5, deadline - time.monotonic()))
        for q in (self._out_q, self._tile_q, *self._ctl_qs):
            q.cancel_join_thread()
            q.close()
        self._started = False

    def __enter__(self) -> MonitorRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ MonitorService
    def cameras(self) -> list[str]:
        return [c.id for c in self._cameras]

    def wall(self) -> WallLayout:
        with self._lock:
            return self._wall

    def health(self) -> dict[str, HealthState]:
        with self._lock:
            return dict(self._health)

    def latest_frame(self, camera: str) -> U8 | None:
        """Newest tile (BGR, downscaled) of the camera; asks its worker for tiles for the next 10 s."""
        import cv2

        data = self.latest_jpeg(camera)
        if not data:
            return None
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        return None if img is None else np.asarray(img, dtype=np.uint8)

    def latest_jpeg(self, camera: str) -> bytes | None:
        """Newest tile as JPEG bytes (what the console streams), or None; asks for tiles for 10 s."""
        with self._lock:
            now = self._clock()
            first = self._requested.get(camera, -1.0) < now
            self._requested[camera] = now + 10.0
            tile = self._tiles.get(camera)
        if first:
            self._send_tile_wishes()
        return tile[1] if tile else None

    def acknowledge(self, event_uid: str) -> None:
        with self._lock:
            self._acked.add(event_uid)
        self._select()

    def add_sink(self, sink: EventSink) -> None:
        with self._lock:
            self._pumps.append(_SinkPump(sink))

    # ------------------------------------------------------------------ introspection
    def live_events(self) -> list[Event]:
        with self._lock:
            return sorted(self._live.values(), key=lambda e: e.start_s)

    def errors(self) -> dict[str, str]:
        """Last error message per camera (cameras that failed at least once)."""
        with self._lock:
            return dict(self._errors)

    def stats(self) -> dict[str, Any]:
        """Counters per camera, events received, tiles dropped, onset-to-wall latencies."""
        with self._lock:
            return {
                "cameras": {k: dict(v) for k, v in self._counters.items()},
                "events_received": self.events_received,
                "tiles_dropped": self.tiles_dropped,
                "ended": sorted(self._ended),
                "latencies_s": list(self.latencies_s),
                "sink_failures": sum(p.failures for p in self._pumps),
            }

    # ------------------------------------------------------------------ threads
    def _receive(self) -> None:
        while not self._stop_evt.is_set():
            try:
                msg = self._out_q.get(timeout=0.2)
            except queue.Empty:
                continue
            except (EOFError, OSError):
                return
            self._handle(msg)

    def _drain(self) -> None:
        while True:
            try:
                msg = self._out_q.get(timeout=0.05)
            except (queue.Empty, EOFError, OSError):
                return
            self._handle(msg)

    def _receive_tiles(self) -> None:
        while not self._stop_evt.is_set():
            try:
                _, cam, t, data = self._tile_q.get(timeout=0.2)
            except queue.Empty:
                continue
            except (EOFError, OSError):
                return
            with self._lock:
                self._tiles[cam] = (t, data)

    def _handle(self, msg: tuple[Any, ...]) -> None:
        tag = msg[0]
        new_start = False
        with self._lock:
            if tag == "event":
                _, kind, ev, emitted = msg
                self.events_received += 1
                if kind == "end":
                    self._live.pop(ev.uid, None)
                    self._recent[ev.uid] = ev
                else:
                    self._live[ev.uid] = ev
                if kind == "start":
                    self._pending_latency[ev.uid] = (ev.camera, emitted)
                    new_start = True
                pumps = list(self._pumps)
            elif tag == "health":
                self._health[msg[1]] = msg[2]
                pumps = []
            elif tag == "counters":
                self._counters[msg[1]] = msg[2]
                pumps = []
            elif tag == "error":
                self._errors[msg[1]] = msg[2]
                pumps = []
            elif tag == "ended":
                self._ended.add(msg[1])
                pumps = []
            else:
                pumps = []
        if tag == "event":
            for pump in pumps:
                pump.put(msg[1], msg[2])
        if new_start:
            self._select()

    def _tick(self) -> None:
        while not self._stop_evt.wait(self.opts.select_every_s):
            self._select()

    def _select(self) -> None:
        now = self._clock()
        horizon = 3.0 * float(self.config.selection.recency_half_life_s)
        with self._lock:
            for uid in [u for u, e in self._recent.items() if (e.end_s or e.last_s) < now - horizon]:
                del self._recent[uid]
            events = [*self._live.values(), *self._recent.values()]
            health = dict(self._health)
            acked = set(self._acked)
        try:
            with self._select_lock:  # the selector keeps the wall's state: one caller at a time
                layout = self._selector.select(events, health, now, acked)
        except Exception as exc:  # a selector bug must not stop event delivery
            log.warning("wall selection failed: %s", exc)
            return
        on_wall = {t.camera for t in layout.tiles}
        with self._lock:
            self._wall = layout
            t_now = time.time()
            for uid, (cam, emitted) in list(self._pending_latency.items()):
                if cam in on_wall:
                    self.latencies_s.append(max(0.0, t_now - emitted))
                    del self._pending_latency[uid]
                elif uid not in self._live:
                    del self._pending_latency[uid]
        self._send_tile_wishes()  # sends only when the set changed (wall moves, requests expire)

    def _send_tile_wishes(self) -> None:
        """Tell each worker which of its cameras should send tiles (wall + recently asked), if changed."""
        now = self._clock()
        with self._lock:
            asked = {c for c, until in self._requested.items() if until > now}
            wanted = frozenset({t.camera for t in self._wall.tiles} | asked)
            if wanted == self._wishes:
                return
            self._wishes = wanted
        for i, ctl in enumerate(self._ctl_qs):
            ctl.put(("tiles", [c for c in wanted if self._cam_worker.get(c) == i]))
