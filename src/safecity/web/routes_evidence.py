"""Evidence exports and privacy-mask lifts: the console's most sensitive actions.

- ``POST /api/exports``: a signed evidence package of one event or of a camera's time range (at most
  24 h); needs the ``export_evidence`` permission (admin, operator) and the camera in the user's groups.
- ``GET /api/exports/{export_id}/package.zip``: download it (same checks).
- ``GET /api/evidence/public-key``: the installation's public key (PEM), to check packages offline.
- ``POST /api/cameras/{key}/mask-lift``: lift the camera's liftable privacy masks on this user's live
  view for 1..30 minutes with a reason; needs ``lift_privacy_mask`` (admin). ``GET`` shows the active
  lift, ``DELETE`` ends it early. It expires by itself (stored times); recordings stay masked.

Every request, allowed or refused, is written to the audit log (with the reason given).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from safecity.errors import InputError
from safecity.store.mask_lifts import MAX_LIFT_S, MaskLift
from safecity.store.permissions import Permission, has_permission, roles_with
from safecity.store.users import Session
from safecity.web.deps import Console, ConsoleDep, SessionDep, audit_action, client_addr, require_camera
from safecity.web.schemas import UtcDatetime

__all__ = ["ExportBody", "MaskLiftBody", "router"]

router = APIRouter(tags=["evidence"])

ExportId = Annotated[str, PathParam(max_length=128, pattern=r"^[A-Za-z0-9._-]+$")]
CameraKey = Annotated[str, PathParam(max_length=128)]


class ExportBody(BaseModel):
    """One event (``event_uid``) or a camera's range (``camera``, ``since``, ``until``), and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=2000, description="why (e.g. police request number)")
    event_uid: str | None = Field(default=None, min_length=1, max_length=64)
    camera: str | None = Field(default=None, min_length=1, max_length=128)
    since: UtcDatetime | None = None
    until: UtcDatetime | None = None

    @model_validator(mode="after")
    def _one_target(self) -> ExportBody:
        if (self.event_uid is None) == (self.camera is None):
            raise ValueError("give either event_uid, or camera with since and until")
        if self.camera is not None and (self.since is None or self.until is None):
            raise ValueError("a camera export needs since and until (at most 24 h apart)")
        return self


class MaskLiftBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500, description="why the mask is lifted")
    minutes: float = Field(gt=0, le=MAX_LIFT_S / 60, description="how long (at most 30 minutes)")


def _require_permission(
    console: Console, request: Request, session: Session, permission: Permission, target: tuple[str, str]
) -> None:
    if has_permission(session.user.role, permission):
        return
    roles = ", ".join(roles_with(permission))
    reason = f"needs permission {permission} (roles {roles}), user has {session.user.role}"
    audit_action(
        console,
        request,
        session,
        permission,
        target_type=target[0],
        target_id=target[1],
        allowed=False,
        detail=f"403: {reason}",
    )
    raise HTTPException(status_code=403, detail=f"forbidden: {reason}")


@router.post("/api/exports")
def create_export(
    body: ExportBody, console: ConsoleDep, request: Request, session: SessionDep
) -> dict[str, Any]:
    """Export one event or a camera's time range as a signed evidence package (audited)."""
    from safecity.evidence.package import ExportRequest
    from safecity.evidence.run import run_export

    target = ("event", body.event_uid) if body.event_uid else ("camera", str(body.camera))
    _require_permission(console, request, session, "export_evidence", target)
    if body.event_uid is not None:
        ev = console.events.get_event(body.event_uid)
        if ev is None:
            raise HTTPException(status_code=404, detail=f"no event with uid {body.event_uid!r}")
        camera = str(ev["camera"])
        start = ev["start_at"]
        end = max(ev["end_at"] or start, start + timedelta(seconds=1))
    else:
        assert body.camera is not None and body.since is not None and body.until is not None
        camera, start, end = body.camera, body.since, body.until
    require_camera(console, request, session, camera, action="export_evidence")
    try:
        req = ExportRequest(session.user.username, body.reason, camera, start, end, body.event_uid)
        result = run_export(
            console.services.engine,
            console.events,
            console.audit,
            home=console.settings.home,
            media_root=console.services.media_root,
            req=req,
            remote_addr=client_addr(request),
            clock=console.clock,
        )
    except InputError as exc:
        audit_action(
            console,
            request,
            session,
            "export_evidence",
            allowed=False,
            target_type=target[0],
            target_id=target[1],
            detail=f"422: {exc}",
        )
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return {
        "export_id": result.export_id,
        "camera": camera,
        "files": result.files,
        "missing": list(result.missing),
        "manifest_sha256": result.manifest_sha256,
        "download": f"/api/exports/{result.export_id}/package.zip",
    }


