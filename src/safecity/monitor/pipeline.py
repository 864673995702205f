"""One camera's analysis: motion gate -> detector on motion regions -> tracker -> rules -> events.

::

    DecodedFrame ──► health checks (frozen/covered/blurred/moved) ─────────────────────────┐
        │                                                                                  │
        └► MotionGate(gray) ─ boxes? ─ or live tracks? ──yes──► detect_regions(bgr) ─► tracker.update
                                  │                                                        │
                                  └──no──► tracker.coast (no detector call) ───────────────┤
                                                                                           ▼
    SourceGap ─► health.update_gap (camera_offline)                            rules.update ─► events

Engine v2 (issue 9): frames a gated source decoded in watch mode (one keyframe every few seconds
while the compressed-domain gate sees nothing move) go to :meth:`CameraPipeline.watch_step`: health
checks only. :attr:`CameraPipeline.busy` tells the worker to hold the gate active (live tracks,
rule state, open object events). With ``detection.mode: on_demand`` an
:class:`~safecity.monitor.vision.regions.OnDemandPlanner` decides where the detector runs (motion no
track explains, tracks due for re-verification) and carries the other tracks.

The pipeline is pure apart from the detector call: it takes one source item and returns a
:class:`StepResult`; no clocks, no I/O. Cheap paths for quiet cameras: picture health checks run at
most every ``HEALTH_EVERY_S`` of video (their thresholds are tens of seconds), and rules are not
called again on empty frames once they hold no state. While the motion gate calibrates (the first
frames, after a lighting change) the whole frame is scanned once so objects already in view are found.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from safecity.monitor.config.model import CameraConfig, MotionConfig, TrackerConfig
from safecity.monitor.config.policy import filter_boxes
from safecity.monitor.types import Detections, Event, EventKind, SourceGap, Tracks
from safecity.ptz.arming import PresetArming

if TYPE_CHECKING:
    from safecity.monitor.sources.readers import DecodedFrame
    from safecity.monitor.vision.base import Detector
    from safecity.monitor.vision.detect import PoseEstimator
    from safecity.monitor.vision.regions import OnDemandPlanner, RegionPlan

__all__ = ["CameraPipeline", "PipelineCounters", "StepResult"]

log = logging.getLogger(__name__)
F32 = npt.NDArray[np.float32]
_FULL_FRAME = np.array([[0.0, 0.0, 1.0, 1.0]], np.float32)
_NO_BOXES = np.zeros((0, 4), np.float32)
_TRACK_PAD = 0.25  # track regions are grown by this share of their size on each side
HEALTH_EVERY_S = 0.5  # picture health checks (frozen, covered, ...) run at most this often
_HEALTH_DUE_SLACK_S = 0.2  # a maturing health condition is checked this long after it is due


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one step produced.

    Attributes:
        camera: camera id.
        t_s: time of the item (seconds; see ``types``).
        frame_index: 1-based frame number of the source, None for a gap.
        frame_wh: frame size in pixels (0, 0 for a gap).
        tracks: confirmed tracks alive now (empty for a gap).
        detections: detector output, None when the detector did not run.
        events: ``(kind, event)`` messages from rules and health checks, in order.
        detector_called: whether the detector ran on this item.
        motion_boxes_frac: motion boxes (n, 4) in frame fractions (empty for a gap).
    """

    camera: str
    t_s: float
    frame_index: int | None
    frame_wh: tuple[int, int]
    tracks: Tracks
    detections: Detections | None
    events: tuple[tuple[EventKind, Event], ...]
    detector_called: bool
    motion_boxes_frac: F32 = field(default_factory=lambda: np.zeros((0, 4), np.float32))


@dataclass(slots=True)
class PipelineCounters:
    """Running counts of one camera (read by the runtime and the benchmarks)."""

    frames: int = 0
    gaps: int = 0
    motion_frames: int = 0
    detector_calls: int = 0
    detections: int = 0
    events_started: int = 0
    watch_frames: int = 0  # keyframes of the compressed-domain gate's watch mode (health checks only)

    def as_dict(self) -> dict[str, int]:
        return {
            "frames": self.frames,
            "gaps": self.gaps,
            "motion_frames": self.motion_frames,
            "detector_calls": self.detector_calls,
            "detections": self.detections,
            "events_started": self.events_started,
            "watch_frames": self.watch_frames,
        }


def _track_regions(tracks: Tracks, w: int, h: int) -> F32:
    if not len(tracks):
        return np.zeros((0, 4), np.float32)
    b = tracks.xyxy_px.astype(np.float32).copy()
    bw = b[:, 2] - b[:, 0]
    bh = b[:, 3] - b[:, 1]
    b[:, 0] -= bw * _TRACK_PAD
    b[:, 2] += bw * _TRACK_PAD
    b[:, 1] -= bh * _TRACK_PAD
    b[:, 3] += bh * _TRACK_PAD
    b /= np.array([w, h, w, h], np.float32)
    out: F32 = np.clip(b, 0.0, 1.0).astype(np.float32)
    return out


