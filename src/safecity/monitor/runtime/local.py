"""Cameras in worker processes on this machine: :class:`LocalTransport`, and :class:`MonitorRuntime`.

::

    worker process 1 ─┬─ CameraWorker: camera thread ─┐
                      └─ camera thread ...             ├─► events queue (unbounded) ─► hub.deliver
    worker process 2 ─── CameraWorker: camera thread ──┘                             (in order)
                                                       └─► tiles queue (bounded, drop-oldest)
                                                                                  ─► hub.deliver_tile
    hub ── control queue per worker: TileWish, reconfiguration

Workers are started with ``spawn`` so they share nothing with the parent; each runs a
:class:`~safecity.monitor.runtime.worker.CameraWorker` (one thread per camera: decoding and
onnxruntime release the GIL, so a camera that stalls blocks only itself). Only small picklable values
cross the process boundary: the typed messages of :mod:`~safecity.monitor.runtime.messages` and a
downscaled JPEG (~2 fps) of cameras that are on the wall or were asked for. A worker whose parent
died without stopping it exits on its own.

:class:`MonitorRuntime` is the usual way to run a config on one machine: a
:class:`~safecity.monitor.runtime.hub.MonitorHub` over a :class:`LocalTransport`. A changed config
(:meth:`~safecity.monitor.runtime.hub.MonitorHub.update_config`) goes to the workers: changed
cameras restart on the worker that runs them, new cameras go to the worker with the fewest.
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue as MpQueue
from multiprocessing.synchronize import Event as MpEvent

from safecity.monitor.config.model import CameraConfig, MonitorConfig
from safecity.monitor.runtime.hub import MonitorHub, make_selector
from safecity.monitor.runtime.messages import ArmAnalytics, TileMsg, TileWish, WorkerMessage
from safecity.monitor.runtime.transport import HubInbox
from safecity.monitor.runtime.worker import (
    RuntimeOptions,
    health_from_events,
    make_camera_worker,
    tile_wishes,
)
from safecity.monitor.types import EventSink
from safecity.monitor.vision.factory import build_detector

__all__ = [
    "LocalTransport",
    "MonitorRuntime",
    "RuntimeOptions",
    "build_detector",
    "health_from_events",
    "make_selector",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Reconfigure:
    """Hub -> worker: run these cameras under this config from now on."""

    config: MonitorConfig
    cameras: tuple[CameraConfig, ...]


_Control = TileWish | _Reconfigure | ArmAnalytics


def _put_tile(tile_q: MpQueue[TileMsg]) -> Callable[[TileMsg], bool]:
    def put(msg: TileMsg) -> bool:
        try:
            tile_q.put_nowait(msg)
            return True
        except queue.Full:
            try:  # drop the oldest tile, then retry once
                tile_q.get_nowait()
                tile_q.put_nowait(msg)
            except (queue.Empty, queue.Full):
                pass
            return False

    return put


def _worker_main(
    config: MonitorConfig,
    cameras: Sequence[CameraConfig],
    options: RuntimeOptions,
    out_q: MpQueue[WorkerMessage],
    tile_q: MpQueue[TileMsg],
    ctl_q: MpQueue[_Control],
    stop: MpEvent,
) -> None:
    """Body of a worker process: a :class:`CameraWorker` plus its control queue."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    worker = make_camera_worker(config, cameras, options, out_q.put, _put_tile(tile_q))
    worker.start()
    parent = mp.parent_process()
    while not stop.wait(0.1):
        with contextlib.suppress(queue.Empty):
            while True:
                msg = ctl_q.get_nowait()
                if isinstance(msg, TileWish):
                    worker.want_tiles(msg)
                elif isinstance(msg, ArmAnalytics):
                    worker.arm(msg)
                else:
                    worker.reconfigure(msg.config, msg.cameras)
        if parent is not None and not parent.is_alive():
            # the runtime's process died without stop(): do not run on as an orphan
            log.warning("the monitoring runtime's process is gone; worker %d stops", os.getpid())
            for q in (out_q, tile_q):
                q.cancel_join_thread()
            break
    worker.stop(timeout_s=2.0)


