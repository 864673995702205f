"""``/api/incidents`` (the operator queue of folded events) and ``/api/suppressions`` (false alarms).

Scoped and role-checked like the event routes: a user sees incidents of the cameras in their camera
groups; acknowledge, escalate, close and false alarm need an operator (or admin) and are audited with
the operator's note; viewers get 403 (audited). Admins see and lift every suppression, operators
those of their cameras.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from safecity.errors import InputError
from safecity.store.incident_store import IncidentStore
from safecity.store.users import Session
from safecity.web.deps import (
    Console,
    ConsoleDep,
    OperatorDep,
    SessionDep,
    audit_action,
    require_camera,
)
from safecity.web.schemas import EscalateBody, NoteBody, OffsetParam, RowIdPath, UtcDatetime
from safecity.web.schemas_incidents import (
    FalseAlarmBody,
    FalseAlarmOut,
    IncidentDetail,
    IncidentList,
    SuppressionList,
    SuppressionOut,
)

__all__ = ["router", "suppressions_router"]

router = APIRouter(prefix="/api/incidents", tags=["incidents"])
suppressions_router = APIRouter(prefix="/api/suppressions", tags=["incidents"])

StateParam = Annotated[
    str | None, Query(pattern="^(new|acknowledged|escalated|closed)$", description="incident state")
]


def _store(console: Console) -> IncidentStore:
    return IncidentStore(console.services.engine)


def _named(console: Console, inc: dict[str, Any]) -> dict[str, Any]:
    cam = console.services.live_cameras.get(str(inc["camera"]))
    return {**inc, "camera_name": cam.name if cam is not None else None}


def _visible(
    console: Console, request: Request, session: Session, incident_id: int, action: str
) -> dict[str, Any]:
    store = _store(console)
    camera = store.camera_of(incident_id)
    if camera is None:
        raise HTTPException(status_code=404, detail=f"no incident with id {incident_id}")
    require_camera(console, request, session, camera, action=action)
    got = store.get_incident(incident_id)
    if got is None:
        raise HTTPException(status_code=404, detail=f"no incident with id {incident_id}")
    return got


@router.get("", response_model=IncidentList)
def list_incidents(
    console: ConsoleDep,
    request: Request,
    session: SessionDep,
    state: StateParam = None,
    level: Annotated[str | None, Query(pattern="^(alert|record)$", description="alert or record")] = None,
    needs_ack: Annotated[
        bool | None, Query(description="only those that need (or not) acknowledgement")
    ] = None,
    camera: Annotated[str | None, Query(max_length=128, description="camera key")] = None,
    since: Annotated[UtcDatetime | None, Query(description="last activity from (ISO 8601)")] = None,
    until: Annotated[UtcDatetime | None, Query(description="first event before (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: OffsetParam = 0,
    closed_reason: Annotated[
        str | None,
        Query(pattern="^(operator|auto|false_alarm)$", description="how it was closed"),
    ] = None,
) -> dict[str, Any]:
    """Incidents, newest activity first, with the total that match and counts per state (tab counts)."""
    if camera is not None:
        require_camera(console, request, session, camera, action="list_incidents")
    keys = console.users.cameras_of(session.user)
    store = _store(console)
    try:
        total, rows = store.list_incidents(
            state=state, level=level, needs_ack=needs_ack, camera=camera, since=since, until=until,
            camera_keys=keys, limit=limit, offset=offset, closed_reason=closed_reason,
        )  # fmt: skip
    except InputError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return {
        "total": total,
        "counts": store.counts(camera_keys=keys),
        "incidents": [_named(console, r) for r in rows],
    }


@router.get("/{incident_id}", response_model=IncidentDetail)
def get_incident(
    incident_id: RowIdPath, console: ConsoleDep, request: Request, session: SessionDep
) -> dict[str, Any]:
    """One incident with its timeline (events), operator actions and suppressions."""
    return _named(console, _visible(console, request, session, incident_id, "view_incident"))


def _audit(
    console: Console,
    request: Request,
    session: Session,
    action: str,
    incident_id: int,
    allowed: bool,
    detail: str,
) -> None:
    audit_action(
        console,
        request,
        session,
        action,
        target_type="incident",
        target_id=str(incident_id),
        allowed=allowed,
        detail=detail,
    )


def _after(console: Console, inc: dict[str, Any]) -> None:
    """Tell the alert sinks (payload v2), the wall and the live feed that the incident was handled."""
    console.events.notify_incidents([int(inc["id"])])
    monitor = console.services.monitor
    for ev in inc.get("timeline", []):
        if monitor is not None:
            monitor.acknowledge(str(ev["uid"]))
        console.hub.note_state(str(ev["uid"]), str(inc["camera"]), str(ev["state"]))


def _act(
    console: Console, request: Request, session: Session, incident_id: int, action: str, body: Any
) -> dict[str, Any]:
    inc = _visible(console, request, session, incident_id, f"incident_{action}")
    user = session.user.username
    note = getattr(body, "note", None)
    target = getattr(body, "target", None)
    store = _store(console)
    try:
        if action == "ack":
            out = store.acknowledge(incident_id, user, note)
        elif action == "escalate":
            out = store.escalate(incident_id, user, str(target), note)
        else:
            out = store.close(incident_id, user, note)
    except InputError as exc:
        _audit(console, request, session, f"incident_{action}", incident_id, False, f"409: {exc}")
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    detail = " ".join(p for p in (f"to {target}" if target else "", note or "") if p)
    _audit(
        console,
        request,
        session,
        f"incident_{action}",
        incident_id,
        True,
        f"camera {inc['camera']}, {out['event_count']} events" + (f": {detail}" if detail else ""),
    )
    _after(console, out)
    return _named(console, out)


@router.post("/{incident_id}/ack", response_model=IncidentDetail)
def acknowledge(
    incident_id: RowIdPath, body: NoteBody, console: ConsoleDep, request: Request, session: OperatorDep
) -> dict[str, Any]:
    """Acknowledge a new incident and its events, with an optional note (operators and admins)."""
    return _act(console, request, session, incident_id, "ack", body)


@router.post("/{incident_id}/escalate", response_model=IncidentDetail)
def escalate(
    incident_id: RowIdPath, body: EscalateBody, console: ConsoleDep, request: Request, session: OperatorDep
) -> dict[str, Any]:
    """Escalate an incident to 112 (police), 119 (fire/ambulance) or the district office (구청)."""
    return _act(console, request, session, incident_id, "escalate", body)


@router.post("/{incident_id}/close", response_model=IncidentDetail)
def close(
    incident_id: RowIdPath, body: NoteBody, console: ConsoleDep, request: Request, session: OperatorDep
) -> dict[str, Any]:
    """Close an incident and its events (later events start a new incident)."""
    return _act(console, request, session, incident_id, "close", body)


def _policy(console: Console) -> Any:
    from safecity.monitor.config.policy import AlertPolicy

    return console.services.alert_policy or AlertPolicy()


@router.post("/{incident_id}/false-alarm", response_model=FalseAlarmOut)
def false_alarm(
    incident_id: RowIdPath, body: FalseAlarmBody, console: ConsoleDep, request: Request, session: OperatorDep
) -> dict[str, Any]:
    """Close the incident as a false alarm and suppress matching events (same camera, rule, class and a
    region around the best event's box) for ``duration_s``; the events are still stored, flagged."""
    inc = _visible(console, request, session, incident_id, "false_alarm")
    policy = _policy(console)
    duration = body.duration_s if body.duration_s is not None else policy.suppress_default_s
    store = _store(console)
    try:
        sup = store.false_alarm(
            incident_id, session.user.username, duration_s=duration, max_duration_s=policy.suppress_max_s,
            min_iou=policy.suppress_min_iou, max_centre_dist=policy.suppress_max_centre_dist, note=body.note,
        )  # fmt: skip
    except InputError as exc:
        _audit(console, request, session, "false_alarm", incident_id, False, f"409: {exc}")
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    _audit(
        console,
        request,
        session,
        "false_alarm",
        incident_id,
        True,
        f"camera {inc['camera']}, suppression {sup['id']} of {sup['type']}/{sup['object_class']} "
        f"for {duration:g} s" + (f": {body.note}" if body.note else ""),
    )
    out = store.get_incident(incident_id)
    assert out is not None
    _after(console, out)
    return {"incident": _named(console, out), "suppression": sup}


@suppressions_router.get("", response_model=SuppressionList)
def list_suppressions(
    console: ConsoleDep,
    session: OperatorDep,
    active: Annotated[bool | None, Query(description="only active (true) or ended (false) ones")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Suppressions newest first with their suppressed counts (admins: all; operators: their cameras)."""
    keys = console.users.cameras_of(session.user)
    return {"suppressions": _store(console).list_suppressions(active=active, camera_keys=keys, limit=limit)}


@suppressions_router.delete("/{suppression_id}", response_model=SuppressionOut)
def lift_suppression(
    suppression_id: RowIdPath, console: ConsoleDep, request: Request, session: OperatorDep
) -> dict[str, Any]:
    """Lift a suppression now: matching events alert again (audited)."""
    store = _store(console)
    sup = store.get_suppression(suppression_id)
    if sup is None:
        raise HTTPException(status_code=404, detail=f"no suppression with id {suppression_id}")
    require_camera(console, request, session, str(sup["camera"]), action="lift_suppression")
    try:
        out = store.lift_suppression(suppression_id, session.user.username)
    except InputError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    audit_action(
        console,
        request,
        session,
        "lift_suppression",
        target_type="suppression",
        target_id=str(suppression_id),
        detail=f"camera {sup['camera']}, {sup['type']}, {sup['suppressed_count']} suppressed",
    )
    return out
