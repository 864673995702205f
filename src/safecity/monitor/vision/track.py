"""ByteTrack-style multi-object tracker: two-stage IoU association, ageing by time, stable ids.

Each frame's detections are split by confidence. High-confidence boxes are matched first to every live
track (Hungarian assignment on 1 - IoU with the track's box predicted by a constant-velocity model);
the tracks left over then get a second chance with the low-confidence boxes (the ByteTrack idea: a
person half hidden behind a pole scores low but is still the same person). Matching only pairs
boxes of the same class group (people, vehicles, bags, or else the class itself). Unmatched high boxes
start tentative tracks, unless they lie mostly (>= 70 %) on a box of the same group tracked in this
frame: detectors often add a box for a part of a car or person, and ByteTrack would give it an id
(on the Intel person-bicycle-car clip this cut the ids from 15 to 11 with the same events). Tracks
still unmatched then get a third chance by centre distance (the predicted centre to a remaining box
of the same group, divided by the track box's larger side, at most ``centre_dist``, with box areas
within a factor ``1 / max_area_ratio``): a fast or weakly detected object whose boxes do not
overlap from one analysed frame to the next (top-down cars at 5 fps, boxes that jump in size)
keeps its id instead of splitting into two tracks. A track is reported after ``min_hits``
matches and ends after ``lost_s`` seconds without one (``vehicle_lost_s`` for the vehicle group:
cars are detected more weakly and stop behind others). Ids are given when a track is confirmed,
increase monotonically and are never reused. Each track holds O(1) state (box, velocity, times,
counters, its last ``_OBS_KEPT`` observations).

OC-SORT's observation-centric ideas (Cao et al., CVPR 2023), appearance-free, keep identities
through occlusion (issue 9):

* the predicted box moves its *centre* with the velocity and keeps the last observed size: with
  noisy edges, extrapolating each edge on its own shrank or grew the prediction, and a person
  hidden behind another then lost their box to the one in front (the id swap of
  ``test_person_passing_behind_another_keeps_the_id``);
* momentum (``momentum``): the first stage's cost is lowered for boxes that lie the way the
  track has moved (from its oldest kept observation) and raised for boxes back the way it came;
* recovery (``recover``): tracks left unmatched are tried against the remaining confident boxes
  by their *last observation* rather than the drifting prediction (a person who stopped behind
  a pillar);
* re-update (``recover``): a track matched again after missed updates takes its velocity from
  its last observation and the new one (the path in between), not from the stale estimate.

Written here rather than taken from the ``trackers`` package: that package declares
``opencv-python`` (the GUI build, which clashes with ``opencv-python-headless``) and ages tracks by
frame counts, while safecity ages by timestamps and must run with the motion gate skipping frames.

Example:
    >>> import numpy as np
    >>> from safecity.monitor.types import Detections
    >>> det = Detections(np.array([[0, 0, 10, 20]], np.float32), np.array([0.9], np.float32),
    ...                  np.array(["person"]))
    >>> t = ByteTracker(min_hits=2)
    >>> len(t.update(det, 0.0)), t.update(det, 0.2).track_id.tolist()
    (0, [1])
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from safecity.monitor.geometry import iou_matrix
from safecity.monitor.types import Detections, Tracks

__all__ = [
    "ByteTracker",
    "CLASS_GROUPS",
    "class_group",
]

CLASS_GROUPS: dict[str, str] = {
    "person": "person",
    "bicycle": "vehicle",
    "car": "vehicle",
    "motorcycle": "vehicle",
    "bus": "vehicle",
    "truck": "vehicle",
    "backpack": "bag",
    "handbag": "bag",
    "suitcase": "bag",
}
"""Classes whose detections may be associated with each other (a detector may flip car/truck)."""

_VEL_ALPHA = 0.5  # weight of the newest velocity measurement
_MAX_PREDICT_S = 1.0  # never extrapolate further than this
_OBS_KEPT = 4  # observations kept per track for the direction of motion (OC-SORT uses 3 frames back)
_MIN_MOVE_FRAC = 0.1  # a direction needs the centre to have moved this x the box height


def class_group(name: str) -> str:
    """Association group of a class name (the name itself when it has no group)."""
    return CLASS_GROUPS.get(name, name)


@dataclass(slots=True)
class _Track:
    key: int  # internal, for tentative tracks too
    track_id: int  # 0 until confirmed
    box: npt.NDArray[np.float64]  # last matched box (x1, y1, x2, y2)
    vel: npt.NDArray[np.float64]  # px/s for each coordinate
    class_name: str
    group: str
    confidence: float
    first_seen_s: float
    last_seen_s: float
    hits: int
    obs: deque[tuple[float, npt.NDArray[np.float64]]] = field(default_factory=lambda: deque(maxlen=_OBS_KEPT))
    missed: bool = False  # unmatched in an update since its last observation

    def direction(self) -> npt.NDArray[np.float64] | None:
        """Unit vector of the centre's motion from the oldest kept observation to the last one
        (OC-SORT's observation-centric momentum), or None while it has not moved clearly."""
        if len(self.obs) < 2:
            return None
        (_, a), (_, b) = self.obs[0], self.obs[-1]
        d = (b[:2] + b[2:]) / 2 - (a[:2] + a[2:]) / 2
        n = float(np.hypot(d[0], d[1]))
        return d / n if n >= _MIN_MOVE_FRAC * max(float(b[3] - b[1]), 1.0) else None

    def predicted(self, t_s: float) -> npt.NDArray[np.float64]:
        """Box extrapolated to ``t_s`` with the velocity (at most ``_MAX_PREDICT_S`` ahead)."""
        dt = min(max(t_s - self.last_seen_s, 0.0), _MAX_PREDICT_S)
        # the centre moves; the size stays that of the last observation (noisy edges do not shrink
        # or grow the predicted box, as SORT's state keeps the area and aspect apart from the motion)
        move: npt.NDArray[np.float64] = (self.vel[:2] + self.vel[2:]) / 2 * dt
        return np.asarray(self.box + np.concatenate([move, move]), np.float64)


class ByteTracker:
    """Two-stage (high then low confidence) IoU tracker aged by timestamps.

    Args:
        high_thresh: detections at or above this confidence are matched first and may start tracks.
        low_thresh: detections below this are ignored; between the two they are matched second.
        new_track_thresh: an unmatched detection needs this confidence to start a track.
        match_iou: minimum IoU between a predicted track box and a detection to associate them.
        lost_s: a track not matched for longer than this ends (its id is never given again).
        min_hits: matches (including the first) before a track is confirmed and reported.
        centre_dist: third stage: the largest distance from a track's predicted centre to a box
            centre, in units of the track box's larger side (0 turns the stage off).
        max_area_ratio: third stage: box areas may differ at most by this factor.
        vehicle_lost_s: ``lost_s`` of the vehicle group; ``None`` = twice ``lost_s``.
        fuse_score: first stage: rank pairs by IoU x detection score (ByteTrack's ``fuse_score``)
            instead of IoU alone, so a weak spurious box overlapping a track (e.g. a frame-sized
            "truck" at 0.1) does not take it from the real, better-scored box; the IoU gate
            ``match_iou`` is unchanged.
        momentum: weight of OC-SORT's direction-consistency term in the first stage (0 = off).
        recover: OC-SORT's recovery by the last observation and re-update after a gap.

    The confidence defaults (0.3 to match first and start tracks) suit the bundled detectors:
    NanoDet-m scores most true people and vehicles 0.3-0.5 and SSD's default threshold is 0.4,
    so ByteTrack's usual 0.5-0.7 would start few tracks (measured: line crossing F1 0.33 on the
    Intel person-bicycle-car clip with 0.45 / 0.5).
    """

    def __init__(
        self,
        *,
        high_thresh: float = 0.3,
        low_thresh: float = 0.1,
        new_track_thresh: float = 0.3,
        match_iou: float = 0.3,
        lost_s: float = 1.5,
        min_hits: int = 2,
        centre_dist: float = 1.0,
        max_area_ratio: float = 3.0,
        vehicle_lost_s: float | None = None,
        fuse_score: bool = True,
        momentum: float = 0.2,
        recover: bool = True,
    ) -> None:
        if not 0.0 <= low_thresh <= high_thresh <= 1.0:
            raise ValueError(
                f"need 0 <= low_thresh <= high_thresh <= 1, but got low_thresh={low_thresh}, "
                f"high_thresh={high_thresh}"
            )
        if centre_dist < 0 or max_area_ratio < 1 or (vehicle_lost_s is not None and vehicle_lost_s <= 0):
            raise ValueError(
                f"need centre_dist >= 0, max_area_ratio >= 1 and vehicle_lost_s > 0, but got "
                f"centre_dist={centre_dist}, max_area_ratio={max_area_ratio}, vehicle_lost_s={vehicle_lost_s}"
            )
        if lost_s <= 0 or min_hits < 1 or not 0.0 < match_iou <= 1.0:
            raise ValueError(
                f"need lost_s > 0, min_hits >= 1 and 0 < match_iou <= 1, but got lost_s={lost_s}, "
                f"min_hits={min_hits}, match_iou={match_iou}"
            )
        self.high_thresh = high_thresh
        self.low_thresh = low_thresh
        self.new_track_thresh = new_track_thresh
        self.match_iou = match_iou
        self.lost_s = lost_s
        self.min_hits = min_hits
        self.centre_dist = centre_dist
        self.max_area_ratio = max_area_ratio
        self.fuse_score = fuse_score
        self.momentum = momentum
        self.recover = recover
        self.vehicle_lost_s = 2.0 * lost_s if vehicle_lost_s is None else vehicle_lost_s
        self._tracks: list[_Track] = []
        self._next_key = 1
        self._next_id = 1
        self._last_t: float | None = None

    @property
    def active(self) -> bool:
        """True while any track (tentative or confirmed) is alive."""
        return bool(self._tracks)

    @property
    def live_count(self) -> int:
        """Tracks held in memory now (tentative and confirmed)."""
        return len(self._tracks)

    def update(self, dets: Detections, t_s: float) -> Tracks:
        """Associate this frame's detections; returns the confirmed tracks matched at ``t_s``.

        ``dets`` is read, never changed. Raises ValueError if ``t_s`` goes back in time.
        """
        self._advance(t_s)
        xyxy = np.array(dets.xyxy_px, dtype=np.float64, copy=True).reshape(-1, 4)
        conf = np.array(dets.confidence, dtype=np.float64, copy=True).reshape(-1)
        names = [str(c) for c in dets.class_name]
        # boxes that are not finite or have no area are ignored (as if below low_thresh)
        bad = ~(np.isfinite(xyxy).all(axis=1) & np.isfinite(conf))
        bad |= ~(xyxy[:, 2] > xyxy[:, 0]) | ~(xyxy[:, 3] > xyxy[:, 1])
        conf[bad] = -1.0
        xyxy[bad] = 0.0
        groups = [class_group(c) for c in names]

        high = np.flatnonzero(conf >= self.high_thresh)
        low = np.flatnonzero((conf >= self.low_thresh) & (conf < self.high_thresh))
        all_tracks = list(range(len(self._tracks)))
        pred = np.stack([tr.predicted(t_s) for tr in self._tracks]) if self._tracks else np.zeros((0, 4))

        matched: dict[int, int] = {}  # track index -> detection index

        def free(dets: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
            taken = set(matched.values())
            return np.array([d for d in dets if int(d) not in taken], np.intp)

        def unmatched(confirmed_only: bool) -> list[int]:
            return [
                i
                for i in all_tracks
                if i not in matched and (self._tracks[i].track_id > 0 or not confirmed_only)
            ]

        # high boxes first, by overlap, then by centre distance (before any low box: a nearby
        # confident box is better evidence than a weak one that happens to overlap)
        matched.update(
            self._associate(
                all_tracks,
                high,
                pred,
                xyxy,
                groups,
                conf if self.fuse_score else None,
                momentum=self.momentum,
            )
        )
        if self.recover and self._tracks:  # OC-SORT's recovery: the last observation, not the prediction
            last = np.stack([tr.box for tr in self._tracks])
            matched.update(self._associate(unmatched(False), free(high), last, xyxy, groups))
        if self.centre_dist > 0:
            matched.update(self._associate_centres(unmatched(False), free(high), pred, xyxy, groups))
        # then low boxes, only for confirmed tracks (as ByteTrack does), by overlap, then by centre
        matched.update(self._associate(unmatched(True), low, pred, xyxy, groups))
        if self.centre_dist > 0:
            matched.update(self._associate_centres(unmatched(True), free(low), pred, xyxy, groups))

        seen: list[_Track] = []
        for ti, di in matched.items():
            tr = self._tracks[ti]
            dt = t_s - tr.last_seen_s
            box = xyxy[di]
            if dt > 1e-6:
                v = (box - tr.box) / dt
                # OC-SORT's re-update: back after missed updates, the velocity comes from the last
                # observation and this one (the path in between), not from a stale estimate
                tr.vel = (
                    v
                    if tr.hits == 1 or (tr.missed and self.recover)
                    else _VEL_ALPHA * v + (1 - _VEL_ALPHA) * tr.vel
                )
            tr.box = box.copy()
            tr.obs.append((t_s, tr.box))
            tr.missed = False
            tr.confidence = float(conf[di])
            tr.class_name = names[di]
            tr.last_seen_s = t_s
            tr.hits += 1
            if tr.track_id == 0 and tr.hits >= self.min_hits:
                tr.track_id = self._take_id()
            seen.append(tr)

        for i, tr in enumerate(self._tracks):
            if i not in matched:
                tr.missed = True
        # tentative tracks that missed a frame are dropped (a track must build up consecutively)
        self._tracks = [tr for i, tr in enumerate(self._tracks) if i in matched or tr.track_id > 0]
        used = set(matched.values())
        for di in (int(i) for i in high):
            if di in used or conf[di] < self.new_track_thresh or self._part_of_tracked(xyxy[di], groups[di]):
                continue
            tr = _Track(
                key=self._next_key,
                track_id=0,
                box=xyxy[di].copy(),
                vel=np.zeros(4),
                class_name=names[di],
                group=groups[di],
                confidence=float(conf[di]),
                first_seen_s=t_s,
                last_seen_s=t_s,
                hits=1,
            )
            tr.obs.append((t_s, tr.box))
            self._next_key += 1
            if self.min_hits <= 1:
                tr.track_id = self._take_id()
            self._tracks.append(tr)
            seen.append(tr)
        return self._to_tracks([tr for tr in seen if tr.track_id > 0], t_s, predict=False)

    def coast(self, t_s: float) -> Tracks:
        """No detections this frame (detector not run): age tracks by time, return the confirmed ones alive.

        Boxes are the last matched ones. Raises ValueError if ``t_s`` goes back in time.
        """
        self._advance(t_s)
        return self._to_tracks([tr for tr in self._tracks if tr.track_id > 0], t_s, predict=False)

    # -----------------------------------------------------------------------------------------

    def _advance(self, t_s: float) -> None:
        if self._last_t is not None and t_s < self._last_t:
            raise ValueError(
                f"time went backwards: t_s={t_s} after {self._last_t}; give frame times in order "
                "(a looping file must add its duration)"
            )
        self._last_t = t_s
        self._tracks = [tr for tr in self._tracks if t_s - tr.last_seen_s <= self._lost_s(tr)]

    def _lost_s(self, tr: _Track) -> float:
        return self.vehicle_lost_s if tr.group == "vehicle" else self.lost_s

    def _part_of_tracked(self, box: npt.NDArray[np.float64], group: str) -> bool:
        """True when ``box`` lies mostly (>= 70 % of the smaller box) on a box tracked in this frame."""
        for tr in self._tracks:
            if tr.group != group or tr.last_seen_s != self._last_t:
                continue
            b = tr.box
            iw = min(box[2], b[2]) - max(box[0], b[0])
            ih = min(box[3], b[3]) - max(box[1], b[1])
            if iw <= 0 or ih <= 0:
                continue
            smaller = min((box[2] - box[0]) * (box[3] - box[1]), (b[2] - b[0]) * (b[3] - b[1]))
            if iw * ih >= 0.7 * max(float(smaller), 1e-6):
                return True
        return False

    def _take_id(self) -> int:
        tid = self._next_id
        self._next_id += 1
        return tid

    def _associate(
        self,
        track_idx: list[int],
        det_idx: npt.NDArray[np.intp],
        pred: npt.NDArray[np.float64],
        xyxy: npt.NDArray[np.float64],
        groups: list[str],
        conf: npt.NDArray[np.float64] | None = None,
        *,
        momentum: float = 0.0,
    ) -> dict[int, int]:
        if not track_idx or det_idx.size == 0:
            return {}
        iou = iou_matrix(pred[track_idx], xyxy[det_idx])
        same = np.array(
            [[self._tracks[t].group == groups[d] for d in det_idx] for t in track_idx], dtype=bool
        )
        iou = np.where(same, iou, 0.0)
        # ByteTrack's fuse_score: among overlapping boxes the better-scored one wins the track
        cost = 1.0 - (iou * conf[det_idx][None, :] if conf is not None else iou)
        if momentum > 0:
            cost = cost - momentum * self._consistency(track_idx, xyxy[det_idx])
        rows, cols = linear_sum_assignment(cost)
        out: dict[int, int] = {}
        for r, c in zip(rows, cols, strict=True):
            if iou[r, c] >= self.match_iou:
                out[track_idx[int(r)]] = int(det_idx[int(c)])
        return out

    def _consistency(self, track_idx: list[int], boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """OC-SORT's momentum term: for each (track, box), how well the direction from the track's
        oldest kept observation to the box agrees with the track's own direction of motion, in
        [-0.5, 0.5] (0.5 = the same way, -0.5 = back the way it came; 0 for a track not moving)."""
        out = np.zeros((len(track_idx), len(boxes)))
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        for r, ti in enumerate(track_idx):
            tr = self._tracks[ti]
            u = tr.direction()
            if u is None:
                continue
            a = tr.obs[0][1]
            w = centres - (a[:2] + a[2:]) / 2
            n = np.maximum(np.hypot(w[:, 0], w[:, 1]), 1e-6)
            cos = np.clip((w @ u) / n, -1.0, 1.0)
            out[r] = (np.pi / 2 - np.arccos(cos)) / np.pi
        return out

    def _associate_centres(
        self,
        track_idx: list[int],
        det_idx: npt.NDArray[np.intp],
        pred: npt.NDArray[np.float64],
        xyxy: npt.NDArray[np.float64],
        groups: list[str],
    ) -> dict[int, int]:
        """Hungarian matching on centre distance / track size, gated by group, distance and area."""
        if not track_idx or det_idx.size == 0:
            return {}
        p = pred[track_idx]
        d = xyxy[det_idx]
        pc = (p[:, :2] + p[:, 2:]) / 2
        dc = (d[:, :2] + d[:, 2:]) / 2
        # position from the prediction, size from the last measured box (a predicted box whose
        # edges move at different speeds drifts in size)
        last = np.stack([self._tracks[t].box for t in track_idx])
        scale = np.maximum((last[:, 2:] - last[:, :2]).max(axis=1), 1.0)
        dist = np.linalg.norm(pc[:, None, :] - dc[None, :, :], axis=2) / scale[:, None]
        pa = np.maximum(np.prod(last[:, 2:] - last[:, :2], axis=1), 1e-6)
        da = np.maximum(np.prod(d[:, 2:] - d[:, :2], axis=1), 1e-6)
        ratio = np.maximum(pa[:, None] / da[None, :], da[None, :] / pa[:, None])
        same = np.array([[self._tracks[t].group == groups[int(k)] for k in det_idx] for t in track_idx], bool)
        ok = same & (dist <= self.centre_dist) & (ratio <= self.max_area_ratio)
        if not ok.any():
            return {}
        rows, cols = linear_sum_assignment(np.where(ok, dist, 1e6))
        return {track_idx[int(r)]: int(det_idx[int(c)]) for r, c in zip(rows, cols, strict=True) if ok[r, c]}

    @staticmethod
    def _to_tracks(tracks: list[_Track], t_s: float, *, predict: bool) -> Tracks:
        if not tracks:
            return Tracks.empty(t_s)
        tracks = sorted(tracks, key=lambda tr: tr.track_id)
        boxes = [tr.predicted(t_s) if predict else tr.box for tr in tracks]
        return Tracks(
            t_s,
            np.array([tr.track_id for tr in tracks], np.int64),
            np.array(boxes, np.float32).reshape(-1, 4),
            np.array([tr.confidence for tr in tracks], np.float32),
            np.array([tr.class_name for tr in tracks], dtype="<U16"),
            np.array([tr.first_seen_s for tr in tracks], np.float64),
        )
