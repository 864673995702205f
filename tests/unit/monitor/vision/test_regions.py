"""Detection on demand (OnDemandPlanner in CameraPipeline) with the blob detector on synthetic scenes:
fewer detector calls than on every motion region, the same intrusion, new objects found at once,
stationary objects checked at the slower interval, objects that vanish let go."""

from __future__ import annotations

from typing import Any

import numpy as np

from safecity.monitor.config.engine import DetectionConfig
from safecity.monitor.config.model import TrackerConfig
from safecity.monitor.pipeline import CameraPipeline, StepResult
from safecity.monitor.sources.readers import DecodedFrame
from safecity.monitor.types import Detections, Tracks
from safecity.monitor.vision.regions import OnDemandPlanner
from tests.unit.monitor.test_pipeline import BlobDetector, _camera

W, H = 320, 180
FPS = 5.0


def _frame(t_s: float, index: int, blocks: list[tuple[int, int]]) -> DecodedFrame:
    rng = np.random.default_rng(index)
    gray = np.full((H, W), 90, np.uint8) + rng.integers(0, 3, (H, W), dtype=np.uint8)
    for x, y in blocks:
        gray[y : y + 60, x : x + 20] = 250  # a bright "person" 20 x 60 px
    return DecodedFrame("cam1", t_s, index, W, H, gray)


def _pipeline(mode: str, **det: Any) -> tuple[CameraPipeline, BlobDetector]:
    d = BlobDetector()
    cam = _camera(detection={"mode": mode, **det})
    tracker = TrackerConfig(high_thresh=0.5, low_thresh=0.1, new_track_thresh=0.5, min_hits=2, lost_s=1.0)
    return CameraPipeline(cam, d, tracker=tracker), d


def _walk(pipe: CameraPipeline, n: int, where: Any) -> list[StepResult]:
    return [pipe.step(_frame(i / FPS, i + 1, where(i))) for i in range(n)]


def _walker(i: int) -> list[tuple[int, int]]:
    """Still for 1 s, then walks right 4 px per frame (20 px/s) into the zone (x >= 160)."""
    return [] if i < 5 else [(40 + 4 * (i - 5), 60)]


def test_on_demand_raises_the_same_intrusion_with_fewer_detector_calls() -> None:
    runs = {}
    for mode in ("motion", "on_demand"):
        pipe, det = _pipeline(mode)
        res = _walk(pipe, 60, _walker)
        starts = [ev for r in res for k, ev in r.events if k == "start" and ev.type == "intrusion"]
        ids = {int(t) for r in res for t in r.tracks.track_id}
        runs[mode] = (starts, det.calls, ids)
    (m_starts, m_calls, m_ids), (o_starts, o_calls, o_ids) = runs["motion"], runs["on_demand"]
    assert len(m_starts) == len(o_starts) == 1
    assert abs(m_starts[0].start_s - o_starts[0].start_s) <= 0.4
    assert o_ids == m_ids == {1}  # one object, one id: carried between detections
    assert o_calls < 0.6 * m_calls, (o_calls, m_calls)


def test_a_second_object_entering_is_detected_at_once() -> None:
    def two(i: int) -> list[tuple[int, int]]:
        first = [(40 + 4 * i, 20)]
        return first if i < 20 else [*first, (260 - 4 * (i - 20), 110)]

    pipe, _ = _pipeline("on_demand", reverify_s=3.0, stationary_reverify_s=3.0)
    res = _walk(pipe, 30, two)
    # the newcomer's motion is not explained by the first one's track: detected at once, confirmed
    # (min_hits = 2) on its second frame
    assert [len(r.tracks) for r in res[20:23]] == [1, 2, 2]
    assert res[20].detector_called and res[21].detector_called


def test_stationary_object_is_checked_at_the_slower_interval() -> None:
    def stands(i: int) -> list[tuple[int, int]]:
        # appears at 1 s (a parcel put down, a person stepping in) and stays
        return [] if i < 5 else [(76, 60)]

    pipe, _ = _pipeline("on_demand", reverify_s=1.0, stationary_reverify_s=3.0)
    res = _walk(pipe, 60, stands)
    later = res[15:]  # standing still since 1 s; its motion lies on its own box
    calls = [r.t_s for r in later if r.detector_called]
    assert all(len(r.tracks) == 1 for r in later)  # carried the whole time, never lost
    gaps = np.diff(calls)
    assert len(calls) >= 2 and np.all(gaps >= 2.8), calls


def test_a_still_object_that_stirs_is_checked_at_once() -> None:
    """A tracked object standing still with no motion on it (the background has taken it in) is
    checked at once when motion appears on it again (someone starting to fall, a parcel picked up),
    not at the next slow check: that motion lies on its own box, so nothing else would look."""
    cfg = DetectionConfig(mode="on_demand", reverify_s=3.0, stationary_reverify_s=3.0)
    p = OnDemandPlanner(cfg, low_thresh=0.1, high_thresh=0.5)
    box = np.array([[76, 60, 96, 120]], np.float32)
    on_it = box / np.array([W, H, W, H], np.float32)
    det = Detections(box, np.array([0.9], np.float32), np.array(["person"]))

    def tracks(t: float) -> Tracks:
        return Tracks(
            t, np.array([1]), box, np.array([0.9], np.float32), np.array(["person"]), np.array([0.0])
        )

    p.observe(p.plan(on_it, 0.0, (W, H)), det, tracks(0.0))  # found
    none = np.zeros((0, 4), np.float32)
    for k in range(1, 6):  # 0.2-1.0 s: still, no motion on it: carried, not checked
        plan = p.plan(none, k / FPS, (W, H))
        assert plan.due_ids == () and plan.carried_ids == (1,)
        p.observe(plan, None, tracks(k / FPS))
    stir = p.plan(on_it, 1.2, (W, H))
    assert stir.due_ids == (1,) and stir.run_detector  # checked now, 1.8 s before its slow check
    still = OnDemandPlanner(cfg, low_thresh=0.1, high_thresh=0.5)  # the same motion on it from the start
    still.observe(still.plan(on_it, 0.0, (W, H)), det, tracks(0.0))
    for k in range(1, 7):
        plan = still.plan(on_it, k / FPS, (W, H))  # its own motion ghost all along: no stir
        assert plan.due_ids == (), k
        still.observe(plan, None, tracks(k / FPS))


def test_an_object_that_vanishes_is_let_go() -> None:
    def gone(i: int) -> list[tuple[int, int]]:
        return [(40 + 4 * i, 60)] if i < 15 else []

    pipe, _ = _pipeline("on_demand")
    res = _walk(pipe, 40, gone)
    assert len(res[14].tracks) == 1
    # lost_s = 1 s after the last real detection at the latest (re-verification finds nothing)
    assert all(len(r.tracks) == 0 for r in res[15 + int(2.2 * FPS) :])
    assert pipe.planner is not None and not pipe.planner.tracking


def test_plan_without_objects_leaves_motion_to_the_detector() -> None:
    p = OnDemandPlanner(DetectionConfig(mode="on_demand"), low_thresh=0.1, high_thresh=0.5)
    motion = np.array([[0.1, 0.1, 0.3, 0.4]], np.float32)
    plan = p.plan(motion, 0.0, (W, H))
    assert plan.run_detector and np.array_equal(plan.motion_frac, motion)
    assert p.merge(plan, None) is plan.carried and len(plan.carried) == 0
    det = Detections(np.array([[1, 2, 3, 4]], np.float32), np.array([0.9], np.float32), np.array(["person"]))
    assert p.merge(plan, det) is det
