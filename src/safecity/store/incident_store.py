"""The console's view of incidents and suppressions: queries, operator actions, false alarms.

Incidents are made by the event store's writer (:mod:`safecity.store.incidents`); this module reads
them and applies operator actions, each in one transaction:

- ``acknowledge`` (new -> acknowledged), ``escalate`` to 112 / 119 / district (any open state ->
  escalated; again to another target is allowed), ``close`` (any open state -> closed): the
  incident's events that are not closed get the same state and an acknowledgement or escalation row
  each; the incident gets an ``incident_actions`` row with the operator's note;
- ``false_alarm``: closes the incident (``closed_reason = false_alarm``) and creates a suppression
  from its best event (camera, type, class, box) for a bounded time; ``lift_suppression`` ends one.

Query helpers return plain dicts with aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from safecity.errors import InputError, StoreError
from safecity.store.events import check_escalation_target
from safecity.store.incidents import INCIDENT_STATES
from safecity.store.schema import (
    acknowledgements,
    escalations,
    events,
    incident_actions,
    incidents,
    suppressions,
)
from safecity.store.suppressions import suppression_dict

__all__ = ["IncidentStore"]

_CLOSED_REASONS = ("operator", "auto", "false_alarm")
_VERB = {"acknowledged": "acknowledge", "escalated": "escalate", "closed": "close"}


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _incident_dict(m: Mapping[Any, Any], best_uid: str | None) -> dict[str, Any]:
    return {
        "id": m["id"],
        "camera": m["camera_key"],
        "zone": m["zone"],
        "level": m["level"],
        "state": m["state"],
        "needs_ack": bool(m["needs_ack"]),
        "rings": m["rings"],
        "severity": m["severity"],
        "first_at": _aware(m["first_at"]),
        "last_at": _aware(m["last_at"]),
        "end_at": _aware(m["end_at"]),
        "event_count": m["event_count"],
        "open_events": m["open_events"],
        "types": list(m["types"] or []),
        "object_classes": list(m["object_classes"] or []),
        "track_ids": list(m["track_ids"] or []),
        "best_event": best_uid,
        "closed_reason": m["closed_reason"],
        "closed_at": _aware(m["closed_at"]),
        "updated_at": _aware(m["updated_at"]),
    }


class IncidentStore:
    """Incidents and suppressions of a migrated store (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------ reading
    def _read(self) -> Any:
        try:
            return self.engine.connect()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read incidents: {exc}; is the database reachable?") from exc

    @staticmethod
    def _filtered(
        stmt: Any,
        *,
        state: str | None,
        level: str | None,
        needs_ack: bool | None,
        camera: str | None,
        since: datetime | None,
        until: datetime | None,
        camera_keys: Collection[str] | None,
        closed_reason: str | None = None,
    ) -> Any:
        if closed_reason is not None and closed_reason not in _CLOSED_REASONS:
            raise InputError(f"closed_reason must be one of {_CLOSED_REASONS}, got {closed_reason!r}")
        if closed_reason is not None:
            stmt = stmt.where(incidents.c.closed_reason == closed_reason)
        if state is not None and state not in INCIDENT_STATES:
            raise InputError(f"state must be one of {INCIDENT_STATES}, got {state!r}")
        if level is not None and level not in ("alert", "record"):
            raise InputError(f"level must be alert or record, got {level!r}")
        if state is not None:
            stmt = stmt.where(incidents.c.state == state)
        if level is not None:
            stmt = stmt.where(incidents.c.level == level)
        if needs_ack is not None:
            stmt = stmt.where(incidents.c.needs_ack.is_(needs_ack))
        if camera is not None:
            stmt = stmt.where(incidents.c.camera_key == camera)
        if since is not None:
            stmt = stmt.where(incidents.c.last_at >= since)
        if until is not None:
            stmt = stmt.where(incidents.c.first_at < until)
        if camera_keys is not None:
            stmt = stmt.where(incidents.c.camera_key.in_(sorted(camera_keys)))
        return stmt

    def list_incidents(
        self,
        *,
        state: str | None = None,
        level: str | None = None,
        needs_ack: bool | None = None,
        camera: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        camera_keys: Collection[str] | None = None,
        limit: int = 100,
        offset: int = 0,
        closed_reason: str | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total matching, incidents newest activity first) for these filters (``closed_reason``:
        operator, auto or false_alarm)."""
        if not 1 <= limit <= 1000:
            raise InputError(f"limit must be between 1 and 1000, got {limit}")
        if offset < 0:
            raise InputError(f"offset must be 0 or more, got {offset}")
        kw: dict[str, Any] = {"state": state, "level": level, "needs_ack": needs_ack, "camera": camera}
        kw_t: dict[str, Any] = {"since": since, "until": until, "camera_keys": camera_keys}
        kw_t["closed_reason"] = closed_reason
        stmt = self._filtered(
            select(incidents, events.c.uid.label("best_uid")).outerjoin(
                events, events.c.id == incidents.c.best_event_id
            ),
            **kw,
            **kw_t,
        )
        stmt = stmt.order_by(incidents.c.last_at.desc(), incidents.c.id.desc()).limit(limit).offset(offset)
        count = self._filtered(select(func.count()).select_from(incidents), **kw, **kw_t)
        with self._read() as conn:
            total = int(conn.execute(count).scalar_one())
            rows = [_incident_dict(r._mapping, r.best_uid) for r in conn.execute(stmt)]
        return total, rows

    def counts(self, *, camera_keys: Collection[str] | None = None) -> dict[str, int]:
        """Incidents per state plus ``needs_ack`` (for the queue's tab counts)."""
        stmt = select(incidents.c.state, func.count()).group_by(incidents.c.state)
        ack = select(func.count()).select_from(incidents).where(incidents.c.needs_ack.is_(True))
        if camera_keys is not None:
            keys = sorted(camera_keys)
            stmt = stmt.where(incidents.c.camera_key.in_(keys))
            ack = ack.where(incidents.c.camera_key.in_(keys))
        out = dict.fromkeys(INCIDENT_STATES, 0)
        with self._read() as conn:
            for state, n in conn.execute(stmt):
                out[str(state)] = int(n)
            out["needs_ack"] = int(conn.execute(ack).scalar_one())
        return out

    def camera_of(self, incident_id: int) -> str | None:
        """The camera of an incident, or None if there is none with this id."""
        with self._read() as conn:
            cam = conn.execute(select(incidents.c.camera_key).where(incidents.c.id == incident_id)).scalar()
        return None if cam is None else str(cam)

    def get_incident(self, incident_id: int, *, timeline_limit: int = 500) -> dict[str, Any] | None:
        """One incident with ``timeline`` (its events, oldest first, at most ``timeline_limit``),
        ``actions`` (operator and automatic) and ``suppressions`` made from it; None if none."""
        with self._read() as conn:
            row = conn.execute(
                select(incidents, events.c.uid.label("best_uid"))
                .outerjoin(events, events.c.id == incidents.c.best_event_id)
                .where(incidents.c.id == incident_id)
            ).first()
            if row is None:
                return None
            out = _incident_dict(row._mapping, row.best_uid)
            out["timeline"] = [
                {
                    "uid": r.uid,
                    "type": r.type,
                    "zone": r.zone,
                    "severity": r.severity,
                    "state": r.state,
                    "start_at": _aware(r.start_at),
                    "end_at": _aware(r.end_at),
                    "object_class": r.object_class,
                    "track_ids": r.track_ids,
                    "box": r.box,
                    "has_snapshot": r.snapshot_path is not None,
                }
                for r in conn.execute(
                    events.select()
                    .where(events.c.incident_id == incident_id)
                    .order_by(events.c.start_at, events.c.id)
                    .limit(max(0, timeline_limit))
                )
            ]
            out["actions"] = [
                {
                    "username": r.username,
                    "at": _aware(r.at),
                    "action": r.action,
                    "target": r.target,
                    "note": r.note,
                }
                for r in conn.execute(
                    incident_actions.select()
                    .where(incident_actions.c.incident_id == incident_id)
                    .order_by(incident_actions.c.id)
                )
            ]
            now = datetime.now(UTC)
            out["suppressions"] = [
                suppression_dict(r._mapping, now)
                for r in conn.execute(suppressions.select().where(suppressions.c.incident_id == incident_id))
            ]
        return out

    # ------------------------------------------------------------------ operator actions
    def acknowledge(self, incident_id: int, username: str, note: str | None = None) -> dict[str, Any]:
        """Acknowledge a ``new`` incident and its open events."""
        return self._act(incident_id, username, note, "acknowledged", ("new",), None)

    def escalate(
        self, incident_id: int, username: str, target: str, note: str | None = None
    ) -> dict[str, Any]:
        """Escalate an open incident to ``112`` (police), ``119`` (fire/ambulance) or ``district``."""
        check_escalation_target(target)
        return self._act(
            incident_id, username, note, "escalated", ("new", "acknowledged", "escalated"), target
        )

    def close(self, incident_id: int, username: str, note: str | None = None) -> dict[str, Any]:
        """Close an open incident and its open events (later events start a new incident)."""
        return self._act(incident_id, username, note, "closed", ("new", "acknowledged", "escalated"), None)

    def false_alarm(
        self,
        incident_id: int,
        username: str,
        *,
        duration_s: float,
        max_duration_s: float,
        min_iou: float,
        max_centre_dist: float,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Close the incident as a false alarm and suppress matching events for ``duration_s``.

        Returns the created suppression (:func:`safecity.store.suppressions.suppression_dict`).

        Raises:
            InputError: duration out of 60 s .. ``max_duration_s``, no such incident, or it is closed.
        """
        if not 60.0 <= duration_s <= max_duration_s:
            raise InputError(
                f"suppression duration must be between 60 s and {max_duration_s:g} s, got {duration_s:g} s"
            )
        now = datetime.now(UTC)
        made: list[int] = []

        def suppress(conn: Connection) -> None:  # in the transaction that closes the incident
            inc = conn.execute(select(incidents).where(incidents.c.id == incident_id)).one()
            best = conn.execute(select(events).where(events.c.id == inc.best_event_id)).first()
            values = {
                "camera_key": inc.camera_key,
                "type": best.type if best is not None else (inc.types or ["intrusion"])[0],
                "object_class": best.object_class if best is not None else None,
                "box": best.box if best is not None else None,
                "min_iou": min_iou,
                "max_centre_dist": max_centre_dist,
                "incident_id": incident_id,
                "username": username,
                "note": note,
                "created_at": now,
                "expires_at": now + timedelta(seconds=duration_s),
                "suppressed_count": 0,
            }
            pk = conn.execute(insert(suppressions).values(**values)).inserted_primary_key
            assert pk is not None
            made.append(int(pk[0]))

        self._act(
            incident_id,
            username,
            note,
            "closed",
            ("new", "acknowledged", "escalated"),
            None,
            "false_alarm",
            suppress,
        )
        got = self.get_suppression(made[0])
        assert got is not None
        return got

    def _act(
        self,
        incident_id: int,
        username: str,
        note: str | None,
        to_state: str,
        allowed_from: tuple[str, ...],
        target: str | None,
        reason: str = "operator",
        extra: Callable[[Connection], None] | None = None,
    ) -> dict[str, Any]:
        if not username:
            raise InputError("username must not be empty")
        now = datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                row = conn.execute(
                    select(incidents.c.id, incidents.c.state)
                    .where(incidents.c.id == incident_id)
                    .with_for_update()
                ).first()
                if row is None:
                    raise InputError(f"no incident with id {incident_id}; list incidents to find it")
                if row.state not in allowed_from:
                    raise InputError(
                        f"cannot {_VERB[to_state]} incident {incident_id}: it is {row.state}; only incidents "
                        f"that are {' or '.join(allowed_from)} can be {to_state}"
                    )
                values: dict[str, Any] = {"state": to_state, "needs_ack": False, "updated_at": now}
                if to_state == "closed":
                    values.update(closed_at=now, closed_reason=reason)
                conn.execute(update(incidents).where(incidents.c.id == incident_id).values(**values))
                action = {"acknowledged": "ack", "escalated": "escalate", "closed": "close"}[to_state]
                if reason == "false_alarm":
                    action = "false_alarm"
                conn.execute(
                    insert(incident_actions).values(
                        incident_id=incident_id,
                        username=username,
                        at=now,
                        action=action,
                        target=target,
                        note=note,
                    )
                )
                ids = [
                    int(r.id)
                    for r in conn.execute(
                        select(events.c.id).where(
                            events.c.incident_id == incident_id, events.c.state != "closed"
                        )
                    )
                ]
                if ids:
                    ev_note = f"incident {incident_id}" + (f": {note}" if note else "")
                    conn.execute(
                        update(events).where(events.c.id.in_(ids)).values(state=to_state, updated_at=now)
                    )
                    if target is not None:
                        conn.execute(
                            insert(escalations),
                            [
                                {
                                    "event_id": i,
                                    "username": username,
                                    "at": now,
                                    "target": target,
                                    "note": ev_note,
                                }
                                for i in ids
                            ],
                        )
                    else:
                        prefix = "" if to_state == "acknowledged" else f"{action}: "
                        conn.execute(
                            insert(acknowledgements),
                            [
                                {"event_id": i, "username": username, "at": now, "note": prefix + ev_note}
                                for i in ids
                            ],
                        )
                if extra is not None:
                    extra(conn)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot update incident {incident_id}: {exc}; is the database reachable?"
            ) from exc
        got = self.get_incident(incident_id)
        assert got is not None
        return got

    # ------------------------------------------------------------------ suppressions
    def list_suppressions(
        self, *, active: bool | None = None, camera_keys: Collection[str] | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Suppressions newest first (``active``: only active / only ended ones)."""
        if not 1 <= limit <= 1000:
            raise InputError(f"limit must be between 1 and 1000, got {limit}")
        now = datetime.now(UTC)
        stmt = suppressions.select().order_by(suppressions.c.id.desc()).limit(limit)
        if camera_keys is not None:
            stmt = stmt.where(suppressions.c.camera_key.in_(sorted(camera_keys)))
        if active is True:
            stmt = stmt.where(suppressions.c.lifted_at.is_(None), suppressions.c.expires_at > now)
        elif active is False:
            stmt = stmt.where((suppressions.c.lifted_at.is_not(None)) | (suppressions.c.expires_at <= now))
        with self._read() as conn:
            return [suppression_dict(r._mapping, now) for r in conn.execute(stmt)]

    def get_suppression(self, suppression_id: int) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(suppressions.select().where(suppressions.c.id == suppression_id)).first()
        return None if row is None else suppression_dict(row._mapping, datetime.now(UTC))

    def lift_suppression(self, suppression_id: int, username: str) -> dict[str, Any]:
        """End a suppression now (matching events alert again).

        Raises:
            InputError: no such suppression, or it has ended already.
        """
        now = datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                row = conn.execute(
                    suppressions.select().where(suppressions.c.id == suppression_id).with_for_update()
                ).first()
                if row is None:
                    raise InputError(f"no suppression with id {suppression_id}")
                if not suppression_dict(row._mapping, now)["active"]:
                    raise InputError(f"suppression {suppression_id} has ended already (lifted or expired)")
                conn.execute(
                    update(suppressions)
                    .where(suppressions.c.id == suppression_id)
                    .values(lifted_at=now, lifted_by=username)
                )
                row = conn.execute(suppressions.select().where(suppressions.c.id == suppression_id)).one()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot lift suppression {suppression_id}: {exc}") from exc
        return suppression_dict(row._mapping, now)
