"""The alert payload contract, version 2: one message per incident change (MQTT and webhooks).

::

    {"version": 2, "type": "new" | "update" | "end", "incident_id", "camera", "zone", "level", "state",
     "needs_ack", "severity", "event_count", "open_events", "types", "object_classes", "track_ids",
     "best_event_id", "first_time", "last_time", "end_time", "closed_reason", "sent_at"}

- ``new``: the incident was created (its first event was stored);
- ``update``: events joined or changed it, its level rose, or an operator acknowledged / escalated it;
- ``end``: it was closed (by an operator, as a false alarm, or auto-closed): ``closed_reason`` says how.

Messages are built after the event store committed the change (:attr:`EventStore.incident_listeners
<safecity.store.events.EventStore.incident_listeners>`) and after operator actions, from what the
database holds, so a consumer sees the same incident as the console. Version 1 (one message per
event) is unchanged; which versions are sent is ``SAFECITY_ALERT_PAYLOAD_VERSIONS`` (default ``1,2``).
``docs/alerts.md`` holds the JSON Schema and examples.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from safecity.store.incident_store import IncidentStore

__all__ = ["IncidentPayload", "IncidentPublisher", "IncidentTarget"]

log = logging.getLogger(__name__)


class IncidentPayload(BaseModel):
    """Alert payload v2 (see the module docstring and ``docs/alerts.md``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="safecity alert payload v2 (incidents)")

    version: Literal[2] = Field(default=2, description="payload contract version")
    type: Literal["new", "update", "end"] = Field(description="new: created; update: changed; end: closed")
    incident_id: int = Field(description="stable id of the incident (the console's incident id)")
    camera: str = Field(description="camera id")
    zone: str | None = Field(description="zone or line name; null for whole-frame rules and camera health")
    level: Literal["alert", "record"] = Field(description="alert: needs acknowledgement and rings")
    state: Literal["new", "acknowledged", "escalated", "closed"] = Field(description="operator state")
    needs_ack: bool = Field(description="alert level and not acknowledged yet")
    severity: int = Field(ge=1, le=5, description="highest severity of its events, 1 info .. 5 critical")
    event_count: int = Field(ge=1, description="events folded into it")
    open_events: int = Field(ge=0, description="events still live")
    types: list[str] = Field(description="event types involved")
    object_classes: list[str] = Field(description="object classes involved")
    track_ids: list[int] = Field(description="track ids involved (at most 200)")
    best_event_id: str | None = Field(description="event_id (v1) of the event with the best snapshot")
    first_time: datetime = Field(description="start of its first event (UTC)")
    last_time: datetime = Field(description="its newest event message (UTC)")
    end_time: datetime | None = Field(description="when its last live event ended (UTC); null while live")
    closed_reason: Literal["operator", "auto", "false_alarm"] | None = Field(description="set with end")
    sent_at: datetime = Field(description="when the message was built (UTC)")


@runtime_checkable
class IncidentTarget(Protocol):
    """A sink that sends v2 payloads (:class:`~safecity.alerts.mqtt.MqttSink`, ``WebhookSink``)."""

    def publish_incident(self, payload: IncidentPayload) -> None: ...


class IncidentPublisher:
    """Listener of the event store: builds a v2 payload per changed incident and hands it to the targets.

    ``type`` is ``end`` for a closed incident, ``new`` the first time this publisher sees an incident
    that has one event, else ``update`` (after a restart an incident already announced is ``update``).

    Args:
        engine: the store's engine (incidents are read after the change was committed).
        targets: sinks with ``publish_incident``.
        max_known: incidents remembered for the new/update decision.
    """

    def __init__(self, engine: Engine, targets: Sequence[IncidentTarget], *, max_known: int = 10_000) -> None:
        self.store = IncidentStore(engine)
        self.targets = list(targets)
        self.max_known = max_known
        self._known: OrderedDict[int, None] = OrderedDict()
        self._lock = threading.Lock()

    def payload(self, incident_id: int, *, sent_at: datetime | None = None) -> IncidentPayload | None:
        """The v2 payload of an incident now (None if it does not exist)."""
        inc = self.store.get_incident(incident_id, timeline_limit=0)
        if inc is None:
            return None
        with self._lock:
            seen = incident_id in self._known
            self._known[incident_id] = None
            self._known.move_to_end(incident_id)
            while len(self._known) > self.max_known:
                self._known.popitem(last=False)
        kind: Literal["new", "update", "end"] = "update"
        if inc["state"] == "closed":
            kind = "end"
        elif not seen and inc["event_count"] == 1:
            kind = "new"
        return IncidentPayload(
            type=kind,
            incident_id=inc["id"],
            camera=inc["camera"],
            zone=inc["zone"],
            level=inc["level"],
            state=inc["state"],
            needs_ack=inc["needs_ack"],
            severity=inc["severity"],
            event_count=inc["event_count"],
            open_events=inc["open_events"],
            types=inc["types"],
            object_classes=inc["object_classes"],
            track_ids=inc["track_ids"],
            best_event_id=inc["best_event"],
            first_time=inc["first_at"],
            last_time=inc["last_at"],
            end_time=inc["end_at"],
            closed_reason=inc["closed_reason"],
            sent_at=sent_at or datetime.now(UTC),
        )

    def __call__(self, incident_ids: list[int]) -> None:
        """Send the payloads of these incidents to every target (one failing stops no other)."""
        for iid in incident_ids:
            p = self.payload(iid)
            if p is None:
                continue
            for target in self.targets:
                try:
                    target.publish_incident(p)
                except Exception:  # one sink's failure must not stop the others
                    log.exception("incident payload to %r failed", target)
