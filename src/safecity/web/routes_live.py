"""Live routes: the wall, the ``/ws/live`` WebSocket, cameras with health, MJPEG tiles, map layers.

MJPEG generators take the newest JPEG of the camera (encoded at most once per frame for all
viewers, in a worker thread) and sleep between parts; a slow browser only delays its own stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import func, select

from safecity.monitor.config.model import SelectionConfig
from safecity.monitor.selection.wall import Pin, PinError
from safecity.monitor.types import Event, WallLayout
from safecity.store.schema import camera_health, cameras, events
from safecity.store.users import Session, to_utc
from safecity.web.deps import (
    Console,
    ConsoleDep,
    OperatorDep,
    SessionDep,
    audit_action,
    audit_refusal,
    client_addr,
    origin_allowed,
    require_camera,
    session_from_token,
    token_from,
)
from safecity.web.live import overlay_json, wall_json
from safecity.web.schemas import LiveClientMessage, TilesMessage
from safecity.web.viewing import StreamViews

__all__ = ["router", "user_wall"]

router = APIRouter(tags=["live"])
log = logging.getLogger(__name__)
_BOUNDARY = "frame"
_RECHECK_SESSION_S = 30.0
_MAX_MESSAGE_CHARS = 16_384
_MAX_BAD_MESSAGES = 20  # then the socket is closed (1008): a client that only sends garbage
_NO_SELECTION = SelectionConfig()


def _empty_wall() -> dict[str, Any]:
    return {"t_s": 0.0, "tiles": [], "monitor": False}


_POLICY: list[tuple[object, Any]] = []  # (config, its bound policy): rebuilt when the config object changes


def _policy_of(config: object) -> Any:
    from safecity.service import bound_policy

    for cfg, policy in list(_POLICY):
        if cfg is config:
            return policy
    policy = bound_policy(config)
    _POLICY[:] = [(config, policy)]
    return policy


def _alert_level(console: Console) -> Callable[[Event], bool]:
    """Whether an event's policy level is ``alert`` (the monitoring config's policy, else the default)."""
    policy = _policy_of(getattr(console.services.monitor, "config", None))

    def alert(ev: Event) -> bool:
        at = datetime.fromtimestamp(ev.start_s, UTC)
        return bool(policy.action(ev.camera, ev.type, ev.severity, ev.zone or None, at) == "alert")

    return alert


def user_wall(
    console: Console,
    allowed: frozenset[str] | None,
    layout: WallLayout | None = None,
    handled: frozenset[str] | None = None,
    live: Mapping[str, Event] | None = None,
) -> dict[str, Any]:
    """The wall as one user sees it (their cameras, Hangul names, slots, alert level), for
    ``/api/wall`` and the ``/ws/live`` pushes; ``layout`` etc. default to the runtime's newest."""
    monitor = console.services.monitor
    if monitor is None:
        return _empty_wall()
    names = {k: c.name for k, c in console.services.live_cameras.items() if c.name}
    out = wall_json(
        monitor.wall() if layout is None else layout,
        console.hub.live_events() if live is None else live,
        allowed,
        console.hub.handled() if handled is None else handled,
        names=names,
        alert=_alert_level(console),
    )
    out["monitor"] = True
    out["slots"] = int(getattr(getattr(monitor, "config", None), "selection", _NO_SELECTION).max_tiles)
    return out


_user_wall = user_wall


@router.get("/api/wall")
def wall(console: ConsoleDep, session: SessionDep) -> dict[str, Any]:
    """The video wall for this user: tiles (camera, reason, severity, pinned, events) in order."""
    return _user_wall(console, console.users.cameras_of(session.user))


class PinRequest(BaseModel):
    """Pin a camera to a slot of the wall (operators; audited ``wall_pin``)."""

    camera: str = Field(min_length=1, max_length=128, description="camera key")
    slot: int | None = Field(
        default=None, ge=0, le=63, description="slot (0 = top left); none: its own, free or weakest"
    )
    minutes: int | None = Field(
        default=None, ge=1, le=1440, description="pin for this long; none: until unpinned"
    )


def _pinning(console: Console) -> Any:
    monitor = console.services.monitor
    if monitor is None or not callable(getattr(monitor, "pin", None)):
        raise HTTPException(status_code=404, detail="no monitoring runtime with a wall runs in this console")
    return monitor


