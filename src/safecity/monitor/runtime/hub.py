"""The monitoring hub: live events, health, the wall selector and the sink pumps, for any transport.

::

    transport (local processes | Ray actors | replay in this thread)
        ├─ deliver(EventMsg | HealthMsg | StatsMsg | FailureMsg | EndedMsg) ─► live + recent events,
        │                                                                       health, counters, errors
        └─ deliver_tile(TileMsg) ─► newest JPEG per camera (lossy)
    MonitorHub
        ├─ Selector every ``select_every_s`` (and on every new event) -> WallLayout -> tile wishes
        └─ one pump thread per sink (unbounded queue: a slow sink never blocks anything)

The hub is the one place that keeps this bookkeeping: ``safecity monitor``, ``safecity serve``,
replay and the benchmarks all run a :class:`MonitorHub` over some
:class:`~safecity.monitor.runtime.transport.Transport`. It implements
:class:`~safecity.monitor.types.MonitorService` for the console.

A hub with ``select_every_s=None`` never selects on its own: the caller calls :meth:`MonitorHub.select`
(replay does, once per second of video), and sinks can be fed in the delivering thread
(``sink_threads=False``) so that a replay's sinks have every event when it returns.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypedDict, runtime_checkable

import numpy as np
import numpy.typing as npt

from safecity.errors import ConfigError
from safecity.monitor.config.model import CameraConfig, MonitorConfig, SelectionConfig
from safecity.monitor.runtime.messages import (
    ArmAnalytics,
    EndedMsg,
    EventMsg,
    FailureMsg,
    HealthMsg,
    StatsMsg,
    TileMsg,
    TracksMsg,
    WorkerMessage,
)
from safecity.monitor.runtime.transport import Transport
from safecity.monitor.selection.wall import Pin, PinError, SelectionWeights, Selector
from safecity.monitor.types import Event, EventKind, EventSink, HealthState, WallLayout
from safecity.search.records import TrackRecord

__all__ = ["HubStats", "MonitorHub", "Reconfigurable", "ReportsStats", "make_selector"]

log = logging.getLogger(__name__)
U8 = npt.NDArray[np.uint8]

_TILE_REQUEST_S = 10.0  # a camera whose tile was asked for sends tiles this long


@runtime_checkable
class Reconfigurable(Protocol):
    """A transport that can change its cameras while running (see :meth:`MonitorHub.update_config`)."""

    def reconfigure(self, config: MonitorConfig) -> None:
        """Run the enabled cameras of ``config`` from now on (changed ones restart, others go on)."""
        ...


@runtime_checkable
class ReportsStats(Protocol):
    """A transport with its own figures (actors, restarts, polls ...), shown under ``transport_stats``."""

    def stats(self) -> Mapping[str, object]:
        """JSON-ready figures of the transport."""
        ...


class HubStats(TypedDict):
    """What :meth:`MonitorHub.stats` returns (JSON-ready)."""

    transport: str
    cameras: dict[str, dict[str, int]]
    events_received: int
    tiles_dropped: int
    ended: list[str]
    latencies_s: list[float]
    sink_failures: int
    transport_stats: Mapping[str, object]


def make_selector(selection: SelectionConfig, cameras: Sequence[CameraConfig] = ()) -> Selector:
    """The wall :class:`~safecity.monitor.selection.wall.Selector` of a ``SelectionConfig`` (and cameras)."""
    return Selector.from_config(selection, cameras)


class _SinkPump:
    """Feeds one sink from its own unbounded queue in its own thread (never blocks the caller);
    with ``threaded=False`` it publishes in the caller's thread."""

    def __init__(self, sink: EventSink, *, threaded: bool = True) -> None:
        self.sink = sink
        self.q: queue.SimpleQueue[tuple[EventKind, Event] | None] = queue.SimpleQueue()
        self.failures = 0
        self.thread: threading.Thread | None = None
        if threaded:
            self.thread = threading.Thread(target=self._run, name=f"sink-{type(sink).__name__}", daemon=True)
            self.thread.start()

    def put(self, kind: EventKind, ev: Event) -> None:
        if self.thread is None:
            self._publish(kind, ev)
        else:
            self.q.put((kind, ev))

    def _publish(self, kind: EventKind, ev: Event) -> None:
        try:
            self.sink.publish(kind, ev)
        except Exception as exc:  # a failing sink must not stop the others
            self.failures += 1
            log.warning("event sink %s failed: %s", type(self.sink).__name__, exc)

    def _run(self) -> None:
        while True:
            item = self.q.get()
            if item is None:
                return
            self._publish(*item)

    def close(self, timeout_s: float) -> None:
        if self.thread is not None:
            self.q.put(None)
            self.thread.join(timeout_s)