class CameraPipeline:
    """Motion-gated detection, tracking and rules of one camera.

    Args:
        camera: the camera's :class:`~safecity.monitor.config.model.CameraConfig`.
        detector: any :class:`~safecity.monitor.vision.detect.Detector` (in the runtime: shared by the
            cameras of a worker that have the same detector config).
        pose: optional :class:`~safecity.monitor.vision.detect.PoseEstimator` for the fall rule.
        motion: :class:`~safecity.monitor.config.model.MotionConfig` (default: the camera's, else defaults).
        tracker: :class:`~safecity.monitor.config.model.TrackerConfig` (default: defaults).
        min_crop_px: smallest crop around a motion region (default: the detector's input size).
        tz: time zone of the camera's schedules (``MonitorConfig.timezone``).
        box_limits: class -> largest box area (frame fraction); larger detections are dropped before
            tracking (``MonitorConfig.filters.limits_for(camera)``; default: none).
    """

    def __init__(
        self,
        camera: CameraConfig,
        detector: Detector,
        *,
        pose: PoseEstimator | None = None,
        motion: MotionConfig | None = None,
        tracker: TrackerConfig | None = None,
        min_crop_px: int | None = None,
        tz: str = "Asia/Seoul",
        box_limits: Mapping[str, float] | None = None,
    ) -> None:
        from safecity.monitor.rules.build import build_rules
        from safecity.monitor.vision.motion import MotionGate
        from safecity.monitor.vision.track import ByteTracker

        self.camera = camera
        self.camera_id: str = camera.id
        self.detector = detector
        self.pose = pose
        mcfg = motion or camera.motion or MotionConfig()
        self.gate = MotionGate(
            frame_height=mcfg.frame_height,
            threshold=mcfg.threshold,
            contour_area=mcfg.contour_area,
            frame_alpha=mcfg.frame_alpha,
            lightning_threshold=mcfg.lightning_threshold,
            masks_frac=[list(p) for p in camera.motion_masks],
        )
        tcfg = tracker or TrackerConfig()
        self.tracker = ByteTracker(
            high_thresh=tcfg.high_thresh,
            low_thresh=tcfg.low_thresh,
            new_track_thresh=tcfg.new_track_thresh,
            match_iou=tcfg.match_iou,
            lost_s=tcfg.lost_s,
            min_hits=tcfg.min_hits,
            momentum=tcfg.momentum,
            recover=tcfg.recover,
        )
        self.rules = build_rules(camera, tz=tz)
        self.min_crop_px = min_crop_px
        self.box_limits = dict(box_limits or {})
        # zone polygons for a cascade with confirm_when="in_zones" (other detectors ignore them)
        self._zones_frac = [np.asarray(z.polygon, np.float32) for z in camera.zones]
        self.counters = PipelineCounters()
        self.ptz = PresetArming.for_camera(camera, tz)  # PTZ: analytics armed per preset, paused while moving
        self._scanned_calibration = False
        self._last_tracks = Tracks.empty(0.0)
        self._next_health_s: float | None = None
        self._rules_idle = False  # the rules last saw no tracks and hold no state or live event
        self.planner: OnDemandPlanner | None = None  # detection on demand (detection.mode)
        if camera.detection.mode == "on_demand":
            from safecity.monitor.vision.regions import OnDemandPlanner

            vehicle_lost = getattr(self.tracker, "vehicle_lost_s", None) or 0.0
            self.planner = OnDemandPlanner(
                camera.detection, low_thresh=tcfg.low_thresh, high_thresh=tcfg.high_thresh,
                lost_s=max(tcfg.lost_s, float(vehicle_lost)),
            )  # fmt: skip

    @property
    def busy(self) -> bool:
        """True while objects are tracked or an object rule holds state or a live event (the
        compressed-domain gate must not fall back to watch mode then)."""
        if self.tracker.active or len(self._last_tracks) or self.rules.state_size > 0:
            return True
        return any(r.live() for r in self.rules.rules)

    @property
    def health_due_s(self) -> float | None:
        """When the earliest health condition building up (frozen, covered, blurred, moved) reaches
        its duration, None if none is: the worker asks a gated source in watch mode for a frame then
        (its health keyframes come only every few seconds)."""
        due = [
            ep.cond_since + ep.min_s + _HEALTH_DUE_SLACK_S
            for kind, ep in self.rules.health.episodes.items()
            if kind != "camera_offline" and ep.cond_since is not None and ep.event is None
        ]
        return min(due) if due else None

    def watch_step(self, frame: DecodedFrame) -> StepResult:
        """A keyframe decoded in the gate's watch mode: health checks only (no motion gate, no
        detector; tracks age, rules holding state see the empty frame)."""
        self.counters.watch_frames += 1
        t_s = float(frame.t_s)
        events = list(self.rules.health.update_frame(frame.gray, t_s))
        self._next_health_s = t_s + HEALTH_EVERY_S
        w, h = int(frame.width), int(frame.height)
        tracks = self._last_tracks = self.tracker.coast(t_s)
        if len(tracks) or not self._rules_idle:
            events += self.rules.update(tracks, t_s, (w, h), None)
            self._rules_idle = not len(tracks) and self.rules.state_size == 0 and not self.rules.live()
        self._count(events)
        return StepResult(self.camera_id, t_s, int(frame.index), (w, h), tracks, None, tuple(events), False)

    def step(self, item: DecodedFrame | SourceGap) -> StepResult:
        """Process one :class:`~safecity.monitor.sources.readers.DecodedFrame` or :class:`SourceGap`."""
        if isinstance(item, SourceGap):
            return self._gap(item)
        return self._frame(item)

    def _gap(self, gap: SourceGap) -> StepResult:
        self.counters.gaps += 1
        events = list(self.rules.health.update_gap(gap.t_s, gap.down_since_s, gap.reason))
        self._count(events)
        return StepResult(
            self.camera_id, gap.t_s, None, (0, 0), Tracks.empty(gap.t_s), None, tuple(events), False
        )

    def _frame(self, frame: DecodedFrame) -> StepResult:
        from safecity.monitor.vision.detect import detect_regions

        c = self.counters
        c.frames += 1
        t_s = float(frame.t_s)
        w, h = int(frame.width), int(frame.height)
        events: list[tuple[EventKind, Event]] = []
        nxt = self._next_health_s
        if nxt is None or t_s >= nxt or t_s < nxt - 2 * HEALTH_EVERY_S:  # (or time went back)
            events += self.rules.health.update_frame(frame.gray, t_s)
            self._next_health_s = t_s + HEALTH_EVERY_S
        if self.ptz is not None:  # PTZ: no gate, detector or rules while it moves (ptz.arming)
            hold, ptz_events = self.ptz.before_frame(self, frame.gray, t_s)
            events += ptz_events
            if hold:
                self._count(events)
                return StepResult(self.camera_id, t_s, int(frame.index), (w, h), Tracks.empty(t_s), None,
                                  tuple(events), False)  # fmt: skip
        motion = self.gate.update(frame.gray, t_s)
        regions = motion.boxes_frac
        if motion.has_motion:
            c.motion_frames += 1
        scan_all = motion.calibrating and not self._scanned_calibration
        self._scanned_calibration = motion.calibrating
        track_regions = _track_regions(self._last_tracks, w, h) if self.tracker.active else _NO_BOXES
        detections: Detections | None = None
        plan: RegionPlan | None = None
        if self.planner is not None and not scan_all:  # detection on demand
            plan = self.planner.plan(regions, t_s, (w, h))
            regions, track_regions = plan.motion_frac, plan.track_frac
        if scan_all:
            regions, track_regions = _FULL_FRAME, _NO_BOXES
        if len(regions) or len(track_regions):
            # track regions go apart: a tiered detector (the cascade) always confirms tracked objects
            detections = detect_regions(
                self.detector, frame.bgr(), regions, min_crop_px=self.min_crop_px,
                track_boxes_frac=track_regions, zones_frac=self._zones_frac,
            )  # fmt: skip
            c.detector_calls += 1
            detections = filter_boxes(detections, self.box_limits, w, h)
            c.detections += len(detections)
            if plan is not None and self.planner is not None:  # and the carried objects' boxes
                tracks = self.tracker.update(self.planner.merge(plan, detections), t_s)
            else:
                tracks = self.tracker.update(detections, t_s)
        elif plan is not None and len(plan.carried):
            tracks = self.tracker.update(plan.carried, t_s)
        else:
            tracks = self.tracker.coast(t_s)
        if self.planner is not None:
            tracks = self.planner.observe(plan, detections, tracks)
        self._last_tracks = tracks
        keypoints = None
        if self.pose is not None and detections is not None and self.rules.wants_keypoints and len(tracks):
            keypoints = self.pose.estimate(frame.bgr(), tracks.xyxy_px)
        if len(tracks) or not self._rules_idle:
            events += self.rules.update(tracks, t_s, (w, h), keypoints)
            # an empty frame after which no rule holds state: the next empty frames change nothing
            self._rules_idle = not len(tracks) and self.rules.state_size == 0 and not self.rules.live()
        if self.ptz is not None:
            events = self.ptz.tag(events)  # events carry the preset
        self._count(events)
        return StepResult(
            self.camera_id, t_s, int(frame.index), (w, h), tracks, detections, tuple(events),
            detections is not None, motion.boxes_frac,
        )  # fmt: skip

    def finish(self, t_s: float) -> list[tuple[EventKind, Event]]:
        """End every live event (end of a file, camera removed)."""
        return list(self.rules.finish(t_s))

    def _count(self, events: list[tuple[EventKind, Event]]) -> None:
        self.counters.events_started += sum(1 for k, _ in events if k == "start")