def _pin_json(pin: Pin, console: Console) -> dict[str, Any]:
    meta = console.services.live_cameras.get(pin.camera)
    return {
        "camera": pin.camera,
        "name": meta.name if meta and meta.name else pin.camera,
        "slot": pin.slot,
        "by": pin.by,
        "until_s": pin.until_s,
    }


@router.get("/api/wall/pins")
def wall_pins(console: ConsoleDep, session: SessionDep) -> dict[str, Any]:
    """The wall's pins in force (cameras of this user's groups only)."""
    allowed = console.users.cameras_of(session.user)
    monitor = console.services.monitor
    pins_of = getattr(monitor, "pins", None)
    pins: list[Pin] = pins_of() if callable(pins_of) else []
    return {"pins": [_pin_json(p, console) for p in pins if allowed is None or p.camera in allowed]}


@router.post("/api/wall/pins")
def pin_camera(
    body: PinRequest, request: Request, console: ConsoleDep, session: OperatorDep
) -> dict[str, Any]:
    """Pin a camera to a wall slot (it stays there, events or not, until unpinned or ``minutes`` pass).

    The camera must be in the user's groups (403) and monitored live (404); a slot outside the wall
    or pinned to another camera is refused with 409 and the reason.
    """
    require_camera(console, request, session, body.camera, action="wall_pin")
    _require_live(console, body.camera)
    monitor = _pinning(console)
    until = console.clock() + 60.0 * body.minutes if body.minutes else None
    try:
        pin: Pin = monitor.pin(body.camera, body.slot, until_s=until, by=session.user.username)
    except PinError as exc:
        audit_action(console, request, session, "wall_pin", target_type="camera", target_id=body.camera,
                     allowed=False, detail=f"409: {exc}")  # fmt: skip
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    when = f" for {body.minutes} min" if body.minutes else " until unpinned"
    audit_action(console, request, session, "wall_pin", target_type="camera", target_id=body.camera,
                 detail=f"slot {pin.slot}{when}")  # fmt: skip
    return _pin_json(pin, console)


@router.delete("/api/wall/pins/{key}")
def unpin_camera(key: str, request: Request, console: ConsoleDep, session: OperatorDep) -> dict[str, Any]:
    """Remove a camera's wall pin (404 when it has none)."""
    require_camera(console, request, session, key, action="wall_unpin")
    monitor = _pinning(console)
    if not monitor.unpin(key):
        raise HTTPException(status_code=404, detail=f"camera {key!r} is not pinned to the wall")
    audit_action(console, request, session, "wall_unpin", target_type="camera", target_id=key)
    return {"camera": key, "unpinned": True}


@router.get("/api/wall/overlays")
def wall_overlays(
    console: ConsoleDep,
    session: SessionDep,
    cameras: Annotated[str, Query(max_length=4096, description="comma-separated camera keys (at most 64)")],
) -> dict[str, Any]:
    """Zones, lines (from the monitoring config) and live event boxes (frame fractions) to draw over
    the tiles of these cameras; cameras outside the user's groups or not live are left out. Boxes
    whose centre lies in a privacy mask in force for this user are left out too."""
    allowed = console.users.cameras_of(session.user)
    monitor = console.services.monitor
    config = getattr(monitor, "config", None)
    by_id = {c.id: c for c in getattr(config, "cameras", [])}
    live = console.hub.live_events()
    keys = [k for k in dict.fromkeys(cameras.split(",")) if k][:64]
    out: dict[str, Any] = {}
    for key in keys:
        if (allowed is not None and key not in allowed) or key not in by_id:
            continue
        lifted = (
            console.lifts is not None
            and key in console.services.liftable_masks
            and console.lifts.active(key, session.user.username) is not None
        )
        masks = [
            *console.services.privacy_masks.get(key, ()),
            *(() if lifted else console.services.liftable_masks.get(key, ())),
        ]
        evs = [e for e in live.values() if e.camera == key]
        out[key] = overlay_json(by_id[key], evs, masks)
    return {"cameras": out}


