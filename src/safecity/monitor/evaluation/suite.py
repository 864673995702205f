"""Evaluation of selective monitoring: event F1 with the KISA window, tracking, detector, wall recall.

* **Events** (:func:`match_events`, :func:`score_events`): a predicted event matches a true one of
  the same type and zone/line (and direction, when the truth has one) when it starts from
  ``early_s`` = 2 s before to ``late_s`` = 10 s after the true onset (KISA's timing tolerance,
  monitoring-domain.md §2). Matching is greedy one-to-one, closest onset first. A second prediction
  that would have matched an already matched truth is a *duplicate*: it counts neither as a true
  nor as a false positive (the alarm was raised once); any other unmatched prediction is a false
  positive, any unmatched truth a miss.
* **Ground truth from boxes** (:func:`events_from_tracks`): annotated tracks (MOT ``gt.txt``) are
  run through the same rules (:func:`safecity.monitor.rules.build.build_rules`) as the engine's tracks.
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

from safecity.monitor.evaluation.jsonl import MotFormat, MotRow
from safecity.monitor.types import Detections, Event, Tracks, WallLayout

__all__ = [
    "ClipReport",
    "DetectorScore",
    "EventMatch",
    "EventScore",
    "TrackingScore",
    "box_iou",
    "detector_pr",
    "evaluate_clip",
    "evaluate_labels",
    "events_from_tracks",
    "format_report",
    "gt_tracks",
    "match_events",
    "pooled",
    "score_events",
    "shared_wall_recall",
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
        camera: the :class:`~safecity.monitor.config.model.CameraConfig` with zones, lines and rules.
        frames: ``(t_s, tracks)`` in time order (e.g. MOT ``gt.txt`` boxes, ``t_s = (frame-1)/fps``).
        frame_wh: frame size in pixels.
    """
    from safecity.monitor.rules.build import build_rules

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


# ---------------------------------------------------------------------------------------------
# Running a clip or a suite of label files


@dataclass(frozen=True, slots=True)
class ClipReport:
    """Evaluation of one clip: events per type, and where boxes exist tracking and detector scores."""

    scene: str
    clip: str
    detect_fps: float | None
    duration_s: float
    wall_s: float
    events: dict[str, EventScore]
    truth: tuple[Event, ...]
    predicted: tuple[Event, ...]
    wall_recall: float | None
    counters: dict[str, int]
    tracking: TrackingScore | None = None
    detector: DetectorScore | None = None

    def as_dict(self) -> dict[str, Any]:
        from safecity.monitor.evaluation.jsonl import event_to_json

        return {
            "scene": self.scene,
            "clip": self.clip,
            "detect_fps": self.detect_fps,
            "duration_s": round(self.duration_s, 3),
            "wall_s": round(self.wall_s, 3),
            "events": {k: v.as_dict() for k, v in self.events.items()},
            "wall_recall": self.wall_recall,
            "counters": self.counters,
            "tracking": self.tracking.as_dict() if self.tracking else None,
            "detector": self.detector.as_dict() if self.detector else None,
            "truth": [event_to_json("end", e) for e in self.truth],
            "predicted": [event_to_json("end", e) for e in self.predicted],
        }


_SCORED_TYPES = ("intrusion", "line_crossing", "loitering", "crowding", "fall", "abandoned_object")


def _camera(config: Any, camera_id: str | None) -> Any:
    from safecity.errors import ConfigError

    if camera_id is None:
        return config.cameras[0]
    try:
        return config.camera(camera_id)
    except KeyError:
        ids = ", ".join(c.id for c in config.cameras)
        raise ConfigError(f"camera {camera_id!r} is not in the config; cameras: {ids}") from None


