"""ByteTracker: stable ids, time-based ageing, two-stage association, no input mutation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safecity.monitor.types import Detections
from safecity.monitor.vision.track import ByteTracker, class_group
from tests.factories import box_at, make_detections


def _ids(tracker: ByteTracker, dets: Detections, t: float) -> list[int]:
    return tracker.update(dets, t).track_id.tolist()


def test_track_confirmed_after_min_hits() -> None:
    t = ByteTracker(min_hits=3)
    d = make_detections([box_at(100, 100)])
    assert _ids(t, d, 0.0) == [] and _ids(t, d, 0.2) == [] and _ids(t, d, 0.4) == [1]
    assert t.active


def test_two_people_crossing_keep_their_ids() -> None:
    # two people walk towards each other along a line and pass (boxes overlap in the middle)
    t = ByteTracker(min_hits=1)
    first = None
    for k in range(21):
        ts = k * 0.2
        xa, xb = 100 + 10 * k, 300 - 10 * k
        tr = t.update(make_detections([box_at(xa, 200), box_at(xb, 205)]), ts)
        by_x = dict(zip(tr.track_id.tolist(), (tr.xyxy_px[:, 0] + tr.xyxy_px[:, 2]).tolist(), strict=True))
        if first is None:
            first = by_x
        # id 1 started at the left and keeps moving right, id 2 the reverse
        assert set(by_x) == {1, 2}
        assert by_x[1] == pytest.approx(2 * xa, abs=1) and by_x[2] == pytest.approx(2 * xb, abs=1)


@pytest.mark.parametrize(
    ("gap_s", "same_id"),
    [
        (0.4, True),  # a missed frame or two, within lost_s: same id
        (1.4, True),  # just within lost_s = 1.5
        (2.0, False),  # longer than lost_s: a new id
    ],
)
def test_detection_gap_vs_lost_s(gap_s: float, same_id: bool) -> None:
    t = ByteTracker(min_hits=1, lost_s=1.5)
    d = make_detections([box_at(100, 100)])
    assert _ids(t, d, 0.0) == [1]
    t.coast(gap_s / 2)  # the detector did not run in between
    assert _ids(t, d, gap_s) == ([1] if same_id else [2])


def test_coast_returns_alive_tracks_with_last_boxes_and_ages_them() -> None:
    t = ByteTracker(min_hits=1, lost_s=1.0)
    t.update(make_detections([box_at(50, 50)]), 0.0)
    coasted = t.coast(0.5)
    assert coasted.track_id.tolist() == [1] and coasted.t_s == 0.5
    np.testing.assert_allclose(coasted.xyxy_px[0], box_at(50, 50))
    assert len(t.coast(1.2)) == 0 and not t.active


def test_low_confidence_box_keeps_a_confirmed_track() -> None:
    # second stage: a partly hidden person scores 0.2 but stays the same track
    t = ByteTracker(min_hits=1, high_thresh=0.5, low_thresh=0.1)
    t.update(make_detections([box_at(100, 100)], conf=0.9), 0.0)
    assert _ids(t, make_detections([box_at(102, 100)], conf=0.2), 0.2) == [1]
    # a low box alone never starts a track
    t2 = ByteTracker(min_hits=1)
    assert _ids(t2, make_detections([box_at(100, 100)], conf=0.2), 0.0) == []


def test_class_groups_do_not_mix_but_car_truck_flip_is_fine() -> None:
    t = ByteTracker(min_hits=1)
    t.update(make_detections([box_at(100, 100, 80, 60)], classes="car"), 0.0)
    assert _ids(t, make_detections([box_at(101, 100, 80, 60)], classes="truck"), 0.2) == [1]
    # a bag at the same place is a different object
    assert _ids(t, make_detections([box_at(101, 100, 80, 60)], classes="suitcase"), 0.4) == [2]
    assert class_group("truck") == "vehicle" and class_group("dog") == "dog"


def test_mover_across_skipped_frames_followed_by_velocity_prediction() -> None:
    # 30 px per 0.2 s; after two coasted frames the box is 90 px away and no longer overlaps the
    # last one, but it does overlap the constant-velocity prediction
    t = ByteTracker(min_hits=1, match_iou=0.1)
    for k in range(3):
        assert _ids(t, make_detections([box_at(100 + 30 * k, 100, 40, 80)]), 0.2 * k) == [1]
    t.coast(0.6)
    t.coast(0.8)
    assert _ids(t, make_detections([box_at(100 + 30 * 5, 100, 40, 80)]), 1.0) == [1]


def test_time_going_back_is_an_error() -> None:
    t = ByteTracker()
    t.coast(5.0)
    with pytest.raises(ValueError, match="time went backwards"):
        t.update(Detections.empty(), 4.0)


@pytest.mark.parametrize(
    "kw",
    [
        {"low_thresh": 0.6, "high_thresh": 0.5},  # stages swapped
        {"lost_s": 0.0},  # tracks would die at once
        {"min_hits": 0},  # nothing to confirm
        {"centre_dist": -1.0},  # a negative distance gate
        {"max_area_ratio": 0.5},  # an area ratio below 1 matches nothing
    ],
)
def test_bad_parameters(kw: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="need"):
        ByteTracker(**kw)  # type: ignore[arg-type]


def test_state_is_bounded_after_everyone_leaves() -> None:
    t = ByteTracker(min_hits=1, lost_s=1.0)
    for k in range(50):
        boxes = [box_at(30 * j + 5 * k, 100 + 3 * j) for j in range(10)]
        t.update(make_detections(boxes), 0.2 * k)
    assert t.live_count <= 10
    t.coast(0.2 * 49 + 1.1)
    assert t.live_count == 0


frame = st.lists(
    st.tuples(
        st.floats(0, 600), st.floats(0, 400), st.floats(5, 80), st.floats(5, 120), st.floats(0.05, 1.0),
        st.sampled_from(["person", "car", "backpack"]),
    ),
    max_size=8,
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(frame, st.floats(0.05, 2.5), st.booleans()), min_size=1, max_size=25))
def test_ids_never_reused_and_input_never_mutated(
    frames: list[tuple[list[tuple[float, float, float, float, float, str]], float, bool]],
) -> None:
    t = ByteTracker(min_hits=2, lost_s=1.0)
    now = 0.0
    ended: set[int] = set()
    alive_prev: set[int] = set()
    seen_ever: set[int] = set()
    for objs, dt, run_detector in frames:
        now += dt
        if run_detector:
            dets = make_detections(
                [box_at(x, y, w, h) for x, y, w, h, _, _ in objs],
                conf=[c for *_, c, _ in objs],
                classes=[n for *_, n in objs],
            )
            before = (dets.xyxy_px.copy(), dets.confidence.copy(), dets.class_name.copy())
            out = t.update(dets, now)
            np.testing.assert_array_equal(dets.xyxy_px, before[0])
            np.testing.assert_array_equal(dets.confidence, before[1])
            np.testing.assert_array_equal(dets.class_name, before[2])
        else:
            out = t.coast(now)
        alive = set(t.coast(now).track_id.tolist())
        ids = out.track_id.tolist()
        assert len(ids) == len(set(ids))
        assert not (set(ids) & ended), "an ended id came back"
        for i in sorted(set(ids) - seen_ever):  # ids are handed out in increasing order
            assert i > max(seen_ever, default=0)
            seen_ever.add(i)
        ended |= alive_prev - alive
        alive_prev = alive


@pytest.mark.parametrize(
    ("second", "classes", "n_tracks"),
    [
        (box_at(100, 110, 20, 30), ["car", "car"], 1),  # a part of the tracked car: no second track
        (box_at(130, 100, 40, 40), ["car", "car"], 2),  # half overlapping: another car
        (box_at(100, 110, 20, 30), ["car", "person"], 2),  # a person at the car: other group, own track
    ],
)
def test_fragment_boxes_do_not_start_duplicate_tracks(
    second: tuple[float, float, float, float], classes: list[str], n_tracks: int
) -> None:
    t = ByteTracker(min_hits=1)
    car = box_at(100, 100, 40, 60)
    t.update(make_detections([car], classes=classes[0]), 0.0)
    out = t.update(make_detections([car, second], classes=classes), 0.2)
    assert len(out) == n_tracks


@pytest.mark.parametrize(
    "bad_box",
    [
        (np.nan, 0, 10, 10),  # not a number
        (10, 10, 10, 30),  # no width
        (10, 30, 20, 10),  # upside down
        (0, 0, np.inf, 10),  # infinite
    ],
)
def test_invalid_boxes_are_ignored(bad_box: tuple[float, float, float, float]) -> None:
    t = ByteTracker(min_hits=1)
    out = t.update(make_detections([bad_box, box_at(100, 100)]), 0.0)
    assert out.track_id.tolist() == [1] and np.isfinite(out.xyxy_px).all()


@pytest.mark.parametrize(
    ("jump_x", "second_size", "conf", "centre_dist", "same_id"),
    [
        # 60 px jump of a 40x80 box: IoU 0 with the last box, centre 0.75 sizes away: kept
        (60.0, (40.0, 80.0), 0.9, 1.0, True),
        # the same jump with the centre stage off: the IoU stages cannot match it, a new id
        (60.0, (40.0, 80.0), 0.9, 0.0, False),
        # 200 px = 2.5 box sizes: too far for the centre stage
        (200.0, (40.0, 80.0), 0.9, 1.0, False),
        # box area 4.5 times smaller (a different, smaller object): not associated
        (60.0, (20.0, 36.0), 0.9, 1.0, False),
        # a low-confidence box may keep a confirmed track by centre distance too
        (60.0, (40.0, 80.0), 0.2, 1.0, True),
    ],
)
def test_centre_distance_stage(
    jump_x: float, second_size: tuple[float, float], conf: float, centre_dist: float, same_id: bool
) -> None:
    t = ByteTracker(min_hits=1, high_thresh=0.5, new_track_thresh=0.5, centre_dist=centre_dist)
    assert _ids(t, make_detections([box_at(100, 100, 40, 80)]), 0.0) == [1]
    out = _ids(t, make_detections([box_at(100 + jump_x, 100, *second_size)], conf=conf), 0.2)
    if same_id:
        assert out == [1]
    else:  # a new track (id 2) when the box may start one, else nothing
        assert out == ([2] if conf >= 0.5 else [])


@pytest.mark.parametrize(
    ("person_dx", "car_dx"),
    [
        (150.0, -150.0),  # each box lands next to the other one's last place
        (60.0, -60.0),  # both move towards each other, boxes side by side
        (0.0, -120.0),  # the car drives onto the person's place
    ],
)
def test_nearby_boxes_of_different_groups_never_swap(person_dx: float, car_dx: float) -> None:
    t = ByteTracker(min_hits=1, centre_dist=2.0, max_area_ratio=10.0)
    person, car = box_at(100, 100, 40, 80), box_at(250, 100, 60, 50)
    first = t.update(make_detections([person, car], classes=["person", "car"]), 0.0)
    group_of = {int(i): class_group(str(c)) for i, c in zip(first.track_id, first.class_name, strict=True)}
    moved = [box_at(100 + person_dx, 100, 40, 80), box_at(250 + car_dx, 100, 60, 50)]
    out = t.update(make_detections(moved, classes=["person", "car"]), 0.2)
    for tid, name in zip(out.track_id.tolist(), out.class_name.tolist(), strict=True):
        assert group_of.get(tid, class_group(name)) == class_group(name)


@pytest.mark.parametrize(
    ("cls", "gap_s", "same_id"),
    [
        ("car", 2.5, True),  # vehicles live twice lost_s (3 s) by default
        ("person", 2.5, False),  # people keep lost_s = 1.5
        ("car", 3.5, False),  # past the vehicle limit too
    ],
)
def test_vehicle_tracks_live_longer(cls: str, gap_s: float, same_id: bool) -> None:
    t = ByteTracker(min_hits=1, lost_s=1.5)
    d = make_detections([box_at(100, 100, 60, 50)], classes=cls)
    assert _ids(t, d, 0.0) == [1]
    assert _ids(t, d, gap_s) == ([1] if same_id else [2])


def _cross(speed: float, dy: float, noise: float, seed: int, fps: float = 5.0) -> tuple[set[int], set[int]]:
    """Person A walks right in front, B walks left behind; B is not detected while the two boxes are
    within 1.5 box widths (hidden, and the detector's NMS keeps the front box). Returns the track ids
    seen on A and on B while they are well apart."""
    rng = np.random.default_rng(seed)
    t = ByteTracker(min_hits=2, lost_s=2.0)
    on_a: set[int] = set()
    on_b: set[int] = set()
    for k in range(int(8 * fps)):
        ts = k / fps
        xa, xb = 100 + speed * ts, 500 - speed * ts
        boxes = [np.array(box_at(xa, 200, 40, 100)) + rng.normal(0, noise, 4)]
        if abs(xa - xb) >= 1.5 * 39:
            boxes.append(np.array(box_at(xb, 200 - dy, 38, 95)) + rng.normal(0, noise, 4))
        tr = t.update(make_detections([(b[0], b[1], b[2], b[3]) for b in boxes]), ts)
        if abs(xa - xb) > 150:
            for i, bx in zip(tr.track_id.tolist(), tr.xyxy_px, strict=True):
                cx = (bx[0] + bx[2]) / 2
                (on_a if abs(cx - xa) < 30 else on_b if abs(cx - xb) < 30 else set()).add(i)
    return on_a, on_b


@pytest.mark.parametrize(
    ("speed", "dy", "noise", "seed"),
    [
        (60.0, 8.0, 0.0, 0),  # clean boxes
        # noisy box edges (4 px on 40 px wide boxes): the old tracker extrapolated each edge with
        # its own velocity, the predicted box shrank and took the other person's box (id swap)
        (40.0, 4.0, 4.0, 0),
        (40.0, 4.0, 4.0, 3),
        (40.0, 8.0, 4.0, 3),
    ],
)
def test_person_passing_behind_another_keeps_the_id(speed: float, dy: float, noise: float, seed: int) -> None:
    on_a, on_b = _cross(speed, dy, noise, seed)
    assert len(on_a) == 1 and len(on_b) == 1 and on_a != on_b, (on_a, on_b)


def test_momentum_prefers_the_box_the_way_the_track_moves() -> None:
    # two boxes overlapping the predicted place equally, one back past where the track was three
    # observations ago and one ahead: with momentum (OC-SORT's observation-centric momentum) the
    # track keeps going the way it moved; without, the tie goes to the first box
    def last_x(momentum: float) -> float:
        t = ByteTracker(min_hits=1, momentum=momentum, centre_dist=0.0, recover=False)
        for k in range(4):  # centre x 100, 102, 104, 106: predicted 108 at 0.8 s
            t.update(make_detections([box_at(100 + 2 * k, 100, 40, 40)]), 0.2 * k)
        tr = t.update(make_detections([box_at(99, 100, 40, 40), box_at(117, 100, 40, 40)]), 0.8)
        box = tr.xyxy_px[tr.track_id == 1][0]
        return float(box[0] + box[2]) / 2

    assert last_x(0.2) == pytest.approx(117) and last_x(0.0) == pytest.approx(99)


@pytest.mark.parametrize(("recover", "same_id"), [(True, True), (False, False)])
def test_lost_track_recovered_by_its_last_observation(recover: bool, same_id: bool) -> None:
    # a walker stops behind a pillar: the prediction runs on past the last observation (no IoU
    # with where the person reappears); OC-SORT's recovery matches the last observed box instead
    t = ByteTracker(min_hits=1, lost_s=2.0, centre_dist=0.0, recover=recover)
    for k in range(4):
        t.update(make_detections([box_at(100 + 20 * k, 100, 40, 100)]), 0.2 * k)
    t.coast(0.8)
    t.coast(1.0)  # hidden for 0.6 s, the prediction is 60 px ahead
    ids = t.update(make_detections([box_at(162, 100, 40, 100)]), 1.2).track_id.tolist()
    assert ids == ([1] if same_id else [2])


def test_tracker_config_defaults_are_the_trackers() -> None:
    """Every ByteTracker argument TrackerConfig carries (momentum and recover included) has the
    tracker's own default, so a config that leaves them out runs the tracker as documented."""
    import inspect

    from safecity.monitor.config.model import TrackerConfig

    params = inspect.signature(ByteTracker.__init__).parameters
    cfg = TrackerConfig()
    keys = set(TrackerConfig.model_fields)
    assert {"momentum", "recover"} <= keys
    for key in keys:
        assert getattr(cfg, key) == params[key].default, key
    off = TrackerConfig(momentum=0.0, recover=False)
    t = ByteTracker(**off.model_dump())
    assert t.momentum == 0.0 and t.recover is False
