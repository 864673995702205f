"""Monitoring config: cameras, zones, lines, rules, detector, selection, outputs (pydantic, strict).

One root model, :class:`MonitorConfig`, loaded with :func:`load_monitor_config`; every validation error
names the file, the key path and the YAML line (through :mod:`safecity.yamlconf`). Zones, lines and masks
are polygons / segments in **image fractions** (0..1, origin top-left), so one config fits every
resolution of the same camera. Rules are a discriminated union on ``type``. Cross-field checks (a rule
naming a zone that does not exist, duplicate camera ids, ...) are small ``verify_*`` functions.

Schedules are strings such as ``"22:00-06:00"`` (crossing midnight), ``"mon-fri 08:00-18:00"``,
``"sat,sun"`` or ``"always"``; a list of them is active when any entry is. Live sources (``rtsp://``)
are judged in ``timezone`` (``Asia/Seoul`` by default) from the Unix time of each frame. In replay
(files) a frame's time is seconds from the start of the file: with ``replay_start`` set on the camera,
schedules apply to ``replay_start + t_s``; without it, schedules are always active.

Example:
    >>> s = parse_schedule("fri 22:00-06:00")
    >>> from datetime import datetime
    >>> s.active_at(datetime(2026, 11, 27, 23, 0)), s.active_at(datetime(2026, 11, 28, 5, 59))
    (True, True)
    >>> s.active_at(datetime(2026, 11, 28, 23, 0))
    False
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from safecity.errors import ConfigError
from safecity.monitor.config.detector import (
    BAG_CLASSES,
    DETECTOR_KINDS,
    CascadeStageConfig,
    DetectorConfig,
)
from safecity.monitor.config.engine import DetectionConfig, GateConfig
from safecity.monitor.config.policy import AlertPolicy, BoxFilterConfig, policy_problems
from safecity.monitor.config.problems import ClassName, config_problem
from safecity.monitor.config.ptz import PtzConfig, misplaced_ptz_keys, ptz_problems
from safecity.monitor.config.schedule import Schedule, ScheduleWindow, local_time, parse_schedule
from safecity.monitor.types import COCO_CLASSES, EVENT_TYPES, EventType, HealthState
from safecity.yamlconf import format_validation_error, load_model, parse_yaml_text

__all__ = [
    "AbandonedObjectRuleConfig",
    "BAG_CLASSES",
    "COCO_CLASSES",
    "CameraConfig",
    "CameraHealthRuleConfig",
    "CascadeStageConfig",
    "CrowdingRuleConfig",
    "DETECTOR_KINDS",
    "DetectorConfig",
    "FallRuleConfig",
    "IntrusionRuleConfig",
    "LineConfig",
    "LineCrossingRuleConfig",
    "LoiteringRuleConfig",
    "MonitorConfig",
    "MotionConfig",
    "OutputsConfig",
    "RuleConfig",
    "Schedule",
    "ScheduleWindow",
    "SelectionConfig",
    "TrackerConfig",
    "ZoneConfig",
    "load_monitor_config",
    "local_time",
    "parse_schedule",
    "polygon_area",
    "verify_camera_ids_unique",
    "verify_names_unique",
    "verify_rule_targets",
]


_HEALTH_WEIGHTS: dict[HealthState, float] = {
    "online": 0.0, "offline": 0.5, "frozen": 0.5, "covered": 1.0, "blurred": 0.3, "moved": 0.5,
}  # fmt: skip

_FROZEN = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------
# Field types


Frac = Annotated[float, Field(ge=0.0, le=1.0)]
PointFrac = tuple[Frac, Frac]


def polygon_area(points: Sequence[tuple[float, float]]) -> float:
    """Unsigned shoelace area of a polygon (same unit squared as its points).

    Example:
        >>> polygon_area([(0, 0), (1, 0), (1, 1), (0, 1)])
        1.0
    """
    n = len(points)
    s = 0.0
    for i in range(n):
        x1, y1 = points[i]
        x2, y2 = points[(i + 1) % n]
        s += x1 * y2 - x2 * y1
    return abs(s) / 2.0


def _check_polygon(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if polygon_area(points) < 1e-6:
        raise PydanticCustomError(
            "degenerate_polygon",
            "polygon has (almost) no area: its points are collinear or repeated; give at least three "
            "corners of a real area as [x, y] fractions of the frame",
        )
    return points


PolygonFrac = Annotated[list[PointFrac], Field(min_length=3), AfterValidator(_check_polygon)]

# ---------------------------------------------------------------------------------------------
# Schedules (parsing in safecity.monitor.config.schedule)


def _check_schedule(items: list[str]) -> list[str]:
    try:
        parse_schedule(items)
    except ValueError as exc:
        raise PydanticCustomError("bad_schedule", "{msg}", {"msg": str(exc)}) from None
    return items


def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, str) else v


ScheduleSpec = Annotated[list[str], BeforeValidator(_as_list), AfterValidator(_check_schedule)]


# ---------------------------------------------------------------------------------------------
# Zones, lines, rules


class ZoneConfig(BaseModel):
    """A named polygon of the image where rules apply."""

    model_config = _FROZEN

    name: str = Field(min_length=1, max_length=64, description="Zone name, unique within the camera.")
    polygon: PolygonFrac = Field(
        description="Corners [x, y] in fractions of the frame (0..1, origin top-left), at least 3."
    )
    importance: float = Field(
        default=1.0, ge=0.0, le=10.0, description="Weight of this zone's events on the wall score."
    )
    schedule: ScheduleSpec = Field(
        default_factory=list,
        description="When rules in this zone are armed ('22:00-06:00', 'mon-fri 08:00-18:00'); [] = always.",
    )


class LineConfig(BaseModel):
    """A virtual tripwire from ``a`` to ``b``; side A is the left of a->b (image coordinates)."""

    model_config = _FROZEN

    name: str = Field(min_length=1, max_length=64, description="Line name, unique within the camera.")
    a: PointFrac = Field(description="First end [x, y] in frame fractions.")
    b: PointFrac = Field(description="Second end [x, y] in frame fractions.")
    classes: list[ClassName] = Field(
        default_factory=lambda: ["person"], min_length=1, description="Classes counted when crossing."
    )
    direction: Literal["both", "a_to_b", "b_to_a"] = Field(
        default="both",
        description="Crossings that raise events: left of a->b to its right (a_to_b), back, or both.",
    )
    importance: float = Field(default=1.0, ge=0.0, le=10.0, description="Weight on the wall score.")

    @model_validator(mode="after")
    def _distinct_ends(self) -> LineConfig:
        if abs(self.a[0] - self.b[0]) + abs(self.a[1] - self.b[1]) < 1e-4:
            raise PydanticCustomError("degenerate_line", "line ends a and b are the same point")
        return self


class _RuleBase(BaseModel):
    model_config = _FROZEN

    name: str | None = Field(default=None, max_length=64, description="Optional label shown in events.")
    enabled: bool = Field(default=True, description="Set false to keep a rule in the file but switch it off.")
    severity: int = Field(default=3, ge=1, le=5, description="1 info, 2 low, 3 medium, 4 high, 5 critical.")
    schedule: ScheduleSpec = Field(
        default_factory=list, description="When the rule is armed; empty = the zone's schedule (or always)."
    )
    end_after_s: float = Field(
        default=2.0, ge=0.0, le=600.0, description="The event ends after its condition is false this long."
    )
    update_every_s: float = Field(
        default=5.0, gt=0.0, le=3600.0, description="Live events send an update at most this often."
    )


class IntrusionRuleConfig(_RuleBase):
    """An object of ``classes`` inside ``zone`` (foot point) for ``min_s``."""

    type: Literal["intrusion"] = "intrusion"
    zone: str = Field(description="Zone name (see the camera's zones).")
    classes: list[ClassName] = Field(default_factory=lambda: ["person"], min_length=1, description="Classes.")
    min_s: float = Field(default=1.0, ge=0.0, le=600.0, description="Debounce before the event starts.")
    severity: int = Field(default=4, ge=1, le=5, description="1 info .. 5 critical.")


class LineCrossingRuleConfig(_RuleBase):
    """An object's foot point crosses ``line`` (classes and direction from the line)."""

    type: Literal["line_crossing"] = "line_crossing"
    line: str = Field(description="Line name (see the camera's lines).")
    hysteresis_frac: float = Field(
        default=0.01, ge=0.0, le=0.2,
        description="Distance (frame fraction) a point must move past the line to count, against jitter.",
    )  # fmt: skip
    end_after_s: float = Field(default=1.0, ge=0.0, le=600.0, description="Crossing events end after this.")


