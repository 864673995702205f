"""Wall selection: scores with reasons, max_tiles, hold_s hysteresis, pinning, determinism."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safecity.monitor.config.model import CameraConfig, SelectionConfig
from safecity.monitor.selection.wall import PinError, SelectionWeights, Selector, event_reason, score_cameras
from safecity.monitor.types import Event, HealthState
from tests.factories import make_event

W = SelectionWeights()


def ev(camera: str, uid: str | None = None, **kw: Any) -> Event:
    default_uid = f"{camera}-{kw.get('type', 'intrusion')}-{kw.get('start_s', 0)}"
    return make_event(camera=camera, uid=uid or default_uid, **kw)


def cams(wall: Any) -> list[str]:
    return [t.camera for t in wall.tiles]


def test_reason_text() -> None:
    e = ev("c1", start_s=0.0, last_s=14.0, track_ids=(1, 2), count=2, zone="gate")
    assert event_reason(e, 14.0) == "intrusion in zone 'gate': 2 person, 14 s"
    crossing = ev("c1", type="line_crossing", zone="door", direction="a_to_b", start_s=3.0, last_s=3.0)
    assert event_reason(crossing, 3.0) == "line crossing on line 'door' (a_to_b): 1 person, 0 s"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # higher severity beats lower
        ({"severity": 4}, {"severity": 2}),
        # recent beats old (same event otherwise)
        ({"last_s": 100.0, "start_s": 90.0}, {"last_s": 10.0, "start_s": 0.0}),
        # longer dwell beats shorter
        ({"start_s": 40.0, "last_s": 100.0}, {"start_s": 99.0, "last_s": 100.0}),
        # more objects beat fewer
        ({"count": 6, "track_ids": (1, 2, 3, 4, 5, 6)}, {"count": 1}),
        # an important zone beats a normal one
        ({"detail": {"importance": 3.0}}, {"detail": {"importance": 1.0}}),
    ],
)
def test_score_orders_by_each_factor(a: dict[str, Any], b: dict[str, Any]) -> None:
    base: dict[str, Any] = {"start_s": 50.0, "last_s": 100.0}
    scores = score_cameras([ev("ca", **{**base, **a}), ev("cb", **{**base, **b})], {}, 100.0, W)
    assert [s.camera for s in scores] == ["ca", "cb"] and scores[0].score > scores[1].score > 0


def test_health_term_and_no_double_counting() -> None:
    offline = ev("c2", type="camera_offline", zone=None, severity=3, object_class=None)
    scores = {s.camera: s for s in score_cameras([offline], {"c1": "online", "c2": "offline"}, 10.0, W)}
    assert scores["c1"].score == 0 and scores["c2"].score == pytest.approx(W.health["offline"])
    assert scores["c2"].reasons[0] == "camera offline"


def test_type_and_camera_weights_from_config() -> None:
    sel = SelectionConfig(type_weights={"fall": 3.0})
    cam = CameraConfig(id="c1", source="x.mp4", importance=2.0)
    w = SelectionWeights.from_config(sel, [cam])
    one = score_cameras([ev("c1", type="fall")], {}, 0.0, w)[0].score
    plain = score_cameras([ev("c1", type="fall")], {}, 0.0, SelectionWeights())[0].score
    assert one == pytest.approx(plain * 6.0)


def test_top_max_tiles_with_reasons() -> None:
    sel = Selector(max_tiles=2, hold_s=10, weights=W)
    events = [ev(f"c{i}", severity=3, count=i, track_ids=tuple(range(i))) for i in range(1, 5)]
    wall = sel.select(events, {}, 0.0)
    assert cams(wall) == ["c4", "c3"] and wall.tiles[0].reason.startswith(
        "intrusion in zone 'gate': 4 person"
    )
    assert wall.tiles[0].event_uids == ("c4-intrusion-0",) and wall.tiles[0].since_s == 0.0


@pytest.mark.parametrize(
    ("t2", "challenger_count", "expected"),
    [
        (5.0, 50, ["c1"]),  # within hold_s: the tile stays although a stronger camera came up
        (11.0, 50, ["c9"]),  # after hold_s: the much stronger challenger takes the place
        (11.0, 1, ["c1"]),  # after hold_s but not better by the margin: no flicker
    ],
)
def test_hold_and_margin(t2: float, challenger_count: int, expected: list[str]) -> None:
    sel = Selector(max_tiles=1, hold_s=10, weights=W)
    e1 = ev("c1", severity=3, start_s=0.0, last_s=0.0)
    assert cams(sel.select([e1], {}, 0.0)) == ["c1"]
    e1b = ev("c1", severity=3, start_s=0.0, last_s=t2)
    e9 = ev("c9", severity=3, start_s=0.0, last_s=t2, count=challenger_count,
            track_ids=tuple(range(challenger_count)))  # fmt: skip
    assert cams(sel.select([e1b, e9], {}, t2)) == expected


def test_quiet_tile_leaves_after_hold() -> None:
    sel = Selector(max_tiles=4, hold_s=10, weights=W)
    sel.select([ev("c1")], {}, 0.0)
    assert cams(sel.select([], {}, 5.0)) == ["c1"]  # held, shown as quiet
    assert sel.select([], {}, 5.0).tiles[0].reason == "held on the wall (quiet now)"
    assert cams(sel.select([], {}, 10.0)) == []


def test_pinned_camera_displaces_a_held_tile_and_ack_unpins() -> None:
    sel = Selector(max_tiles=2, hold_s=30, weights=W)
    sel.select([ev("c1", severity=3), ev("c2", severity=3)], {}, 0.0)
    fall = ev("c3", type="fall", severity=5, start_s=1.0, last_s=1.0)
    wall = sel.select([ev("c1", severity=3), ev("c2", severity=3, count=3), fall], {}, 1.0)
    assert cams(wall) == ["c3", "c2"] and wall.tiles[0].pinned
    # acknowledged: c3 stays as a normal tile (it is held now), no longer pinned
    wall = sel.select([ev("c1", severity=3), ev("c2", severity=3), fall], {}, 2.0, acknowledged={fall.uid})
    assert "c3" in cams(wall) and not any(t.pinned for t in wall.tiles)


def test_more_pinned_than_tiles_shows_most_severe_then_newest() -> None:
    sel = Selector(max_tiles=2, hold_s=10, weights=W)
    events = [
        ev("old5", severity=5, start_s=0.0), ev("new5", severity=5, start_s=9.0),
        ev("new4", severity=4, start_s=9.5),
    ]  # fmt: skip
    assert sorted(cams(sel.select(events, {}, 10.0))) == ["new5", "old5"]


def test_bad_selector_arguments() -> None:
    with pytest.raises(ValueError, match="max_tiles >= 1"):
        Selector(max_tiles=0, hold_s=1)


# ---- properties ------------------------------------------------------------------------------

CAMS = [f"c{i}" for i in range(8)]
event_st = st.builds(
    lambda cam, sev, start, n, k: ev(cam, uid=f"{cam}-{k}", severity=sev, start_s=start, last_s=start + 1,
                                     count=n),
    st.sampled_from(CAMS), st.integers(1, 5), st.floats(0, 50), st.integers(0, 6), st.integers(0, 3),
)  # fmt: skip
tick_st = st.tuples(st.lists(event_st, max_size=6), st.floats(0.1, 8.0), st.booleans())


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 4), st.floats(0, 20), st.lists(tick_st, min_size=1, max_size=20))
def test_wall_invariants(max_tiles: int, hold_s: float, ticks: list[tuple[list[Event], float, bool]]) -> None:
    sel = Selector(max_tiles=max_tiles, hold_s=hold_s, weights=W)
    twin = Selector(max_tiles=max_tiles, hold_s=hold_s, weights=W)
    health: dict[str, HealthState] = {c: "online" for c in CAMS}
    now = 0.0
    prev: dict[str, float] = {}
    prev_slots: dict[str, int] = {}
    for events, dt, ack_all in ticks:
        now += dt
        acked = {e.uid for e in events} if ack_all else set()
        wall = sel.select(events, health, now, acked)
        assert wall == twin.select(events, health, now, acked)  # deterministic
        shown = cams(wall)
        assert len(shown) <= max_tiles and len(set(shown)) == len(shown)
        pinned = {e.camera for e in events if e.severity >= W.pin_severity and e.uid not in acked}
        if len(pinned) <= max_tiles:
            assert pinned <= set(shown)
        held_gone = [c for c, since in prev.items() if now - since < hold_s and c not in shown]
        new_pinned = [t.camera for t in wall.tiles if t.pinned and t.camera not in prev]
        # a held tile may only go to make room for a pinned camera
        assert len(held_gone) <= len(new_pinned)
        # slots: one camera per slot, inside the wall, and a camera that stays keeps its slot
        slots = {t.camera: t.slot for t in wall.tiles}
        assert len(set(slots.values())) == len(slots) and all(0 <= s < max_tiles for s in slots.values())
        assert all(slots[c] == prev_slots[c] for c in slots if c in prev_slots)
        prev = {t.camera: t.since_s for t in wall.tiles}
        prev_slots = slots


# ---- slots and operator pins -----------------------------------------------------------------


def slots(wall: Any) -> dict[str, int]:
    return {t.camera: t.slot for t in wall.tiles}


def test_slots_unchanged_while_the_same_cameras_stay() -> None:
    sel = Selector(max_tiles=4, hold_s=5, weights=W)
    first = sel.select([ev("c1", count=1), ev("c2", count=4), ev("c3", count=2)], {}, 0.0)
    assert slots(first) == {"c2": 0, "c3": 1, "c1": 2}  # strongest first into the free slots
    # the scores reverse order many times: the order of tiles changes, their slots never do
    for t in range(1, 30):
        counts = [(1 + (t + i) % 5) for i in range(3)]
        wall = sel.select([ev(f"c{i + 1}", count=n, last_s=float(t)) for i, n in enumerate(counts)], {}, t)
        assert slots(wall) == slots(first)


def test_a_new_camera_takes_a_free_slot_then_the_slot_it_replaces() -> None:
    sel = Selector(max_tiles=3, hold_s=0, weights=W)
    sel.select([ev("c1", count=5), ev("c2", count=3)], {}, 0.0)
    wall = sel.select([ev("c1", count=5), ev("c2", count=3), ev("c3", count=1)], {}, 1.0)
    assert slots(wall) == {"c1": 0, "c2": 1, "c3": 2}
    # c2 goes quiet and leaves; c4 comes: it takes c2's slot, the others stay put
    wall = sel.select([ev("c1", count=5), ev("c3", count=1), ev("c4", count=6)], {}, 2.0)
    assert slots(wall) == {"c1": 0, "c4": 1, "c3": 2}
    # a challenger with a much higher score replaces the weakest (c3) in its slot
    now = [ev("c1", count=5), ev("c3", count=1), ev("c4", count=6), ev("c5", severity=4)]
    wall = sel.select(now, {}, 3.0)
    assert slots(wall) == {"c1": 0, "c4": 1, "c5": 2}


def test_operator_pin_keeps_a_quiet_camera_in_its_slot_until_unpinned() -> None:
    sel = Selector(max_tiles=2, hold_s=1, weights=W)
    sel.select([ev("c1"), ev("c2")], {}, 0.0)
    pin = sel.pin("quiet", 1, by="kim", now=0.5)
    assert (pin.slot, pin.by) == (1, "kim")
    wall = sel.select([ev("c1"), ev("c2"), ev("c3", count=6)], {}, 10.0)
    assert slots(wall)["quiet"] == 1 and len(wall.tiles) == 2
    tile = next(t for t in wall.tiles if t.camera == "quiet")
    assert tile.pinned_by == "kim" and tile.reason == "pinned by kim"
    # even a severity-5 camera does not take a pinned slot
    wall = sel.select([ev("c9", severity=5)], {}, 11.0)
    assert slots(wall) == {"quiet": 1, "c9": 0}
    assert sel.unpin("quiet") and not sel.unpin("quiet")
    assert "quiet" not in slots(sel.select([ev("c9", severity=5)], {}, 20.0))


def test_pin_without_slot_keeps_the_cameras_slot_or_takes_a_free_or_the_weakest() -> None:
    sel = Selector(max_tiles=3, hold_s=0, weights=W)
    sel.select([ev("c1", count=5), ev("c2", count=1)], {}, 0.0)
    assert sel.pin("c2", now=0.0).slot == 1  # already on the wall: stays where it is
    assert sel.pin("new", now=0.0).slot == 2  # a free slot
    sel.unpin("new")
    sel.select([ev("c1", count=5), ev("c2", count=1), ev("c3", count=2)], {}, 1.0)
    assert sel.pin("ptz-1", until_s=60.0, now=1.0).slot == 2  # the weakest unpinned tile (c3 < c1)
    wall = sel.select([ev("c1", count=5), ev("c3", count=2)], {}, 2.0)
    assert slots(wall) == {"c1": 0, "c2": 1, "ptz-1": 2}


def test_pin_expires() -> None:
    sel = Selector(max_tiles=2, hold_s=0, weights=W)
    sel.pin("ptz-1", 0, until_s=30.0, by="ptz-handoff", now=0.0)
    assert slots(sel.select([], {}, 29.0)) == {"ptz-1": 0}
    assert [p.camera for p in sel.pins(29.0)] == ["ptz-1"] and sel.pins(30.0) == []
    assert slots(sel.select([], {}, 30.0)) == {}


def test_pin_to_a_taken_slot_moves_the_camera_there() -> None:
    sel = Selector(max_tiles=2, hold_s=10, weights=W)
    sel.select([ev("c1", count=3), ev("c2")], {}, 0.0)
    sel.pin("c9", 0, now=1.0)  # c1 held slot 0: the wall is full, so c1 leaves
    assert slots(sel.select([ev("c2")], {}, 1.5)) == {"c9": 0, "c2": 1}


def test_bad_pins() -> None:
    sel = Selector(max_tiles=2, hold_s=0, weights=W)
    with pytest.raises(PinError, match="slot 2 is not on the wall: it has slots 0 to 1"):
        sel.pin("c1", 2, now=0.0)
    sel.pin("c1", 0, now=0.0)
    with pytest.raises(PinError, match="slot 0 is pinned to camera 'c1'"):
        sel.pin("c2", 0, now=0.0)
    sel.pin("c2", 1, now=0.0)
    with pytest.raises(PinError, match="every slot of the wall is pinned"):
        sel.pin("c3", now=0.0)
