"""Detection on demand: where the detector must look on a busy camera's frame (issue 9, item 2).

With ``detection.mode: motion`` the pipeline runs the detector on every motion region and around
every live track on each analysed frame. On a busy camera most of that motion is the tracked
objects themselves moving, so :class:`OnDemandPlanner` (``mode: on_demand``) runs it only

* on motion regions that confirmed tracks do not explain (less than ``explained_share`` of the
  region lies on a padded tracked box): something new entered, or a track was lost;
* around each tracked object every ``reverify_s`` (``stationary_reverify_s`` while it stands still:
  slow speed and no motion on it), and at once when a moving object shows no motion any more (it
  stopped or left) or was not found at its last check;

and between detections carries each tracked object with a constant-velocity Kalman filter
(OpenCV's ``cv2.KalmanFilter`` on the box corners; measured by real detections only): the
tracker is fed the predicted box as a low-confidence detection, which ByteTrack associates only
with confirmed tracks and never turns into a new track, so ids and the rules' view stay as they
were. An object whose re-verification finds nothing (detectors miss a person now and then) is
searched for on every frame and no longer carried (carried boxes of a missed person crossed the
door line on the labelled room clip), so the tracker lets it go as it would with the detector on
every frame.

Frigate's region logic is the anchor (``../shared/docs/monitoring-domain.md``): motion boxes
inside tracked objects' regions do not call the detector; stationary objects are checked at a
slower interval.

Example:
    >>> from safecity.monitor.config.engine import DetectionConfig
    >>> p = OnDemandPlanner(DetectionConfig(mode="on_demand"), low_thresh=0.1, high_thresh=0.3)
    >>> plan = p.plan(np.zeros((0, 4), np.float32), 0.0, (640, 360))
    >>> plan.run_detector, len(plan.carried)
    (False, 0)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from safecity.monitor.config.engine import DetectionConfig
from safecity.monitor.types import Detections, Tracks

__all__ = ["OnDemandPlanner", "RegionPlan"]

F32 = npt.NDArray[np.float32]
_PAD = 0.25  # tracked boxes are grown by this share of their size on each side (as the pipeline's)
_MAX_PREDICT_S = 1.0  # never extrapolate further than this past the last real detection
_PROCESS_NOISE = np.diag([1.0] * 4 + [25.0] * 4)  # per second: positions (px^2), velocities ((px/s)^2)


@dataclass(frozen=True, slots=True)
class RegionPlan:
    """Where the detector looks on one frame.

    Attributes:
        motion_frac: motion regions no tracked object explains ((n, 4) frame fractions).
        track_frac: padded boxes of the tracked objects re-verified now ((m, 4) frame fractions).
        carried: predicted boxes of the tracked objects carried without the detector.
        carried_ids: their track ids (same order).
        due_ids: track ids of the objects re-verified now.
    """

    motion_frac: F32
    track_frac: F32
    carried: Detections
    carried_ids: tuple[int, ...]
    due_ids: tuple[int, ...] = ()

    @property
    def run_detector(self) -> bool:
        return bool(len(self.motion_frac) or len(self.track_frac))


@dataclass(slots=True)
class _Object:
    kf: cv2.KalmanFilter
    box: npt.NDArray[np.float64]  # last box handed on (predicted or detected)
    class_name: str
    confidence: float
    t_s: float  # time of the filter's state (its last correction)
    verified_s: float  # last real detection
    seen_s: float  # last time it was in the tracker's output
    failed: bool = False  # its last check found nothing: not carried until found again
    still_quiet: bool = False  # stationary with no motion on it at the last plan


def _kalman(box: npt.NDArray[np.float64]) -> cv2.KalmanFilter:
    kf = cv2.KalmanFilter(8, 4)
    kf.measurementMatrix = np.hstack([np.eye(4), np.zeros((4, 4))]).astype(np.float32)
    kf.processNoiseCov = _PROCESS_NOISE.astype(np.float32)
    kf.measurementNoiseCov = (np.eye(4) * 25.0).astype(np.float32)  # detector boxes jitter by ~5 px
    kf.errorCovPost = np.diag([4.0] * 4 + [400.0] * 4).astype(np.float32)
    kf.statePost = np.concatenate([box, np.zeros(4)]).astype(np.float32).reshape(8, 1)
    return kf


def _transition(dt: float) -> npt.NDArray[np.float32]:
    f = np.eye(8, dtype=np.float32)
    f[:4, 4:] = np.eye(4, dtype=np.float32) * dt
    return f


def _padded_frac(boxes_px: npt.NDArray[np.float64], w: int, h: int) -> F32:
    if not len(boxes_px):
        return np.zeros((0, 4), np.float32)
    b = boxes_px.astype(np.float32).copy()
    bw = b[:, 2] - b[:, 0]
    bh = b[:, 3] - b[:, 1]
    b[:, 0] -= bw * _PAD
    b[:, 2] += bw * _PAD
    b[:, 1] -= bh * _PAD
    b[:, 3] += bh * _PAD
    b /= np.array([w, h, w, h], np.float32)
    out: F32 = np.clip(b, 0.0, 1.0).astype(np.float32)
    return out


def _covered_share(boxes: F32, cover: F32) -> npt.NDArray[np.float64]:
    """Share of each box's area that lies on the union of ``cover`` boxes (overlaps counted once
    per cover box, capped at 1)."""
    if not len(boxes):
        return np.zeros(0)
    if not len(cover):
        return np.zeros(len(boxes))
    b = boxes.astype(np.float64)[:, None, :]
    c = cover.astype(np.float64)[None, :, :]
    iw = np.clip(np.minimum(b[..., 2], c[..., 2]) - np.maximum(b[..., 0], c[..., 0]), 0, None)
    ih = np.clip(np.minimum(b[..., 3], c[..., 3]) - np.maximum(b[..., 1], c[..., 1]), 0, None)
    area = np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1e-12).astype(np.float64)
    share: npt.NDArray[np.float64] = np.minimum((iw * ih).sum(axis=1) / area, 1.0)
    return share


class OnDemandPlanner:
    """Plans one camera's detector calls from its motion and its tracked objects (module doc).

    Args:
        config: the camera's :class:`~safecity.monitor.config.engine.DetectionConfig`.
        low_thresh: the tracker's second-stage confidence ...
        high_thresh: ... and its first-stage one: carried boxes score between the two, so the
            tracker matches them only with confirmed tracks and never starts a track from one.
        lost_s: the longest time the tracker keeps an unmatched track (an object not found is
            searched for this long).
    """

    def __init__(
        self, config: DetectionConfig, *, low_thresh: float, high_thresh: float, lost_s: float = 1.5
    ) -> None:
        self.config = config
        self.carry_conf = float((low_thresh + high_thresh) / 2)
        self.lost_s = lost_s
        self._objects: dict[int, _Object] = {}
        self.reverified = 0  # tracked objects re-detected (counters for the benchmarks)
        self.carried_frames = 0  # object-frames carried without the detector

    @property
    def tracking(self) -> bool:
        """True while any object is tracked or searched for."""
        return bool(self._objects)

    def plan(self, motion_frac: F32, t_s: float, wh: tuple[int, int]) -> RegionPlan:
        """Where to run the detector at ``t_s`` (``motion_frac``: the motion gate's boxes)."""
        w, h = wh
        cfg = self.config
        # the tracker lets an object go lost_s after its last match: so does the planner
        for tid in [k for k, o in self._objects.items() if t_s - o.seen_s > self.lost_s]:
            del self._objects[tid]
        due: list[npt.NDArray[np.float64]] = []
        due_ids: list[int] = []
        carried: list[tuple[int, _Object, npt.NDArray[np.float64]]] = []
        motion = motion_frac.reshape(-1, 4).astype(np.float32)
        scale = np.array([w, h, w, h], np.float64)
        for tid, o in self._objects.items():
            box = self._predict(o, t_s)
            on_box = _padded_frac(box[None, :], w, h)
            moving_here = bool(len(motion)) and bool(_covered_share(on_box, motion)[0] > 0.0)
            height = max(float(box[3] - box[1]), 1.0)
            vel = o.kf.statePost[4:, 0].astype(np.float64)
            speed = float(np.hypot((vel[0] + vel[2]) / 2, (vel[1] + vel[3]) / 2)) / height
            stationary = speed < cfg.stationary_speed  # (a still object's own motion ghost does not count)
            interval = cfg.stationary_reverify_s if stationary else cfg.reverify_s
            stopped = speed >= cfg.stationary_speed and not moving_here  # stopped or left: look now
            stirs = stationary and moving_here and o.still_quiet  # a still object starts to move: look now
            o.still_quiet = stationary and not moving_here
            if o.failed or stopped or stirs or t_s - o.verified_s >= interval:
                due.append(box)
                due_ids.append(tid)
            else:  # an object being checked is not carried: only a detection keeps it
                carried.append((tid, o, o.box.copy() if stationary else box))
        due_frac = _padded_frac(np.array(due).reshape(-1, 4), w, h)
        carried_px = np.array([b for _, _, b in carried], np.float64).reshape(-1, 4)
        cover = np.concatenate([due_frac, _padded_frac(carried_px, w, h)]).astype(np.float32)
        unexplained = motion[_covered_share(motion, cover) < cfg.explained_share] if len(motion) else motion
        carried_px = np.clip(carried_px, 0.0, scale)
        self.carried_frames += len(carried)
        dets = Detections(
            carried_px.astype(np.float32),
            np.full(len(carried), self.carry_conf, np.float32),
            np.array([o.class_name for _, o, _ in carried], dtype="<U16"),
        )
        return RegionPlan(
            unexplained.astype(np.float32), due_frac, dets, tuple(t for t, _, _ in carried), tuple(due_ids)
        )

    def merge(self, plan: RegionPlan, detections: Detections | None) -> Detections:
        """The detections to give the tracker: the detector's and the carried boxes."""
        if detections is None or not len(detections):
            return plan.carried
        if not len(plan.carried):
            return detections
        return Detections(
            np.concatenate([detections.xyxy_px, plan.carried.xyxy_px]).astype(np.float32),
            np.concatenate([detections.confidence, plan.carried.confidence]).astype(np.float32),
            np.concatenate([detections.class_name, plan.carried.class_name]).astype("<U16"),
        )

    def observe(self, plan: RegionPlan | None, detections: Detections | None, tracks: Tracks) -> Tracks:
        """Learn from the tracker's output at ``tracks.t_s`` (``plan`` None: a frame the pipeline
        scanned whole); returns it with each carried object's last detected confidence (the
        tracker saw the carried box's lower score)."""
        t_s = tracks.t_s
        real = detections.xyxy_px if detections is not None else np.zeros((0, 4), np.float32)
        carried = set(plan.carried_ids) if plan is not None else set()
        conf = tracks.confidence.copy()
        for i, tid in enumerate(int(x) for x in tracks.track_id):
            box = tracks.xyxy_px[i].astype(np.float64)
            detected = bool(len(real)) and bool(np.any(np.all(real == tracks.xyxy_px[i], axis=1)))
            o = self._objects.get(tid)
            if o is None:
                o = self._objects[tid] = _Object(_kalman(box), box, str(tracks.class_name[i]),
                                                 float(conf[i]), t_s, t_s, t_s)  # fmt: skip
            o.seen_s = t_s
            o.box = box
            if detected:
                self._correct(o, box, t_s)
                o.verified_s, o.failed = t_s, False
                o.confidence = float(conf[i])
                o.class_name = str(tracks.class_name[i])
                self.reverified += 1
            elif tid in carried:
                conf[i] = o.confidence
        if plan is not None:  # objects checked now and not found: checked every frame until found
            for tid in plan.due_ids:
                o = self._objects.get(tid)
                if o is not None and o.verified_s < t_s:
                    o.failed = True
        return Tracks(t_s, tracks.track_id, tracks.xyxy_px, conf, tracks.class_name, tracks.first_seen_s)

    @staticmethod
    def _predict(o: _Object, t_s: float) -> npt.NDArray[np.float64]:
        """The filter's box at ``t_s``: its last corrected state moved on by its velocity, never more
        than ``_MAX_PREDICT_S`` past that detection (the filter itself is not advanced)."""
        state = o.kf.statePost[:, 0].astype(np.float64)
        dt = min(max(t_s - o.t_s, 0.0), _MAX_PREDICT_S)
        out: npt.NDArray[np.float64] = state[:4] + state[4:] * dt
        return out

    @staticmethod
    def _correct(o: _Object, box: npt.NDArray[np.float64], t_s: float) -> None:
        """Advance the filter to ``t_s`` and correct it with a detected box."""
        kf = o.kf
        dt = t_s - o.t_s
        if dt > 1e-6:
            kf.transitionMatrix = _transition(dt)
            kf.processNoiseCov = (_PROCESS_NOISE * dt).astype(np.float32)
            kf.predict()
        else:  # cv2 corrects the *predicted* state: make it the current one
            kf.statePre = kf.statePost.copy()
            kf.errorCovPre = kf.errorCovPost.copy()
        kf.correct(box.astype(np.float32).reshape(4, 1))
        o.t_s = t_s