class LoiteringRuleConfig(_RuleBase):
    """One event per object that stays in ``zone`` for at least ``dwell_s``."""

    type: Literal["loitering"] = "loitering"
    zone: str = Field(description="Zone name.")
    classes: list[ClassName] = Field(default_factory=lambda: ["person"], min_length=1, description="Classes.")
    dwell_s: float = Field(default=60.0, gt=0.0, le=86400.0, description="Seconds in the zone to count.")


class CrowdingRuleConfig(_RuleBase):
    """At least ``min_count`` objects of ``classes`` in ``zone`` for ``min_s``."""

    type: Literal["crowding"] = "crowding"
    zone: str = Field(description="Zone name.")
    classes: list[ClassName] = Field(default_factory=lambda: ["person"], min_length=1, description="Classes.")
    min_count: int = Field(default=5, ge=2, le=1000, description="Objects needed at the same time.")
    min_s: float = Field(default=5.0, ge=0.0, le=3600.0, description="Debounce before the event starts.")


class FallRuleConfig(_RuleBase):
    """A person's box turns from upright to lying and stays lying (optionally confirmed by keypoints)."""

    type: Literal["fall"] = "fall"
    zone: str | None = Field(default=None, description="Zone name; none = the whole frame.")
    upright_max_aspect: float = Field(default=0.8, gt=0.0, le=5.0, description="w/h below this is upright.")
    lying_min_aspect: float = Field(default=1.2, gt=0.0, le=10.0, description="w/h above this is lying.")
    transition_s: float = Field(
        default=3.0, gt=0.0, le=60.0, description="Upright -> lying must happen within this time."
    )
    min_s: float = Field(default=3.0, ge=0.0, le=600.0, description="Must stay lying this long.")
    torso_max_deg: float = Field(
        default=50.0, ge=0.0, le=90.0,
        description="With keypoints: torso angle from horizontal at most this to confirm lying.",
    )  # fmt: skip
    lying_min_width: float = Field(
        default=0.4, ge=0.0, le=5.0,
        description="A lying box must be at least this x the person's standing height wide (no body parts).",
    )  # fmt: skip
    rejoin_radius: float = Field(
        default=1.0, ge=0.0, le=10.0,
        description="A lying box this many standing heights from where someone stood takes over their fall.",
    )  # fmt: skip
    severity: int = Field(default=5, ge=1, le=5, description="1 info .. 5 critical.")

    @model_validator(mode="after")
    def _aspects_ordered(self) -> FallRuleConfig:
        if self.lying_min_aspect <= self.upright_max_aspect:
            raise PydanticCustomError(
                "bad_aspects", "lying_min_aspect must be greater than upright_max_aspect"
            )
        return self