def _last_events(console: Console) -> dict[str, dict[str, Any]]:
    latest = (
        select(events.c.camera_key, func.max(events.c.start_at).label("at"))
        .group_by(events.c.camera_key)
        .subquery()
    )
    stmt = select(events.c.camera_key, events.c.type, events.c.start_at, events.c.uid, events.c.state).join(
        latest, (latest.c.camera_key == events.c.camera_key) & (latest.c.at == events.c.start_at)
    )
    with console.services.engine.connect() as c:
        rows = c.execute(stmt).all()
    return {
        str(k): {"type": t, "at": to_utc(at).isoformat(), "uid": uid, "state": st}
        for k, t, at, uid, st in rows
    }


@router.get("/api/cameras")
def list_cameras(
    console: ConsoleDep,
    session: SessionDep,
    registry: Annotated[bool, Query(description="include registry cameras (not monitored)")] = True,
) -> dict[str, Any]:
    """Monitored and registry cameras the user may see, with health, last event and groups."""
    allowed = console.users.cameras_of(session.user)
    groups_of: dict[str, list[str]] = {}
    for g in console.users.list_groups():
        for key in g.cameras:
            groups_of.setdefault(key, []).append(g.name)
    monitor = console.services.monitor
    live_health = monitor.health() if monitor is not None else {}
    live_keys = monitor.cameras() if monitor is not None else []
    gate_of = getattr(monitor, "gate_status", None)  # compressed-domain gate per camera (issue 9)
    gates: dict[str, Any] = gate_of() if callable(gate_of) else {}
    with console.services.engine.connect() as c:
        stored_health = {str(r.camera_key): (r.state, r.since) for r in c.execute(select(camera_health))}
        reg_rows = c.execute(select(cameras)).mappings().all() if registry else []
    last = _last_events(console)
    out: list[dict[str, Any]] = []
    for key in live_keys:
        if allowed is not None and key not in allowed:
            continue
        meta = console.services.live_cameras.get(key)
        out.append(
            {
                "key": key,
                "name": meta.name if meta else key,
                "live": True,
                "health": live_health.get(key) or stored_health.get(key, ("unknown", None))[0],
                "lat": meta.lat if meta else None,
                "lon": meta.lon if meta else None,
                "groups": groups_of.get(key, []),
                "last_event": last.get(key),
                "mjpeg": f"/api/cameras/{key}/mjpeg",
                "gate": gates.get(key),
            }
        )
    seen = set(live_keys)
    for r in reg_rows:
        key = str(r["camera_key"])
        if key in seen or (allowed is not None and key not in allowed):
            continue
        out.append(
            {
                "key": key,
                "name": r["name"] or r["purpose"] or key,
                "live": False,
                "health": stored_health.get(key, ("unknown", None))[0],
                "lat": r["lat"],
                "lon": r["lon"],
                "purpose": r["purpose"],
                "count": r["count"],
                "district": r["district"],
                "groups": groups_of.get(key, []),
                "last_event": last.get(key),
            }
        )
    return {"cameras": out, "monitor": monitor is not None}


def _require_live(console: Console, key: str) -> None:
    monitor = console.services.monitor
    if monitor is None or key not in monitor.cameras():
        raise HTTPException(status_code=404, detail=f"camera {key!r} is not monitored live by this console")


def _allow_view(console: Console, request: Request, session: Session, key: str, action: str) -> None:
    """403 (audited as a refused ``action``) outside the user's groups, 404 when not live. Allowed
    views are recorded as viewing sessions by the caller (``console.viewing``), not a row per request."""
    require_camera(console, request, session, key, action=action)
    _require_live(console, key)


_STREAM_HOWS = ("mjpeg", "map")


