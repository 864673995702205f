"""The alert policy (``policy:`` of the monitoring config) and the box sanity filters (``filters:``).

``policy`` decides, per event, what the control room does with it:

- ``alert``: its incident needs acknowledgement and rings;
- ``record``: stored and searchable, folded into an incident that needs no acknowledgement;
- ``ignore``: stored as an event only (no incident).

Rules are tried in order; the first whose conditions all hold gives the action; none matches ->
``default``. Conditions: ``types`` (event types), ``min_severity``/``max_severity``, ``groups``
(camera groups), ``cameras``, ``zones`` (zone or line names) and ``schedule`` (local time windows,
as for zones: ``"22:00-06:00"``, ``"mon-fri 08:00-18:00"``). A condition left out holds always.

Example::

    policy:
      window_s: 120
      auto_close_after_s: 600
      auto_close_max_severity: 2
      rules:
        - {types: [line_crossing], max_severity: 2, action: record}
        - {groups: [school-zones], schedule: "mon-fri 08:00-09:00", types: [line_crossing], action: alert}

:func:`default_rules` holds the defaults and ``docs/console.md`` justifies each. ``filters`` drops
detections whose box is impossible for the camera (a truck box covering most of the frame of a
camera whose vehicles are small) before tracking, so no rule ever sees them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal, Protocol
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from safecity.monitor.config.problems import ClassName, config_problem
from safecity.monitor.config.schedule import Schedule, parse_schedule
from safecity.monitor.types import Detections, EventType

__all__ = [
    "ALERT_TYPES",
    "AlertPolicy",
    "BoundPolicy",
    "BoxFilterConfig",
    "PolicyAction",
    "PolicyRule",
    "default_rules",
    "filter_boxes",
    "policy_problems",
]

PolicyAction = Literal["alert", "record", "ignore"]

# Event types that must reach an alert-level incident under the default policy (issue 10).
ALERT_TYPES: tuple[EventType, ...] = (
    "intrusion",
    "loitering",
    "crowding",
    "fall",
    "abandoned_object",
    "camera_covered",
    "camera_moved",
    "camera_offline",
    "camera_frozen",
    "camera_blurred",
)


def _check_schedule(items: list[str]) -> list[str]:
    try:
        parse_schedule(items)
    except ValueError as exc:
        raise PydanticCustomError("bad_schedule", "{msg}", {"msg": str(exc)}) from None
    return items


def _as_list(v: object) -> object:
    return [v] if isinstance(v, str) else v


ScheduleSpec = Annotated[list[str], BeforeValidator(_as_list), AfterValidator(_check_schedule)]
_FROZEN = ConfigDict(extra="forbid", frozen=True)


class PolicyRule(BaseModel):
    """One line of the policy: conditions (all must hold; left out = any) and the action."""

    model_config = _FROZEN

    action: PolicyAction = Field(description="alert (ack + ring), record (searchable) or ignore.")
    types: list[EventType] | None = Field(default=None, min_length=1, description="Event types.")
    min_severity: int = Field(default=1, ge=1, le=5, description="Lowest severity it applies to.")
    max_severity: int = Field(default=5, ge=1, le=5, description="Highest severity it applies to.")
    groups: list[str] | None = Field(default=None, min_length=1, description="Camera groups.")
    cameras: list[str] | None = Field(default=None, min_length=1, description="Camera ids.")
    zones: list[str] | None = Field(default=None, min_length=1, description="Zone or line names.")
    schedule: ScheduleSpec | None = Field(default=None, description="Local time windows it applies in.")

    @model_validator(mode="after")
    def _severity_range(self) -> PolicyRule:
        if self.min_severity > self.max_severity:
            raise PydanticCustomError(
                "bad_range",
                "{msg}",
                {"msg": f"min_severity {self.min_severity} is above max_severity {self.max_severity}"},
            )
        return self


def default_rules() -> list[PolicyRule]:
    """The municipal control-room defaults (justified in ``docs/console.md``).

    Line crossings of severity 1-2 are counted traffic (people and cars passing a counting line):
    recorded, searchable, no acknowledgement. Everything else, every severity, is an alert; the
    reduction of the operator's work comes from folding events into incidents and from false-alarm
    feedback, not from silencing event types.
    """
    return [PolicyRule(types=["line_crossing"], max_severity=2, action="record")]


class AlertPolicy(BaseModel):
    """``policy:`` of the monitoring config: incidents, alert levels and auto-close."""

    model_config = _FROZEN

    window_s: float = Field(
        default=120.0,
        ge=0.0,
        le=3600.0,
        description="An event joins its camera+zone incident if it starts this soon after its last message.",
    )
    max_incident_s: float | None = Field(
        default=600.0,
        ge=60.0,
        le=86400.0,
        description="A later event starts a new incident (that rings again) once an incident is this old.",
    )
    default: PolicyAction = Field(default="alert", description="Action when no rule matches.")
    rules: list[PolicyRule] = Field(
        default_factory=default_rules, max_length=200, description="First match wins."
    )
    auto_close_after_s: float | None = Field(
        default=600.0,
        ge=0.0,
        le=7 * 86400.0,
        description="Close resolved incidents that need no acknowledgement this long after their last event.",
    )
    auto_close_max_severity: int = Field(
        default=2, ge=1, le=5, description="Only incidents up to this severity."
    )
    suppress_default_s: float = Field(
        default=3600.0, ge=60.0, le=7 * 86400.0, description="False-alarm suppression when none is chosen."
    )
    suppress_max_s: float = Field(
        default=7 * 86400.0, ge=60.0, le=30 * 86400.0, description="Longest false-alarm suppression."
    )
    suppress_min_iou: float = Field(default=0.3, gt=0.0, le=1.0, description="Box overlap that matches.")
    suppress_max_centre_dist: float = Field(
        default=0.1, ge=0.0, le=1.0, description="... or centre distance (frame fractions) that matches."
    )

    @model_validator(mode="after")
    def _suppress_range(self) -> AlertPolicy:
        if self.suppress_default_s > self.suppress_max_s:
            raise PydanticCustomError(
                "bad_range",
                "{msg}",
                {"msg": f"suppress_default_s {self.suppress_default_s:g} is above suppress_max_s"},
            )
        return self


@dataclass(frozen=True)
class _Compiled:
    rule: PolicyRule
    schedule: Schedule | None


class BoundPolicy:
    """An :class:`AlertPolicy` with the cameras' groups and time zone: the store's ``IncidentPolicy``.

    Args:
        policy: the policy.
        groups: camera id -> camera group (cameras without a group are in none).
        tz: IANA time zone of the schedules.
    """

    def __init__(self, policy: AlertPolicy, groups: Mapping[str, str | None], tz: str = "Asia/Seoul") -> None:
        self.policy = policy
        self.groups = dict(groups)
        self.tz = ZoneInfo(tz)
        self._rules = [_Compiled(r, parse_schedule(r.schedule) if r.schedule else None) for r in policy.rules]

    @property
    def window_s(self) -> float:
        return self.policy.window_s

    @property
    def auto_close_after_s(self) -> float | None:
        return self.policy.auto_close_after_s

    @property
    def max_incident_s(self) -> float | None:
        return self.policy.max_incident_s

    @property
    def auto_close_max_severity(self) -> int:
        return self.policy.auto_close_max_severity

    def action(self, camera: str, type_: str, severity: int, zone: str | None, at: datetime) -> PolicyAction:
        """The action of the first matching rule (else ``default``); ``at`` is an aware UTC time."""
        for c in self._rules:
            r = c.rule
            if r.types is not None and type_ not in r.types:
                continue
            if not r.min_severity <= severity <= r.max_severity:
                continue
            if r.cameras is not None and camera not in r.cameras:
                continue
            if r.groups is not None and self.groups.get(camera) not in r.groups:
                continue
            if r.zones is not None and zone not in r.zones:
                continue
            if c.schedule is not None and not c.schedule.active_at(
                at.astimezone(self.tz).replace(tzinfo=None)
            ):
                continue
            return r.action
        return self.policy.default


class BoxFilterConfig(BaseModel):
    """``filters:`` of the monitoring config: boxes no real object of a class has on a camera."""

    model_config = _FROZEN

    max_box_frac: dict[ClassName, Annotated[float, Field(gt=0.0, le=1.0)]] = Field(
        default_factory=lambda: {"car": 0.6, "truck": 0.6, "bus": 0.6},
        description="Largest box area (fraction of the frame) per class on every camera.",
    )
    cameras: dict[str, dict[ClassName, Annotated[float, Field(gt=0.0, le=1.0)]]] = Field(
        default_factory=dict, description="Per camera id: overrides of max_box_frac (others kept)."
    )

    def limits_for(self, camera: str) -> dict[str, float]:
        """Class -> largest box area fraction on ``camera``."""
        return {**self.max_box_frac, **self.cameras.get(camera, {})}


def filter_boxes(detections: Detections, limits: Mapping[str, float], width: int, height: int) -> Detections:
    """``detections`` without boxes larger than their class's limit (area fraction of the frame)."""
    if not limits or not len(detections) or width <= 0 or height <= 0:
        return detections
    xy = detections.xyxy_px
    area = (
        np.clip(xy[:, 2] - xy[:, 0], 0, None) * np.clip(xy[:, 3] - xy[:, 1], 0, None) / float(width * height)
    )
    limit = np.array([limits.get(str(c), 1.0) for c in detections.class_name], np.float64)
    keep = area <= limit
    return detections if bool(keep.all()) else detections[keep]