class AbandonedObjectRuleConfig(_RuleBase):
    """A bag left stationary with no person near it."""

    type: Literal["abandoned_object"] = "abandoned_object"
    zone: str | None = Field(default=None, description="Zone name; none = the whole frame.")
    classes: list[ClassName] = Field(
        default_factory=lambda: list(BAG_CLASSES), min_length=1, description="Classes treated as bags."
    )
    stationary_s: float = Field(default=20.0, gt=0.0, le=3600.0, description="Seconds without moving.")
    stationary_frac: float = Field(
        default=0.25, gt=0.0, le=2.0, description="Moving less than this × box size counts as stationary."
    )
    unattended_s: float = Field(default=10.0, ge=0.0, le=3600.0, description="Seconds with no owner near.")
    owner_radius: float = Field(
        default=3.0, gt=0.0, le=50.0, description="A person within this many bag-box heights is the owner."
    )
    severity: int = Field(default=4, ge=1, le=5, description="1 info .. 5 critical.")


class CameraHealthRuleConfig(_RuleBase):
    """Camera health checks on the gray picture: offline, frozen, covered/dark, blurred, moved."""

    type: Literal["camera_health"] = "camera_health"
    offline_s: float = Field(default=10.0, ge=0.0, le=3600.0, description="Down this long = offline.")
    frozen_s: float = Field(default=30.0, gt=0.0, le=3600.0, description="Unchanged picture this long.")
    frozen_epsilon: float = Field(
        default=0.3, ge=0.0, le=50.0, description="Mean abs difference (0..255) below which frames are equal."
    )
    covered_s: float = Field(default=10.0, gt=0.0, le=3600.0, description="Dark or uniform this long.")
    dark_mean: float = Field(
        default=24.0,
        ge=0.0,
        le=255.0,
        description="Mean luma below = dark (video luma is usually limited range: black is 16, not 0).",
    )
    uniform_std: float = Field(
        default=4.0, ge=0.0, le=128.0, description="Std of brightness below = covered."
    )
    blurred_s: float = Field(default=20.0, gt=0.0, le=3600.0, description="Sharpness low this long.")
    blur_ratio: float = Field(
        default=0.3, gt=0.0, lt=1.0, description="Sharpness below this × learned baseline = blurred."
    )
    moved_s: float = Field(default=10.0, gt=0.0, le=3600.0, description="Scene shifted this long.")
    moved_shift_frac: float = Field(
        default=0.05, gt=0.0, le=0.5, description="Shift (fraction of the frame) that counts as moved."
    )
    learn_s: float = Field(
        default=10.0, ge=0.0, le=3600.0, description="Seconds of frames to learn sharpness and reference."
    )
    analysis_height: int = Field(default=120, ge=32, le=720, description="Frames are downscaled to this.")