@router.get("/api/cameras/{key}/mjpeg")
async def mjpeg(
    key: str,
    request: Request,
    console: ConsoleDep,
    session: SessionDep,
    fps: Annotated[float, Query(ge=0.2, le=10, description="parts per second at most")] = 3.0,
    frames: Annotated[
        int | None, Query(ge=1, le=1_000_000, description="stop after this many frames (scripts)")
    ] = None,
    how: Annotated[
        str, Query(pattern="^(mjpeg|map)$", description="what shows it, for the viewing session: mjpeg | map")
    ] = "mjpeg",
) -> StreamingResponse:
    """Live MJPEG stream (``multipart/x-mixed-replace``) of a camera: privacy-masked, downscaled.
    One viewing session (``view_start`` / ``view_end`` in the audit log) lasts as long as the stream."""
    await run_in_threadpool(_allow_view, console, request, session, key, "view_camera")
    cache = console.jpegs
    assert cache is not None  # _allow_view checked that a monitor runs
    views = StreamViews(console.viewing, session.user.username, how, client_addr(request))
    await run_in_threadpool(views.show, [key])

    async def parts() -> AsyncIterator[bytes]:
        last: bytes | None = None
        sent = 0
        try:
            while frames is None or sent < frames:
                jpg = await asyncio.to_thread(_latest_for, console, session, key)
                if jpg is not None and jpg is not last:
                    last = jpg
                    sent += 1
                    head = f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpg)}\r\n\r\n"
                    yield head.encode("ascii") + jpg + b"\r\n"
                if frames is None or sent < frames:
                    await asyncio.sleep(1.0 / fps)
                    await asyncio.to_thread(views.keep_alive)
        finally:
            await _close_views(views)

    return StreamingResponse(
        parts(),
        media_type=f"multipart/x-mixed-replace; boundary={_BOUNDARY}",
        headers={"Cache-Control": "no-store"},
    )


async def _close_views(views: StreamViews) -> None:
    """End the viewing sessions of a stream, also when the stream is being cancelled (disconnect)."""
    task = asyncio.ensure_future(asyncio.to_thread(views.close_all))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:  # the closing still runs to its end in its thread
        raise
    except Exception:  # a store hiccup must not hide the stream's own end
        log.warning("could not close the viewing sessions of a stream", exc_info=True)