def evaluate_clip(
    clip: str | Any,
    config_path: str | Any,
    *,
    camera_id: str | None = None,
    truth: Sequence[Event] | None = None,
    gt_mot: str | Any | None = None,
    gt_fps: float | None = None,
    detect_fps: float | str | None = "camera",
    scene: str | None = None,
    event_types: Sequence[str] | None = None,
    detector: Any = None,
    min_visibility: float = 0.25,
    gt_format: MotFormat = "auto",
    engine: Mapping[str, Any] | None = None,
    detector_settings: Mapping[str, Any] | None = None,
) -> ClipReport:
    """Replay ``clip`` with the engine and score it against labelled events and/or MOT boxes.

    Args:
        clip: video file.
        config_path: monitoring config with the zones, lines and rules.
        camera_id: camera of the config to use (default: the first).
        truth: labelled true events (times in seconds from the clip start).
        gt_mot: MOT ``gt.txt``; true events are derived from its boxes with the same rules, and
            tracking (MOTA/IDF1) and detector precision/recall are measured.
        gt_fps: frame rate of ``gt_mot`` frames (default: the clip's).
        detect_fps: analysis rate; ``"camera"`` = the camera's ``detect_fps``, None = every frame.
        scene: name in reports.
        event_types: types scored (default: the types of the camera's rules, without health).
        detector: a detector to reuse (default: built from the config).
        min_visibility: MOT17 visibility threshold for detector targets.
        gt_format: layout of ``gt_mot``: ``auto`` (from the column count), ``mot15`` or ``mot17``
            (see :func:`~safecity.monitor.evaluation.jsonl.read_mot_gt`; read before the replay, so
            a file that cannot be scored fails at once).
        engine: engine settings laid over the camera's (``gate``, ``detection`` sections, e.g.
            ``{"gate": {"mode": "auto"}, "detection": {"mode": "on_demand"}}``); with it the clip is
            read as the live worker reads it (the gate when ``gate.mode`` is ``auto``). None: the
            camera as configured, every frame decoded.
        detector_settings: keys laid over the camera's detector config (e.g. ``{"precision":
            "fp32"}`` to compare the float and int8 NanoDet on the same labels).
    """
    from pathlib import Path

    from safecity.monitor.config.model import load_monitor_config
    from safecity.monitor.evaluation.jsonl import read_mot_gt
    from safecity.monitor.runtime.local import build_detector
    from safecity.monitor.runtime.replay import replay_clip

    gt = read_mot_gt(gt_mot, gt_format) if gt_mot is not None else None
    cfg = load_monitor_config(config_path)
    cam = _camera(cfg, camera_id)
    if engine is not None:  # (issue 9: compare the engine's modes on the same labels)
        cam = type(cam).model_validate({**cam.model_dump(), **engine})
        cfg = cfg.model_copy(update={"cameras": [cam if c.id == cam.id else c for c in cfg.cameras]})
    det_cfg = cfg.detector_for(cam)
    if detector_settings:
        det_cfg = type(det_cfg).model_validate({**det_cfg.model_dump(), **detector_settings})
    det = detector if detector is not None else build_detector(det_cfg)
    fps = cam.detect_fps if detect_fps == "camera" else detect_fps
    assert not isinstance(fps, str)
    run = replay_clip(cam, clip, det, detect_fps=fps, config=cfg, gate=engine is not None)
    true_events = [dataclasses_replace_camera(e, cam.id) for e in truth or []]
    tracking = detector_score = None
    name = scene or Path(str(clip)).stem
    if gt is not None:
        rate = gt_fps or _clip_fps(clip)
        frames = [(f - 1) / rate for f in sorted(gt)]
        derived = events_from_tracks(
            cam, [(t, gt_tracks(gt[f], t)) for t, f in zip(frames, sorted(gt), strict=True)], run.frame_wh
        )
        true_events += [dataclasses_replace_camera(e, cam.id) for e in derived]
        pred_rows = _tracks_as_rows(run.tracks)
        tracking = tracking_metrics(name, gt, pred_rows)
        detector_score = detector_pr(
            name, gt, _full_frame_detections(clip, det, cam.max_height), min_visibility=min_visibility
        )
    rule_types = {r.type for r in cam.rules} & set(_SCORED_TYPES)
    types = list(event_types) if event_types is not None else sorted(rule_types)
    pred = [e for e in run.events if e.type in types]
    truth_scored = [e for e in true_events if e.type in types]
    return ClipReport(
        scene=name,
        clip=str(clip),
        detect_fps=fps,
        duration_s=run.duration_s,
        wall_s=run.wall_s,
        events=score_events(pred, truth_scored, types=types),
        truth=tuple(truth_scored),
        predicted=tuple(pred),
        wall_recall=wall_recall(truth_scored, run.layouts),
        counters=run.counters,
        tracking=tracking,
        detector=detector_score,
    )


