"""LiveHub fan-out (never blocks the runtime, drops oldest for slow clients), JpegCache, wall_json."""

from __future__ import annotations

import asyncio

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from safecity.monitor.types import WallLayout, WallTile
from safecity.web.live import JpegCache, LiveHub, Subscriber, wall_json
from tests.unit.web.conftest import FakeMonitor, make_event


def test_publish_without_a_loop_records_but_never_blocks() -> None:
    from dataclasses import replace

    hub = LiveHub(clock=lambda: 5.0)
    ev = make_event("a", "c1")
    hub.publish("start", ev)
    assert hub.live_events()["a"].live
    hub.publish("end", replace(ev, end_s=ev.last_s))
    assert not hub.live_events()["a"].live  # ended events stay known for the wall


@given(st.integers(min_value=1, max_value=600))
def test_slow_subscriber_keeps_the_newest_messages(n: int) -> None:
    sub = Subscriber(None)
    for i in range(n):
        sub.offer({"i": i})
    kept = [sub.queue.get_nowait()["i"] for _ in range(sub.queue.qsize())]
    assert kept == list(range(max(0, n - 200), n))  # bounded, oldest dropped, order kept
    assert sub.dropped == max(0, n - 200)


def test_fanout_goes_through_the_loop_and_respects_groups() -> None:
    async def scenario() -> list[list[str]]:
        hub = LiveHub()
        hub.bind(asyncio.get_running_loop())
        west, all_ = hub.subscribe(frozenset({"w"})), hub.subscribe(None)
        hub.publish("start", make_event("e1", "e"))  # as from a runtime thread
        hub.publish("start", make_event("w1", "w"))
        await asyncio.sleep(0.05)
        return [
            [m["event"]["uid"] for m in (s.queue.get_nowait() for _ in range(s.queue.qsize()))]
            for s in (west, all_)
        ]

    assert asyncio.run(scenario()) == [["w1"], ["e1", "w1"]]


def test_note_wall_measures_publish_to_tile_latency_once_per_event() -> None:
    now = [100.0]
    hub = LiveHub(clock=lambda: now[0])
    hub.publish("start", make_event("e1", "c1"))
    now[0] = 100.75
    tile = WallTile("c1", 1.0, "r", 4, True, 0.0, ("e1",))
    hub.note_wall(WallLayout(1.0, (tile,)))
    now[0] = 103.0
    hub.note_wall(WallLayout(2.0, (tile,)))  # still on the wall: not counted again
    assert list(hub.wall_latency_s) == [pytest.approx(0.75)]


def test_wall_json_filters_and_marks_handled_events() -> None:
    layout = WallLayout(
        50.0, (WallTile("a", 1, "x", 2, False, 40.0, ("u1",)), WallTile("b", 1, "y", 3, False, 45.0))
    )
    out = wall_json(layout, {"u1": make_event("u1", "a")}, {"a"}, acked={"u1"})
    assert [t["camera"] for t in out["tiles"]] == ["a"]
    assert out["tiles"][0]["on_wall_s"] == 10.0 and out["tiles"][0]["events"][0]["acknowledged"] is True


class JpegMonitor(FakeMonitor):
    """A runtime that keeps JPEG tiles (like MonitorRuntime.latest_jpeg)."""

    def __init__(self) -> None:
        super().__init__(["a", "b"])
        img = np.full((90, 160, 3), 200, np.uint8)
        self.raw = bytes(cv2.imencode(".jpg", img)[1].tobytes())

    def latest_jpeg(self, camera: str) -> bytes | None:
        return self.raw


def test_jpeg_cache_passes_unmasked_tiles_and_masks_once_per_tile() -> None:
    mon = JpegMonitor()
    cache = JpegCache(mon, {"b": [[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]]})
    assert cache.latest("a") is mon.raw  # no mask: the runtime's bytes as they are
    first = cache.latest("b")
    assert first is not None and first is not mon.raw
    assert cache.latest("b") is first  # same tile: not encoded again
    masked = cv2.imdecode(np.frombuffer(first, np.uint8), cv2.IMREAD_COLOR)
    assert masked.max() < 20  # whole-frame mask: black
    mon.raw = bytes(mon.raw)[:-2] + bytes(mon.raw)[-2:]  # a new tile object
    assert cache.latest("b") is not first