RuleConfig = Annotated[
    IntrusionRuleConfig
    | LineCrossingRuleConfig
    | LoiteringRuleConfig
    | CrowdingRuleConfig
    | FallRuleConfig
    | AbandonedObjectRuleConfig
    | CameraHealthRuleConfig,
    Field(discriminator="type"),
]


class MotionConfig(BaseModel):
    """Motion gate settings (see ``safecity.monitor.vision.motion.MotionGate``)."""

    model_config = _FROZEN

    frame_height: int = Field(default=100, ge=32, le=720, description="Height the Y plane is scaled to.")
    threshold: int = Field(default=30, ge=1, le=255, description="Pixel difference that counts as motion.")
    contour_area: int = Field(default=10, ge=1, le=10000, description="Smallest motion blob (scaled pixels).")
    frame_alpha: float = Field(default=0.01, gt=0.0, le=1.0, description="Background running-average rate.")
    lightning_threshold: float = Field(
        default=0.8, gt=0.0, le=1.0, description="Share of changed pixels treated as a lighting change."
    )


class TrackerConfig(BaseModel):
    """ByteTrack-style association settings (see ``safecity.monitor.vision.track.ByteTracker``)."""

    model_config = _FROZEN

    high_thresh: float = Field(
        default=0.3,
        gt=0.0,
        lt=1.0,
        description="First-stage confidence (NanoDet scores true objects 0.3-0.5).",
    )
    low_thresh: float = Field(default=0.1, gt=0.0, lt=1.0, description="Second-stage (low) confidence.")
    new_track_thresh: float = Field(default=0.3, gt=0.0, lt=1.0, description="Confidence to start a track.")
    match_iou: float = Field(default=0.3, gt=0.0, lt=1.0, description="Minimum IoU to associate.")
    lost_s: float = Field(default=1.5, gt=0.0, le=60.0, description="Unmatched this long = track ends.")
    min_hits: int = Field(default=2, ge=1, le=30, description="Matches before a track is reported.")
    momentum: float = Field(
        default=0.2, ge=0.0, le=1.0,
        description="Weight of OC-SORT's direction-consistency term in the first stage (0 = off).",
    )  # fmt: skip
    recover: bool = Field(
        default=True, description="OC-SORT's recovery of lost tracks by their last box; re-update after gaps."
    )

    @model_validator(mode="after")
    def _ordered(self) -> TrackerConfig:
        if self.low_thresh > self.high_thresh:
            raise PydanticCustomError("bad_thresholds", "low_thresh must not exceed high_thresh")
        return self


