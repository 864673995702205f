"""Request and response models of ``/api/incidents`` and ``/api/suppressions`` (OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FalseAlarmBody",
    "FalseAlarmOut",
    "IncidentAction",
    "IncidentCounts",
    "IncidentDetail",
    "IncidentList",
    "IncidentOut",
    "SuppressionList",
    "SuppressionOut",
    "TimelineEvent",
]

IncidentState = Literal["new", "acknowledged", "escalated", "closed"]


class IncidentOut(BaseModel):
    """One incident: events of one camera and zone/line folded together."""

    id: int
    camera: str = Field(description="camera key")
    camera_name: str | None = Field(description="the camera's name (Hangul) from the monitoring config")
    zone: str | None = Field(description="zone or line name; null for whole-frame rules and camera health")
    level: Literal["alert", "record"] = Field(description="alert: needs acknowledgement and rings")
    state: IncidentState
    needs_ack: bool = Field(description="alert level and not acknowledged yet")
    rings: int = Field(description="times it entered needs_ack (new, or a more severe event after ack)")
    severity: int = Field(ge=1, le=5, description="highest severity of its events")
    first_at: datetime
    last_at: datetime = Field(description="newest message of its events")
    end_at: datetime | None = Field(description="when its last live event ended; null while live")
    event_count: int
    open_events: int = Field(description="events still live")
    types: list[str] = Field(description="event types involved")
    object_classes: list[str] = Field(description="object classes involved")
    track_ids: list[int] = Field(description="track ids involved (at most 200)")
    best_event: str | None = Field(
        description="uid of the event with the best snapshot (highest severity, score)"
    )
    closed_reason: Literal["operator", "auto", "false_alarm"] | None
    closed_at: datetime | None
    updated_at: datetime


class IncidentCounts(BaseModel):
    """Incidents per state (in the user's camera groups) and how many need acknowledgement."""

    new: int
    acknowledged: int
    escalated: int
    closed: int
    needs_ack: int


class IncidentList(BaseModel):
    total: int = Field(description="incidents matching the filters")
    counts: IncidentCounts = Field(description="for tab counts; independent of the filters")
    incidents: list[IncidentOut]


class TimelineEvent(BaseModel):
    uid: str
    type: str
    zone: str | None
    severity: int
    state: str
    start_at: datetime
    end_at: datetime | None
    object_class: str | None
    track_ids: list[int] | None
    box: list[float] | None
    has_snapshot: bool = Field(description="GET /api/events/{uid}/snapshot serves it once written")


class IncidentAction(BaseModel):
    username: str | None = Field(description="null for automatic actions")
    at: datetime
    action: Literal["ack", "escalate", "close", "false_alarm", "auto_close", "reopen"]
    target: str | None
    note: str | None


class SuppressionOut(BaseModel):
    """A false-alarm suppression: matching events are stored but ring nothing."""

    id: int
    camera: str
    type: str
    object_class: str | None
    box: list[float] | None
    min_iou: float
    max_centre_dist: float
    incident_id: int | None
    username: str
    note: str | None
    created_at: datetime
    expires_at: datetime
    lifted_at: datetime | None
    lifted_by: str | None
    suppressed_count: int = Field(description="events it has suppressed")
    active: bool


class IncidentDetail(IncidentOut):
    timeline: list[TimelineEvent] = Field(description="its events, oldest first (at most 500)")
    actions: list[IncidentAction]
    suppressions: list[SuppressionOut] = Field(description="false-alarm suppressions made from it")


class SuppressionList(BaseModel):
    suppressions: list[SuppressionOut]


class FalseAlarmBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    duration_s: float | None = Field(
        default=None,
        ge=60.0,
        le=30 * 86400.0,
        description="how long matching events are suppressed (default policy.suppress_default_s; "
        "at most policy.suppress_max_s)",
    )
    note: str | None = Field(default=None, max_length=2000, description="why it is a false alarm")


class FalseAlarmOut(BaseModel):
    incident: IncidentDetail
    suppression: SuppressionOut
