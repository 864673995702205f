"""Admin routes: users, camera groups, the audit log and the console counters (plans: ``routes_plans``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from safecity.errors import InputError
from safecity.store.audit import AuditFilter
from safecity.store.schema import cameras, sites
from safecity.store.users import CameraGroup, LastAdminError, Session, UserRecord
from safecity.web.audit_views import camera_names
from safecity.web.audit_views import router as audit_router
from safecity.web.deps import AdminDep, Console, ConsoleDep, SessionDep, audit_action
from safecity.web.schemas import (
    GroupBody,
    OffsetParam,
    Password,
    UserCreateBody,
    UserPatchBody,
    UtcDatetime,
)

__all__ = ["router"]

router = APIRouter(tags=["admin"])
router.include_router(audit_router)


class PasswordResetBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Password = Field(
        min_length=8, max_length=512, description="the new password, as typed; the password policy applies"
    )


def _user_json(u: UserRecord) -> dict[str, Any]:
    return {
        "username": u.username,
        "role": u.role,
        "disabled": u.disabled,
        "created_at": u.created_at.isoformat(),
        "groups": list(u.groups),
    }


def _group_json(g: CameraGroup) -> dict[str, Any]:
    return {"name": g.name, "description": g.description, "cameras": list(g.cameras)}


def _audit(
    console: Console,
    admin: Session,
    request: Request,
    action: str,
    target_type: str,
    target_id: str,
    detail: str | None = None,
) -> None:
    """Audit one allowed admin action (who, what, on which user or group, from where)."""
    audit_action(console, request, admin, action, target_type=target_type, target_id=target_id, detail=detail)


def _bad_input(exc: InputError) -> HTTPException:
    """400, or 409 for a change that would leave no enabled admin."""
    return HTTPException(status_code=409 if isinstance(exc, LastAdminError) else 400, detail=str(exc))


@router.get("/api/users")
def list_users(console: ConsoleDep, _: AdminDep) -> dict[str, Any]:
    """All console users with role, camera groups and the disabled flag (admins only)."""
    return {"users": [_user_json(u) for u in console.users.list_users()]}


@router.post("/api/users", status_code=201)
def create_user(
    body: UserCreateBody, request: Request, console: ConsoleDep, admin: AdminDep
) -> dict[str, Any]:
    """Create a user (and put them in camera groups)."""
    try:
        if console.users.get_user(body.username) is not None:
            raise HTTPException(status_code=409, detail=f"user {body.username!r} already exists")
        user = console.users.add_user(body.username, body.password, body.role, body.groups)
    except InputError as exc:
        raise _bad_input(exc) from exc
    _audit(
        console,
        admin,
        request,
        "user_create",
        "user",
        body.username,
        detail=f"role {body.role}, groups {', '.join(body.groups) or '-'}",
    )
    return _user_json(user)


@router.patch("/api/users/{username}")
def patch_user(
    username: str, body: UserPatchBody, request: Request, console: ConsoleDep, admin: AdminDep
) -> dict[str, Any]:
    """Change role, password, disabled flag or groups; a new password or disabling ends sessions."""
    if console.users.get_user(username) is None:
        raise HTTPException(status_code=404, detail=f"no user named {username!r}")
    try:
        user = console.users.update_user(
            username, role=body.role, password=body.password, disabled=body.disabled, groups=body.groups
        )
    except InputError as exc:
        raise _bad_input(exc) from exc
    changed = sorted(k for k, v in body.model_dump().items() if v is not None)
    _audit(
        console,
        admin,
        request,
        "user_update",
        "user",
        username,
        detail=f"changed {', '.join(changed) or 'nothing'}",
    )
    return _user_json(user)


@router.delete("/api/users/{username}")
def delete_user(username: str, request: Request, console: ConsoleDep, admin: AdminDep) -> dict[str, bool]:
    """Delete a user and their sessions (not yourself)."""
    if username == admin.user.username:
        raise HTTPException(status_code=400, detail="you cannot delete your own account; ask another admin")
    if console.users.get_user(username) is None:
        raise HTTPException(status_code=404, detail=f"no user named {username!r}")
    try:
        console.users.delete_user(username)
    except InputError as exc:
        raise _bad_input(exc) from exc
    _audit(console, admin, request, "user_delete", "user", username)
    return {"deleted": True}


@router.post("/api/users/{username}/password")
def reset_password(
    username: str, body: PasswordResetBody, request: Request, console: ConsoleDep, admin: AdminDep
) -> dict[str, Any]:
    """An admin sets a user's new password (policy checked); every session of the user ends."""
    if console.users.get_user(username) is None:
        raise HTTPException(status_code=404, detail=f"no user named {username!r}")
    try:
        ended = console.users.reset_password(username, body.password)
    except InputError as exc:
        audit_action(
            console,
            request,
            admin,
            "user_password_reset",
            target_type="user",
            target_id=username,
            allowed=False,
            detail=f"400: {exc}"[:500],
        )
        raise _bad_input(exc) from exc
    _audit(
        console,
        admin,
        request,
        "user_password_reset",
        "user",
        username,
        detail=f"password reset by an admin; {ended} session{'' if ended == 1 else 's'} ended",
    )
    return {"username": username, "sessions_ended": ended}