class CameraConfig(BaseModel):
    """One camera: where its video comes from, its zones/lines and the rules watching it."""

    model_config = _FROZEN

    id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$",
        description="Unique camera id (letters, digits, _ . -); used in events, URLs and file names.",
    )  # fmt: skip
    name: str = Field(default="", max_length=200, description="Human name shown on the wall.")
    source: str = Field(min_length=1, description="Video file path or rtsp:// URL.")
    enabled: bool = Field(default=True, description="Set false to skip this camera.")
    detect_fps: float = Field(default=5.0, gt=0.0, le=60.0, description="Frames per second analysed.")
    max_height: int | None = Field(
        default=None, ge=120, le=4320, description="Decode frames down to this height (none = as is)."
    )
    zones: list[ZoneConfig] = Field(default_factory=list, description="Named polygons.")
    lines: list[LineConfig] = Field(default_factory=list, description="Named tripwires.")
    rules: list[RuleConfig] = Field(default_factory=list, description="Rules; see the rule types below.")
    privacy_masks: list[PolygonFrac] = Field(
        default_factory=list, description="Polygons blurred out of snapshots, clips and the wall."
    )
    liftable_privacy_masks: list[PolygonFrac] = Field(
        default_factory=list,
        description="Masked like privacy_masks, but a user with the lift_privacy_mask permission may lift "
        "them on the live view for a limited time with a reason (audited; recordings stay masked).",
    )
    media_max_mb: float | None = Field(
        default=None,
        gt=0.0,
        le=1e8,
        description="Cap on this camera's snapshots and clips in MB; oldest deleted first (media of open "
        "events and evidence exports is kept); none = only the total cap.",
    )
    motion_masks: list[PolygonFrac] = Field(
        default_factory=list, description="Polygons ignored by the motion gate (trees, clocks, screens)."
    )
    motion: MotionConfig | None = Field(default=None, description="Overrides the top-level motion defaults.")
    detector: DetectorConfig | None = Field(
        default=None,
        description="This camera's detector (same keys as `detector`); none = the top-level one.",
    )
    tracker: TrackerConfig | None = Field(
        default=None, description="This camera's tracker (same keys as `tracker`); none = the top-level one."
    )
    gate: GateConfig = Field(
        default_factory=GateConfig, description="Compressed-domain gate: decode only while something moves."
    )
    detection: DetectionConfig = Field(
        default_factory=DetectionConfig, description="Where the detector runs (motion regions or on demand)."
    )
    group: str | None = Field(default=None, max_length=64, description="Camera group (site, route).")
    importance: float = Field(default=1.0, ge=0.0, le=10.0, description="Camera weight on the wall score.")
    lat: float | None = Field(default=None, ge=33.0, le=39.0, description="WGS84 latitude (Korea).")
    lon: float | None = Field(default=None, ge=124.0, le=132.0, description="WGS84 longitude (Korea).")
    replay_start: datetime | None = Field(
        default=None,
        description="Wall-clock time of a file's first frame, so schedules apply in replay (else always on).",
    )
    ptz: PtzConfig | None = Field(default=None, description="Rotating camera: ONVIF, presets, tours.")
    heading_deg: float | None = Field(
        default=None, ge=0.0, lt=360.0, description="Fixed camera: compass heading of its view (0 N, 90 E)."
    )
    fov_deg: float = Field(default=60.0, gt=0.0, le=180.0, description="Fixed camera: horizontal view angle.")

    _ptz_keys = model_validator(mode="before")(misplaced_ptz_keys)

    @property
    def live(self) -> bool:
        """True for network streams (frame times are Unix time)."""
        return self.source.lower().startswith(("rtsp://", "rtsps://", "http://", "https://"))

    @model_validator(mode="after")
    def _verify(self) -> CameraConfig:
        problems = [*verify_names_unique(self), *verify_rule_targets(self), *ptz_problems(self)]
        if problems:
            raise ValidationError.from_exception_data("CameraConfig", problems)
        return self


