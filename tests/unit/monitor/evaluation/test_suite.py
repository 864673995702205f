"""Evaluation maths: KISA-window event matching, per-type scores, detector P/R, MOT metrics, wall recall."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from safecity.monitor.config.model import CameraConfig
from safecity.monitor.evaluation.jsonl import MotRow, read_mot
from safecity.monitor.evaluation.suite import (
    box_iou,
    detector_pr,
    events_from_tracks,
    match_events,
    score_events,
    sum_scores,
    tracking_metrics,
    wall_recall,
)
from safecity.monitor.types import EventType, WallLayout, WallTile
from tests.factories import box_at, make_detections, make_event, make_tracks

TRUE_AT = 100.0


# (predictions as (start offset from the true onset, zone, direction), expected TP, FP, FN, duplicates)
MATCH_CASES = [
    # on time
    ([(0.0, "gate", None)], 1, 0, 0, 0),
    # early by 1.9 s: inside the 2 s tolerance
    ([(-1.9, "gate", None)], 1, 0, 0, 0),
    # early by 2.1 s: outside -> a miss and a false alarm
    ([(-2.1, "gate", None)], 0, 1, 1, 0),
    # late by 9.9 s: inside the 10 s tolerance
    ([(9.9, "gate", None)], 1, 0, 0, 0),
    # late by 10.1 s: outside
    ([(10.1, "gate", None)], 0, 1, 1, 0),
    # right time, other zone
    ([(0.0, "lane", None)], 0, 1, 1, 0),
    # two alarms for one true event: counted once, the second is a duplicate (not a false alarm)
    ([(0.5, "gate", None), (3.0, "gate", None)], 1, 0, 0, 1),
    # no prediction at all
    ([], 0, 0, 1, 0),
]


@pytest.mark.parametrize(("preds", "tp", "fp", "fn", "dup"), MATCH_CASES)
def test_match_events_kisa_window(
    preds: list[tuple[float, str, str | None]], tp: int, fp: int, fn: int, dup: int
) -> None:
    truth = [make_event(uid="t", start_s=TRUE_AT, zone="gate")]
    pred = [make_event(uid=f"p{i}", start_s=TRUE_AT + dt, zone=z) for i, (dt, z, _) in enumerate(preds)]
    m = match_events(pred, truth)
    assert (len(m.pairs), len(m.false_pos), len(m.missed), len(m.duplicates)) == (tp, fp, fn, dup)


# (true direction, predicted direction, matched?)
DIRECTION_CASES = [
    ("a_to_b", "a_to_b", True),  # same direction
    ("a_to_b", "b_to_a", False),  # wrong direction: no match
    (None, "b_to_a", True),  # truth without direction accepts either
]


@pytest.mark.parametrize(("true_dir", "pred_dir", "matched"), DIRECTION_CASES)
def test_match_events_direction(true_dir: str | None, pred_dir: str, matched: bool) -> None:
    truth = [make_event(uid="t", type="line_crossing", zone="door", start_s=5.0, direction=true_dir)]
    pred = [make_event(uid="p", type="line_crossing", zone="door", start_s=5.2, direction=pred_dir)]
    assert bool(match_events(pred, truth).pairs) is matched


# (true type, true zone, predicted type, predicted zone, matched?): camera-health labels carry no zone
ZONELESS_CASES = [
    ("camera_frozen", None, "camera_frozen", None, True),  # health event: no zone on either side
    ("camera_covered", None, "camera_frozen", None, False),  # another health type never matches
    ("crowding", None, "crowding", "square", True),  # a truth without zone accepts any zone
    ("crowding", "square", "crowding", None, False),  # a truth with a zone needs the same zone
]


@pytest.mark.parametrize(("t_type", "t_zone", "p_type", "p_zone", "matched"), ZONELESS_CASES)
def test_match_events_zoneless_truth(
    t_type: EventType, t_zone: str | None, p_type: EventType, p_zone: str | None, matched: bool
) -> None:
    truth = [make_event(uid="t", type=t_type, zone=t_zone, start_s=8.0)]
    pred = [make_event(uid="p", type=p_type, zone=p_zone, start_s=8.5)]
    assert bool(match_events(pred, truth).pairs) is matched


def test_match_events_greedy_closest_first() -> None:
    # two truths 3 s apart, two predictions: each truth gets its own, closest onset first
    truth = [make_event(uid="t1", start_s=10.0), make_event(uid="t2", start_s=13.0)]
    pred = [make_event(uid="p1", start_s=13.2), make_event(uid="p2", start_s=10.5)]
    assert match_events(pred, truth).pairs == ((0, 1), (1, 0))


def test_match_events_other_camera_never_matches() -> None:
    m = match_events([make_event(uid="p", camera="cam2")], [make_event(uid="t", camera="cam1")])
    assert (m.pairs, m.false_pos, m.missed) == ((), (0,), (0,))


def test_score_events_per_type_rates() -> None:
    truth = [make_event(uid="t1", start_s=10), make_event(uid="t2", start_s=50),
             make_event(uid="t3", type="loitering", start_s=30)]  # fmt: skip
    pred = [make_event(uid="p1", start_s=11), make_event(uid="p2", start_s=200)]
    scores = score_events(pred, truth)
    assert scores["intrusion"].tp == 1 and scores["intrusion"].fp == 1 and scores["intrusion"].fn == 1
    assert scores["intrusion"].f1 == pytest.approx(0.5)
    assert scores["loitering"].precision is None and scores["loitering"].recall == 0.0
    assert scores["intrusion"].onset_delay_s == pytest.approx(1.0)


def test_sum_scores_pools_counts() -> None:
    a = score_events([make_event(uid="p", start_s=1)], [make_event(uid="t", start_s=1)])["intrusion"]
    b = score_events([], [make_event(uid="t", start_s=1)])["intrusion"]
    pooled = sum_scores([a, b])
    assert (pooled.tp, pooled.fn, pooled.recall) == (1, 1, 0.5)


@given(
    st.lists(st.floats(0, 100, allow_nan=False), max_size=8),
    st.lists(st.floats(0, 100, allow_nan=False), max_size=8),
)
def test_match_events_counts_add_up(true_starts: list[float], pred_starts: list[float]) -> None:
    truth = [make_event(uid=f"t{i}", start_s=s) for i, s in enumerate(true_starts)]
    pred = [make_event(uid=f"p{i}", start_s=s) for i, s in enumerate(pred_starts)]
    m = match_events(pred, truth)
    assert len(m.pairs) + len(m.missed) == len(truth)
    assert len(m.pairs) + len(m.false_pos) + len(m.duplicates) == len(pred)
    assert len({p for _, p in m.pairs}) == len(m.pairs) == len({t for t, _ in m.pairs})
    for ti, pi in m.pairs:
        assert -2.0 <= pred[pi].start_s - truth[ti].start_s <= 10.0


def test_box_iou_known_values() -> None:
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    assert box_iou(a, b).round(4).tolist() == [[1.0, 0.3333, 0.0]]


def _row(
    frame: int, boxes: list[tuple[float, float, float, float]], *, cls: list[int], vis: list[float]
) -> MotRow:
    n = len(boxes)
    return MotRow(
        frame,
        np.arange(1, n + 1, dtype=np.int64),
        np.array(boxes, np.float32).reshape(n, 4),
        np.ones(n, np.float32),
        np.array(cls, np.int64),
        np.array(vis, np.float32),
    )


def test_detector_pr_ignores_hidden_and_distractors() -> None:
    gt = {
        1: _row(
            1,
            [box_at(50, 50), box_at(150, 50), box_at(250, 50), box_at(350, 50)],
            cls=[1, 1, 1, 8],
            vis=[1.0, 0.9, 0.1, 1.0],
        )
    }
    # hits person 1, misses person 2, hits the barely visible person 3 (ignored), hits the distractor
    # (ignored) and fires on empty background once
    dets = {1: make_detections([box_at(50, 50), box_at(250, 50), box_at(350, 50), box_at(450, 50)])}
    s = detector_pr("scene", gt, dets, min_visibility=0.25)
    assert (s.tp, s.fp, s.fn) == (1, 1, 1)
    assert s.precision == 0.5 and s.recall == 0.5


def test_tracking_metrics_perfect_and_switch(tmp_path: Path) -> None:
    gt_txt = tmp_path / "gt.txt"
    gt_txt.write_text(
        "".join(f"{f},1,10,10,20,50,1,1,1.0\n{f},2,100,10,20,50,1,1,1.0\n" for f in (1, 2, 3, 4))
    )
    gt = read_mot(gt_txt)
    perfect = tracking_metrics("s", gt, gt)
    assert perfect.mota == 1.0 and perfect.idf1 == 1.0 and perfect.id_switches == 0
    # the tracker swaps the ids of the two people halfway
    pred_txt = tmp_path / "pred.txt"
    rows = [f"{f},{a},10,10,20,50,0.9,-1,-1,-1\n{f},{b},100,10,20,50,0.9,-1,-1,-1\n"
            for f, (a, b) in zip((1, 2, 3, 4), ((1, 2), (1, 2), (2, 1), (2, 1)), strict=True)]  # fmt: skip
    pred_txt.write_text("".join(rows))
    swapped = tracking_metrics("s", gt, read_mot(pred_txt))
    assert swapped.id_switches == 2
    assert swapped.mota is not None and swapped.mota < 1.0


def test_wall_recall_counts_seconds_on_wall_within_2_s() -> None:
    # camera c is on the wall from t=5; the event runs 2..9 s -> samples 2..9, those at t>=3 are hits
    walls = [
        WallLayout(float(t), (WallTile("c", 1.0, "", 3, False, 5.0),) if t >= 5 else ()) for t in range(12)
    ]
    ev = make_event(camera="c", start_s=2.0, end_s=9.0)
    assert wall_recall([ev], walls) == pytest.approx(7 / 8)
    assert wall_recall([], walls) is None


def test_events_from_tracks_uses_the_rules() -> None:
    cam = CameraConfig.model_validate(
        {
            "id": "c",
            "source": "x.mp4",
            "zones": [{"name": "gate", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}],
            "rules": [{"type": "intrusion", "zone": "gate", "min_s": 0.5}],
        }
    )
    # a person walks from x=20 to x=180 in a 200x100 frame; the zone is the right half
    frames = [(t / 5, make_tracks(t / 5, [box_at(20 + 8 * t, 50)], ids=[7])) for t in range(21)]
    events = events_from_tracks(cam, frames, (200, 100))
    intrusions = [e for e in events if e.type == "intrusion"]
    assert len(intrusions) == 1
    # enters the zone (x >= 100) at t = 2.0 s; the event starts after min_s
    assert 2.0 <= intrusions[0].start_s <= 2.0 + 0.5 + 0.2
    assert intrusions[0].track_ids == (7,)


def _report(camera: str, preds: list[tuple[float, float]], truths: list[tuple[float, float]]) -> Any:
    from safecity.monitor.evaluation.suite import ClipReport

    truth = tuple(
        make_event(uid=f"t{camera}{i}", camera=camera, start_s=a, end_s=b) for i, (a, b) in enumerate(truths)
    )
    pred = tuple(
        make_event(uid=f"p{camera}{i}", camera=camera, start_s=a, end_s=b, severity=4)
        for i, (a, b) in enumerate(preds)
    )
    return ClipReport(
        scene=camera, clip="", detect_fps=5.0, duration_s=60.0, wall_s=1.0, events={},
        truth=truth, predicted=pred, wall_recall=None, counters={},
    )  # fmt: skip


def test_shared_wall_recall_one_tile_two_busy_cameras() -> None:
    from safecity.monitor.evaluation.suite import shared_wall_recall

    # two cameras with events at the same time: one tile shows only one of them at a time
    a = _report("a", [(10.0, 30.0)], [(10.0, 30.0)])
    b = _report("b", [(10.0, 30.0)], [(10.0, 30.0)])
    one = shared_wall_recall([a, b], max_tiles=1, hold_s=5.0)
    two = shared_wall_recall([a, b], max_tiles=2, hold_s=5.0)
    assert one is not None and two is not None
    assert two == 1.0 and one < 1.0
    # events at different times share one tile without loss
    c = _report("c", [(40.0, 50.0)], [(40.0, 50.0)])
    assert shared_wall_recall([a, c], max_tiles=1, hold_s=5.0) == 1.0
