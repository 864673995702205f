"""``/api/events``: the event queue and history, acknowledge / escalate / close, snapshots and clips.

Every snapshot or clip served, and every state change, is written to the audit log with who,
when and from where. A user only sees events of the cameras in their camera groups.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse

from safecity.errors import InputError
from safecity.media import read_clip_start
from safecity.store.event_links import event_links
from safecity.store.users import Session
from safecity.web.deps import Console, ConsoleDep, OperatorDep, SessionDep, client_addr, require_camera
from safecity.web.schemas import EscalateBody, NoteBody, OffsetParam, UtcDatetime

__all__ = ["router"]

router = APIRouter(prefix="/api/events", tags=["events"])

StateParam = Annotated[
    str | None, Query(pattern="^(new|acknowledged|escalated|closed)$", description="event state")
]


def _linked(console: Console, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events with ``camera_name`` (Hangul, from the monitoring config), ``incident_id`` and
    ``suppressed_by`` (the false-alarm suppression that hid it, if any)."""
    links = event_links(console.services.engine, [str(r["uid"]) for r in rows])
    out = []
    for row in rows:
        cam = console.services.live_cameras.get(str(row["camera"]))
        incident_id, suppressed_by = links.get(str(row["uid"]), (None, None))
        out.append(
            {
                **row,
                "camera_name": cam.name if cam is not None else None,
                "incident_id": incident_id,
                "suppressed_by": suppressed_by,
            }
        )
    return out


def _visible_event(
    console: Console, request: Request, session: Session, uid: str, action: str
) -> dict[str, Any]:
    ev = console.events.get_event(uid)
    if ev is None:
        raise HTTPException(status_code=404, detail=f"no event with uid {uid!r}")
    require_camera(console, request, session, str(ev["camera"]), action=action)
    return ev