@router.get("/api/cameras/{key}/frame.jpg")
async def frame_jpeg(key: str, request: Request, console: ConsoleDep, session: SessionDep) -> Response:
    """The camera's newest frame as one JPEG (privacy-masked); 503 before its first frame.
    Recorded as a one-shot view (``still``) in the viewer's viewing session of the camera."""
    await run_in_threadpool(_allow_view, console, request, session, key, "view_camera")
    assert console.jpegs is not None
    await run_in_threadpool(
        console.viewing.view, key, session.user.username, "still", remote_addr=client_addr(request)
    )
    jpg = await asyncio.to_thread(_latest_for, console, session, key)
    if jpg is None:
        raise HTTPException(status_code=503, detail=f"camera {key!r} has no frame yet; try again shortly")
    return Response(jpg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@lru_cache(maxsize=4)
def _boundaries(seoul_dir: Path, district: str) -> dict[str, Any]:
    gu = json.loads((seoul_dir / "boundaries" / "seoul_municipalities_geo.json").read_text("utf-8"))
    dong = json.loads(
        (seoul_dir / "boundaries" / "seoul_submunicipalities_geo_simple.json").read_text("utf-8")
    )
    want = district.lower().removesuffix("-gu")
    feats = [
        f
        for f in gu["features"]
        if f["properties"].get("name") == district
        or str(f["properties"].get("name_eng", "")).lower().removesuffix("-gu") == want
    ]
    if not feats:
        names = sorted(str(f["properties"].get("name_eng")) for f in gu["features"])
        raise HTTPException(
            status_code=404, detail=f"unknown district {district!r}; known: {', '.join(names)}"
        )
    code = str(feats[0]["properties"]["code"])
    out = [{**f, "properties": {**f["properties"], "level": "gu"}} for f in feats]
    out += [
        {**f, "properties": {**f["properties"], "level": "dong"}}
        for f in dong["features"]
        if str(f["properties"].get("code", "")).startswith(code)
    ]
    return {"type": "FeatureCollection", "features": out}


@router.get("/api/map/boundaries")
def boundaries(
    session: SessionDep,
    district: Annotated[str, Query(max_length=64, description="gu name, Korean or English")] = "guro",
) -> dict[str, Any]:
    """GeoJSON of the district (``level: gu``) and its dong boundaries (``level: dong``)."""
    from safecity.paths import seoul_data_dir

    return _boundaries(seoul_data_dir(), district)


async def _ws_session(console: Console, ws: WebSocket) -> Session | None:
    token = token_from(ws)
    return await run_in_threadpool(session_from_token, console, token)


async def _ws_open(console: Console, ws: WebSocket) -> Session | None:
    """Accept the handshake and return the session, or close it with a reason (and audit why).

    A foreign ``Origin`` gets close code 4403, no session 4401.
    """
    await ws.accept()
    if not origin_allowed(ws, console.settings):
        session = await _ws_session(console, ws)
        origin = ws.headers.get("origin", "")
        reason = f"origin {origin[:100]!r} is not allowed"
        user = session.user.username if session is not None else None
        await run_in_threadpool(audit_refusal, console, ws, username=user, status=403, reason=reason)
        await ws.close(code=4403, reason=f"{reason}; open the console from its own address")
        return None
    session = await _ws_session(console, ws)
    if session is None:
        await run_in_threadpool(audit_refusal, console, ws, username=None, status=401, reason="no session")
        await ws.close(code=4401, reason="not logged in")
    return session


M = TypeVar("M", bound=BaseModel)


def _parse_message(model: type[M], msg: Mapping[str, Any]) -> M | str:
    """A WebSocket message (the ASGI ``websocket.receive`` dict) validated against ``model``,
    or the text of an error frame saying what was wrong and what is expected."""
    text = msg.get("text")
    if text is None:
        return "binary messages are not accepted; send JSON text"
    if len(text) > _MAX_MESSAGE_CHARS:
        return f"message of {len(text)} characters is too long (at most {_MAX_MESSAGE_CHARS})"
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        parts = []
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"]) or "(message)"
            parts.append(f"{loc}: {err['msg']}")
        return "invalid message: " + "; ".join(parts)


def _error_frame(message: str, expected: str) -> dict[str, Any]:
    return {"type": "error", "message": message, "expected": expected}


@router.websocket("/ws/live")
async def live(ws: WebSocket) -> None:
    """Pushes ``{"type": "wall"}`` when the wall changes, ``{"type": "event"}`` for event messages
    and ``{"type": "state"}`` when an operator handles an event (only the user's cameras)."""
    console: Console = ws.app.state.console
    session = await _ws_open(console, ws)
    if session is None:
        return
    allowed = await run_in_threadpool(console.users.cameras_of, session.user)
    sub = console.hub.subscribe(allowed)
    try:
        initial = await run_in_threadpool(_user_wall, console, allowed)
        await ws.send_json({"type": "hello", "user": session.user.username, "role": session.user.role})
        await ws.send_json({"type": "wall", "wall": initial})
        receiver = asyncio.create_task(_drain(ws, sub.offer))
        checked_at = time.monotonic()
        while not receiver.done():
            if time.monotonic() - checked_at > _RECHECK_SESSION_S:
                checked_at = time.monotonic()
                if await _ws_session(console, ws) is None:
                    await ws.close(code=4401, reason="session expired")
                    break
            try:
                msg = await asyncio.wait_for(sub.queue.get(), timeout=1.0)
            except TimeoutError:
                continue  # look at the receiver (disconnect) and the session again
            await ws.send_text(json.dumps(msg, default=str))
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await receiver
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        console.hub.unsubscribe(sub)


async def _drain(ws: WebSocket, reply: Callable[[dict[str, Any]], None]) -> None:
    """Read client messages until it disconnects: ``{"type": "ping"}`` is answered with a pong,
    anything else with an error frame; after too many bad ones the socket is closed (1008)."""
    bad = 0
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
            parsed = _parse_message(LiveClientMessage, msg)
            if isinstance(parsed, str):
                bad += 1
                if bad > _MAX_BAD_MESSAGES:
                    await ws.close(code=1008, reason="too many invalid messages")
                    return
                reply(_error_frame(parsed, '{"type": "ping"}'))
            else:
                reply({"type": "pong"})


def _latest_for(console: Console, session: Session, key: str) -> bytes | None:
    """The camera's newest JPEG as this user may see it: liftable masks lifted only while the user
    holds an active lift of this camera (privacy first: never for anyone else)."""
    cache = console.jpegs
    if cache is None:
        return None
    lifted = (
        console.lifts is not None
        and key in console.services.liftable_masks
        and console.lifts.active(key, session.user.username) is not None
    )
    return cache.latest(key, lifted=lifted)


def _tile_frame(camera: str, jpg: bytes) -> bytes:
    """Binary tile message: 2-byte big-endian length of the camera key, the key (UTF-8), the JPEG."""
    key = camera.encode("utf-8")
    return len(key).to_bytes(2, "big") + key + jpg


def _subscribe_tiles(console: Console, ws: WebSocket, session: Session, wanted: list[str]) -> list[str]:
    """The cameras of ``wanted`` the user may watch live; each refusal is audited (``view_camera``,
    allowed false); the allowed ones become viewing sessions (see :func:`tiles`)."""
    allowed = console.users.cameras_of(session.user)
    live = set(console.services.monitor.cameras()) if console.services.monitor is not None else set()
    ok = []
    for key in dict.fromkeys(wanted):
        if (allowed is None or key in allowed) and key in live:
            ok.append(key)
            continue
        console.audit.record(
            "view_camera",
            username=session.user.username,
            allowed=False,
            target_type="camera",
            target_id=key,
            remote_addr=client_addr(ws),
            detail="403: outside the user's groups or not live",
        )
    return ok


def _latest_many(console: Console, session: Session, keys: list[str]) -> dict[str, bytes | None]:
    return {key: _latest_for(console, session, key) for key in keys}


@router.websocket("/ws/tiles")
async def tiles(ws: WebSocket) -> None:
    """Live JPEG tiles over one WebSocket (browsers allow only ~6 parallel MJPEG streams per host).

    The client sends ``{"cameras": [keys], "fps": 3}`` (again to change the set); the server answers
    ``{"type": "subscribed", "cameras": [...], "denied": [...]}`` and then sends binary messages
    (see :func:`_tile_frame`) with each new privacy-masked frame, at most ``fps`` per camera.
    ``?how=on_demand`` (the camera page) or ``wall`` (default) names the viewing sessions: one per
    camera shown, from its subscription to its removal or the socket's end.

    New frames are looked for three times per frame period, so a camera that makes ``fps`` tiles a
    second gets them all (polling once per period, in step with the source, lost every other one).
    """
    console: Console = ws.app.state.console
    session = await _ws_open(console, ws)
    if session is None:
        return
    how = "on_demand" if ws.query_params.get("how") == "on_demand" else "wall"
    views = StreamViews(console.viewing, session.user.username, how, client_addr(ws))
    cache = console.jpegs
    cameras: list[str] = []
    period_s = 1.0 / 3
    last: dict[str, bytes] = {}
    sent_at: dict[str, float] = {}
    checked_at = time.monotonic()
    bad = 0
    try:
        while True:
            if time.monotonic() - checked_at > _RECHECK_SESSION_S:
                checked_at = time.monotonic()
                if await _ws_session(console, ws) is None:
                    await ws.close(code=4401, reason="session expired")
                    return
                await run_in_threadpool(views.keep_alive)
            try:
                msg = await asyncio.wait_for(ws.receive(), timeout=period_s / 3)
            except TimeoutError:
                msg = None
            if msg is not None:
                if msg["type"] == "websocket.disconnect":
                    return
                parsed = _parse_message(TilesMessage, msg)
                if isinstance(parsed, str):
                    bad += 1
                    if bad > _MAX_BAD_MESSAGES:
                        await ws.close(code=1008, reason="too many invalid messages")
                        return
                    await ws.send_json(_error_frame(parsed, '{"cameras": ["key", ...], "fps": 0.2..10}'))
                    continue
                wanted = list(parsed.cameras)
                period_s = 1.0 / parsed.fps
                cameras = await run_in_threadpool(_subscribe_tiles, console, ws, session, wanted)
                await run_in_threadpool(views.show, cameras)
                last = {k: v for k, v in last.items() if k in cameras}
                denied = [k for k in wanted if k not in cameras]
                await ws.send_json({"type": "subscribed", "cameras": cameras, "denied": denied})
                continue
            if cache is None or not cameras:
                continue
            now = time.monotonic()
            due = [k for k in cameras if now - sent_at.get(k, 0.0) >= 0.75 * period_s]
            if not due:
                continue
            for key, jpg in (await asyncio.to_thread(_latest_many, console, session, due)).items():
                if jpg is not None and jpg is not last.get(key):
                    last[key] = jpg
                    sent_at[key] = now
                    await ws.send_bytes(_tile_frame(key, jpg))
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        await _close_views(views)