def _camera_catalogue(console: Console) -> list[dict[str, Any]]:
    """Every camera an admin can put in a group: monitored ones (config) first, then the registry's."""
    out: list[dict[str, Any]] = [
        {"key": k, "name": m.name or k, "live": True, "purpose": None, "district": None, "address": None}
        for k, m in console.services.live_cameras.items()
    ]
    monitor = console.services.monitor
    for key in monitor.cameras() if monitor is not None else []:
        if key not in console.services.live_cameras:
            out.append(
                {"key": key, "name": key, "live": True, "purpose": None, "district": None, "address": None}
            )
    seen = {c["key"] for c in out}
    stmt = select(
        cameras.c.camera_key, cameras.c.name, cameras.c.purpose, cameras.c.district, sites.c.address
    ).select_from(cameras.outerjoin(sites, cameras.c.site_id == sites.c.id))
    with console.services.engine.connect() as c:
        for key, name, purpose, district, address in c.execute(stmt.order_by(cameras.c.id)):
            if str(key) in seen:
                continue
            out.append(
                {
                    "key": str(key),
                    "name": str(name or purpose or key),
                    "live": False,
                    "purpose": purpose,
                    "district": district,
                    "address": address,
                }
            )
    return out


@router.get("/api/admin/cameras")
def search_cameras(
    console: ConsoleDep,
    _: AdminDep,
    q: Annotated[
        str | None,
        Query(max_length=100, description="words that must all appear in the name, address, purpose or key"),
    ] = None,
    group: Annotated[str | None, Query(max_length=100, description="only the cameras of this group")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: OffsetParam = 0,
) -> dict[str, Any]:
    """Cameras by name for the group editor (admins): search words, a group's members, their groups."""
    groups_of: dict[str, list[str]] = {}
    members: set[str] | None = None
    for g in console.users.list_groups():
        for key in g.cameras:
            groups_of.setdefault(key, []).append(g.name)
        if g.name == group:
            members = set(g.cameras)
    if group is not None and members is None:
        raise HTTPException(status_code=404, detail=f"no camera group named {group!r}")
    rows = _camera_catalogue(console)
    if members is not None:
        known = {r["key"] for r in rows}
        rows = [r for r in rows if r["key"] in members]
        rows += [  # keys in the group that no config or registry knows (kept, shown as such)
            {
                "key": k,
                "name": k,
                "live": False,
                "purpose": None,
                "district": None,
                "address": None,
                "unknown": True,
            }
            for k in sorted(members - known)
        ]
    words = (q or "").casefold().split()
    if words:
        rows = [
            r
            for r in rows
            if all(
                w
                in " ".join(
                    str(r[f] or "") for f in ("key", "name", "purpose", "district", "address")
                ).casefold()
                for w in words
            )
        ]
    page = rows[offset : offset + limit]
    for r in page:
        r["groups"] = groups_of.get(r["key"], [])
    return {"total": len(rows), "cameras": page}


@router.get("/api/groups")
def list_groups(console: ConsoleDep, session: SessionDep) -> dict[str, Any]:
    """Camera groups: all of them for admins, the user's own for others."""
    groups = console.users.list_groups()
    if session.user.role != "admin":
        groups = [g for g in groups if g.name in session.user.groups]
    return {"groups": [_group_json(g) for g in groups]}


@router.put("/api/groups/{name}")
def put_group(
    name: str, body: GroupBody, request: Request, console: ConsoleDep, admin: AdminDep
) -> dict[str, Any]:
    """Create a camera group or replace its cameras and description."""
    try:
        group = console.users.upsert_group(name, body.cameras, body.description)
    except InputError as exc:
        raise _bad_input(exc) from exc
    _audit(console, admin, request, "group_update", "group", name, detail=f"{len(group.cameras)} cameras")
    return _group_json(group)


@router.delete("/api/groups/{name}")
def delete_group(name: str, request: Request, console: ConsoleDep, admin: AdminDep) -> dict[str, bool]:
    """Delete a camera group (its users lose access to its cameras)."""
    if not console.users.delete_group(name):
        raise HTTPException(status_code=404, detail=f"no camera group named {name!r}")
    _audit(console, admin, request, "group_delete", "group", name)
    return {"deleted": True}


@router.get("/api/audit")
def audit(
    console: ConsoleDep,
    _: AdminDep,
    username: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=48, description="e.g. login, view_camera, ack")] = None,
    target_type: Annotated[str | None, Query(max_length=32)] = None,
    target_id: Annotated[str | None, Query(max_length=128)] = None,
    camera: Annotated[str | None, Query(max_length=128, description="rows about this camera key")] = None,
    allowed: Annotated[bool | None, Query()] = None,
    since: Annotated[UtcDatetime | None, Query(description="ISO 8601")] = None,
    until: Annotated[UtcDatetime | None, Query(description="ISO 8601")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: OffsetParam = 0,
) -> dict[str, Any]:
    """The audit log, newest first, filtered (admins only)."""
    if camera is not None:
        target_type, target_id = "camera", camera
    f = AuditFilter(username, action, target_type, target_id, allowed, since, until, limit, offset)
    rows = console.audit.query(f)
    names = camera_names(console, {e.target_id for e in rows if e.target_type == "camera" and e.target_id})
    entries = [
        {
            **asdict(e),
            "at": e.at.isoformat(),
            "camera_name": names.get(e.target_id) if e.target_type == "camera" and e.target_id else None,
        }
        for e in rows
    ]
    return {"total": console.audit.count(f), "entries": entries}


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


@router.get("/api/stats")
def stats(console: ConsoleDep, _: AdminDep) -> dict[str, Any]:
    """Console and runtime counters (admins): WebSocket clients, event-to-wall latency, runtime stats."""
    lat = list(console.hub.wall_latency_s)
    monitor = console.services.monitor
    runtime_stats = getattr(monitor, "stats", None)
    return {
        "ws_clients": console.hub.n_subscribers,
        "unauthenticated_total": console.anonymous.total if console.anonymous is not None else 0,
        "wall_latency_s": {"n": len(lat), "p50": _quantile(lat, 0.5), "p95": _quantile(lat, 0.95)},
        "runtime": runtime_stats() if callable(runtime_stats) else None,
    }