class MonitorHub:
    """Live events, health, wall and sinks of the cameras a transport runs; a ``MonitorService``.

    Args:
        config: the :class:`~safecity.monitor.config.model.MonitorConfig` (its enabled cameras).
        transport: where the cameras run (:class:`~safecity.monitor.runtime.local.LocalTransport`,
            the Ray transport, replay's inline transport).
        sinks: event sinks (store, media, MQTT, webhooks, JSONL); more with :meth:`add_sink`.
        select_every_s: selector period; None = only when :meth:`select` is called (replay).
        clock: time of the selector and of onset-to-wall latencies (tests, replay's video clock).
        sink_threads: feed each sink from its own thread (default); False = in the delivering
            thread (replay: the sinks have every event when it returns).
    """

    def __init__(
        self,
        config: MonitorConfig,
        transport: Transport,
        *,
        sinks: Sequence[EventSink] = (),
        select_every_s: float | None = 1.0,
        clock: Callable[[], float] = time.time,
        sink_threads: bool = True,
    ) -> None:
        if select_every_s is not None and select_every_s <= 0:
            raise ConfigError(f"select_every_s must be > 0 seconds or None, got {select_every_s}")
        self.transport = transport
        self.select_every_s = select_every_s
        self._config = config
        self._cameras = [c for c in config.cameras if c.enabled]
        self._known = {c.id for c in self._cameras}
        self._clock = clock
        self._sink_threads = sink_threads
        self._pumps: list[_SinkPump] = [_SinkPump(s, threaded=sink_threads) for s in sinks]
        self._track_sinks: list[Callable[[Sequence[TrackRecord]], None]] = []  # add_track_sink
        self._lock = threading.Lock()
        self._select_lock = threading.Lock()  # the selector keeps the wall's state: one caller at a time
        self._live: dict[str, Event] = {}
        self._recent: dict[str, Event] = {}  # ended events kept for the selector's recency
        self._health: dict[str, HealthState] = {c.id: "online" for c in self._cameras}
        self._errors: dict[str, str] = {}
        self._counters: dict[str, dict[str, int]] = {}
        self._tiles_dropped: dict[str, int] = {}
        self._gates: dict[str, dict[str, object]] = {}  # camera -> its compressed-domain gate status
        self._ended: set[str] = set()
        self._tiles: dict[str, tuple[float, bytes]] = {}
        self._requested: dict[str, float] = {}
        self._wishes: frozenset[str] | None = None
        self._acked: set[str] = set()
        self._wall = WallLayout(0.0, ())
        self._selector = make_selector(config.selection, self._cameras)
        self._pending_latency: dict[str, tuple[str, float]] = {}
        self._latencies: list[float] = []
        self._events_received = 0
        self._stop_evt = threading.Event()
        self._ticker: threading.Thread | None = None
        self._started = False

    # ------------------------------------------------------------------ lifecycle
    @property
    def config(self) -> MonitorConfig:
        return self._config

    def start(self) -> None:
        """Start the transport (its workers) and the selector thread; returns at once."""
        if self._started:
            return
        self._started = True
        self._stop_evt.clear()
        self.transport.start(self)
        if self.select_every_s is not None:
            self._ticker = threading.Thread(target=self._tick, name="safecity-hub-select", daemon=True)
            self._ticker.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the transport (its last messages are delivered), the selector and flush the sinks."""
        if not self._started:
            return
        deadline = time.monotonic() + timeout_s
        self.transport.stop(timeout_s)
        self._stop_evt.set()
        if self._ticker is not None:
            self._ticker.join(2.0)
            self._ticker = None
        with self._lock:
            pumps = list(self._pumps)
        for pump in pumps:
            pump.close(max(0.5, deadline - time.monotonic()))
        self._started = False

    def __enter__(self) -> MonitorHub:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def update_config(self, config: MonitorConfig) -> None:
        """Apply a changed config while running: selection weights, cameras added, changed, removed.

        The transport restarts the pipelines of changed cameras only (their live events end first);
        removed cameras stop and leave the wall. Raises :class:`~safecity.errors.ConfigError` when
        the transport cannot change cameras while running (then restart with the new config).
        """
        if not isinstance(self.transport, Reconfigurable):
            msg = (
                f"the {self.transport.name!r} transport cannot change cameras while running; "
                "restart the monitoring runtime to apply the changed config"
            )
            raise ConfigError(msg)
        cameras = [c for c in config.cameras if c.enabled]
        ids = {c.id for c in cameras}
        with self._lock:
            self._config = config
            self._cameras = cameras
            self._known = ids
            for cid in ids - set(self._health):
                self._health[cid] = "online"
            for table in (self._health, self._errors, self._counters, self._tiles, self._tiles_dropped):
                for cid in set(table) - ids:
                    del table[cid]
            self._ended -= self._ended - ids
        with self._select_lock:
            sel = self._selector
            sel.max_tiles, sel.hold_s = config.selection.max_tiles, config.selection.hold_s
            sel.weights = SelectionWeights.from_config(config.selection, cameras)
        self.transport.reconfigure(config)
        self.select()

    # ------------------------------------------------------------------ HubInbox
    def deliver(self, msg: WorkerMessage) -> None:
        """One message from a worker, in its camera's order (thread-safe)."""
        if isinstance(msg, TracksMsg):  # ended tracks for the track index (never blocks: writers queue)
            for track_sink in list(self._track_sinks):
                track_sink(msg.records)
            return
        new_start = False
        pumps: list[_SinkPump] = []
        with self._lock:
            if isinstance(msg, EventMsg):
                ev = msg.event
                self._events_received += 1
                if msg.kind == "end":
                    self._live.pop(ev.uid, None)
                    self._recent[ev.uid] = ev
                else:
                    self._live[ev.uid] = ev
                if msg.kind == "start":
                    self._pending_latency[ev.uid] = (ev.camera, msg.emitted_s)
                    new_start = True
                pumps = self._pumps
                if self._sink_threads:  # queued under the lock: every sink sees each camera's order
                    for pump in pumps:
                        pump.put(msg.kind, ev)
            elif msg.camera not in self._known:
                pass  # a camera removed by update_config: its last words change nothing
            elif isinstance(msg, HealthMsg):
                self._health[msg.camera] = msg.state
            elif isinstance(msg, StatsMsg):
                self._counters[msg.camera] = dict(msg.counters)
                self._tiles_dropped[msg.camera] = msg.tiles_dropped
                if msg.gate is not None:
                    self._gates[msg.camera] = dict(msg.gate)
            elif isinstance(msg, FailureMsg):
                self._errors[msg.camera] = msg.reason
            elif isinstance(msg, EndedMsg):
                self._ended.add(msg.camera)
        if isinstance(msg, EventMsg) and not self._sink_threads:
            for pump in pumps:
                pump.put(msg.kind, msg.event)
        if new_start and self.select_every_s is not None:
            self.select()

    def deliver_tile(self, msg: TileMsg) -> None:
        """The newest tile of a camera (thread-safe)."""
        with self._lock:
            self._tiles[msg.camera] = (msg.t_s, msg.jpeg)

    # ------------------------------------------------------------------ MonitorService
    def cameras(self) -> list[str]:
        with self._lock:
            return [c.id for c in self._cameras]

    def wall(self) -> WallLayout:
        with self._lock:
            return self._wall

    def health(self) -> dict[str, HealthState]:
        with self._lock:
            return dict(self._health)

    def gate_status(self) -> dict[str, dict[str, object]]:
        """Each running camera's compressed-domain gate status as its worker last reported it
        (``gate_mode``, ``fallback_reason``, ``fallback_text``, ``state`` ...; issue 9)."""
        with self._lock:
            return {k: dict(v) for k, v in self._gates.items() if k in self._known}

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
            self._requested[camera] = now + _TILE_REQUEST_S
            tile = self._tiles.get(camera)
        if first:
            self._send_tile_wishes()
        return tile[1] if tile else None

    def acknowledge(self, event_uid: str) -> None:
        with self._lock:
            self._acked.add(event_uid)
        self.select()

    def arm_analytics(self, msg: ArmAnalytics) -> None:
        """PTZ: pause or arm a camera's analytics (its patrol driver, :mod:`safecity.ptz.runtime`);
        a transport without ``arm`` (replay) ignores it."""
        arm = getattr(self.transport, "arm", None)
        if callable(arm):
            arm(msg)

    def add_track_sink(self, sink: Callable[[Sequence[TrackRecord]], None]) -> None:
        """Also hand the records of ended tracks (workers with ``RuntimeOptions.record_tracks``) to
        ``sink``, e.g. :meth:`safecity.search.writer.TrackWriter.publish` (must not block)."""
        with self._lock:
            self._track_sinks = [*self._track_sinks, sink]

    def add_sink(self, sink: EventSink) -> None:
        with self._lock:
            self._pumps = [*self._pumps, _SinkPump(sink, threaded=self._sink_threads)]

    # ------------------------------------------------------------------ introspection
    def live_events(self) -> list[Event]:
        """Events live now, oldest first."""
        with self._lock:
            return sorted(self._live.values(), key=lambda e: e.start_s)

    def errors(self) -> dict[str, str]:
        """Last error message per camera (cameras that failed at least once)."""
        with self._lock:
            return dict(self._errors)

    @property
    def latencies_s(self) -> list[float]:
        """Onset-to-wall latencies: a ``start`` leaving its worker -> its camera on the wall."""
        with self._lock:
            return list(self._latencies)

    @property
    def events_received(self) -> int:
        with self._lock:
            return self._events_received

    def stats(self) -> HubStats:
        """Counters per camera, events received, tiles dropped, onset-to-wall latencies."""
        extra = self.transport.stats() if isinstance(self.transport, ReportsStats) else {}
        with self._lock:
            return HubStats(
                transport=self.transport.name,
                cameras={k: dict(v) for k, v in self._counters.items()},
                events_received=self._events_received,
                tiles_dropped=sum(self._tiles_dropped.values()),
                ended=sorted(self._ended),
                latencies_s=list(self._latencies),
                sink_failures=sum(p.failures for p in self._pumps),
                transport_stats=extra,
            )

    def placement(self) -> Mapping[str, str]:
        """Where each camera runs (camera id -> worker or node), as the transport says."""
        return self.transport.placement()

    # ------------------------------------------------------------------ selection
    def _tick(self) -> None:
        assert self.select_every_s is not None
        while not self._stop_evt.wait(self.select_every_s):
            self.select()

    def select(self) -> WallLayout:
        """Choose the wall now (also tells the transport which cameras should send tiles)."""
        now = self._clock()
        horizon = 3.0 * float(self._config.selection.recency_half_life_s)
        with self._lock:
            for uid in [u for u, e in self._recent.items() if (e.end_s or e.last_s) < now - horizon]:
                del self._recent[uid]
            events = [*self._live.values(), *self._recent.values()]
            health = dict(self._health)
            acked = set(self._acked)
        try:
            with self._select_lock:
                layout = self._selector.select(events, health, now, acked)
        except Exception as exc:  # a selector bug must not stop event delivery
            log.warning("wall selection failed: %s", exc)
            return self.wall()
        on_wall = {t.camera for t in layout.tiles}
        with self._lock:
            self._wall = layout
            for uid, (cam, emitted) in list(self._pending_latency.items()):
                if cam in on_wall:
                    self._latencies.append(max(0.0, now - emitted))
                    del self._pending_latency[uid]
                elif uid not in self._live:
                    del self._pending_latency[uid]
        self._send_tile_wishes()  # sends only when the set changed (wall moves, requests expire)
        return layout

    def pin(self, camera: str, slot: int | None = None, *, until_s: float | None = None, by: str = "") -> Pin:
        """Pin ``camera`` to a wall slot until ``until_s`` (this hub's clock; None = until unpinned):
        see :meth:`Selector.pin`. The wall is chosen again at once. Raises ``PinError``."""
        with self._lock:
            if camera not in self._known:
                raise PinError(f"camera {camera!r} is not run by this monitor; known: {sorted(self._known)}")
        with self._select_lock:
            pin = self._selector.pin(camera, slot, until_s=until_s, by=by, now=self._clock())
        self.select()
        return pin

    def unpin(self, camera: str) -> bool:
        """Remove the wall pin of ``camera`` (False if it had none); the wall is chosen again."""
        with self._select_lock:
            gone = self._selector.unpin(camera)
        self.select()
        return gone

    def pins(self) -> list[Pin]:
        """The wall pins in force now, by slot."""
        with self._select_lock:
            return self._selector.pins(self._clock())

    def _send_tile_wishes(self) -> None:
        """Tell the transport which cameras should send tiles (wall + recently asked), if changed."""
        if not self._started:
            return
        now = self._clock()
        with self._lock:
            asked = {c for c, until in self._requested.items() if until > now}
            wanted = frozenset({t.camera for t in self._wall.tiles} | asked)
            if wanted == self._wishes:
                return
            self._wishes = wanted
        self.transport.want_tiles(wanted)