def dataclasses_replace_camera(ev: Event, camera: str) -> Event:
    """``ev`` on ``camera`` (derived events already are; kept for label events of other ids)."""
    import dataclasses

    return ev if ev.camera == camera else dataclasses.replace(ev, camera=camera)


def _clip_fps(clip: Any) -> float:
    import av

    with av.open(str(clip)) as c:
        rate = c.streams.video[0].average_rate
    return float(rate) if rate else 25.0


def _tracks_as_rows(tracks: Mapping[int, Tracks], cls: str = "person") -> dict[int, MotRow]:
    out: dict[int, MotRow] = {}
    for f, all_tracks in tracks.items():
        t = all_tracks[all_tracks.class_name == cls]
        n = len(t)
        out[f] = MotRow(
            f, t.track_id, t.xyxy_px, t.confidence, np.full(n, -1, np.int64), np.full(n, -1.0, np.float32)
        )
    return out


def _full_frame_detections(clip: Any, detector: Any, max_height: int | None) -> dict[int, Detections]:
    from safecity.monitor.sources.readers import DecodedFrame, FileSource
    from safecity.monitor.vision.detect import detect_regions

    full = np.array([[0.0, 0.0, 1.0, 1.0]], np.float32)
    out: dict[int, Detections] = {}
    src = FileSource(clip, camera="eval", detect_fps=None, max_height=max_height)
    try:
        for item in src:
            if isinstance(item, DecodedFrame):
                out[int(item.index)] = detect_regions(detector, item.bgr(), full)
    finally:
        src.close()
    return out


def evaluate_labels(
    path: str | Any,
    *,
    detect_fps: float | str = "default",
    detector: Any = None,
    engine: Mapping[str, Any] | None = None,
    detector_settings: Mapping[str, Any] | None = None,
) -> ClipReport:
    """Evaluate one label file (see :mod:`safecity.monitor.evaluation.labels`).

    ``detect_fps``: ``"default"`` = the label file's rate, else the camera's; ``"full"`` = every
    frame; or a rate. ``engine``, ``detector_settings``: as :func:`evaluate_clip`.
    """
    from safecity.monitor.config.model import load_monitor_config
    from safecity.monitor.evaluation.labels import load_labels

    lab = load_labels(path)
    cam = _camera(load_monitor_config(lab.config_path), lab.doc.camera)
    fps: float | str | None
    if detect_fps == "default":
        fps = lab.doc.detect_fps or "camera"
    else:
        fps = None if detect_fps == "full" else detect_fps
    return evaluate_clip(
        lab.clip,
        lab.config_path,
        camera_id=cam.id,
        truth=lab.truth_events(cam.id),
        gt_mot=lab.gt_mot,
        gt_fps=lab.doc.fps,
        detect_fps=fps,
        scene=lab.scene,
        event_types=lab.doc.event_types,
        detector=detector,
        engine=engine,
        detector_settings=detector_settings,
    )


def pooled(reports: Sequence[ClipReport]) -> dict[str, EventScore]:
    """Event scores per type pooled (micro-averaged) over clips."""
    by_type: dict[str, list[EventScore]] = {}
    for r in reports:
        for typ, s in r.events.items():
            by_type.setdefault(typ, []).append(s)
    return {typ: sum_scores(items) for typ, items in sorted(by_type.items())}