class SelectionConfig(BaseModel):
    """How cameras are ranked and held on the operator wall."""

    model_config = _FROZEN

    max_tiles: int = Field(default=9, ge=1, le=64, description="Tiles on the wall.")
    hold_s: float = Field(default=10.0, ge=0.0, le=3600.0, description="A tile stays at least this long.")
    pin_severity: int = Field(
        default=4,
        ge=1,
        le=6,
        description="Unacknowledged events at or above this pin their camera (6 = never).",
    )
    margin: float = Field(
        default=0.2, ge=0.0, le=10.0, description="A challenger needs score > weakest × (1 + margin)."
    )
    recency_half_life_s: float = Field(
        default=60.0, gt=0.0, le=86400.0, description="Event weight halves every this many seconds."
    )
    severity_weights: dict[int, float] = Field(
        default_factory=lambda: {1: 0.25, 2: 0.5, 3: 1.0, 4: 2.0, 5: 4.0},
        description="Weight per severity 1..5.",
    )
    type_weights: dict[EventType, float] = Field(
        default_factory=lambda: {t: 1.0 for t in EVENT_TYPES},
        description="Weight per event type (missing types weigh 1).",
    )
    health_weights: dict[HealthState, float] = Field(
        default_factory=lambda: dict(_HEALTH_WEIGHTS),
        description="Score added for a camera in this health state.",
    )

    @field_validator("severity_weights")
    @classmethod
    def _severity_keys(cls, v: dict[int, float]) -> dict[int, float]:
        bad = sorted(k for k in v if not 1 <= k <= 5)
        if bad:
            raise PydanticCustomError("bad_severity", "severity keys must be 1..5, got {bad}", {"bad": bad})
        if any(w < 0 for w in v.values()):
            raise PydanticCustomError("negative_weight", "weights must be >= 0")
        return v


class OutputsConfig(BaseModel):
    """Where events and media go."""

    model_config = _FROZEN

    events_jsonl: Path | None = Field(default=None, description="Append every event message here as JSON.")
    store: bool = Field(default=True, description="Write events to the database (SAFECITY_DB_URL).")
    media_dir: Path | None = Field(default=None, description="Snapshots and clips; none = <home>/media.")
    clip_pre_s: float = Field(default=5.0, ge=0.0, le=60.0, description="Clip seconds before the start.")
    clip_post_s: float = Field(default=5.0, ge=0.0, le=60.0, description="Clip seconds after the start.")
    retention_days: int = Field(default=30, ge=1, le=3650, description="Media older than this is removed.")


