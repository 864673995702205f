"""``/api/search/cases``: requests for footage and the signed package that answers each.

A case (case number, requesting agency, reason, period, cameras) collects search results (track
records), synopses and event clips; ``POST .../{id}/export`` hands them to the evidence export as one
signed package (:mod:`safecity.search.case_export`; download at ``/api/exports/{id}/package.zip``).
Operators and admins; every camera of a case must be in the user's camera groups (403, audited), the
export needs the ``export_evidence`` permission. Every action is audited (``create_case``,
``view_case``, ``add_case_item``, ``export_case``), refused and malformed ones too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from safecity.errors import InputError
from safecity.search.case_export import export_case
from safecity.search.synopsis_job import synopsis_files
from safecity.store.cases import MAX_CAMERAS, CaseStore
from safecity.store.permissions import has_permission
from safecity.store.tracks import TrackIndex
from safecity.store.users import Session
from safecity.web.deps import Console, ConsoleDep, OperatorDep, audit_action, client_addr, require_camera
from safecity.web.schemas import UtcDatetime

__all__ = ["CaseBody", "CaseItemBody", "router"]

router = APIRouter(prefix="/cases")
CaseId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


class CaseBody(BaseModel):
    """A request for footage."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str = Field(min_length=1, max_length=64, description="the request's case number")
    agency: str = Field(min_length=1, max_length=200, description="requesting agency, e.g. 구로경찰서")
    reason: str = Field(min_length=1, max_length=2000)
    since: UtcDatetime
    until: UtcDatetime
    cameras: list[str] = Field(min_length=1, max_length=MAX_CAMERAS)


class CaseItemBody(BaseModel):
    """Something collected for a case: a track uid, an event uid, or a synopsis id (with its camera)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["track", "event", "synopsis"]
    ref: str = Field(min_length=1, max_length=200)
    camera: str | None = Field(default=None, min_length=1, max_length=128, description="synopses only")
    note: str | None = Field(default=None, max_length=500)


def _audit(console: Console, request: Request, session: Session, action: str, allowed: bool, target: str,
           detail: str) -> None:  # fmt: skip
    audit_action(console, request, session, action, target_type="case", target_id=target[:128],
                 allowed=allowed, detail=detail[:900])  # fmt: skip


def _refuse(console: Console, request: Request, session: Session, action: str, target: str, status: int,
            why: str) -> HTTPException:  # fmt: skip
    _audit(console, request, session, action, False, target, f"{status}: {why}")
    return HTTPException(status_code=status, detail=why)


def _case(console: Console, request: Request, session: Session, case_id: int, action: str) -> dict[str, Any]:
    case = CaseStore(console.services.engine).get(case_id)
    if case is None:
        raise _refuse(console, request, session, action, str(case_id), 404, f"no case {case_id}")
    for cam in case["cameras"]:
        require_camera(console, request, session, cam, action=action)
    return case


@router.post("")
def create_case(
    body: CaseBody, console: ConsoleDep, request: Request, session: OperatorDep
) -> dict[str, Any]:
    """Open a case for a request (every camera must be in the user's groups)."""
    for cam in body.cameras:
        require_camera(console, request, session, cam, action="create_case")
    try:
        case = CaseStore(console.services.engine).create(
            body.number, body.agency, body.reason, body.since, body.until, body.cameras, session.user.username
        )
    except InputError as exc:
        raise _refuse(console, request, session, "create_case", body.number, 400, str(exc)) from exc
    what = (
        f"case {case['id']} for {case['agency']}: {len(case['cameras'])} camera(s); reason: {case['reason']}"
    )
    _audit(console, request, session, "create_case", True, case["number"], what)
    return case


@router.get("")
def list_cases(console: ConsoleDep, session: OperatorDep) -> dict[str, Any]:
    """Cases whose every camera the user may see, newest first."""
    allowed = console.users.cameras_of(session.user)
    return {"cases": CaseStore(console.services.engine).list(allowed)}


@router.get("/{case_id}")
def get_case(case_id: CaseId, console: ConsoleDep, request: Request, session: OperatorDep) -> dict[str, Any]:
    """One case with what it collected."""
    case = _case(console, request, session, case_id, "view_case")
    _audit(console, request, session, "view_case", True, case["number"], f"{len(case['items'])} item(s)")
    return case


@router.post("/{case_id}/items")
def add_item(
    case_id: CaseId, body: CaseItemBody, console: ConsoleDep, request: Request, session: OperatorDep
) -> dict[str, Any]:
    """Collect a search result, an event clip or a synopsis for the case."""
    case = _case(console, request, session, case_id, "add_case_item")
    target = case["number"]
    if body.kind == "track":
        rec = TrackIndex(console.services.engine).get(body.ref)
        camera = None if rec is None else str(rec["camera"])
    elif body.kind == "event":
        ev = console.events.get_event(body.ref)
        camera = None if ev is None else str(ev["camera"])
    else:
        camera = body.camera
        try:
            found = (
                camera is not None
                and synopsis_files(console.services.media_root, camera, body.ref)[0].is_file()
            )
        except InputError:
            found = False
        camera = camera if found else None
    if camera is None:
        why = f"no {body.kind} {body.ref!r}" + (
            " of that camera (give camera)" if body.kind == "synopsis" else ""
        )
        raise _refuse(console, request, session, "add_case_item", target, 404, why)
    require_camera(console, request, session, camera, action="add_case_item")
    try:
        out = CaseStore(console.services.engine).add_item(case_id, body.kind, body.ref, camera,
                                                          session.user.username, body.note)  # fmt: skip
    except InputError as exc:
        raise _refuse(console, request, session, "add_case_item", target, 400, str(exc)) from exc
    _audit(console, request, session, "add_case_item", True, target, f"{body.kind} {body.ref} ({camera})")
    return out


@router.post("/{case_id}/export")
def export(case_id: CaseId, console: ConsoleDep, request: Request, session: OperatorDep) -> dict[str, Any]:
    """One signed evidence package with everything the case collected (audited ``export_case``)."""
    if not has_permission(session.user.role, "export_evidence"):
        why = f"needs permission export_evidence, user has {session.user.role}"
        raise _refuse(console, request, session, "export_case", str(case_id), 403, f"forbidden: {why}")
    case = _case(console, request, session, case_id, "export_case")
    try:
        res = export_case(
            console.services.engine, console.events, console.audit, case_id, home=console.settings.home,
            media_root=console.services.media_root, username=session.user.username,
            remote_addr=client_addr(request), clock=console.clock,
        )  # fmt: skip
    except InputError as exc:
        raise _refuse(console, request, session, "export_case", case["number"], 400, str(exc)) from exc
    download = f"/api/exports/{res.export_id}/package.zip"
    return {"export_id": res.export_id, "files": res.files, "missing": list(res.missing),
            "manifest_sha256": res.manifest_sha256, "download": download}  # fmt: skip
