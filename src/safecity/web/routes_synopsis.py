"""``/api/search/synopsis``: render and serve video synopses (:mod:`safecity.search.synopsis`).

Operators and admins; a synopsis shows the people and vehicles of a camera, so the camera must be
in the user's camera groups (403, audited) for rendering, the video and the sidecar alike. Every
rendering is audited (who, which camera and period, how many objects). Bad input (an empty,
reversed or too long period, no tracked object in it, no recording to draw the background from) is
a 400 that says what to do, and nothing stored changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from safecity.errors import InputError
from safecity.search.synopsis_job import make_synopsis, synopsis_files
from safecity.store.users import Session
from safecity.web.deps import Console, ConsoleDep, OperatorDep, audit_action, require_camera
from safecity.web.routes_console import console_timezone
from safecity.web.schemas import UtcDatetime

__all__ = ["SynopsisRequest", "render", "router", "synopsis_clips"]

router = APIRouter(prefix="/synopsis")
CameraPath = Annotated[str, PathParam(min_length=1, max_length=128)]
IdPath = Annotated[str, PathParam(min_length=1, max_length=160, pattern=r"^[A-Za-z0-9_.-]+$")]


class SynopsisRequest(BaseModel):
    """A synopsis of one camera and period (at most 6 hours)."""

    model_config = ConfigDict(extra="forbid")

    camera: str = Field(min_length=1, max_length=128)
    since: UtcDatetime
    until: UtcDatetime


def _audit(
    console: Console, request: Request, session: Session, allowed: bool, target: str, detail: str
) -> None:
    audit_action(console, request, session, "render_synopsis", target_type="camera", target_id=target[:128],
                 allowed=allowed, detail=detail[:900])  # fmt: skip


def synopsis_clips(console: Console, camera: str, since_s: float, until_s: float) -> list[Path]:
    """The recorded clips of ``camera``'s events that started in the range (absolute paths)."""
    events = console.events.list_events(camera=camera, since=since_s, until=until_s, limit=200)
    root = console.services.media_root
    return [root / str(e["clip_path"]) for e in events if e.get("clip_path")]


def render(console: Console, session: Session, camera: str, since_s: float, until_s: float) -> dict[str, Any]:
    """Render a synopsis (the camera already checked); the API answer. Raises InputError."""
    tz = console_timezone(console)
    sid, res = make_synopsis(
        console.services.engine, console.services.media_root, camera, since_s, until_s,
        lambda cam, a, b: synopsis_clips(console, cam, a, b), tz=tz.key, requested_by=session.user.username,
    )  # fmt: skip
    base = f"/api/search/synopsis/{camera}/{sid}"
    return {"id": sid, "camera": camera, "video_url": f"{base}/video", "sidecar_url": f"{base}/sidecar",
            "objects": res.objects, "drawn": res.drawn, "duration_s": round(res.duration_s, 2),
            "lanes": res.lanes, "render_s": round(res.render_s, 2), "timezone": tz.key}  # fmt: skip


@router.post("")
def create_synopsis(
    body: SynopsisRequest, console: ConsoleDep, request: Request, session: OperatorDep
) -> dict[str, Any]:
    """Render the synopsis of a camera and period: every tracked object of the period drawn over the
    camera's background, labelled with its local time, in at most two minutes of video."""
    require_camera(console, request, session, body.camera, action="render_synopsis")
    period = f"{body.since.isoformat()} .. {body.until.isoformat()}"
    try:
        out = render(console, session, body.camera, body.since.timestamp(), body.until.timestamp())
    except InputError as exc:
        _audit(console, request, session, False, body.camera, f"400: {exc} ({period})")
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    _audit(
        console, request, session, True, body.camera, f"{out['objects']} objects, {period}, id {out['id']}"
    )
    return out


def _file(console: Console, request: Request, session: Session, camera: str, sid: str, which: int) -> Path:
    require_camera(console, request, session, camera, action="view_synopsis")
    try:
        path = synopsis_files(console.services.media_root, camera, sid)[which]
    except InputError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    if not path.is_file():
        raise HTTPException(
            status_code=404, detail=f"no synopsis {sid!r} of camera {camera!r} (never made, or removed)"
        )
    return path


@router.get("/{camera}/{sid}/video", response_class=FileResponse)
def synopsis_video(
    camera: CameraPath, sid: IdPath, console: ConsoleDep, request: Request, session: OperatorDep
) -> FileResponse:
    """The synopsis video (H.264 MP4)."""
    return FileResponse(_file(console, request, session, camera, sid, 0), media_type="video/mp4")


@router.get("/{camera}/{sid}/sidecar")
def synopsis_sidecar(
    camera: CameraPath, sid: IdPath, console: ConsoleDep, request: Request, session: OperatorDep
) -> dict[str, Any]:
    """The sidecar: objects (uid, first/last seen, label, time in the synopsis) and boxes per frame."""
    data: dict[str, Any] = json.loads(
        _file(console, request, session, camera, sid, 1).read_text(encoding="utf-8")
    )
    return data
