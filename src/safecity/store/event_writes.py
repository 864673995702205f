"""The event store's write path: one monitoring message into the database, inside a transaction.

:func:`apply_record` is what :class:`safecity.store.events.EventStore`'s writer thread runs for each
message (``start`` / ``update`` / ``end``; the rules are in that module's docstring): the ``events``
row, its incident (:func:`safecity.store.incidents.fold`), one ``event_updates`` row per message
(a replayed message is skipped) and ``camera_health`` for ``camera_*`` events.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from safecity.health import HEALTH_OF_TYPE
from safecity.media import media_paths
from safecity.store.incidents import IncidentPolicy, fold
from safecity.store.schema import camera_health, event_updates, events

__all__ = ["apply_record", "utc"]


def utc(t_s: float) -> datetime:
    """Unix seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(t_s, tz=UTC)


# Statements built once (the writer's cost is mostly statement construction otherwise).
_SEL_EVENT = select(events.c.id, events.c.state, events.c.incident_id).where(
    events.c.uid == bindparam("uid_")
)
_INS_EVENT = insert(events)
_UPD_EVENT = update(events).where(events.c.id == bindparam("eid_"))
_SEL_DUP = select(event_updates.c.id).where(
    event_updates.c.event_id == bindparam("eid_"),
    event_updates.c.kind == bindparam("kind_"),
    event_updates.c.at == bindparam("at_"),
)
_INS_UPDATE = insert(event_updates)


def apply_record(
    conn: Connection,
    record: Mapping[str, Any],
    media_root: Path | None,
    refused: set[str],
    policy: IncidentPolicy | None = None,
    changed: list[int] | None = None,
) -> str | None:
    """Write one message (see the module docstring) inside the caller's transaction.

    Returns why the message was refused (it is then not written), or None. A start whose uid is
    already stored is refused (a replay of the very same start is skipped), and so is every later
    message of that uid from this writer; an update or end of an event the operator closed is kept in
    its history only (the row, its end time included, stays as the operator left it).
    """
    kind: str = record["kind"]
    ev: Mapping[str, Any] = record["event"]
    epoch = float(record.get("epoch_s", 0.0))
    t_msg = ev["end_s"] if kind == "end" and ev["end_s"] is not None else ev["last_s"]
    at = utc(epoch + float(t_msg))
    uid = ev["uid"]
    if uid in refused:
        return f"the start of event {uid!r} was refused (its uid was already stored); {kind} set aside"
    row = conn.execute(_SEL_EVENT, {"uid_": uid}).first()
    if row is not None and kind == "start":
        if conn.execute(_SEL_DUP, {"eid_": row.id, "kind_": kind, "at_": at}).first() is not None:
            return None  # the same start written again (spool replay): nothing to do
        refused.add(uid)
        return (
            f"a start for event {uid!r} arrived, but an event with that uid is already stored: not "
            "merged into it (event uids must be unique across runs; is an old monitor version running?)"
        )
    health = HEALTH_OF_TYPE.get(ev["type"])
    if row is not None and row.state == "closed":
        _add_update(conn, row.id, kind, at, ev, after_close=True)
        if health is not None:
            _update_health(conn, ev["camera"], kind, health, at, ev)
        return None
    now = datetime.now(UTC)
    detail = {"count": ev["count"], **ev["detail"]}
    values: dict[str, Any] = {
        "severity": ev["severity"],
        "zone": ev["zone"],
        "object_class": ev["object_class"],
        "direction": ev["direction"],
        "track_ids": ev["track_ids"],
        "detail": detail,
        "updated_at": now,
    }
    if ev["box_frac"] is not None:
        values["box"] = ev["box_frac"]
    if ev["end_s"] is not None:
        values["end_at"] = utc(epoch + float(ev["end_s"]))
    if row is None:
        snap = clip = None
        if media_root is not None and ev["type"] != "camera_offline":
            snap_p, clip_p = media_paths(Path("."), ev["camera"], ev["uid"])
            snap, clip = snap_p.as_posix(), clip_p.as_posix()
        values.setdefault("box", None)
        values.setdefault("end_at", None)
        result = conn.execute(
            _INS_EVENT,
            {
                "uid": ev["uid"],
                "camera_key": ev["camera"],
                "type": ev["type"],
                "start_at": utc(epoch + float(ev["start_s"])),
                "state": "new",
                "snapshot_path": snap,
                "clip_path": clip,
                **values,
            },
        )
        pk = result.inserted_primary_key
        assert pk is not None
        event_id = pk[0]
        incident_id = None
    else:
        event_id, incident_id = row.id, row.incident_id
        conn.execute(_UPD_EVENT, {"eid_": event_id, **values})
    if policy is not None:
        start_at = utc(epoch + float(ev["start_s"]))
        inc = fold(
            conn,
            event_id=event_id,
            kind=kind,
            ev=ev,
            start_at=start_at,
            at=at,
            is_new=row is None,
            incident_id=incident_id,
            policy=policy,
        )
        if inc is not None and changed is not None:
            changed.append(inc)
    _add_update(conn, event_id, kind, at, ev)
    if health is not None:
        _update_health(conn, ev["camera"], kind, health, at, ev)
    return None


def _add_update(
    conn: Connection,
    event_id: int,
    kind: str,
    at: datetime,
    ev: Mapping[str, Any],
    *,
    after_close: bool = False,
) -> None:
    """One ``event_updates`` row, unless the same (kind, at) is there already (a replayed message)."""
    if conn.execute(_SEL_DUP, {"eid_": event_id, "kind_": kind, "at_": at}).first() is not None:
        return
    detail = {
        "severity": ev["severity"],
        "zone": ev["zone"],
        "count": ev["count"],
        "track_ids": ev["track_ids"],
        "box": ev["box_frac"],
        **ev["detail"],
    }
    if after_close:
        detail["after_close"] = True  # the operator had closed the event: the row was left as it was
    conn.execute(_INS_UPDATE, {"event_id": event_id, "at": at, "kind": kind, "detail": detail})


def _update_health(
    conn: Connection, camera: str, kind: str, health: str, at: datetime, ev: Mapping[str, Any]
) -> None:
    row = conn.execute(
        select(camera_health.c.state).where(camera_health.c.camera_key == camera).with_for_update()
    ).first()
    reason = ev["detail"].get("reason")
    text = f"{ev['type']} {kind}" + (f": {reason}" if reason else "")
    if kind == "end":
        if row is not None and row.state != health:
            # Another problem is current (e.g. offline while a frozen event ends): keep it.
            conn.execute(
                update(camera_health).where(camera_health.c.camera_key == camera).values(last_event_at=at)
            )
            return
        new_state = "online"
    else:
        new_state = health
    if row is None:
        conn.execute(
            insert(camera_health).values(
                camera_key=camera, state=new_state, since=at, last_event_at=at, detail=text
            )
        )
    elif row.state != new_state:
        conn.execute(
            update(camera_health)
            .where(camera_health.c.camera_key == camera)
            .values(state=new_state, since=at, last_event_at=at, detail=text)
        )
    else:
        conn.execute(
            update(camera_health)
            .where(camera_health.c.camera_key == camera)
            .values(last_event_at=at, detail=text)
        )