def format_report(reports: Sequence[ClipReport]) -> str:
    """Human tables: events per type (pooled and per scene), tracking and detector per scene."""

    def f(v: float | None) -> str:
        return "  -  " if v is None else f"{v:5.2f}"

    head = f"{'TP':>4} {'FP':>4} {'FN':>4}"
    lines = ["events per type (all clips, KISA window -2 s .. +10 s)"]
    lines.append(f"  {'type':16} {head} {'dup':>4} {'P':>5} {'R':>5} {'F1':>5}")
    for typ, s in pooled(reports).items():
        rates = f"{f(s.precision)} {f(s.recall)} {f(s.f1)}"
        lines.append(f"  {typ:16} {s.tp:4d} {s.fp:4d} {s.fn:4d} {s.duplicates:4d} {rates}")
    lines += ["", "per scene", f"  {'scene':30} {'type':16} {head} {'F1':>5} {'delay':>6}"]
    for r in reports:
        for typ, s in r.events.items():
            delay = "    - " if s.onset_delay_s is None else f"{s.onset_delay_s:6.2f}"
            lines.append(f"  {r.scene:30} {typ:16} {s.tp:4d} {s.fp:4d} {s.fn:4d} {f(s.f1)} {delay}")
    lines += ["", f"  {'scene':30} {'wall recall':>11} {'frames':>7} {'det calls':>9} {'x realtime':>10}"]
    for r in reports:
        speed = r.duration_s / r.wall_s if r.wall_s > 0 else 0.0
        lines.append(
            f"  {r.scene:30} {f(r.wall_recall):>11} {r.counters.get('frames', 0):7d} "
            f"{r.counters.get('detector_calls', 0):9d} {speed:10.1f}"
        )
    event_clips = [r for r in reports if r.truth]
    if len(event_clips) > 1:
        shared = ", ".join(
            f"{k} tile{'s' if k > 1 else ''}: {f(shared_wall_recall(event_clips, max_tiles=k))}"
            for k in (1, 2)
        )
        lines += ["", f"  wall recall with all {len(event_clips)} clips on one shared wall: {shared}"]
    mot = [r for r in reports if r.tracking or r.detector]
    if mot:
        lines += ["", "tracking and detector (MOT boxes)"]
        lines.append(
            f"  {'scene':30} {'MOTA':>5} {'IDF1':>5} {'IDsw':>4} {'det P':>5} {'det R':>5} {'vis>=':>5}"
        )
        for r in mot:
            t, d = r.tracking, r.detector
            track = f"{f(t.mota if t else None)} {f(t.idf1 if t else None)} {(t.id_switches if t else 0):4d}"
            vis = d.min_visibility if d else None
            det = f"{f(d.precision if d else None)} {f(d.recall if d else None)} {f(vis)}"
            lines.append(f"  {r.scene:30} {track} {det}")
    return "\n".join(lines)


def shared_wall_recall(
    reports: Sequence[ClipReport], *, max_tiles: int = 1, hold_s: float = 10.0, within_s: float = 2.0
) -> float | None:
    """Wall recall when all clips play at once as cameras of one small wall (the clips compete).

    The predicted events of every clip (each its own camera, all starting at t = 0) drive one
    :class:`~safecity.monitor.selection.wall.Selector` with ``max_tiles`` tiles, stepped every second; an
    event is live from its start to its end. Returns the share of true event-seconds whose camera is
    on the wall within ``within_s`` (see :func:`wall_recall`).
    """
    import dataclasses

    from safecity.monitor.config.model import SelectionConfig
    from safecity.monitor.selection.wall import Selector

    sel = Selector.from_config(SelectionConfig(max_tiles=max_tiles, hold_s=hold_s))
    cams = {e.camera for r in reports for e in (*r.predicted, *r.truth)}
    preds = [e for r in reports for e in r.predicted]
    truth = [e for r in reports for e in r.truth]
    if not truth:
        return None
    horizon = max(r.duration_s for r in reports) + within_s + 1.0
    layouts: list[WallLayout] = []
    t = 0.0
    while t <= horizon:
        live = []
        for e in preds:
            if e.start_s > t:
                continue
            end = e.end_s if e.end_s is not None else e.last_s
            live.append(dataclasses.replace(e, end_s=None, last_s=t) if end > t else e)
        layouts.append(sel.select(live, dict.fromkeys(cams, "online"), t))
        t += 1.0
    return wall_recall(truth, layouts, within_s=within_s)