class _CameraLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def group(self) -> str | None: ...


def policy_problems(
    cameras: Sequence[_CameraLike], policy: AlertPolicy, filters: BoxFilterConfig
) -> list[InitErrorDetails]:
    """Camera ids and groups named in ``policy`` / ``filters`` that no camera of the config has."""
    ids = {c.id for c in cameras}
    groups = {c.group for c in cameras if c.group}
    out: list[InitErrorDetails] = []

    def unknown(msg: str, loc: tuple[str | int, ...], value: str) -> None:
        out.append(config_problem("unknown_name", msg, loc, value))

    for i, rule in enumerate(policy.rules):
        for cam in rule.cameras or ():
            if cam not in ids:
                msg = f"unknown camera id {cam!r}: expected one of the config's cameras"
                unknown(msg, ("policy", "rules", i, "cameras"), cam)
        for grp in rule.groups or ():
            if grp not in groups:
                known = ", ".join(sorted(groups)) or "none: give cameras a group"
                unknown(
                    f"unknown camera group {grp!r}: the cameras' groups are {known}",
                    ("policy", "rules", i, "groups"),
                    grp,
                )
    for cam in filters.cameras:
        if cam not in ids:
            unknown(
                f"unknown camera id {cam!r}: expected one of the config's cameras",
                ("filters", "cameras", cam),
                cam,
            )
    return out