@router.get("/api/exports/{export_id}/package.zip", response_class=FileResponse)
def download_export(
    export_id: ExportId, console: ConsoleDep, request: Request, session: SessionDep
) -> FileResponse:
    """The zip of an evidence package (audited; the export permission and the camera are checked)."""
    from safecity.evidence.run import exports_dir, find_export

    _require_permission(console, request, session, "export_evidence", ("export", export_id))
    row = find_export(console.services.engine, export_id)
    if row is None:
        raise HTTPException(status_code=404, detail=f"no evidence export {export_id!r}")
    require_camera(console, request, session, str(row["camera_key"]), action="download_export")
    root = exports_dir(console.settings.home).resolve()
    path = (root / f"{export_id}.zip").resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(
            status_code=404, detail=f"the package file of export {export_id!r} is not on disk"
        )
    audit_action(
        console,
        request,
        session,
        "download_export",
        target_type="export",
        target_id=export_id,
        detail=f"camera {row['camera_key']}",
    )
    return FileResponse(Path(path), media_type="application/zip", filename=f"{export_id}.zip")


@router.get("/api/evidence/public-key", response_class=PlainTextResponse)
def public_key(console: ConsoleDep, request: Request, session: SessionDep) -> PlainTextResponse:
    """The installation's Ed25519 public key (PEM): give it to recipients to check packages offline."""
    from safecity.evidence.keys import load_or_create_key, public_key_pem

    audit_action(console, request, session, "view_public_key")
    return PlainTextResponse(public_key_pem(load_or_create_key(console.settings.home)).decode("ascii"))


def _lift_json(lift: MaskLift | None) -> dict[str, Any]:
    if lift is None:
        return {"active": False}
    return {
        "active": lift.ended_at is None,
        "id": lift.id,
        "camera": lift.camera,
        "username": lift.username,
        "reason": lift.reason,
        "started_at": lift.started_at,
        "expires_at": lift.expires_at,
        "ended_at": lift.ended_at,
    }


def _lift_checks(console: Console, request: Request, session: Session, key: str) -> None:
    _require_permission(console, request, session, "lift_privacy_mask", ("camera", key))
    require_camera(console, request, session, key, action="lift_privacy_mask")
    if key not in console.services.liftable_masks:
        raise HTTPException(
            status_code=404,
            detail=f"camera {key!r} has no liftable privacy masks (liftable_privacy_masks in its config)",
        )


@router.post("/api/cameras/{key}/mask-lift")
def lift_mask(
    key: CameraKey, body: MaskLiftBody, console: ConsoleDep, request: Request, session: SessionDep
) -> dict[str, Any]:
    """Lift the camera's liftable privacy masks on this user's live view for a while (audited)."""
    _lift_checks(console, request, session, key)
    assert console.lifts is not None
    lift = console.lifts.lift(key, session.user.username, body.reason, body.minutes * 60)
    audit_action(
        console,
        request,
        session,
        "lift_privacy_mask",
        target_type="camera",
        target_id=key,
        detail=f"lift {lift.id} until {lift.expires_at.isoformat()}; reason: {body.reason}",
    )
    return _lift_json(lift)


@router.get("/api/cameras/{key}/mask-lift")
def get_mask_lift(
    key: CameraKey, console: ConsoleDep, request: Request, session: SessionDep
) -> dict[str, Any]:
    """This user's active lift of the camera, if any."""
    require_camera(console, request, session, key, action="view_mask_lift")
    lift = console.lifts.active(key, session.user.username) if console.lifts is not None else None
    audit_action(
        console,
        request,
        session,
        "view_mask_lift",
        target_type="camera",
        target_id=key,
        detail="active" if lift is not None else "none",
    )
    return _lift_json(lift)


@router.delete("/api/cameras/{key}/mask-lift")
def end_mask_lift(
    key: CameraKey, console: ConsoleDep, request: Request, session: SessionDep
) -> dict[str, Any]:
    """End this user's lift of the camera now (audited)."""
    _lift_checks(console, request, session, key)
    assert console.lifts is not None
    lift = console.lifts.end(key, session.user.username)
    if lift is None:
        raise HTTPException(status_code=404, detail=f"no active mask lift of camera {key!r} for this user")
    audit_action(
        console,
        request,
        session,
        "end_mask_lift",
        target_type="camera",
        target_id=key,
        detail=f"lift {lift.id} ended early",
    )
    return _lift_json(lift)