@router.get("")
def list_events(
    console: ConsoleDep,
    request: Request,
    session: SessionDep,
    camera: Annotated[str | None, Query(max_length=128, description="camera key")] = None,
    type: Annotated[str | None, Query(max_length=32, description="event type, e.g. intrusion")] = None,
    zone: Annotated[str | None, Query(max_length=100, description="zone or line name")] = None,
    state: StateParam = None,
    since: Annotated[UtcDatetime | None, Query(description="start time from (ISO 8601)")] = None,
    until: Annotated[UtcDatetime | None, Query(description="start time before (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: OffsetParam = 0,
) -> dict[str, Any]:
    """Events newest first (only cameras in the user's groups), with the total that match; each with
    ``camera_name``, ``incident_id`` and ``suppressed_by``."""
    if camera is not None:
        require_camera(console, request, session, camera, action="list_events")
    keys = console.users.cameras_of(session.user)
    filters: dict[str, Any] = {
        "camera": camera,
        "type": type,
        "zone": zone,
        "state": state,
        "since": since,
        "until": until,
        "camera_keys": keys,
    }
    rows = console.events.list_events(**filters, limit=limit, offset=offset)
    return {"total": console.events.count_events(**filters), "events": _linked(console, rows)}


@router.get("/{uid}")
def get_event(uid: str, console: ConsoleDep, request: Request, session: SessionDep) -> dict[str, Any]:
    """One event with its updates, acknowledgements and escalations, its camera's name, its incident
    and the suppression that hid it (if any); ``clip_start_at`` (ISO 8601 UTC, or None when the clip is
    not on disk or predates the recorded start) and ``clip_duration_s`` let a player seek to a moment."""
    ev = _linked(console, [_visible_event(console, request, session, uid, "view_event")])[0]
    return {**ev, **_clip_timing(console, ev)}


def _clip_timing(console: Console, ev: dict[str, Any]) -> dict[str, Any]:
    rel = ev.get("clip_path")
    root = console.services.media_root.resolve()
    path = (root / rel).resolve() if rel else None
    if path is None or not path.is_relative_to(root) or not path.is_file():
        return {"clip_start_at": None, "clip_duration_s": None}
    try:
        start, duration = read_clip_start(path)
    except InputError:
        return {"clip_start_at": None, "clip_duration_s": None}
    at = None if start is None else dt.datetime.fromtimestamp(start, dt.UTC).isoformat()
    return {"clip_start_at": at, "clip_duration_s": round(duration, 3)}


def _media(console: Console, request: Request, session: Session, uid: str, which: str) -> FileResponse:
    action = "view_snapshot" if which == "snapshot" else "view_clip"
    ev = _visible_event(console, request, session, uid, action)
    rel = ev.get(f"{which}_path")
    root = console.services.media_root.resolve()
    path = (root / rel).resolve() if rel else None
    if path is None or not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(
            status_code=404,
            detail=f"the {which} of event {uid!r} is not on disk (not written yet, or removed by retention)",
        )
    if which == "clip":  # one viewing session per play, not a row per range request of the <video>
        console.viewing.view(
            str(ev["camera"]), session.user.username, "playback", remote_addr=client_addr(request), detail=uid
        )
    else:
        console.audit.record(
            action,
            username=session.user.username,
            allowed=True,
            target_type="event",
            target_id=uid,
            remote_addr=client_addr(request),
            detail=f"camera {ev['camera']}",
        )
    media = "image/jpeg" if which == "snapshot" else "video/mp4"
    return FileResponse(Path(path), media_type=media)


@router.get("/{uid}/snapshot", response_class=FileResponse)
def snapshot(uid: str, console: ConsoleDep, request: Request, session: SessionDep) -> FileResponse:
    """The event's snapshot (privacy masks already applied by the recorder)."""
    return _media(console, request, session, uid, "snapshot")


@router.get("/{uid}/clip", response_class=FileResponse)
def clip(uid: str, console: ConsoleDep, request: Request, session: SessionDep) -> FileResponse:
    """The event's short MP4 clip (from a few seconds before to a few seconds after the start)."""
    return _media(console, request, session, uid, "clip")


def _transition(
    console: Console, request: Request, session: Session, uid: str, action: str, body: Any
) -> dict[str, Any]:
    ev = _visible_event(console, request, session, uid, action)
    user = session.user.username
    note = getattr(body, "note", None)
    target = getattr(body, "target", None)
    try:
        if action == "ack":
            out = console.events.acknowledge(uid, user, note)
        elif action == "escalate":
            out = console.events.escalate(uid, user, str(target), note)
        else:
            out = console.events.close_event(uid, user, note)
    except InputError as exc:
        console.audit.record(
            action,
            username=user,
            allowed=False,
            target_type="event",
            target_id=uid,
            remote_addr=client_addr(request),
            detail=f"409: {exc}",
        )
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    detail = " ".join(p for p in (f"to {target}" if target else "", note or "") if p)
    console.audit.record(
        action,
        username=user,
        allowed=True,
        target_type="event",
        target_id=uid,
        remote_addr=client_addr(request),
        detail=f"camera {ev['camera']}" + (f": {detail}" if detail else ""),
    )
    monitor = console.services.monitor
    if monitor is not None:
        monitor.acknowledge(uid)
    console.hub.note_state(uid, str(ev["camera"]), str(out["state"]))
    return out


@router.post("/{uid}/ack")
def acknowledge(
    uid: str, body: NoteBody, console: ConsoleDep, request: Request, session: OperatorDep
) -> dict[str, Any]:
    """Acknowledge a new event with an optional note (operators and admins)."""
    return _transition(console, request, session, uid, "ack", body)


@router.post("/{uid}/escalate")
def escalate(
    uid: str, body: EscalateBody, console: ConsoleDep, request: Request, session: OperatorDep
) -> dict[str, Any]:
    """Escalate to 112 (police), 119 (fire/ambulance) or the district office."""
    return _transition(console, request, session, uid, "escalate", body)


@router.post("/{uid}/close")
def close(
    uid: str, body: NoteBody, console: ConsoleDep, request: Request, session: OperatorDep
) -> dict[str, Any]:
    """Close an event (no further action)."""
    return _transition(console, request, session, uid, "close", body)
