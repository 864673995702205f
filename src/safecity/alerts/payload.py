"""The alert payload contract, version 1 (MQTT and webhooks send the same JSON).

One message per event change::

    {"version": 1, "type": "new" | "update" | "end", "event_id", "camera", "event_type",
     "severity", "zone", "before": {...} | null, "after": {...} | null, "sent_at"}

- ``new``: ``before`` is null, ``after`` the event as it started.
- ``update``: ``before`` the previous state this sink sent, ``after`` the new state.
- ``end``: ``before`` the previous state, ``after`` the final state (``end_time`` set). ``after`` is
  never null; a consumer that only wants to know "it is over" reads ``type``.
- Camera health is an event like any other: ``camera_offline`` ``new`` = the camera went offline,
  ``end`` = it is back online (``camera_frozen`` / ``covered`` / ``blurred`` / ``moved`` likewise).

Times in the payload are ISO 8601 UTC. ``docs/alerts.md`` holds the JSON Schema of
:class:`AlertPayload` and examples.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from safecity.monitor.types import Event, EventKind, EventType
from safecity.store.events import RELATIVE_BELOW_S

__all__ = ["AlertPayload", "EventState", "PayloadBuilder", "alert_type"]

PAYLOAD_VERSION = 1
AlertType = Literal["new", "update", "end"]
_TYPE_BY_KIND: dict[str, AlertType] = {"start": "new", "update": "update", "end": "end"}


def alert_type(kind: EventKind) -> AlertType:
    """The payload ``type`` of an event message kind: start -> new, update -> update, end -> end."""
    return _TYPE_BY_KIND[kind]


class EventState(BaseModel):
    """The state of an event at one message (the ``before`` / ``after`` of a payload)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: int = Field(ge=1, le=5, description="1 info, 2 low, 3 medium, 4 high, 5 critical")
    zone: str | None = Field(description="zone or line name, null for whole-frame rules")
    start_time: datetime = Field(description="when the event started (UTC)")
    last_time: datetime = Field(description="time of the latest observation (UTC)")
    end_time: datetime | None = Field(description="when it ended (UTC); null while live")
    track_ids: list[int] = Field(description="tracks involved")
    object_class: str | None = Field(description="COCO class of the main object, if any")
    direction: str | None = Field(description="line crossings: in/out or ab/ba")
    count: int = Field(ge=0, description="objects involved (crowding count)")
    box: tuple[float, float, float, float] | None = Field(
        description="x1, y1, x2, y2 as fractions (0..1) of the frame"
    )
    detail: dict[str, float | int | str] = Field(description="rule-specific values (dwell_s, reason, ...)")


class AlertPayload(BaseModel):
    """Alert payload v1 (see the module docstring and ``docs/alerts.md``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="safecity alert payload v1")

    version: Literal[1] = Field(default=1, description="payload contract version")
    type: AlertType = Field(description="new: event started; update: it changed; end: it is over")
    event_id: str = Field(description="stable id of the event across its messages")
    camera: str = Field(description="camera id")
    event_type: EventType = Field(description="rule or camera-health event type")
    severity: int = Field(ge=1, le=5, description="current severity, 1 info .. 5 critical")
    zone: str | None = Field(description="zone or line name")
    before: EventState | None = Field(description="previous state; null for new")
    after: EventState | None = Field(description="new state; for end the final state")
    sent_at: datetime = Field(description="when the sink built this message (UTC)")


def _utc(t_s: float) -> datetime:
    return datetime.fromtimestamp(t_s, tz=UTC)


class PayloadBuilder:
    """Turns event messages into payloads, remembering each live event's last state for ``before``.

    Thread-safe. State is dropped when an event ends; at most ``max_events`` live events are kept
    (the oldest is forgotten first, its next payload then has ``before: null``).

    Args:
        epoch_s: added to event times (0 = they are Unix seconds; in replay, the file's start time).
            With 0, events whose ``start_s`` is below 1e9 (seconds from a file's start) are offset by
            the Unix time at which the builder was created, as in the event store.
        max_events: bound on remembered live events.
    """

    def __init__(self, *, epoch_s: float = 0.0, max_events: int = 10_000) -> None:
        self.epoch_s = float(epoch_s)
        self._created_unix = time.time()
        self.max_events = max_events
        self._last: OrderedDict[str, EventState] = OrderedDict()
        self._lock = threading.Lock()

    def state(self, event: Event) -> EventState:
        """The :class:`EventState` of ``event``."""
        e = self.epoch_s
        if not e and event.start_s < RELATIVE_BELOW_S:
            e = self._created_unix
        return EventState(
            severity=event.severity,
            zone=event.zone,
            start_time=_utc(e + event.start_s),
            last_time=_utc(e + event.last_s),
            end_time=None if event.end_s is None else _utc(e + event.end_s),
            track_ids=[int(t) for t in event.track_ids],
            object_class=event.object_class,
            direction=event.direction,
            count=event.count,
            box=event.box_frac,
            detail=dict(event.detail),
        )

    def build(self, kind: EventKind, event: Event, *, sent_at: datetime | None = None) -> AlertPayload:
        """The payload for one event message."""
        after = self.state(event)
        with self._lock:
            before = self._last.pop(event.uid, None) if kind != "start" else None
            if kind != "end":
                self._last[event.uid] = after
                while len(self._last) > self.max_events:
                    self._last.popitem(last=False)
        return AlertPayload(
            type=alert_type(kind),
            event_id=event.uid,
            camera=event.camera,
            event_type=event.type,
            severity=event.severity,
            zone=event.zone,
            before=before,
            after=after,
            sent_at=sent_at or datetime.now(UTC),
        )
