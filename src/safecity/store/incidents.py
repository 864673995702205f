"""Incidents: events of one camera and zone/line folded together, decided in the event store's writer.

The event store's writer thread calls :func:`fold` inside the transaction that writes each event
message, so an event's incident is decided once, in message order, from what the database holds
(never from memory): a restart, a second writer or a spool replay gives the same incidents.

Folding (one message at a time):

- a ``start`` is first checked against the active false-alarm suppressions
  (:func:`safecity.store.suppressions.match_suppression`): a match is stored with ``suppressed_by``
  set and no incident (it is searchable, it rings nothing) and the suppression's count goes up;
- otherwise the policy gives its action: ``ignore`` (stored, no incident), ``record`` or ``alert``;
- it joins the open (not closed) incident of the same camera and *zone key* (the zone or line name;
  ``""`` for whole-frame rules; ``"@camera"`` for camera-health events) when that incident still has
  live events or its newest message is at most ``policy.window_s`` before the event's start, and it
  began at most ``policy.max_incident_s`` before (a zone busy for longer gets a fresh incident that
  rings again); else a new incident starts;
- an incident's level is the highest action of its events (``alert`` over ``record``); it
  **needs acknowledgement** while its level is ``alert`` and its state is ``new``. ``rings`` counts
  how often it entered that condition: when it starts as an alert, when a record incident becomes an
  alert, or when an acknowledged alert incident receives an event more severe than any before;
- ``update``/``end`` messages keep the incident's severity, last time, objects, best event and live
  event count current (an update may raise the action, e.g. loitering that grows severe);
- closed incidents are never changed: later events start a new incident.

:func:`auto_close` closes resolved incidents (no live events) at or below the policy's
``auto_close_max_severity`` that do not need acknowledgement, ``auto_close_after_s`` after their last
message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, insert, select, text, update

from safecity.store.schema import events, incident_actions, incidents
from safecity.store.suppressions import match_suppression

__all__ = [
    "Action",
    "FixedPolicy",
    "HEALTH_ZONE",
    "INCIDENT_STATES",
    "IncidentPolicy",
    "auto_close",
    "fold",
    "zone_key",
]

Action = Literal["alert", "record", "ignore"]
INCIDENT_STATES: tuple[str, ...] = ("new", "acknowledged", "escalated", "closed")
HEALTH_ZONE = "@camera"
_MAX_TRACKS = 200
_RANK = {"ignore": 0, "record": 1, "alert": 2}


class IncidentPolicy(Protocol):
    """What folding needs from the alert policy (``safecity.monitor.config.policy`` implements it)."""

    @property
    def window_s(self) -> float: ...
    @property
    def auto_close_after_s(self) -> float | None: ...
    @property
    def max_incident_s(self) -> float | None: ...
    @property
    def auto_close_max_severity(self) -> int: ...

    def action(self, camera: str, type_: str, severity: int, zone: str | None, at: datetime) -> Action:
        """``alert``, ``record`` or ``ignore`` for an event of this camera, type, severity, zone, time."""
        ...


@dataclass(frozen=True, slots=True)
class FixedPolicy:
    """A policy with one action for everything (the store's default when no config gives one)."""

    window_s: float = 120.0
    max_incident_s: float | None = None
    auto_close_after_s: float | None = None
    auto_close_max_severity: int = 2
    fixed: Action = "alert"

    def action(self, camera: str, type_: str, severity: int, zone: str | None, at: datetime) -> Action:
        return self.fixed


def zone_key(type_: str, zone: str | None) -> str:
    """The zone part of an incident's key: the zone/line name, ``@camera`` for health, ``""`` otherwise."""
    if type_.startswith("camera_"):
        return HEALTH_ZONE
    return zone or ""


def _lock_key(conn: Connection, camera: str, zkey: str) -> None:
    """On PostgreSQL, serialise writers deciding the incident of one camera and zone key (a transaction
    advisory lock): two writers (say ``safecity monitor`` and the console) never both start an incident
    for the same place. SQLite serialises writers itself (a writer that read before another's commit
    fails with "database is locked" and the event store retries the message)."""
    if conn.dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"{camera}\x00{zkey}".encode(), digest_size=8).digest()
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int.from_bytes(digest, "big", signed=True)})


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _score(ev: Mapping[str, Any]) -> float:
    raw = ev["detail"].get("score", 0.0)
    extra = float(raw) if isinstance(raw, int | float) and 0.0 <= float(raw) <= 1.0 else 0.0
    return float(ev["severity"]) + extra


def _merge(old: list[Any] | None, new: Any, cap: int | None = None) -> list[Any]:
    items = set(old or [])
    items.update(x for x in new if x is not None)
    out = sorted(items)
    return out[:cap] if cap is not None else out


