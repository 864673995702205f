"""Evaluation of selective monitoring: event F1 with the KISA window, tracking, detector, wall recall.

* **Events** (:func:`match_events`, :func:`score_events`): a predicted event matches a true one of
  the same type and zone/line (and direction, when the truth has one) when it starts from
  ``early_s`` = 2 s before to ``late_s`` = 10 s after the true onset (KISA's timing tolerance,
  monitoring-domain.md §2). Matching is greedy one-to-one, closest onset first. A second prediction
  that would have matched an already matched truth is a *duplicate*: it counts neither as a true
  nor as a false positive (the alarm was raised once); any other unmatched prediction is a false
  positive, any unmatched truth a miss.
* **Ground truth from boxes** (:func:`events_from_tracks`): annotated tracks (MOT ``gt.txt``) are
  run through the same rules (:func:`safecity.monitor.rules.build_rules`) as the engine's tracks.
* **Tracking** (:func:`tracking_metrics`): MOTA, IDF1 and ID switches from py-motmetrics.
* **Detector** (:func:`detector_pr`): per-frame precision/recall of ``person`` boxes at IoU >= 0.5
  against MOT17 pedestrians with ``consider == 1`` and visibility >= ``min_visibility`` (0.25 by
  default); detections on less visible or ignored people (static person, distractor, reflection,
  person on vehicle) count neither way, as in the MOTChallenge rules.
* **Wall recall** (:func:`wall_recall`): share of true event-seconds whose camera is on the wall
  within ``within_s`` = 2 s.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from safecity.monitor.jsonl import MotRow
from safecity.monitor.types import Detections, Event, Tracks, WallLayout

__all__ = [
    "DetectorScore",
    "EventMatch",
    "EventScore",
    "TrackingScore",
    "box_iou",
    "detector_pr",
    "events_from_tracks",
    "gt_tracks",
    "match_events",
    "score_events",
    "sum_scores",
    "tracking_metrics",
    "wall_recall",
]

F32 = npt.NDArray[np.float32]

# MOT17 gt classes that are people but not scored: person on vehicle, static person, distractor, reflection
_MOT_IGNORE_CLASSES = (2, 7, 8, 12)


@dataclass(frozen=True, slots=True)
class EventMatch:
    """Result of matching predicted to true events (indices into the two input sequences)."""

    pairs: tuple[tuple[int, int], ...]  # (truth index, prediction index)
    missed: tuple[int, ...]  # truth indices
    false_pos: tuple[int, ...]  # prediction indices
    duplicates: tuple[int, ...]  # prediction indices that repeat an already matched truth


@dataclass(frozen=True, slots=True)
class EventScore:
    """Counts and rates for one event type (``None`` where a rate is undefined: 0 / 0)."""

    type: str
    tp: int
    fp: int
    fn: int
    duplicates: int
    precision: float | None
    recall: float | None
    f1: float | None
    onset_delay_s: float | None = None  # mean predicted - true onset of the matches

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "duplicates": self.duplicates,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "onset_delay_s": self.onset_delay_s,
        }


def _compatible(truth: Event, pred: Event) -> bool:
    if truth.type != pred.type or truth.camera != pred.camera:
        return False
    if truth.zone is not None and truth.zone != pred.zone:
        return False
    return truth.direction is None or truth.direction == pred.direction


def match_events(
    pred: Sequence[Event], truth: Sequence[Event], *, early_s: float = 2.0, late_s: float = 10.0
) -> EventMatch:
    """Greedy one-to-one matching of predicted to true events within the KISA window.

    Args:
        pred: events from the engine.
        truth: labelled (or derived) true events.
        early_s: a prediction may start this long before the true onset.
        late_s: ... and this long after it.

    Example:
        >>> t = [Event("t", "intrusion", "c", 10.0, 10.0, zone="z")]
        >>> p = [Event("a", "intrusion", "c", 7.5, 7.5, zone="z"),
        ...      Event("b", "intrusion", "c", 11.0, 11.0, zone="z")]
        >>> m = match_events(p, t)
        >>> m.pairs, m.false_pos, m.missed
        (((0, 1),), (0,), ())
    """
    cands: list[tuple[float, int, int]] = []
    for ti, t in enumerate(truth):
        for pi, p in enumerate(pred):
            dt = p.start_s - t.start_s
            if -early_s <= dt <= late_s and _compatible(t, p):
                cands.append((abs(dt), ti, pi))
    cands.sort()
    used_t: set[int] = set()
    used_p: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _, ti, pi in cands:
        if ti in used_t or pi in used_p:
            continue
        used_t.add(ti)
        used_p.add(pi)
        pairs.append((ti, pi))
    dup_candidates = {pi for _, ti, pi in cands if ti in used_t}
    duplicates = tuple(sorted(pi for pi in dup_candidates if pi not in used_p))
    false_pos = tuple(pi for pi in range(len(pred)) if pi not in used_p and pi not in duplicates)
    missed = tuple(ti for ti in range(len(truth)) if ti not in used_t)
    return EventMatch(tuple(sorted(pairs)), missed, false_pos, duplicates)


def _rates(tp: int, fp: int, fn: int) -> tuple[float | None, float | None, float | None]:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    if precision is None or recall is None:
        f1 = None
    else:
        f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return precision, recall, f1


def score_events(
    pred: Sequence[Event],
    truth: Sequence[Event],
    *,
    types: Iterable[str] | None = None,
    early_s: float = 2.0,
    late_s: float = 10.0,
) -> dict[str, EventScore]:
    """Precision / recall / F1 per event type (types of either list unless ``types`` is given).

    Example:
        >>> t = [Event("t", "intrusion", "c", 10.0, 10.0, zone="z")]
        >>> score_events([Event("p", "intrusion", "c", 10.5, 10.5, zone="z")], t)["intrusion"].f1
        1.0
    """
    wanted = sorted(set(types) if types is not None else {e.type for e in (*pred, *truth)})
    out: dict[str, EventScore] = {}
    for typ in wanted:
        p = [e for e in pred if e.type == typ]
        t = [e for e in truth if e.type == typ]
        m = match_events(p, t, early_s=early_s, late_s=late_s)
        tp, fp, fn = len(m.pairs), len(m.false_pos), len(m.missed)
        precision, recall, f1 = _rates(tp, fp, fn)
        delays = [p[pi].start_s - t[ti].start_s for ti, pi in m.pairs]
        out[typ] = EventScore(
            typ,
            tp,
            fp,
            fn,
            len(m.duplicates),
            precision,
            recall,
            f1,
            round(float(np.mean(delays)), 3) if delays else None,
        )
    return out


def sum_scores(scores: Iterable[EventScore]) -> EventScore:
    """Pool counts of several clips (micro average) into one score of the first type."""
    items = list(scores)
    tp = sum(s.tp for s in items)
    fp = sum(s.fp for s in items)
    fn = sum(s.fn for s in items)
    dup = sum(s.duplicates for s in items)
    precision, recall, f1 = _rates(tp, fp, fn)
    return EventScore(items[0].type if items else "", tp, fp, fn, dup, precision, recall, f1)


# ---------------------------------------------------------------------------------------------
# Ground-truth events from annotated tracks


def events_from_tracks(
    camera: Any, frames: Iterable[tuple[float, Tracks]], frame_wh: tuple[int, int]
) -> list[Event]:
    """Run the camera's rules over annotated tracks and return every event in its final state.

    Args:
        camera: the :class:`~safecity.monitor.config.CameraConfig` with zones, lines and rules.
        frames: ``(t_s, tracks)`` in time order (e.g. MOT ``gt.txt`` boxes, ``t_s = (frame-1)/fps``).
        frame_wh: frame size in pixels.
    """
    from safecity.monitor.rules import build_rules

    rules = build_rules(camera)
    final: dict[str, Event] = {}
    for t_s, tracks in frames:
        for _kind, ev in rules.update(tracks, t_s, frame_wh):
            final[ev.uid] = ev
    return sorted(final.values(), key=lambda e: e.start_s)


def gt_tracks(row: MotRow, t_s: float, *, min_visibility: float = 0.0) -> Tracks:
    """Scored pedestrians of one MOT17 gt frame as :class:`Tracks` (class ``person``)."""
    keep = (row.conf > 0) & ((row.cls == 1) | (row.cls == -1)) & (row.visibility >= min_visibility)
    n = int(keep.sum())
    return Tracks(
        t_s,
        row.ids[keep],
        row.xyxy_px[keep],
        np.ones(n, np.float32),
        np.full(n, "person", dtype="<U16"),
        np.zeros(n, np.float64),
    )


# ---------------------------------------------------------------------------------------------
# Detector precision / recall


def box_iou(a: F32, b: F32) -> npt.NDArray[np.float64]:
    """IoU matrix of boxes ``a`` (n, 4) and ``b`` (m, 4) in x1, y1, x2, y2.

    Example:
        >>> box_iou(np.array([[0, 0, 2, 2]], np.float32), np.array([[1, 0, 3, 2]], np.float32)).round(3)
        array([[0.333]])
    """
    a64 = a.astype(np.float64).reshape(-1, 4)
    b64 = b.astype(np.float64).reshape(-1, 4)
    x1 = np.maximum(a64[:, None, 0], b64[None, :, 0])
    y1 = np.maximum(a64[:, None, 1], b64[None, :, 1])
    x2 = np.minimum(a64[:, None, 2], b64[None, :, 2])
    y2 = np.minimum(a64[:, None, 3], b64[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a64[:, 2] - a64[:, 0]) * (a64[:, 3] - a64[:, 1])
    area_b = (b64[:, 2] - b64[:, 0]) * (b64[:, 3] - b64[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    out: npt.NDArray[np.float64] = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
    return out


def _greedy_pairs(iou: npt.NDArray[np.float64], thr: float) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    if iou.size == 0:
        return pairs
    order = np.dstack(np.unravel_index(np.argsort(-iou, axis=None), iou.shape))[0]
    used_r: set[int] = set()
    used_c: set[int] = set()
    for r, c in order:
        if iou[r, c] < thr:
            break
        if int(r) in used_r or int(c) in used_c:
            continue
        used_r.add(int(r))
        used_c.add(int(c))
        pairs.append((int(r), int(c)))
    return pairs


@dataclass(frozen=True, slots=True)
class DetectorScore:
    """Detector counts over the frames of one scene."""

    scene: str
    frames: int
    tp: int
    fp: int
    fn: int
    precision: float | None
    recall: float | None
    min_visibility: float
    iou: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "scene": self.scene,
            "frames": self.frames,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
            "min_visibility": self.min_visibility,
            "iou": self.iou,
        }


def detector_pr(
    scene: str,
    gt: Mapping[int, MotRow],
    dets: Mapping[int, Detections],
    *,
    min_visibility: float = 0.25,
    iou: float = 0.5,
    cls: str = "person",
) -> DetectorScore:
    """Per-frame precision / recall of ``cls`` detections against MOT17 pedestrians.

    Targets are gt rows with ``consider == 1``, class 1 (pedestrian) and visibility >=
    ``min_visibility``. Detections overlapping (IoU >= ``iou``) a non-target person box (less
    visible, static, distractor, reflection, on a vehicle) are ignored, not counted as false.
    Only frames present in ``dets`` are scored.
    """
    tp = fp = fn = 0
    for frame, det in dets.items():
        row = gt.get(frame)
        boxes = det.xyxy_px[det.class_name == cls]
        if row is None:
            fp += len(boxes)
            continue
        person = (row.cls == 1) | np.isin(row.cls, _MOT_IGNORE_CLASSES)
        target = (row.conf > 0) & (row.cls == 1) & (row.visibility >= min_visibility)
        ignore = person & ~target
        t_boxes = row.xyxy_px[target]
        pairs = _greedy_pairs(box_iou(t_boxes, boxes), iou)
        matched = {c for _, c in pairs}
        tp += len(pairs)
        fn += len(t_boxes) - len(pairs)
        rest = np.array([i for i in range(len(boxes)) if i not in matched], dtype=np.int64)
        if len(rest) and ignore.any():
            ov = box_iou(boxes[rest], row.xyxy_px[ignore]).max(axis=1)
            rest = rest[ov < iou]
        fp += len(rest)
    precision, recall, _ = _rates(tp, fp, fn)
    return DetectorScore(scene, len(dets), tp, fp, fn, precision, recall, min_visibility, iou)


# ---------------------------------------------------------------------------------------------
# Tracking metrics (py-motmetrics)


@dataclass(frozen=True, slots=True)
class TrackingScore:
    scene: str
    frames: int
    mota: float | None
    idf1: float | None
    id_switches: int
    gt_ids: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "scene": self.scene,
            "frames": self.frames,
            "mota": self.mota,
            "idf1": self.idf1,
            "id_switches": self.id_switches,
            "gt_ids": self.gt_ids,
        }


def _import_motmetrics() -> Any:
    # py-motmetrics 1.4.0 calls np.asfarray, which NumPy 2 removed (stack-notes.md §11); provide the
    # old behaviour (an array of floats) before it is imported.
    if not hasattr(np, "asfarray"):
        np.asfarray = lambda a, dtype=float: np.asarray(a, dtype=dtype)  # type: ignore[attr-defined]
    import motmetrics

    return motmetrics


def tracking_metrics(
    scene: str, gt: Mapping[int, MotRow], pred: Mapping[int, MotRow], *, iou: float = 0.5
) -> TrackingScore:
    """MOTA / IDF1 / ID switches of predicted tracks against MOT gt (pedestrians, consider == 1)."""
    mm = _import_motmetrics()
    acc = mm.MOTAccumulator(auto_id=False)
    empty = np.zeros((0, 4), np.float32)
    gt_ids: set[int] = set()
    for frame in sorted(gt):
        row = gt[frame]
        keep = (row.conf > 0) & (row.cls == 1)
        g_ids = row.ids[keep]
        gt_ids.update(int(i) for i in g_ids)
        g_xywh = _xywh(row.xyxy_px[keep])
        p = pred.get(frame)
        p_ids = p.ids if p is not None else np.zeros(0, np.int64)
        p_xywh = _xywh(p.xyxy_px) if p is not None else empty
        dist = mm.distances.iou_matrix(g_xywh, p_xywh, max_iou=1.0 - iou)
        acc.update(list(g_ids), list(p_ids), dist, frameid=frame)
    mh = mm.metrics.create()
    summary = mh.compute(acc, metrics=["mota", "idf1", "num_switches"], name=scene)

    def val(key: str) -> float | None:
        v = float(summary[key].iloc[0])
        return None if math.isnan(v) else round(v, 4)

    return TrackingScore(
        scene, len(gt), val("mota"), val("idf1"), int(summary["num_switches"].iloc[0]), len(gt_ids)
    )


def _xywh(xyxy: F32) -> npt.NDArray[np.float64]:
    a = xyxy.astype(np.float64).reshape(-1, 4)
    return np.stack([a[:, 0], a[:, 1], a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]], axis=1)


# ---------------------------------------------------------------------------------------------
# Wall recall


def wall_recall(
    truth: Sequence[Event],
    layouts: Sequence[WallLayout],
    *,
    within_s: float = 2.0,
    step_s: float = 1.0,
) -> float | None:
    """Share of true event-seconds whose camera is on the wall within ``within_s``.

    Each true event is sampled every ``step_s`` from its start to its end (its start only, when it
    has no end); a sample at ``t`` is a hit when some wall layout between ``t`` and ``t + within_s``
    shows the event's camera. ``None`` when there are no true events.

    Example:
        >>> from safecity.monitor.types import WallTile
        >>> wall = [WallLayout(float(t), (WallTile("c", 1.0, "", 3, False, 0.0),) if t >= 5 else ())
        ...         for t in range(0, 12)]
        >>> wall_recall([Event("t", "intrusion", "c", 2.0, 9.0, end_s=9.0)], wall)
        0.875
    """
    times = np.array([w.t_s for w in layouts], dtype=np.float64)
    order = np.argsort(times)
    times = times[order]
    shown = [{tile.camera for tile in layouts[i].tiles} for i in order]
    hits = total = 0
    for ev in truth:
        end = ev.end_s if ev.end_s is not None else ev.start_s
        n = math.floor((end - ev.start_s) / step_s) + 1
        for k in range(max(n, 1)):
            t = ev.start_s + k * step_s
            lo = int(np.searchsorted(times, t, side="left"))
            hi = int(np.searchsorted(times, t + within_s, side="right"))
            total += 1
            hits += any(ev.camera in shown[i] for i in range(lo, hi))
    return hits / total if total else None
