"""Object rules: debounce, start/update/end, schedules, direction, bounded per-track state."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from safecity.monitor.config.model import CameraConfig
from safecity.monitor.rules.build import (
    AbandonedObjectRule,
    CrowdingRule,
    FallRule,
    IntrusionRule,
    LineCrossingRule,
    LoiteringRule,
    RuleSet,
    build_rules,
    torso_angle_deg,
)
from safecity.monitor.rules.objects import UID_MAX_LEN, UidMaker
from safecity.monitor.types import Event, Tracks
from tests.factories import box_at, make_tracks

W, H = 200, 100  # frame size in pixels
LEFT_HALF = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]


def camera(*rules: dict[str, Any], schedule: str | None = None, **line: Any) -> CameraConfig:
    zone: dict[str, Any] = {"name": "gate", "polygon": LEFT_HALF, "importance": 2.0}
    if schedule:
        zone["schedule"] = schedule
    ln = {"name": "door", "a": [0.0, 0.5], "b": [1.0, 0.5], **line}
    return CameraConfig.model_validate(
        {"id": "cam1", "source": "x.mp4", "zones": [zone], "lines": [ln], "rules": list(rules)}
    )


def run(rs: RuleSet, frames: Sequence[Tracks]) -> list[tuple[float, str, Event]]:
    out = []
    for tr in frames:
        out += [(tr.t_s, kind, ev) for kind, ev in rs.update(tr, tr.t_s, (W, H))]
    return out


def kinds(emitted: list[tuple[float, str, Event]]) -> list[tuple[float, str]]:
    return [(round(t, 2), k) for t, k, _ in emitted]


def timeline(
    t_end: float,
    boxes_at: Callable[[float], list[tuple[float, float, float, float]]],
    step: float = 0.5,
    **kw: Any,
) -> list[Tracks]:
    frames = []
    for k in range(round(t_end / step) + 1):
        t = k * step
        b = boxes_at(t)
        frames.append(make_tracks(t, b, **{**kw, "ids": kw.get("ids", list(range(1, len(b) + 1)))[: len(b)]}))
    return frames


IN = box_at(50, 60)  # foot point (50, 85) px -> (0.25, 0.85): in the left half
OUT = box_at(150, 60)  # right half


@pytest.mark.parametrize(
    ("boxes_at", "expected"),
    [
        # inside from 0 to 3 s: starts after min_s=1 (start_s 0), ends 2 s after it left (end_s 3.5)
        (lambda t: [IN] if t <= 3 else [], [(1.0, "start"), (5.5, "end")]),
        # inside for 0.5 s only: debounced away
        (lambda t: [IN] if t <= 0.5 else [], []),
        # outside the zone all the time
        (lambda t: [OUT], []),
        # a second person is there from 2 to 2.5 s: updates when the set of objects changes
        (lambda t: [IN, box_at(60, 60)] if 2 <= t <= 2.5 else ([IN] if t <= 3 else []),
         [(1.0, "start"), (2.0, "update"), (3.0, "update"), (5.5, "end")]),
    ],
)  # fmt: skip
def test_intrusion_timeline(
    boxes_at: Callable[[float], list[Any]], expected: list[tuple[float, str]]
) -> None:
    rs = build_rules(camera({"type": "intrusion", "zone": "gate", "min_s": 1.0, "end_after_s": 2.0}))
    got = run(rs, timeline(8, boxes_at))
    assert kinds(got) == expected
    if got:
        start, end = got[0][2], got[-1][2]
        assert start.start_s == 0.0 and start.zone == "gate" and start.severity == 4
        assert start.detail["importance"] == 2.0 and start.object_class == "person"
        assert end.uid == start.uid and end.end_s == 3.5
        assert start.box_frac is not None and start.box_frac[0] == pytest.approx(0.2)


def test_intrusion_ignores_other_classes() -> None:
    rs = build_rules(camera({"type": "intrusion", "zone": "gate", "min_s": 0.0}))
    assert run(rs, timeline(3, lambda t: [IN], classes="car")) == []


@pytest.mark.parametrize(
    ("hour", "fires"),
    [(23, True), (3, True), (12, False)],  # night inside "22:00-06:00", midday outside
)
def test_schedule_arms_rules(hour: int, fires: bool) -> None:
    cam = camera({"type": "intrusion", "zone": "gate", "min_s": 0.0}, schedule="22:00-06:00")
    rs = build_rules(cam, clock=lambda t: datetime(2026, 11, 25, hour, 0))
    assert bool(run(rs, timeline(2, lambda t: [IN]))) is fires


def test_replay_without_replay_start_treats_schedules_as_always_on() -> None:
    cam = camera({"type": "intrusion", "zone": "gate", "min_s": 0.0}, schedule="22:00-06:00")
    assert run(build_rules(cam), timeline(1, lambda t: [IN]))


def _walk(ys: Sequence[float], x: float = 100.0) -> list[Tracks]:
    """One person whose foot point moves through the given y (pixels), 0.5 s apart."""
    return [make_tracks(0.5 * k, [(x - 10, y - 50, x + 10, y)], ids=[7]) for k, y in enumerate(ys)]


@pytest.mark.parametrize(
    ("ys", "direction", "expected"),
    [
        ([20, 40, 60, 80], "both", ["a_to_b"]),  # down across y=50: left of a->b (above) to right
        ([80, 60, 40, 20], "both", ["b_to_a"]),  # up
        ([20, 80, 20, 80], "both", ["a_to_b", "b_to_a", "a_to_b"]),  # three actual crossings
        ([40, 49.5, 50.5, 49.5, 50.5, 49.5, 52, 60], "both", ["a_to_b"]),  # jitter on the line counts once
        ([20, 80, 20], "a_to_b", ["a_to_b"]),  # only one direction wanted
        ([20, 80, 20], "b_to_a", ["b_to_a"]),
        ([20, 40, 45, 40, 20], "both", []),  # comes close and turns back
    ],
)
def test_line_crossing(ys: list[float], direction: str, expected: list[str]) -> None:
    cam = camera({"type": "line_crossing", "line": "door", "end_after_s": 1.0}, direction=direction)
    got = run(build_rules(cam), _walk(ys))
    starts = [ev for _, k, ev in got if k == "start"]
    assert [ev.direction for ev in starts] == expected
    assert all(ev.zone == "door" and ev.track_ids == (7,) for ev in starts)
    assert len({ev.uid for ev in starts}) == len(starts)


def test_line_crossing_past_the_end_of_the_segment_is_not_a_crossing() -> None:
    cam = camera({"type": "line_crossing", "line": "door"}, a=[0.0, 0.5], b=[0.4, 0.5])
    assert run(build_rules(cam), _walk([20, 80], x=150)) == []


def test_line_crossing_event_ends_after_end_after_s() -> None:
    cam = camera({"type": "line_crossing", "line": "door", "end_after_s": 1.0})
    got = run(build_rules(cam), _walk([20, 80, 80, 80, 80]))
    assert [(t, k) for t, k, _ in got] == [(0.5, "start"), (1.5, "end")]


def test_loitering_one_event_per_visit() -> None:
    cfg = {"type": "loitering", "zone": "gate", "dwell_s": 10.0, "end_after_s": 2.0, "update_every_s": 5.0}
    # person 1 stays 30 s then leaves; person 2 stays only 5 s
    frames = timeline(40, lambda t: ([IN] if t <= 30 else []) + ([box_at(60, 60)] if t <= 5 else []),
                      step=1.0, ids=[1, 2])  # fmt: skip
    got = run(build_rules(camera(cfg)), frames)
    assert [(t, k, ev.track_ids) for t, k, ev in got] == [
        (10.0, "start", (1,)), (15.0, "update", (1,)), (20.0, "update", (1,)), (25.0, "update", (1,)),
        (30.0, "update", (1,)), (32.0, "end", (1,)),  # gone for end_after_s
    ]  # fmt: skip
    assert got[0][2].detail["dwell_s"] == 10.0


@pytest.mark.parametrize(
    ("count_at", "expected"),
    [
        (lambda t: 5 if t <= 10 else 4, [(5.0, "start"), (13.0, "end")]),  # five people for 10 s
        (lambda t: 5 if t <= 3 else 1, []),  # five people for 3 s < min_s
        (lambda t: 3, []),  # never enough
    ],
)
def test_crowding(count_at: Callable[[float], int], expected: list[tuple[float, str]]) -> None:
    cfg = {"type": "crowding", "zone": "gate", "min_count": 5, "min_s": 5.0, "end_after_s": 2.0,
           "update_every_s": 100.0}  # fmt: skip
    frames = timeline(16, lambda t: [box_at(10 + 15 * i, 60) for i in range(count_at(t))], step=1.0,
                      ids=list(range(1, 9)))  # fmt: skip
    got = run(build_rules(camera(cfg)), frames)
    assert kinds(got) == expected
    if got:
        assert got[0][2].count == 5


UPRIGHT = box_at(50, 60, 20, 50)
LYING = box_at(50, 80, 50, 20)
HALF = box_at(50, 70, 30, 30)  # aspect 1: neither


@pytest.mark.parametrize(
    ("box_at_t", "expected"),
    [
        (lambda t: UPRIGHT if t < 2 else LYING, [(5.0, "start")]),  # falls at 2 s, lies 3 s
        (lambda t: LYING, []),  # lying from the start (a sleeper): no fall seen
        (lambda t: UPRIGHT if t < 2 else (HALF if t < 8 else LYING), []),  # slow lying down (6 s)
        (lambda t: UPRIGHT if t < 2 else (LYING if t < 4 else UPRIGHT), []),  # gets up before min_s
        (lambda t: UPRIGHT if t < 2 else (LYING if t < 7 else UPRIGHT), [(5.0, "start"), (9.0, "end")]),
    ],
)
def test_fall(box_at_t: Callable[[float], Any], expected: list[tuple[float, str]]) -> None:
    cfg = {"type": "fall", "min_s": 3.0, "transition_s": 3.0, "end_after_s": 2.0, "update_every_s": 100.0}
    got = run(build_rules(camera(cfg)), timeline(12, lambda t: [box_at_t(t)], step=1.0))
    assert kinds(got) == expected


def _keypoints(vertical: bool) -> np.ndarray[Any, np.dtype[np.float32]]:
    k = np.zeros((1, 17, 3), np.float32)
    k[0, :, 2] = 0.9
    if vertical:  # shoulders above hips
        k[0, [5, 6], 0], k[0, [11, 12], 0] = 40, 80
        k[0, [5, 6], 1], k[0, [11, 12], 1] = (45, 55), (45, 55)
    else:  # shoulders beside hips
        k[0, [5, 6], 1], k[0, [11, 12], 1] = 30, 70
        k[0, [5, 6], 0], k[0, [11, 12], 0] = (75, 85), (75, 85)
    return k


@pytest.mark.parametrize(("vertical", "fires"), [(False, True), (True, False)])
def test_fall_keypoints_confirm_or_veto(vertical: bool, fires: bool) -> None:
    rule_cfg = camera({"type": "fall", "min_s": 2.0}).rules[0]
    rule = FallRule("cam1", rule_cfg, None)  # type: ignore[arg-type]
    events = []
    for k in range(8):
        t = float(k)
        tr = make_tracks(t, [UPRIGHT if t < 2 else LYING])
        events += rule.update(tr, t, (W, H), _keypoints(vertical) if t >= 2 else None)
    assert bool(events) is fires


def test_torso_angle() -> None:
    assert torso_angle_deg(_keypoints(True)[0]) == pytest.approx(90.0)
    assert torso_angle_deg(_keypoints(False)[0]) == pytest.approx(0.0)
    low = _keypoints(True)[0]
    low[5, 2] = 0.1
    assert torso_angle_deg(low) is None


BAG = box_at(60, 80, 12, 16)


@pytest.mark.parametrize(
    ("person_at", "bag_at", "expected"),
    [
        # the owner walks away at 5 s; bag still since 0 -> start when unattended 10 s (t=15)
        (lambda t: box_at(70, 60) if t < 5 else box_at(190, 60), lambda t: BAG, [(15.0, "start")]),
        # the owner stays next to the bag
        (lambda t: box_at(70, 60), lambda t: BAG, []),
        # the bag is carried along (moves 4 px/s, more than a quarter of its size between checks)
        (lambda t: box_at(190, 60), lambda t: box_at(60 + 4 * t, 80, 12, 16), []),
    ],
)
def test_abandoned_object(
    person_at: Callable[[float], Any], bag_at: Callable[[float], Any], expected: list[tuple[float, str]]
) -> None:
    cfg = {"type": "abandoned_object", "stationary_s": 12.0, "unattended_s": 10.0, "owner_radius": 3.0,
           "update_every_s": 100.0}  # fmt: skip
    frames = timeline(20, lambda t: [person_at(t), bag_at(t)], step=1.0, classes=["person", "suitcase"])
    got = run(build_rules(camera(cfg)), frames)
    assert kinds(got) == expected
    if got:
        assert got[0][2].object_class == "suitcase" and got[0][2].track_ids == (2,)


def _all_rules_camera() -> CameraConfig:
    return camera(
        {"type": "intrusion", "zone": "gate"},
        {"type": "loitering", "zone": "gate", "dwell_s": 2.0},
        {"type": "crowding", "zone": "gate", "min_count": 3},
        {"type": "line_crossing", "line": "door"},
        {"type": "fall"},
        {"type": "abandoned_object", "classes": ["person"]},
    )


def _crowd(seed: int, n_frames: int = 120) -> list[Tracks]:
    """Many short-lived tracks wandering about (new ids all the time), then an empty scene."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n_frames):
        t = 0.5 * k
        ids = [k // 4 * 3 + j for j in range(3)] if k < n_frames - 10 else []
        boxes = [box_at(*rng.uniform([10, 10], [190, 90]), 20, rng.uniform(10, 60)) for _ in ids]
        frames.append(make_tracks(t, boxes, ids=ids))
    return frames


def test_per_track_state_is_pruned_when_tracks_end() -> None:
    rs = build_rules(_all_rules_camera())
    frames = _crowd(seed=1)
    peaks = [0] * len(rs.rules)
    for tr in frames:
        rs.update(tr, tr.t_s, (W, H))
        peaks = [max(p, r.state_size) for p, r in zip(peaks, rs.rules, strict=True)]
    # a handful of tracks per rule at a time (3 live, plus those whose events are ending), never
    # the ~90 seen in total
    assert max(peaks) <= 10 and peaks[0] > 0  # intrusion keeps one state per intruder now
    assert rs.state_size == 0 and rs.live() == []


def test_replay_is_deterministic_and_input_untouched() -> None:
    frames = _crowd(seed=2)
    copies = [(f.xyxy_px.copy(), f.track_id.copy(), f.class_name.copy()) for f in frames]
    a = run(build_rules(_all_rules_camera()), frames)
    b = run(build_rules(_all_rules_camera()), frames)
    # same events at the same times; only the uids differ (each build is a new run)
    assert a and [(t, k, replace(e, uid="")) for t, k, e in a] == [
        (t, k, replace(e, uid="")) for t, k, e in b
    ]
    assert {e.uid for _, _, e in a}.isdisjoint(e.uid for _, _, e in b)
    for f, (x, i, c) in zip(frames, copies, strict=True):
        np.testing.assert_array_equal(f.xyxy_px, x)
        np.testing.assert_array_equal(f.track_id, i)
        np.testing.assert_array_equal(f.class_name, c)


def test_finish_ends_live_events() -> None:
    rs = build_rules(camera({"type": "intrusion", "zone": "gate", "min_s": 0.0}))
    run(rs, timeline(2, lambda t: [IN]))
    assert len(rs.live()) == 1
    ended = rs.finish(2.5)
    assert [(k, e.end_s) for k, e in ended] == [("end", 2.5)] and rs.live() == []


def test_disabled_rules_are_skipped_and_types_built() -> None:
    rs = build_rules(_all_rules_camera())
    assert [type(r) for r in rs.rules] == [
        IntrusionRule, LoiteringRule, CrowdingRule, LineCrossingRule, FallRule, AbandonedObjectRule,
    ]  # fmt: skip
    off = build_rules(camera({"type": "intrusion", "zone": "gate", "enabled": False}))
    assert off.rules == [] and rs.wants_keypoints and not off.wants_keypoints


def test_uid_is_file_name_safe_and_unique_per_run() -> None:
    cam = CameraConfig.model_validate(
        {"id": "cam1", "source": "x.mp4",
         "zones": [{"name": "정문 gate/1", "polygon": LEFT_HALF}],
         "rules": [{"type": "intrusion", "zone": "정문 gate/1", "min_s": 0.0}]}
    )  # fmt: skip
    got = run(build_rules(cam), timeline(0.5, lambda t: [IN]))
    assert re.fullmatch(r"cam1-intrusion-_gate_1-0-[0-9a-f]{8}-1", got[0][2].uid)
    assert got[0][2].zone == "정문 gate/1"
    # a restart (the rules built again) on the same input: same start time, another uid
    again = run(build_rules(cam), timeline(0.5, lambda t: [IN]))
    assert again[0][2].start_s == got[0][2].start_s and again[0][2].uid != got[0][2].uid


def test_uid_maker_is_reproducible_with_a_run_and_bounded_in_length() -> None:
    assert UidMaker("cam1", "fall", None, run="r1")(1.5) == "cam1-fall-frame-1500-r1-1"
    long = UidMaker("c" * 64, "abandoned_object", "z" * 64, run="0123abcd")
    uid = long(1e9)
    assert len(uid) == UID_MAX_LEN and uid.endswith("-1000000000000-0123abcd-1")


@pytest.mark.parametrize(
    ("new_place", "expected"),
    [
        (BAG, [(14.0, "start")]),  # same place, new id after a detection gap: its clocks continue
        (box_at(110, 30, 12, 16), []),  # a bag somewhere else is a new bag: clocks start again
    ],
)
def test_abandoned_bag_missed_for_a_while_keeps_its_clock(
    new_place: Any, expected: list[tuple[float, str]]
) -> None:
    cfg = {"type": "abandoned_object", "stationary_s": 12.0, "unattended_s": 10.0, "update_every_s": 100.0}
    rs = build_rules(camera(cfg))
    frames = []
    for k in range(21):
        t = float(k)
        person = box_at(70, 60) if t < 2 else box_at(190, 60)
        if t < 8:  # bag seen as track 2
            frames.append(make_tracks(t, [person, BAG], ids=[1, 2], classes=["person", "suitcase"]))
        elif t < 14:  # the detector misses the bag
            frames.append(make_tracks(t, [person], ids=[1]))
        else:  # back under a new id
            frames.append(make_tracks(t, [person, new_place], ids=[1, 3], classes=["person", "suitcase"]))
    got = run(rs, frames)
    assert kinds(got) == expected
    if got:
        assert got[0][2].track_ids == (3,)
    assert len(rs.rules[0].lost) <= 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "box",
    [
        (140, 40, 200, 100),  # cut by the bottom-right corner: foot point (1.0 - 0.15, 1.0)
        (0, 60, 20, 100),  # on the bottom edge at the left
    ],
)
def test_zone_to_the_frame_edge_includes_boxes_cut_by_the_edge(
    box: tuple[float, float, float, float],
) -> None:
    cam = CameraConfig.model_validate(
        {"id": "c", "source": "x.mp4",
         "zones": [{"name": "all", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
         "rules": [{"type": "intrusion", "zone": "all", "min_s": 0.0}]}
    )  # fmt: skip
    assert run(build_rules(cam), [make_tracks(0.0, [box])])


@pytest.mark.parametrize(
    ("back_at", "expected"),
    [
        (IN, [(15.0, "start")]),  # the detector lost the standing person; same place, new id: clock goes on
        (box_at(20, 40), []),  # someone else appears elsewhere in the zone: a new visit from 12 s
    ],
)
def test_loitering_visit_survives_a_detection_gap(back_at: Any, expected: list[tuple[float, str]]) -> None:
    cfg = {"type": "loitering", "zone": "gate", "dwell_s": 15.0, "end_after_s": 2.0, "update_every_s": 100.0}
    frames = []
    for k in range(25):
        t = float(k)
        if t < 5:  # track 1 stands in the zone
            frames.append(make_tracks(t, [IN], ids=[1]))
        elif t < 12:  # missed by the detector for 7 s
            frames.append(make_tracks(t, []))
        else:  # back as track 2
            frames.append(make_tracks(t, [back_at], ids=[2]))
    got = run(build_rules(camera(cfg)), frames)
    assert kinds(got) == expected
    if got:
        assert got[0][2].track_ids == (2,) and got[0][2].detail["dwell_s"] == 15.0


def test_loitering_does_not_rejoin_a_person_who_walked_out() -> None:
    cfg = {"type": "loitering", "zone": "gate", "dwell_s": 15.0, "end_after_s": 2.0}
    frames = [make_tracks(float(k), [IN if k < 5 else OUT], ids=[1]) for k in range(10)]
    frames += [make_tracks(float(k), [IN], ids=[2]) for k in range(10, 20)]
    rs = build_rules(camera(cfg))
    assert run(rs, frames) == []  # track 2 has only 10 s of its own
    assert len(rs.rules[0].lost) == 0  # type: ignore[attr-defined]


def test_updates_for_changing_objects_are_throttled() -> None:
    # a crowd whose track ids flicker every frame (5 fps): at most one update per second
    cfg = {"type": "crowding", "zone": "gate", "min_count": 3, "min_s": 0.0, "update_every_s": 100.0}
    frames = [
        make_tracks(0.2 * k, [box_at(10 + 15 * i, 60) for i in range(4)], ids=[10 * k + i for i in range(4)])
        for k in range(26)
    ]
    got = run(build_rules(camera(cfg)), frames)
    updates = [t for t, k, _ in got if k == "update"]
    assert got[0][1] == "start" and len(updates) == 5
    assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(updates))


def test_intrusion_one_event_per_intruder_with_own_times_and_zone_count() -> None:
    # person 1 in the zone 0-6 s; person 2 joins at 2 s and leaves at 4 s (while 1 is still inside)
    cfg = {"type": "intrusion", "zone": "gate", "min_s": 1.0, "end_after_s": 1.0, "update_every_s": 100.0}
    frames = []
    for k in range(17):
        t = 0.5 * k
        boxes, ids = ([IN], [1]) if t <= 6 else ([], [])
        if 2 <= t <= 4:
            boxes, ids = [*boxes, box_at(70, 60)], [*ids, 2]
        frames.append(make_tracks(t, boxes, ids=ids))
    got = run(build_rules(camera(cfg)), frames)
    starts = {e.track_ids: e for _, k, e in got if k == "start"}
    ends = {e.track_ids: e for _, k, e in got if k == "end"}
    assert sorted(starts) == [(1,), (2,)] and sorted(ends) == [(1,), (2,)]
    assert (starts[(1,)].start_s, ends[(1,)].end_s) == (0.0, 6.5)
    assert (starts[(2,)].start_s, ends[(2,)].end_s) == (2.0, 4.5)
    assert starts[(2,)].count == 2 and starts[(2,)].zone == "gate"  # two people in the zone then
    assert starts[(1,)].uid != starts[(2,)].uid
    assert ends[(1,)].count == 1  # after person 2 left, person 1's event says one person again


def test_intrusion_id_switch_in_place_keeps_the_event() -> None:
    # the tracker gives the same intruder a new id at 3 s (same place): one event, not two
    cfg = {"type": "intrusion", "zone": "gate", "min_s": 0.5, "end_after_s": 2.0}
    frames = [make_tracks(0.5 * k, [IN], ids=[1 if k < 6 else 9]) for k in range(12)]
    got = run(build_rules(camera(cfg)), frames)
    assert [k for _, k, _ in got if k == "start"] == ["start"]
    rs = build_rules(camera(cfg))
    run(rs, frames)
    assert [e.track_ids for e in rs.live()] == [(9,)]
    # someone else appearing elsewhere in the zone while the first one is lost is a new intruder
    other = [
        make_tracks(0.5 * k, [IN] if k < 6 else [box_at(20, 40)], ids=[1 if k < 6 else 9]) for k in range(12)
    ]
    assert len([k for _, k, _ in run(build_rules(camera(cfg)), other) if k == "start"]) == 2


def test_crowding_stays_one_zone_level_event() -> None:
    cfg = {"type": "crowding", "zone": "gate", "min_count": 2, "min_s": 0.0, "update_every_s": 100.0}
    frames = [make_tracks(0.5 * k, [IN, box_at(70, 60), box_at(30, 60)]) for k in range(6)]
    got = run(build_rules(camera(cfg)), frames)
    assert [(k, e.count, e.track_ids) for _, k, e in got] == [("start", 3, (1, 2, 3))]


def test_loitering_dwell_survives_a_short_id_switch() -> None:
    # the standing person gets a new id at 8 s while the old track is not over yet: the dwell clock
    # (from 0 s) goes on and one event starts at 15 s, carrying the new id
    cfg = {"type": "loitering", "zone": "gate", "dwell_s": 15.0, "end_after_s": 2.0, "update_every_s": 100.0}
    frames = [make_tracks(float(k), [IN], ids=[1 if k < 8 else 5]) for k in range(20)]
    got = run(build_rules(camera(cfg)), frames)
    assert kinds(got) == [(15.0, "start")]
    assert got[0][2].track_ids == (5,) and got[0][2].detail["dwell_s"] == 15.0


FALL_CFG = {"type": "fall", "min_s": 1.5, "transition_s": 3.0, "end_after_s": 2.0, "update_every_s": 100.0}


def _fall_frames(lying: Callable[[float], list[tuple[Any, int]]]) -> list[Tracks]:
    """Track 1 stands (UPRIGHT) until 2 s and is lost; from 2.5 s the boxes of ``lying(t)`` (box, id)."""
    frames = []
    for k in range(17):
        t = 0.5 * k
        items = [(UPRIGHT, 1)] if t < 2 else (lying(t) if t >= 2.5 else [])
        frames.append(make_tracks(t, [b for b, _ in items], ids=[i for _, i in items]))
    return frames


@pytest.mark.parametrize(
    ("lying", "expected"),
    [
        # the body on the floor under a new id, where the person stood: their fall (start 2.5 + 1.5)
        (lambda t: [(LYING, 5)], [(4.0, "start")]),
        # two boxes of the body (legs, then torso under another id later): one fall, not two
        (lambda t: [(LYING, 5)] + ([(box_at(60, 82, 45, 16), 6)] if t >= 4.5 else []), [(4.0, "start")]),
        # a lying box far from where anyone stood (someone else, already on a sofa): no fall
        (lambda t: [(box_at(170, 80, 50, 20), 5)], []),
        # a small wide box (a pair of feet) is not a lying person: 10 px < 0.4 x the 50 px standing height
        (lambda t: [(box_at(50, 95, 14, 6), 5)], []),
    ],
)  # fmt: skip
def test_fall_seen_through_a_new_track_id(
    lying: Callable[[float], list[tuple[Any, int]]], expected: list[tuple[float, str]]
) -> None:
    got = run(build_rules(camera(FALL_CFG)), _fall_frames(lying))
    assert kinds(got) == expected


def test_fall_event_moves_to_another_box_of_the_body_when_its_track_is_lost() -> None:
    # track 5 (first box of the body) raises the fall and is then lost; track 6, the same body,
    # carries the event on: one event (one uid), now on track 6
    def lying(t: float) -> list[tuple[Any, int]]:
        return [(LYING, 5)] if t < 5 else [(box_at(55, 80, 50, 20), 6)]

    got = run(build_rules(camera(FALL_CFG)), _fall_frames(lying))
    assert [k for _, k, _ in got].count("start") == 1
    assert len({e.uid for _, _, e in got}) == 1 and got[-1][2].track_ids == (6,)


def test_intrusion_a_cyclist_is_one_intruder() -> None:
    # a rider (person box above, foot point on the bicycle's box) and the bicycle: one event, carried
    # by the bicycle; a pedestrian beside them is another intruder
    cfg = {"type": "intrusion", "zone": "gate", "classes": ["person", "bicycle"], "min_s": 0.0}
    rider, bike, walker = box_at(50, 50, 14, 30), box_at(50, 68, 24, 16), box_at(20, 60)
    frames = [
        make_tracks(0.5 * k, [rider, bike, walker], ids=[1, 2, 3], classes=["person", "bicycle", "person"])
        for k in range(4)
    ]
    got = run(build_rules(camera(cfg)), frames)
    starts = [e for _, k, e in got if k == "start"]
    assert sorted(e.track_ids for e in starts) == [(2,), (3,)]
    assert {e.object_class for e in starts} == {"bicycle", "person"} and {e.count for e in starts} == {2}