def fold(
    conn: Connection,
    *,
    event_id: int,
    kind: str,
    ev: Mapping[str, Any],
    start_at: datetime,
    at: datetime,
    is_new: bool,
    incident_id: int | None,
    policy: IncidentPolicy,
) -> int | None:
    """Fold one event message (see the module docstring); returns the incident id that changed, or None.

    ``ev`` is the event as the spool holds it (``event_to_record``), ``at`` the message's time,
    ``incident_id`` the event row's incident (None for a new event).
    """
    now = datetime.now(UTC)
    if is_new:
        sup = match_suppression(conn, ev, start_at)
        if sup is not None:
            conn.execute(update(events).where(events.c.id == event_id).values(suppressed_by=sup))
            return None
    action = policy.action(ev["camera"], ev["type"], int(ev["severity"]), ev["zone"], start_at)
    if not is_new and incident_id is None:
        return None  # ignored or suppressed when it started: it stays so
    if is_new and action == "ignore":
        return None
    ended = kind == "end"
    if incident_id is None:
        zkey = zone_key(ev["type"], ev["zone"])
        _lock_key(conn, ev["camera"], zkey)
        row = conn.execute(
            select(incidents)
            .where(
                incidents.c.camera_key == ev["camera"],
                incidents.c.zone_key == zkey,
                incidents.c.closed_at.is_(None),
            )
            .order_by(incidents.c.id.desc())
            .limit(1)
            .with_for_update()
        ).first()
        window = timedelta(seconds=policy.window_s)
        cap = policy.max_incident_s
        if (
            row is None
            or (row.open_events <= 0 and start_at - _aware(row.last_at) > window)
            or (cap is not None and start_at - _aware(row.first_at) > timedelta(seconds=cap))
        ):
            level = "alert" if action == "alert" else "record"
            result = conn.execute(
                insert(incidents).values(
                    camera_key=ev["camera"],
                    zone_key=zkey,
                    zone=ev["zone"],
                    level=level,
                    state="new",
                    needs_ack=level == "alert",
                    rings=1 if level == "alert" else 0,
                    severity=int(ev["severity"]),
                    first_at=start_at,
                    last_at=max(at, start_at),
                    end_at=at if ended else None,
                    event_count=1,
                    open_events=0 if ended else 1,
                    types=[ev["type"]],
                    object_classes=_merge(None, [ev["object_class"]]),
                    track_ids=_merge(None, ev["track_ids"], _MAX_TRACKS),
                    best_event_id=event_id,
                    best_score=_score(ev),
                    updated_at=now,
                )
            )
            pk = result.inserted_primary_key
            assert pk is not None
            new_id = int(pk[0])
            conn.execute(update(events).where(events.c.id == event_id).values(incident_id=new_id))
            return new_id
        conn.execute(update(events).where(events.c.id == event_id).values(incident_id=row.id))
        _join(conn, row, event_id, ev, at, action, now, new_event=True, ended=ended)
        return int(row.id)
    row = conn.execute(select(incidents).where(incidents.c.id == incident_id).with_for_update()).first()
    if row is None or row.closed_at is not None:
        return None  # deleted, or closed by an operator: a closed incident is never changed
    _join(conn, row, event_id, ev, at, action, now, new_event=False, ended=ended)
    return int(row.id)


def _join(
    conn: Connection,
    row: Any,
    event_id: int,
    ev: Mapping[str, Any],
    at: datetime,
    action: Action,
    now: datetime,
    *,
    new_event: bool,
    ended: bool,
) -> None:
    sev = int(ev["severity"])
    values: dict[str, Any] = {
        "last_at": max(_aware(row.last_at), at),
        "updated_at": now,
        "types": _merge(row.types, [ev["type"]]),
        "object_classes": _merge(row.object_classes, [ev["object_class"]]),
        "track_ids": _merge(row.track_ids, ev["track_ids"], _MAX_TRACKS),
        "severity": max(int(row.severity), sev),
    }
    open_events = int(row.open_events)
    if new_event:
        values["event_count"] = int(row.event_count) + 1
        open_events += 0 if ended else 1
    elif ended:
        open_events = max(0, open_events - 1)
    values["open_events"] = open_events
    if open_events == 0:
        values["end_at"] = max(_aware(row.end_at), at) if row.end_at is not None else at
    else:
        values["end_at"] = None
    score = _score(ev)
    if score > float(row.best_score):
        values["best_score"], values["best_event_id"] = score, event_id
    ring = False
    if action == "alert" and row.level != "alert":
        values["level"] = "alert"
        ring = row.state in ("new", "acknowledged")
    elif action == "alert" and row.state == "acknowledged" and sev > int(row.severity):
        ring = True
    if ring:
        values.update(state="new", needs_ack=True, rings=int(row.rings) + 1)
        if row.state == "acknowledged":
            conn.execute(
                insert(incident_actions).values(
                    incident_id=row.id,
                    username=None,
                    at=now,
                    action="reopen",
                    note=f"{ev['type']} severity {sev} after acknowledgement",
                )
            )
    conn.execute(update(incidents).where(incidents.c.id == row.id).values(**values))


def auto_close(conn: Connection, policy: IncidentPolicy, now: datetime) -> list[int]:
    """Close resolved low-severity incidents that need no acknowledgement (see the module docstring).

    Returns the ids closed (their events are closed too; each gets an ``auto_close`` action).
    """
    after = policy.auto_close_after_s
    if after is None:
        return []
    cutoff = now - timedelta(seconds=after)
    ids = [
        int(r.id)
        for r in conn.execute(
            select(incidents.c.id).where(
                incidents.c.closed_at.is_(None),
                incidents.c.open_events == 0,
                incidents.c.needs_ack.is_(False),
                incidents.c.severity <= policy.auto_close_max_severity,
                incidents.c.last_at < cutoff,
            )
        )
    ]
    if not ids:
        return []
    conn.execute(
        update(incidents)
        .where(incidents.c.id.in_(ids))
        .values(state="closed", closed_reason="auto", closed_at=now, needs_ack=False, updated_at=now)
    )
    conn.execute(
        update(events)
        .where(events.c.incident_id.in_(ids), events.c.state != "closed")
        .values(state="closed", updated_at=now)
    )
    conn.execute(
        insert(incident_actions),
        [
            {
                "incident_id": i,
                "username": None,
                "at": now,
                "action": "auto_close",
                "target": None,
                "note": f"resolved, severity <= {policy.auto_close_max_severity}, quiet for {after:g} s",
            }
            for i in ids
        ],
    )
    return ids