class MonitorConfig(BaseModel):
    """Root of the monitoring config file."""

    model_config = _FROZEN

    timezone: str = Field(default="Asia/Seoul", description="IANA time zone for schedules.")
    cameras: list[CameraConfig] = Field(min_length=1, description="Cameras to watch.")
    detector: DetectorConfig = Field(default_factory=DetectorConfig, description="Object detector.")
    tracker: TrackerConfig = Field(default_factory=TrackerConfig, description="Tracker settings.")
    selection: SelectionConfig = Field(default_factory=SelectionConfig, description="Wall selection.")
    motion: MotionConfig = Field(default_factory=MotionConfig, description="Motion gate defaults.")
    outputs: OutputsConfig = Field(default_factory=OutputsConfig, description="Event and media outputs.")
    policy: AlertPolicy = Field(default_factory=AlertPolicy, description="Incidents and alert levels.")
    filters: BoxFilterConfig = Field(default_factory=BoxFilterConfig, description="Impossible-box filters.")

    @field_validator("timezone")
    @classmethod
    def _known_tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "unknown_timezone",
                "{msg}",
                {"msg": f"unknown time zone {v!r}: use an IANA name such as 'Asia/Seoul'"},
            ) from None
        return v

    @model_validator(mode="after")
    def _verify(self) -> MonitorConfig:
        problems = verify_camera_ids_unique(self)
        problems += policy_problems(self.cameras, self.policy, self.filters)
        if problems:
            raise ValidationError.from_exception_data("MonitorConfig", problems)
        return self

    def detector_for(self, camera: CameraConfig) -> DetectorConfig:
        """The detector config of ``camera``: its own ``detector``, else the top-level one."""
        return camera.detector if camera.detector is not None else self.detector

    def tracker_for(self, camera: CameraConfig) -> TrackerConfig:
        """The tracker config of ``camera``: its own ``tracker``, else the top-level one."""
        return camera.tracker if camera.tracker is not None else self.tracker

    def camera(self, camera_id: str) -> CameraConfig:
        """The camera with this id (KeyError if none)."""
        for cam in self.cameras:
            if cam.id == camera_id:
                return cam
        raise KeyError(camera_id)


# ---------------------------------------------------------------------------------------------
# Cross-field checks


def _dupes(names: Sequence[str]) -> Iterator[tuple[int, str]]:
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            yield i, n
        seen.add(n)


def _name_problems(zones: Sequence[str], lines: Sequence[str]) -> list[InitErrorDetails]:
    out = []
    for field, names in (("zones", zones), ("lines", lines)):
        for i, n in _dupes(names):
            msg = f"duplicate name {n!r}: names must be unique"
            out.append(config_problem("duplicate_name", msg, (field, i, "name"), n))
    return out


def _target_problems(
    zones: Sequence[str], lines: Sequence[str], targets: Sequence[tuple[str, Any]]
) -> list[InitErrorDetails]:
    """``targets``: per rule, ("zone" | "line", the name it refers to or None)."""
    out = []
    for i, (key, target) in enumerate(targets):
        known = lines if key == "line" else zones
        if isinstance(target, str) and target not in known:
            defined = ", ".join(known) or "none"
            msg = f"{key} {target!r} does not exist in this camera; defined {key}s: {defined}"
            out.append(config_problem(f"unknown_{key}", msg, ("rules", i, key), target))
    return out


def _id_problems(ids: Sequence[str]) -> list[InitErrorDetails]:
    msg = "duplicate camera id {!r}: ids must be unique"
    return [
        config_problem("duplicate_camera", msg.format(n), ("cameras", i, "id"), n) for i, n in _dupes(ids)
    ]


def verify_names_unique(cam: CameraConfig) -> list[InitErrorDetails]:
    """Zone names and line names are unique within a camera."""
    return _name_problems([z.name for z in cam.zones], [ln.name for ln in cam.lines])


def verify_rule_targets(cam: CameraConfig) -> list[InitErrorDetails]:
    """Every rule names a zone / line the camera defines."""
    targets = [
        ("line", r.line) if isinstance(r, LineCrossingRuleConfig) else ("zone", getattr(r, "zone", None))
        for r in cam.rules
    ]
    return _target_problems([z.name for z in cam.zones], [ln.name for ln in cam.lines], targets)