class LocalTransport:
    """Runs the cameras in ``workers`` spawned processes (dealt round-robin); a ``Transport``.

    Args:
        config: the :class:`~safecity.monitor.config.model.MonitorConfig` (its enabled cameras).
        workers: worker processes, capped at the camera count.
        options: :class:`~safecity.monitor.runtime.worker.RuntimeOptions` of the workers.
    """

    name = "local"

    def __init__(
        self, config: MonitorConfig, *, workers: int = 2, options: RuntimeOptions | None = None
    ) -> None:
        self.options = options or RuntimeOptions()
        self._config = config
        cams = [c for c in config.cameras if c.enabled]
        self._n = max(1, min(workers, len(cams)))
        self._where: dict[str, int] = {c.id: i % self._n for i, c in enumerate(cams)}
        self._lock = threading.Lock()
        self._procs: list[BaseProcess] = []
        self._ctl_qs: list[MpQueue[_Control]] = []
        self._threads: list[threading.Thread] = []
        self._stop_evt = threading.Event()
        self._inbox: HubInbox | None = None
        self._out_q: MpQueue[WorkerMessage] | None = None
        self._tile_q: MpQueue[TileMsg] | None = None
        self._mp_stop: MpEvent | None = None

    def _group(self, i: int, config: MonitorConfig) -> tuple[CameraConfig, ...]:
        return tuple(c for c in config.cameras if c.enabled and self._where.get(c.id) == i)

    # ------------------------------------------------------------------ Transport
    def start(self, inbox: HubInbox) -> None:
        """Spawn the workers and the receiver threads (returns at once)."""
        if self._procs:
            return
        self._inbox = inbox
        self._stop_evt.clear()
        ctx = mp.get_context("spawn")
        out_q: MpQueue[WorkerMessage] = ctx.Queue()
        tile_q: MpQueue[TileMsg] = ctx.Queue(maxsize=max(8, 2 * len(self._where)))
        stop = ctx.Event()
        self._out_q, self._tile_q, self._mp_stop = out_q, tile_q, stop
        for i in range(self._n):
            ctl: MpQueue[_Control] = ctx.Queue()
            p = ctx.Process(
                target=_worker_main,
                args=(self._config, self._group(i, self._config), self.options, out_q, tile_q, ctl, stop),
                name=f"safecity-worker-{i}",
                daemon=True,
            )
            p.start()
            self._procs.append(p)
            self._ctl_qs.append(ctl)
        for target, name in ((self._receive, "events"), (self._receive_tiles, "tiles")):
            t = threading.Thread(target=target, name=f"safecity-local-{name}", daemon=True)
            t.start()
            self._threads.append(t)

    def want_tiles(self, cameras: frozenset[str]) -> None:
        with self._lock:
            wishes = tile_wishes(cameras, {c: str(i) for c, i in self._where.items()})
        for i, ctl in enumerate(self._ctl_qs):
            ctl.put(wishes.get(str(i), TileWish(frozenset())))

    def arm(self, msg: ArmAnalytics) -> None:
        """PTZ: hand ``msg`` to the worker that runs its camera (see :meth:`MonitorHub.arm_analytics`)."""
        with self._lock:
            i = self._where.get(msg.camera)
        if i is not None and i < len(self._ctl_qs):
            self._ctl_qs[i].put(msg)

    def placement(self) -> Mapping[str, str]:
        with self._lock:
            return {c: f"worker-{i}" for c, i in self._where.items()}

    def reconfigure(self, config: MonitorConfig) -> None:
        """Send each worker its cameras of ``config``; new cameras go to the worker with the fewest."""
        with self._lock:
            ids = [c.id for c in config.cameras if c.enabled]
            self._where = {c: i for c, i in self._where.items() if c in ids}
            for cid in ids:
                if cid not in self._where:
                    load = [sum(1 for w in self._where.values() if w == i) for i in range(self._n)]
                    self._where[cid] = load.index(min(load))
            self._config = config
            msgs = [_Reconfigure(config, self._group(i, config)) for i in range(self._n)]
        for ctl, msg in zip(self._ctl_qs, msgs, strict=False):
            ctl.put(msg)

    def stop(self, timeout_s: float) -> None:
        """Stop the workers (terminated after ``timeout_s``); their queued messages are delivered."""
        if not self._procs or self._mp_stop is None:
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
        for q in (self._out_q, self._tile_q, *self._ctl_qs):
            if q is not None:
                q.cancel_join_thread()
                q.close()
        self._procs, self._ctl_qs, self._threads = [], [], []

    # ------------------------------------------------------------------ introspection
    def worker_pids(self) -> list[int]:
        """Process ids of the running workers (operations, tests)."""
        return [p.pid for p in self._procs if p.pid is not None]

    # ------------------------------------------------------------------ receivers
    def _receive(self) -> None:
        assert self._out_q is not None and self._inbox is not None
        while not self._stop_evt.is_set():
            try:
                msg = self._out_q.get(timeout=0.2)
            except queue.Empty:
                continue
            except (EOFError, OSError):
                return
            self._inbox.deliver(msg)

    def _drain(self) -> None:
        assert self._out_q is not None and self._inbox is not None
        while True:
            try:
                msg = self._out_q.get(timeout=0.05)
            except (queue.Empty, EOFError, OSError):
                return
            self._inbox.deliver(msg)

    def _receive_tiles(self) -> None:
        assert self._tile_q is not None and self._inbox is not None
        while not self._stop_evt.is_set():
            try:
                tile = self._tile_q.get(timeout=0.2)
            except queue.Empty:
                continue
            except (EOFError, OSError):
                return
            self._inbox.deliver_tile(tile)


class MonitorRuntime(MonitorHub):
    """Every enabled camera of a config in worker processes on this machine; a ``MonitorService``.

    A :class:`~safecity.monitor.runtime.hub.MonitorHub` over a :class:`LocalTransport`.

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
        config: MonitorConfig,
        *,
        sinks: Sequence[EventSink] = (),
        workers: int = 2,
        loop: bool = False,
        realtime: bool = False,
        options: RuntimeOptions | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.opts = dataclasses.replace(options or RuntimeOptions(), loop=loop, realtime=realtime)
        self.local = LocalTransport(config, workers=workers, options=self.opts)
        super().__init__(
            config, self.local, sinks=sinks, select_every_s=self.opts.select_every_s, clock=clock
        )
