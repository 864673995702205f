"""Operator control of PTZ cameras: arrows, zoom, presets, stop, home, and the lease that keeps two
operators from fighting over one camera.

Every route checks the camera group (403, audited) and needs a logged-in user; moving needs the
operator role (viewers get 403, audited). A move takes the camera's lease if it is free and renews it
if the user holds it; while another user holds it the move is refused with 409 naming the holder (and
audited). Admins may break a lease. Every move, allowed or refused, is one audit row (``ptz_move``
with the command in ``detail``). Camera failures answer 504 (no answer in time), 502 (refused
credentials or the camera refused the command) or 404 (no such preset), never a traceback.

The PTZ cameras come from ``Services.ptz`` (a :class:`~safecity.ptz.control.PtzControl`, built from the
cameras with a ``ptz`` block); without any every PTZ route answers 404.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from safecity.errors import (
    PtzAuthError,
    PtzError,
    PtzUnknownPresetError,
    PtzUnreachableError,
    PtzUnsupportedError,
)
from safecity.ptz.control import PtzControl, PtzUnit
from safecity.ptz.lease import Lease, LeaseHeldError
from safecity.store.users import Session
from safecity.web.deps import (
    Console,
    ConsoleDep,
    OperatorDep,
    SessionDep,
    audit_action,
    require_camera,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/ptz", tags=["ptz"])

CameraKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Axis = Annotated[float, Field(ge=-1.0, le=1.0)]
Zoom01 = Annotated[float, Field(ge=0.0, le=1.0)]
Speed = Annotated[float, Field(gt=0.0, le=1.0)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContinuousMove(_Body):
    """Arrow keys: move at a velocity for ``seconds`` (the camera stops by itself after that)."""

    mode: Literal["continuous"]
    pan: Axis = 0.0
    tilt: Axis = 0.0
    zoom: Axis = 0.0
    seconds: float = Field(default=1.0, ge=0.1, le=10.0)


class RelativeMove(_Body):
    """Move by a step (generic space: a pan step of 2 is the camera's whole range)."""

    mode: Literal["relative"]
    pan: Axis = 0.0
    tilt: Axis = 0.0
    zoom: Axis = 0.0
    speed: Speed | None = None


class AbsoluteMove(_Body):
    """Go to a position; a missing axis keeps its value."""

    mode: Literal["absolute"]
    pan: Axis | None = None
    tilt: Axis | None = None
    zoom: Zoom01 | None = None
    speed: Speed | None = None


MoveBody = Annotated[ContinuousMove | RelativeMove | AbsoluteMove, Field(discriminator="mode")]


class PresetBody(_Body):
    preset: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    speed: Speed | None = None


class EmptyBody(_Body):
    pass


class ReleaseBody(_Body):
    force: bool = Field(default=False, description="break another user's lease (admins only)")


def _control(console: Console) -> PtzControl:
    control = console.services.ptz
    if control is None:
        raise HTTPException(status_code=404, detail="no PTZ cameras are configured on this console")
    return control


def _unit(console: Console, request: Request, session: Session, key: str, action: str) -> PtzUnit:
    """The PTZ camera ``key`` after the group check (403 audited); 404 if it is not a PTZ camera."""
    control = _control(console)
    require_camera(console, request, session, key, action=action)
    unit = control.units.get(key)
    if unit is None:
        raise HTTPException(
            status_code=404,
            detail=f"camera {key!r} is not a PTZ camera on this console (no ptz block in its config); "
            "fixed cameras cannot be moved",
        )
    return unit


def _lease_json(lease: Lease | None) -> dict[str, Any] | None:
    if lease is None:
        return None
    return {
        "holder": lease.holder,
        "since": datetime.fromtimestamp(lease.since_s, UTC).isoformat(),
        "expires": datetime.fromtimestamp(lease.expires_s, UTC).isoformat(),
        "expires_s": lease.expires_s,
    }


def _audit(
    console: Console, request: Request, session: Session, key: str, action: str, allowed: bool, detail: Any
) -> None:
    text = json.dumps(detail, ensure_ascii=False, default=str)[:2000]
    audit_action(
        console, request, session, action, target_type="camera", target_id=key, allowed=allowed, detail=text
    )


def _camera_failure(exc: PtzError) -> HTTPException:
    if isinstance(exc, PtzUnreachableError):
        return HTTPException(status_code=504, detail=str(exc))
    if isinstance(exc, PtzAuthError | PtzUnsupportedError):
        return HTTPException(status_code=502, detail=str(exc))
    return HTTPException(status_code=502, detail=f"the camera refused the command: {exc}")


def _steer(
    console: Console, request: Request, session: Session, key: str, command: dict[str, Any], run: Any
) -> dict[str, Any]:
    """Lease, run, audit: the common path of every move."""
    unit = _unit(console, request, session, key, "ptz_move")
    control = _control(console)
    try:
        lease = control.leases.acquire(key, session.user.username, unit.config.lease_s)
    except LeaseHeldError as exc:
        _audit(console, request, session, key, "ptz_move", False, {**command, "refused": str(exc)})
        raise HTTPException(
            status_code=409, detail={"message": str(exc), "lease": _lease_json(exc.lease)}
        ) from None
    try:
        run(unit)
    except PtzError as exc:
        _audit(console, request, session, key, "ptz_move", True, {**command, "error": str(exc)})
        if isinstance(exc, PtzUnknownPresetError):
            raise HTTPException(status_code=404, detail=str(exc)) from None
        raise _camera_failure(exc) from None
    _audit(console, request, session, key, "ptz_move", True, command)
    return {"camera": key, "command": command, "lease": _lease_json(lease)}


@router.get("")
def list_ptz(request: Request, console: ConsoleDep, session: SessionDep) -> dict[str, Any]:
    """The PTZ cameras the user may see: presets, tours, home, who holds each lease, the patrol state."""
    control = console.services.ptz
    if control is None:
        return {"cameras": []}
    allowed = console.users.cameras_of(session.user)
    out = []
    visible = [k for k in sorted(control.units) if allowed is None or k in allowed]
    control.warm(visible)  # connect in the background: the first command then answers at once
    for key in visible:
        unit = control.units[key]
        out.append(
            {
                "key": key,
                "name": unit.name,
                "presets": [p.name for p in unit.config.presets],
                "tours": [t.name for t in unit.config.tours],
                "home_preset": unit.config.home_preset,
                "lease": _lease_json(control.leases.holder(key)),
                "lease_s": unit.config.lease_s,
                "patrol": _patrol_json(console, key),
            }
        )
    return {"cameras": out}


def _patrol_json(console: Console, key: str) -> dict[str, Any] | None:
    """The patrol driver's last word on ``key`` (None: no driver runs, e.g. a console without monitoring)."""
    runtime = getattr(console.services, "ptz_runtime", None)
    st = runtime.states().get(key) if runtime is not None else None
    if st is None:
        return None
    return {
        "mode": st.mode,  # patrol, home, idle, held, unreachable
        "preset": st.preset,
        "armed": st.armed,  # analytics run (at rest at the preset, settled)
        "moving": st.moving,
        "not_returned": st.not_returned,
        "reason": st.reason,
    }


@router.get("/{key}/status")
def status(key: CameraKey, request: Request, console: ConsoleDep, session: SessionDep) -> dict[str, Any]:
    """Where the camera points, whether it moves, and who holds its lease."""
    unit = _unit(console, request, session, key, "view_camera")
    try:
        st = unit.camera.status()
    except PtzError as exc:
        raise _camera_failure(exc) from None
    pos = st.position
    return {
        "camera": key,
        "position": None if pos is None else {"pan": pos.pan, "tilt": pos.tilt, "zoom": pos.zoom},
        "moving": st.moving,
        "error": st.error,
        "lease": _lease_json(_control(console).leases.holder(key)),
    }


@router.post("/{key}/move")
def move(
    key: CameraKey, body: MoveBody, request: Request, console: ConsoleDep, session: OperatorDep
) -> dict[str, Any]:
    """Arrows (``continuous``), steps (``relative``) or a position (``absolute``)."""
    command = body.model_dump()

    def run(unit: PtzUnit) -> None:
        cam = unit.camera
        if isinstance(body, ContinuousMove):
            cam.continuous_move(body.pan, body.tilt, body.zoom, timeout_s=body.seconds)
        elif isinstance(body, RelativeMove):
            cam.relative_move(body.pan, body.tilt, body.zoom, speed=body.speed)
        else:
            cam.absolute_move(body.pan, body.tilt, body.zoom, speed=body.speed)

    return _steer(console, request, session, key, command, run)


@router.post("/{key}/stop")
def stop(
    key: CameraKey, body: EmptyBody, request: Request, console: ConsoleDep, session: OperatorDep
) -> dict[str, Any]:
    """Stop pan, tilt and zoom."""
    return _steer(console, request, session, key, {"mode": "stop"}, lambda unit: unit.camera.stop())


@router.post("/{key}/preset")
def goto_preset(
    key: CameraKey, body: PresetBody, request: Request, console: ConsoleDep, session: OperatorDep
) -> dict[str, Any]:
    """Go to one of the camera's configured presets."""
    command = {"mode": "preset", "preset": body.preset, "speed": body.speed}
    return _steer(
        console, request, session, key, command,
        lambda unit: unit.camera.goto_preset(unit.preset_token(body.preset), speed=body.speed),
    )  # fmt: skip


@router.post("/{key}/home")
def go_home(
    key: CameraKey, body: EmptyBody, request: Request, console: ConsoleDep, session: OperatorDep
) -> dict[str, Any]:
    """Go to the home preset (or the camera's own home position when none is configured)."""

    def run(unit: PtzUnit) -> None:
        home = unit.config.home_preset
        if home is None:
            unit.camera.goto_home()
        else:
            unit.camera.goto_preset(unit.preset_token(home))

    return _steer(console, request, session, key, {"mode": "home"}, run)


@router.post("/{key}/lease")
def take_lease(
    key: CameraKey, body: EmptyBody, request: Request, console: ConsoleDep, session: OperatorDep
) -> dict[str, Any]:
    """Take (or renew) the camera's lease without moving it; 409 naming the holder if taken."""
    unit = _unit(console, request, session, key, "ptz_lease")
    try:
        lease = _control(console).leases.acquire(key, session.user.username, unit.config.lease_s)
    except LeaseHeldError as exc:
        _audit(console, request, session, key, "ptz_lease", False, {"refused": str(exc)})
        raise HTTPException(
            status_code=409, detail={"message": str(exc), "lease": _lease_json(exc.lease)}
        ) from None
    _audit(console, request, session, key, "ptz_lease", True, {"expires_s": lease.expires_s})
    return {"camera": key, "lease": _lease_json(lease)}


@router.post("/{key}/release")
def release_lease(
    key: CameraKey, body: ReleaseBody, request: Request, console: ConsoleDep, session: OperatorDep
) -> dict[str, Any]:
    """Give the camera back (the patrol resumes); admins may break another user's lease (``force``)."""
    _unit(console, request, session, key, "ptz_lease")
    if body.force and session.user.role != "admin":
        reason = f"breaking a lease needs role admin, user has {session.user.role}"
        _audit(console, request, session, key, "ptz_lease_break", False, {"refused": reason})
        raise HTTPException(status_code=403, detail=f"forbidden: {reason}")
    try:
        ended = _control(console).leases.release(key, session.user.username, force=body.force)
    except LeaseHeldError as exc:
        _audit(console, request, session, key, "ptz_release", False, {"refused": str(exc)})
        raise HTTPException(
            status_code=409, detail={"message": str(exc), "lease": _lease_json(exc.lease)}
        ) from None
    action = (
        "ptz_lease_break" if ended is not None and ended.holder != session.user.username else "ptz_release"
    )
    _audit(console, request, session, key, action, True, {"ended": _lease_json(ended)})
    return {"camera": key, "released": _lease_json(ended)}