def verify_camera_ids_unique(cfg: MonitorConfig) -> list[InitErrorDetails]:
    """Camera ids are unique."""
    return _id_problems([c.id for c in cfg.cameras])


def _raw_problems(data: Any) -> list[InitErrorDetails]:
    """The cross-field checks on the raw YAML data, for cameras whose own validation failed (pydantic
    skips a model's ``verify_*`` when one of its fields is wrong, but the user wants every problem)."""

    def names(items: Any) -> list[str]:
        return [it["name"] for it in items if isinstance(it, dict) and isinstance(it.get("name"), str)] if (
            isinstance(items, list)) else []  # fmt: skip

    cams = data.get("cameras") if isinstance(data, dict) else None
    if not isinstance(cams, list):
        return []
    out = _id_problems([c["id"] for c in cams if isinstance(c, dict) and isinstance(c.get("id"), str)])
    for ci, cam in enumerate(cams):
        if not isinstance(cam, dict):
            continue
        zones, lines = names(cam.get("zones")), names(cam.get("lines"))
        rules = cam.get("rules")
        targets = [
            ("line", r.get("line")) if r.get("type") == "line_crossing" else ("zone", r.get("zone"))
            for r in (rules if isinstance(rules, list) else [])
            if isinstance(r, dict)
        ]
        for p in [*_name_problems(zones, lines), *_target_problems(zones, lines, targets)]:
            out.append({**p, "loc": ("cameras", ci, *p["loc"])})
    return out


def load_monitor_config(path: str | Path) -> MonitorConfig:
    """Load and validate a monitoring config file.

    Raises:
        ConfigError: the file is missing, not YAML, or invalid; the message has one
            ``file:line: key.path: problem (got value)`` line per problem, cross-field problems
            included even where a camera also has field errors.

    Relative camera ``source`` paths and ``detector.model`` are read relative to the file's folder.
    """
    p = Path(path)
    try:
        return _resolve_paths(load_model(MonitorConfig, p), p.resolve().parent)
    except ConfigError as exc:
        if not isinstance(exc.__cause__, ValidationError):
            raise
        doc = parse_yaml_text(p.read_text(encoding="utf-8"), str(p))
        problems = format_validation_error(exc.__cause__, doc)
        raw = ValidationError.from_exception_data("MonitorConfig", _raw_problems(doc.data))
        problems += [m for m in format_validation_error(raw, doc) if m not in problems]
        raise ConfigError(
            f"{doc.source}: {len(problems)} problem(s) in the config:\n  " + "\n  ".join(problems)
        ) from exc.__cause__


def _resolve_detector(det: DetectorConfig, base: Path) -> DetectorConfig:
    """``det`` with its model paths (its own and its cascade stages') made relative to ``base``."""
    update: dict[str, Any] = {}
    if det.model is not None and not det.model.is_absolute():
        update["model"] = base / det.model
    for key in ("first_pass", "confirm"):
        stage: CascadeStageConfig = getattr(det, key)
        if stage.model is not None and not stage.model.is_absolute():
            update[key] = stage.model_copy(update={"model": base / stage.model})
    return det.model_copy(update=update) if update else det


def _resolve_paths(cfg: MonitorConfig, base: Path) -> MonitorConfig:
    """Make relative camera sources and detector model paths relative to ``base``."""
    cams = []
    for cam in cfg.cameras:
        src = cam.source
        update: dict[str, Any] = {}
        if not cam.live and "://" not in src and not Path(src).is_absolute():
            update["source"] = str(base / src)
        if cam.detector is not None:
            update["detector"] = _resolve_detector(cam.detector, base)
        cams.append(cam.model_copy(update=update) if update else cam)
    return cfg.model_copy(update={"cameras": cams, "detector": _resolve_detector(cfg.detector, base)})
