"""Scale-out of the monitoring runtime on Ray: camera groups in actors, selector and sinks in the driver.

::

    Ray actor "group 0" (any node) ─┬─ camera thread: source -> CameraPipeline ─┐  local queues
                                    └─ camera thread: ...                        ├─► (the _Worker of
    Ray actor "group 1" ─────────── camera thread: ...                          ┘    runtime.py)
          ▲  poll(wish) every 0.1 s: returns (incarnation, messages, tiles)     │
          │                                                                     ▼
    driver: poller thread ── MonitorRuntime._handle: live events, health, counters, JPEG tiles
              ├─ Selector every second (and on every new event) -> WallLayout
              └─ one pump thread per sink (unbounded queue: a slow sink never blocks anything)

One machine is the default (:class:`~safecity.monitor.runtime.local.MonitorRuntime`, worker processes);
:class:`RayMonitorRuntime` runs the same camera worker (``runtime._Worker``: one thread per camera,
restart with back-off, ``camera_offline`` on failure) inside Ray actors, one actor per group of at
most ``cameras_per_actor`` cameras (cameras of one ``group`` in the config stay together). The
driver is a :class:`MonitorRuntime` whose receiver is a poller: every actor is polled at most
every ``poll_every_s`` and answers with the messages its cameras produced since the last poll
(events, health, counters, errors) and the newest small JPEG tile of the cameras on the wall.
Frames never leave the actor. The tile wish (which cameras the driver wants tiles of) travels
with every poll, so a restarted actor gets it at once.

Failures: a camera that fails inside an actor is handled by the worker exactly as on one machine.
An actor that dies (process killed, out of memory, node lost) is restarted by Ray
(``max_restarts``); from the first failed poll until it answers again its cameras are
``offline`` (one ``camera_offline`` event per camera, reason ``camera group actor lost``) and
their live events are ended, since the restarted actor starts their pipelines afresh. An actor
that does not answer for ``unreachable_after_s`` (pending for resources, hung node) is reported
the same way. Messages queued in an actor when it dies are lost (at most ``poll_every_s`` of
them); events are never duplicated, except that a restarted *file* camera plays its file again.

Ray is an optional dependency (the ``scale`` extra); it is imported only when a runtime starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from safecity.errors import ConfigError
from safecity.monitor.runtime.local import MonitorRuntime, RuntimeOptions, _Worker
from safecity.monitor.types import Event, EventSink, HealthState

__all__ = ["CameraGroupActor", "RayMonitorRuntime", "partition_cameras", "require_ray"]

log = logging.getLogger(__name__)

_INSTALL_HINT = "install the 'scale' extra: pip install -e '.[scale]' (ray==2.60.0)"


def require_ray() -> Any:
    """Import Ray, or raise :class:`ConfigError` saying how to install it.

    Returns:
        The ``ray`` module.
    """
    try:
        return importlib.import_module("ray")
    except ImportError as exc:
        msg = f"the Ray backend needs the 'ray' package, which cannot be imported ({exc}); {_INSTALL_HINT}"
        raise ConfigError(msg) from exc


def partition_cameras(cameras: Sequence[Any], per_actor: int) -> list[list[Any]]:
    """Deal cameras into actor groups: same ``group`` together, at most ``per_actor`` each.

    Groups keep the config order (of a group's first camera, then of its cameras), so adding a
    camera at the end of the config moves no other camera to another actor.

    Args:
        cameras: ``CameraConfig``-like objects with ``id`` and ``group`` (None = no group).
        per_actor: most cameras per actor (>= 1).

    Example:
        >>> from types import SimpleNamespace as C
        >>> cams = [C(id="a", group="x"), C(id="b", group=None), C(id="c", group="x")]
        >>> [[c.id for c in g] for g in partition_cameras(cams, 8)]
        [['a', 'c'], ['b']]
    """
    if per_actor < 1:
        raise ConfigError(f"cameras_per_actor must be at least 1, got {per_actor}")
    by_group: dict[str | None, list[Any]] = {}
    for cam in cameras:
        by_group.setdefault(cam.group, []).append(cam)
    return [cams[i : i + per_actor] for cams in by_group.values() for i in range(0, len(cams), per_actor)]


# --------------------------------------------------------------------------------------------
# Actor side


class CameraGroupActor:
    """One camera group inside a Ray actor: runtime.py's worker over in-process queues.

    Created through ``ray.remote(CameraGroupActor)`` by :class:`RayMonitorRuntime`; Ray calls the
    constructor again with the same arguments when it restarts the actor, so a new
    ``incarnation`` tells the driver that the pipelines started afresh.

    Args:
        config: the ``MonitorConfig`` (only detector, motion, tracker and time zone are used).
        cameras: the ``CameraConfig`` of this group.
        opts: the runtime's :class:`~safecity.monitor.runtime.local.RuntimeOptions`.
    """

    def __init__(self, config: Any, cameras: Sequence[Any], opts: RuntimeOptions) -> None:
        self.incarnation = f"{os.getpid()}-{time.time_ns()}"
        self._out: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._tiles: queue.Queue[tuple[Any, ...]] = queue.Queue(maxsize=max(4, 2 * len(cameras)))
        self._ctl: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._stop = threading.Event()
        self._wish: tuple[str, ...] = ()
        self._worker = _Worker(config, cameras, opts, self._out, self._tiles, self._ctl, self._stop)
        self._thread = threading.Thread(target=self._run, name="safecity-group", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._worker.run()
        except Exception as exc:  # a bug or version skew between nodes: report it, do not go silent
            log.exception("camera group worker failed")
            for cam in self._worker.cameras:
                self._worker._fail(cam.id, f"camera group worker failed: {type(exc).__name__}: {exc}")

    def poll(
        self, wait_s: float, max_messages: int, want_tiles: Sequence[str]
    ) -> tuple[str, list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Messages and tiles since the last poll (waits up to ``wait_s`` for the first message).

        Args:
            wait_s: longest wait when nothing is queued.
            max_messages: most messages returned at once (the rest wait for the next poll).
            want_tiles: cameras the driver wants JPEG tiles of.

        Returns:
            ``(incarnation, messages, tiles)``; messages are runtime.py's tuples
            (``("event", kind, event, emitted)``, ``("health", cam, state)``, ...), tiles are
            ``("tile", cam, t, jpeg_bytes)``.
        """
        wish = tuple(sorted(want_tiles))
        if wish != self._wish:
            self._wish = wish
            self._ctl.put(("tiles", list(wish)))
        msgs: list[tuple[Any, ...]] = []
        with contextlib.suppress(queue.Empty):
            msgs.append(self._out.get(timeout=wait_s))
            while len(msgs) < max_messages:
                msgs.append(self._out.get_nowait())
        tiles: list[tuple[Any, ...]] = []
        with contextlib.suppress(queue.Empty):
            while True:
                tiles.append(self._tiles.get_nowait())
        return self.incarnation, msgs, tiles

    def shutdown(self, timeout_s: float) -> list[tuple[Any, ...]]:
        """Stop the cameras (waits up to ``timeout_s``) and return the messages still queued."""
        self._stop.set()
        self._thread.join(timeout_s)
        msgs: list[tuple[Any, ...]] = []
        with contextlib.suppress(queue.Empty):
            while True:
                msgs.append(self._out.get_nowait())
        return msgs


# --------------------------------------------------------------------------------------------
# Driver side


@dataclass(slots=True)
class _Group:
    """Driver-side state of one actor."""

    index: int
    cameras: list[str]
    handle: Any
    created_at: float  # monotonic
    incarnation: str | None = None
    ready_s: float | None = None  # creation -> first answer
    restarts: int = 0
    down_since: float | None = None  # monotonic; None while reachable
    down_uids: dict[str, str] = field(default_factory=dict)  # camera -> driver's offline event uid
    reported: dict[str, HealthState] = field(default_factory=dict)  # health as the actor last said
    inflight: Any = None  # ObjectRef of the outstanding poll
    sent_at: float = 0.0
    next_poll: float = 0.0


class RayMonitorRuntime(MonitorRuntime):
    """Runs every enabled camera in Ray actors; implements ``MonitorService`` like :class:`MonitorRuntime`.

    Args:
        config: the :class:`~safecity.monitor.config.model.MonitorConfig`.
        sinks: event sinks (fed in the driver, as on one machine); more with :meth:`add_sink`.
        address: None starts a local Ray (``num_cpus`` CPUs); ``"auto"`` joins the cluster this
            node belongs to (``ray start`` was run here); ``"ray://host:10001"`` connects a
            remote driver through Ray Client; ``"host:6379"`` joins a cluster's GCS.
        cameras_per_actor: most cameras per actor (one decoder thread each, one detector).
        num_cpus: CPUs of the local Ray (only with ``address=None``; default: all).
        actor_cpus: CPUs reserved per actor for Ray's scheduling (fractions allowed). Default:
            1 on a cluster; on a local Ray a share such that every actor fits (at most 1).
        max_restarts: how often Ray restarts a dead actor (-1: always).
        loop: file cameras loop (demo).
        realtime: file cameras play at their frame rate (demo).
        options: further :class:`~safecity.monitor.runtime.local.RuntimeOptions`.
        clock: time source for the selector (tests).
        poll_every_s: shortest time between two polls of one actor.
        unreachable_after_s: an actor that has not answered a poll for this long is reported
            offline (pending for resources, hung).
    """

    def __init__(
        self,
        config: Any,
        *,
        sinks: Sequence[EventSink] = (),
        address: str | None = None,
        cameras_per_actor: int = 8,
        num_cpus: int | None = None,
        actor_cpus: float | None = None,
        max_restarts: int = -1,
        loop: bool = False,
        realtime: bool = False,
        options: RuntimeOptions | None = None,
        clock: Callable[[], float] = time.time,
        poll_every_s: float = 0.1,
        unreachable_after_s: float = 30.0,
    ) -> None:
        _check_address(address, num_cpus)
        if actor_cpus is not None and (
            actor_cpus < 0 or (actor_cpus > 1 and not float(actor_cpus).is_integer())
        ):
            msg = f"actor_cpus must be a share of one CPU (0..1) or a whole number, got {actor_cpus}"
            raise ConfigError(msg)
        if max_restarts < -1:
            raise ConfigError(f"max_restarts must be -1 (always) or >= 0, got {max_restarts}")
        super().__init__(config, sinks=sinks, workers=1, loop=loop, realtime=realtime, options=options,
                         clock=clock)  # fmt: skip
        self.address = address
        self.num_cpus = num_cpus
        self.actor_cpus = actor_cpus
        self.max_restarts = max_restarts
        self.poll_every_s = poll_every_s
        self.unreachable_after_s = unreachable_after_s
        self.partition = partition_cameras(self._cameras, cameras_per_actor)
        self._cam_worker = {c.id: i for i, g in enumerate(self.partition) for c in g}
        self._ray: Any = None
        self._owns_ray = False
        self._groups: list[_Group] = []
        self._ray_stats: dict[str, Any] = {}
        self.polls = 0
        self.poll_messages = 0
        self.tiles_received = 0
        self.tile_bytes = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Connect to (or start) Ray, create one actor per camera group and the driver threads."""
        if self._started:
            return
        from safecity.monitor.runtime.local import make_selector

        ray = require_ray()
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        t0 = time.monotonic()
        if not ray.is_initialized():
            try:
                if self.address is None:  # a new local Ray, never one someone else started
                    ray.init(address="local", num_cpus=self.num_cpus, include_dashboard=False,
                             logging_level=logging.WARNING)  # fmt: skip
                else:
                    ray.init(address=self.address, logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"the Ray cluster at {self.address!r}" if self.address else "a local Ray"
                msg = (
                    f"cannot start or join {where}: {exc}; start a head node with `ray start --head` "
                    "(then address='auto' on that node, 'HEAD:6379' or 'ray://HEAD:10001' elsewhere) "
                    "or use address=None for a local Ray. A cluster with token authentication (the "
                    "default where ~/.ray/auth_token exists) also needs RAY_AUTH_MODE=token and its "
                    "token (~/.ray/auth_token or RAY_AUTH_TOKEN) in this process's environment"
                )
                raise ConfigError(msg) from exc
            self._owns_ray = True
        self._ray = ray
        self._ray_stats["init_s"] = round(time.monotonic() - t0, 3)
        self._started = True
        self._stop_evt.clear()
        self._selector = make_selector(self.config.selection, self._cameras)
        actor_cls = ray.remote(CameraGroupActor)
        cpus = self._actor_cpus(ray)
        self._groups = []
        for i, group in enumerate(self.partition):
            handle = actor_cls.options(
                max_restarts=self.max_restarts,
                max_task_retries=0,
                max_concurrency=2,  # poll and shutdown may overlap
                num_cpus=cpus,
            ).remote(self.config.model_copy(update={"cameras": group}), group, self.opts)
            self._groups.append(_Group(i, [c.id for c in group], handle, time.monotonic()))
        for target, name in ((self._poll_loop, "poll"), (self._tick, "select")):
            t = threading.Thread(target=target, name=f"safecity-ray-{name}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the actors (their last messages are delivered), flush the sinks, shut Ray down.

        Ray is shut down only if this runtime started or joined it (not when the caller had
        already called ``ray.init``).
        """
        if not self._started:
            return
        ray = self._ray
        self._stop_evt.set()
        for t in self._threads:
            t.join(2.0)
        self._threads.clear()
        deadline = time.monotonic() + timeout_s
        # answers of polls still in flight, then what the actors hold when their cameras stop
        for g in self._groups:
            if g.inflight is not None:
                self._collect(g, deadline)
        refs = {g.handle.shutdown.remote(max(0.5, timeout_s - 1.0)): g for g in self._groups}
        ready, _ = ray.wait(list(refs), num_returns=len(refs), timeout=max(0.5, deadline - time.monotonic()))
        for ref in ready:
            with contextlib.suppress(ray.exceptions.RayError):
                for msg in ray.get(ref):
                    self._handle(msg)
        for g in self._groups:
            with contextlib.suppress(Exception):  # an actor already gone must not stop the shutdown
                ray.kill(g.handle, no_restart=True)
        for pump in self._pumps:
            pump.close(max(0.5, deadline - time.monotonic()))
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False
        self._started = False

    def __enter__(self) -> RayMonitorRuntime:
        self.start()
        return self

    def _actor_cpus(self, ray: Any) -> float:
        """CPUs each actor asks Ray for; warns when the cluster cannot hold every actor."""
        total = float(ray.cluster_resources().get("CPU", 0.0))
        n = max(1, len(self.partition))
        cpus = self.actor_cpus
        if cpus is None:
            cpus = 1.0 if self.address is not None else min(1.0, math.floor(total / n * 1e4) / 1e4)
        if cpus * n > total + 1e-9:
            log.warning(
                "%d camera group actors ask for %.2f CPUs each (%.1f in all) but Ray has %.1f; the "
                "rest wait for resources and their cameras are reported offline after %.0f s "
                "(add nodes, lower actor_cpus or raise cameras_per_actor)",
                n, cpus, cpus * n, total, self.unreachable_after_s,
            )  # fmt: skip
        self._ray_stats["actor_cpus"] = cpus
        return cpus

    # ------------------------------------------------------------------ introspection
    def stats(self) -> dict[str, Any]:
        """Local runtime stats plus ``ray``: actors, restarts, start times, polls and bytes."""
        out = super().stats()
        with self._lock:
            out["ray"] = {
                **self._ray_stats,
                "actors": len(self.partition),
                "cameras_per_actor": [len(g) for g in self.partition],
                "actor_ready_s": [g.ready_s for g in self._groups],
                "restarts": [g.restarts for g in self._groups],
                "down": [g.index for g in self._groups if g.down_since is not None],
                "polls": self.polls,
                "poll_messages": self.poll_messages,
                "tiles": self.tiles_received,
                "tile_bytes": self.tile_bytes,
            }
        return out

    def actor_of(self, camera: str) -> Any:
        """The Ray actor handle running ``camera`` (operations, tests)."""
        return self._groups[self._cam_worker[camera]].handle

    # ------------------------------------------------------------------ driver threads
    def _send_tile_wishes(self) -> None:
        """Nothing to send: the wish travels with every poll (see :meth:`_wish_of`)."""

    def _wish_of(self, g: _Group) -> list[str]:
        now = self._clock()
        with self._lock:
            wanted = {t.camera for t in self._wall.tiles}
            wanted |= {c for c, until in self._requested.items() if until > now}
        return [c for c in g.cameras if c in wanted]

    def _poll_loop(self) -> None:
        ray = self._ray
        while not self._stop_evt.is_set():
            now = time.monotonic()
            for g in self._groups:
                if g.inflight is None and now >= g.next_poll:
                    g.inflight = g.handle.poll.remote(0.25, 5000, self._wish_of(g))
                    g.sent_at = now
                elif (
                    g.inflight is not None
                    and g.down_since is None
                    and now - g.sent_at > self.unreachable_after_s
                ):
                    why = "pending for resources (see `ray status`) or hung"
                    self._group_down(g, f"no answer for {self.unreachable_after_s:.0f} s: {why}")
            refs = [g.inflight for g in self._groups if g.inflight is not None]
            if not refs:
                self._stop_evt.wait(self.poll_every_s)
                continue
            ready, _ = ray.wait(refs, num_returns=1, timeout=self.poll_every_s)
            if ready:
                ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
            done = set(ready)
            for g in self._groups:
                if g.inflight is not None and g.inflight in done:
                    self._collect(g, None)

    def _collect(self, g: _Group, deadline: float | None) -> None:
        """Take the answer of ``g``'s poll (waiting until ``deadline`` if given) and handle it."""
        ray = self._ray
        ref, g.inflight = g.inflight, None
        now = time.monotonic()
        try:
            timeout = None if deadline is None else max(0.0, deadline - now)
            incarnation, msgs, tiles = ray.get(ref, timeout=timeout)
        except ray.exceptions.GetTimeoutError:
            return
        except ray.exceptions.RayError as exc:
            if not self._stop_evt.is_set():
                self._group_down(g, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                if isinstance(exc, ray.exceptions.ActorDiedError):
                    self._end_orphans(g)  # its process is gone: nobody will end them
            g.next_poll = now + 1.0  # Ray is restarting it; ask again in a second
            return
        self._group_up(g, incarnation)
        for msg in msgs:
            self._handle(msg)
        g.next_poll = now + self.poll_every_s
        with self._lock:
            self.polls += 1
            self.poll_messages += len(msgs)
            for _, cam, t, data in tiles:
                self._tiles[cam] = (t, data)
                self.tiles_received += 1
                self.tile_bytes += len(data)

    def _handle(self, msg: tuple[Any, ...]) -> None:
        if msg[0] == "health":
            g = self._groups[self._cam_worker[msg[1]]]
            g.reported[msg[1]] = msg[2]
            if g.down_since is not None:
                return  # the driver's "offline" stands until the actor answers again
        super()._handle(msg)

    def _group_down(self, g: _Group, reason: str) -> None:
        """The actor is gone or silent: its cameras go offline (once per outage)."""
        if g.down_since is not None:
            return
        g.down_since = time.monotonic()
        log.warning("camera group %d (%s) lost: %s", g.index, ", ".join(g.cameras), reason)
        now = time.time()
        for cam in g.cameras:
            uid = f"{cam}-actor-lost-{int(now * 1000)}"
            g.down_uids[cam] = uid
            ev = Event(uid, "camera_offline", cam, now, now, severity=3,
                       detail={"reason": f"camera group actor lost: {reason}"[:200]})  # fmt: skip
            self._handle(("event", "start", ev, now))
            self._handle(("error", cam, f"camera group actor lost: {reason}"))
            with self._lock:
                self._health[cam] = "offline"

    def _end_orphans(self, g: _Group) -> None:
        """End the live events of ``g``'s cameras: the actor that would end them is gone."""
        now = time.time()
        cams, own = set(g.cameras), set(g.down_uids.values())
        with self._lock:
            orphans = [e for e in self._live.values() if e.camera in cams and e.uid not in own]
        for ev in orphans:
            detail = {**ev.detail, "end_reason": "camera group actor lost"}
            ended = dataclasses.replace(ev, end_s=max(now, ev.last_s), detail=detail)
            self._handle(("event", "end", ended, now))

    def _group_up(self, g: _Group, incarnation: str) -> None:
        """An answer arrived: note the first one, a restart, or the end of an outage."""
        if g.incarnation is None:
            g.incarnation = incarnation
            g.ready_s = round(time.monotonic() - g.created_at, 3)
        elif incarnation != g.incarnation:
            self._group_down(g, "restarted")  # (if it died and came back between two polls)
            self._end_orphans(g)  # the new pipelines start afresh
            g.incarnation = incarnation
            g.restarts += 1
            g.reported = {}
        if g.down_since is None:
            return
        g.down_since = None
        now = time.time()
        for cam, uid in g.down_uids.items():
            ev = Event(uid, "camera_offline", cam, now, now, end_s=now, severity=3)
            self._handle(("event", "end", ev, now))
            with self._lock:
                self._health[cam] = g.reported.get(cam, "online")
        g.down_uids.clear()
        log.warning("camera group %d (%s) answers again", g.index, ", ".join(g.cameras))


def _check_address(address: str | None, num_cpus: int | None) -> None:
    if num_cpus is not None and num_cpus < 1:
        raise ConfigError(f"num_cpus must be at least 1, got {num_cpus}")
    if address is None:
        return
    if num_cpus is not None:
        msg = (
            f"num_cpus={num_cpus} applies only to a local Ray (address=None), but address={address!r} "
            "joins an existing cluster whose CPUs are set by `ray start --num-cpus`; drop num_cpus"
        )
        raise ConfigError(msg)
    if address == "auto" or address.startswith("ray://"):
        return
    host, sep, port = address.rpartition(":")
    if not (sep and host and port.isdigit()):
        msg = f"Ray address must be 'auto', 'ray://HOST:PORT' or 'HOST:PORT', got {address!r}"
        raise ConfigError(msg)
