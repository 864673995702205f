"""MonitorHub bookkeeping, fed typed messages directly (the transport here only records calls)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

import pytest

from safecity.errors import ConfigError
from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.runtime.hub import MonitorHub
from safecity.monitor.runtime.messages import (
    EndedMsg,
    EventMsg,
    FailureMsg,
    HealthMsg,
    StatsMsg,
    TileMsg,
)
from safecity.monitor.runtime.transport import HubInbox
from safecity.monitor.selection.wall import PinError
from safecity.monitor.types import Event, EventKind
from tests.factories import make_event


class RecordingTransport:
    """Starts nothing; records what the hub asks of it."""

    name = "recording"

    def __init__(self) -> None:
        self.inbox: HubInbox | None = None
        self.wishes: list[frozenset[str]] = []
        self.stopped = False

    def start(self, inbox: HubInbox) -> None:
        self.inbox = inbox

    def want_tiles(self, cameras: frozenset[str]) -> None:
        self.wishes.append(cameras)

    def placement(self) -> Mapping[str, str]:
        return {"a": "w0", "b": "w0"}

    def stop(self, timeout_s: float) -> None:
        self.stopped = True


class ReconfigurableTransport(RecordingTransport):
    def __init__(self) -> None:
        super().__init__()
        self.configs: list[MonitorConfig] = []

    def reconfigure(self, config: MonitorConfig) -> None:
        self.configs.append(config)


class ListSink:
    def __init__(self) -> None:
        self.items: list[tuple[EventKind, Event]] = []
        self.lock = threading.Lock()

    def publish(self, kind: EventKind, event: Event) -> None:
        with self.lock:
            self.items.append((kind, event))


def _config(*ids: str, max_tiles: int = 4) -> MonitorConfig:
    return MonitorConfig.model_validate(
        {"cameras": [{"id": c, "source": f"{c}.mp4"} for c in ids], "selection": {"max_tiles": max_tiles}}
    )


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_hub_tracks_live_events_health_and_stats() -> None:
    clock = Clock()
    sink = ListSink()
    hub = MonitorHub(_config("a", "b"), RecordingTransport(), sinks=[sink], clock=clock, sink_threads=False)
    ev = make_event(uid="e1", camera="a", start_s=999.0, last_s=999.5, severity=2)
    hub.deliver(EventMsg("start", ev, 999.5))
    hub.deliver(HealthMsg("b", "blurred"))
    hub.deliver(StatsMsg("a", {"frames": 7}, tiles_dropped=2))
    hub.deliver(StatsMsg("b", {"frames": 3}, tiles_dropped=1))
    hub.deliver(FailureMsg("b", "cannot read"))
    hub.deliver(EndedMsg("b", "source ended"))
    assert [e.uid for e in hub.live_events()] == ["e1"]
    assert hub.health() == {"a": "online", "b": "blurred"}
    stats = hub.stats()
    assert stats["cameras"] == {"a": {"frames": 7}, "b": {"frames": 3}}
    assert (stats["events_received"], stats["tiles_dropped"], stats["ended"]) == (1, 3, ["b"])
    assert hub.errors() == {"b": "cannot read"}
    hub.deliver(EventMsg("end", make_event(uid="e1", camera="a", start_s=999.0, end_s=1000.0), 1000.0))
    assert hub.live_events() == []
    assert [k for k, _ in sink.items] == ["start", "end"]


def test_hub_select_puts_the_event_camera_up_and_records_latency() -> None:
    clock = Clock(1000.0)
    t = RecordingTransport()
    hub = MonitorHub(_config("a", "b", max_tiles=1), t, select_every_s=None, clock=clock)
    hub.start()
    hub.deliver(EventMsg("start", make_event(uid="e1", camera="b", start_s=999.0, last_s=999.0), 999.0))
    clock.t = 1000.5
    wall = hub.select()
    assert [x.camera for x in wall.tiles] == ["b"]
    assert hub.latencies_s == [pytest.approx(1.5)]
    assert t.wishes[-1] == frozenset({"b"})  # the wall camera sends tiles
    hub.stop()
    assert t.stopped


def test_hub_ended_events_leave_the_selection_after_three_half_lives() -> None:
    clock = Clock(100.0)
    hub = MonitorHub(_config("a"), RecordingTransport(), select_every_s=None, clock=clock)
    ev = make_event(uid="e1", camera="a", start_s=90.0, last_s=95.0, end_s=95.0, severity=2)
    hub.deliver(EventMsg("end", ev, 95.0))
    assert [x.camera for x in hub.select().tiles] == ["a"]  # recent: still scored
    clock.t = 95.0 + 3 * 60.0 + 1  # default half-life 60 s
    hub.select()
    clock.t += 31  # past the hold time as well
    assert hub.select().tiles == ()


def test_hub_acknowledge_unpins_a_severe_event() -> None:
    clock = Clock(10.0)
    hub = MonitorHub(_config("a"), RecordingTransport(), select_every_s=None, clock=clock)
    hub.deliver(EventMsg("start", make_event(uid="e1", camera="a", start_s=10.0, severity=5), 10.0))
    assert hub.select().tiles[0].pinned
    hub.acknowledge("e1")
    assert not hub.wall().tiles[0].pinned


def test_hub_pin_puts_a_camera_in_a_slot_until_it_expires_or_is_unpinned() -> None:
    clock = Clock(10.0)
    t = RecordingTransport()
    hub = MonitorHub(_config("a", "b", max_tiles=2), t, select_every_s=None, clock=clock)
    hub.start()
    hub.deliver(EventMsg("start", make_event(uid="e1", camera="a", start_s=10.0, severity=3), 10.0))
    assert [(x.camera, x.slot) for x in hub.select().tiles] == [("a", 0)]
    pin = hub.pin("b", 1, until_s=70.0, by="ptz-handoff")
    assert (pin.camera, pin.slot, pin.until_s, pin.by) == ("b", 1, 70.0, "ptz-handoff")
    wall = hub.wall()  # chosen again at once: b is up and sends tiles, with no event of its own
    assert {(x.camera, x.slot, x.pinned_by) for x in wall.tiles} == {("a", 0, ""), ("b", 1, "ptz-handoff")}
    assert t.wishes[-1] == frozenset({"a", "b"})
    assert [p.camera for p in hub.pins()] == ["b"]
    with pytest.raises(PinError, match="camera 'zz' is not run by this monitor"):
        hub.pin("zz")
    clock.t = 70.0  # expired
    assert hub.pins() == [] and "b" not in [x.camera for x in hub.select().tiles]
    hub.pin("b")
    assert hub.unpin("b") and not hub.unpin("b")
    hub.stop()


def test_hub_latest_jpeg_asks_for_tiles_for_ten_seconds() -> None:
    clock = Clock(0.0)
    t = RecordingTransport()
    hub = MonitorHub(_config("a", "b"), t, select_every_s=None, clock=clock)
    hub.start()
    assert hub.latest_jpeg("a") is None
    assert t.wishes[-1] == frozenset({"a"})
    hub.deliver_tile(TileMsg("a", 0.5, b"jpeg"))
    assert hub.latest_jpeg("a") == b"jpeg"
    clock.t = 11.0
    hub.select()
    assert t.wishes[-1] == frozenset()  # the request expired
    hub.stop()


def test_hub_update_config_needs_a_reconfigurable_transport() -> None:
    hub = MonitorHub(_config("a"), RecordingTransport(), select_every_s=None)
    with pytest.raises(ConfigError, match="restart the monitoring runtime"):
        hub.update_config(_config("a", "b"))


def test_hub_update_config_adds_and_removes_cameras() -> None:
    t = ReconfigurableTransport()
    hub = MonitorHub(_config("a", "b"), t, select_every_s=None)
    hub.deliver(HealthMsg("b", "offline"))
    new = _config("a", "c", max_tiles=2)
    hub.update_config(new)
    assert t.configs == [new]
    assert hub.cameras() == ["a", "c"]
    assert hub.health() == {"a": "online", "c": "online"}


def test_hub_threaded_sinks_get_every_event_by_stop() -> None:
    sink = ListSink()
    hub = MonitorHub(_config("a"), RecordingTransport(), sinks=[sink])
    hub.start()
    for i in range(50):
        hub.deliver(EventMsg("start", make_event(uid=f"e{i}", camera="a"), 10.0))
    hub.stop()
    assert [e.uid for _, e in sink.items] == [f"e{i}" for i in range(50)]


def test_hub_rejects_a_bad_select_period() -> None:
    with pytest.raises(ConfigError, match="select_every_s"):
        MonitorHub(_config("a"), RecordingTransport(), select_every_s=0.0)


def test_hub_ignores_the_last_words_of_a_removed_camera() -> None:
    hub = MonitorHub(_config("a", "b"), ReconfigurableTransport(), select_every_s=None)
    hub.deliver(EventMsg("start", make_event(uid="e1", camera="b"), 10.0))
    hub.update_config(_config("a"))
    # the worker ends the removed camera's events and reports its health once more
    hub.deliver(EventMsg("end", make_event(uid="e1", camera="b", end_s=11.0), 11.0))
    hub.deliver(HealthMsg("b", "online"))
    hub.deliver(StatsMsg("b", {"frames": 1}))
    assert hub.live_events() == [] and hub.health() == {"a": "online"} and hub.stats()["cameras"] == {}
