"""``/api/search``: forensic search of the track index, thumbnails, one record, "where else".

Searching people and vehicles by appearance is an investigation: operators and admins only, and
every search (including refused and malformed ones) is written to the audit log with who asked for
what (the query in the entry's detail) and how many results came back. A user searches only the
cameras of their camera groups: asking for another camera is refused (403, audited); with no camera
given, the search covers exactly the user's cameras. Thumbnails and records are the results of an
audited search and are served to users who may see their camera (refusals are audited).

Bad input never reaches the store as a 500: an empty or reversed period, an unknown colour or class,
a malformed or inverted map box, too many values: 400/422 with what was expected.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from safecity.errors import InputError
from safecity.monitor.types import COCO_CLASSES
from safecity.monitor.vision.track import CLASS_GROUPS, class_group
from safecity.search.area import cameras_in_polygon, parse_polygon
from safecity.search.clips import ClipSpan, clip_span, nearest_clip
from safecity.search.palette import COLOURS, HUE_RULES
from safecity.search.where_else import rank_candidates
from safecity.store.tracks import MAX_LIMIT, TrackIndex, TrackQuery
from safecity.store.users import Session
from safecity.web.deps import Console, ConsoleDep, OperatorDep, audit_action, require_camera
from safecity.web.routes_cases import router as cases_router
from safecity.web.routes_synopsis import router as synopsis_router
from safecity.web.schemas import UtcDatetime

__all__ = ["router"]

router = APIRouter(prefix="/api/search", tags=["search"])

_MAX_LIST = 200
_MAX_DETAIL = 900
_KOREA = (33.0, 124.0, 39.0, 132.0)  # south, west, north, east
UidPath = Annotated[str, Path(min_length=1, max_length=200, description="track record uid")]
ListParam = Annotated[list[str] | None, Query(description="repeat the parameter for several values")]


def _audit(
    console: Console, request: Request, session: Session, action: str, allowed: bool, detail: str, target: str
) -> None:
    audit_action(
        console,
        request,
        session,
        action,
        target_type="search",
        target_id=target[:128],
        allowed=allowed,
        detail=detail[:_MAX_DETAIL],
    )


def _bad(console: Console, request: Request, session: Session, what: str, status: int = 400) -> HTTPException:
    _audit(console, request, session, "search_tracks", False, f"{status}: {what}", "tracks")
    return HTTPException(status_code=status, detail=what)


def _values(name: str, values: list[str] | None, known: object, hint: str) -> tuple[str, ...]:
    out = tuple(v.strip() for v in values or () if v.strip())
    if len(out) > _MAX_LIST or any(len(v) > 128 for v in out):
        raise InputError(f"{name}: at most {_MAX_LIST} values of at most 128 characters each")
    if isinstance(known, dict | tuple | frozenset | set):
        bad = [v for v in out if v not in known]
        if bad:
            raise InputError(f"unknown {name} {bad[0]!r}; expected {hint}")
    return out


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        s, w, n, e = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"bbox must be 'south,west,north,east' in degrees, but got {text!r}") from None
    ks, kw, kn, ke = _KOREA
    if not (s < n and w < e and ks <= s and n <= kn and kw <= w and e <= ke):
        raise InputError(
            f"bbox {text!r} must have south < north and west < east and lie within the district "
            f"(latitude {ks}..{kn}, longitude {kw}..{ke})"
        )
    return s, w, n, e


def _scope(
    console: Console, request: Request, session: Session, cameras: tuple[str, ...], action: str
) -> frozenset[str] | None:
    """The cameras to search: the asked ones (each checked, 403 audited) or all of the user's."""
    for cam in cameras:
        require_camera(console, request, session, cam, action=action)
    if cameras:
        return frozenset(cameras)
    return console.users.cameras_of(session.user)


def _group_cameras(console: Console, request: Request, session: Session, groups: tuple[str, ...]) -> set[str]:
    """The cameras of the asked camera groups: an unknown group is 400, another user's group 403
    (both audited)."""
    out: set[str] = set()
    for name in groups:
        group = console.users.get_group(name)
        if group is None:
            known = ", ".join(g.name for g in console.users.list_groups()) or "none"
            raise _bad(console, request, session, f"unknown camera group {name!r}; known groups: {known}")
        if session.user.role != "admin" and name not in session.user.groups:
            why = f"camera group {name!r} is not one of the user's groups"
            _audit(console, request, session, "search_tracks", False, f"403: {why}", "tracks")
            raise HTTPException(status_code=403, detail=f"forbidden: {why}")
        out.update(group.cameras)
    return out


def _in_polygon(console: Console, polygon: list[tuple[float, float]]) -> frozenset[str]:
    """The monitored cameras whose position lies in the polygon."""
    cams = console.services.live_cameras
    positions = {k: None if c.lat is None or c.lon is None else (c.lat, c.lon) for k, c in cams.items()}
    return cameras_in_polygon(polygon, positions)


def _public(console: Console, rec: dict[str, Any]) -> dict[str, Any]:
    """The record as the API gives it: with its thumbnail URL and its camera's Hangul name."""
    out = dict(rec)
    out["thumbnail_url"] = f"/api/search/tracks/{rec['uid']}/thumbnail" if rec.get("has_thumb") else None
    cam = console.services.live_cameras.get(str(rec["camera"]))
    out["camera_name"] = cam.name if cam is not None and cam.name else None
    return out


def _clip_span(console: Console, event: dict[str, Any]) -> ClipSpan | None:
    """The recorded clip's absolute span (None: no clip on disk, or a path outside the media folder)."""
    rel = event.get("clip_path")
    if not rel:
        return None
    root = console.services.media_root.resolve()
    path = (root / str(rel)).resolve()
    if not path.is_relative_to(root):
        return None
    return clip_span(FilePath(path), event["start_at"].timestamp())


@router.get("/palette")
def palette(session: OperatorDep) -> dict[str, Any]:
    """The colour palette (keys for the ``colour`` parameters, Korean and English names, swatches)."""
    colours = [{"key": c.key, "en": c.en, "ko": c.ko, "rgb": list(c.rgb)} for c in COLOURS.values()]
    return {"colours": colours, "rules": list(HUE_RULES), "classes": sorted(set(CLASS_GROUPS) | {"person"})}


@router.get("/tracks")
def search_tracks(
    console: ConsoleDep,
    request: Request,
    session: OperatorDep,
    since: Annotated[UtcDatetime, Query(description="period start (ISO 8601)")],
    until: Annotated[UtcDatetime, Query(description="period end (ISO 8601), after since, at most 31 days")],
    camera: ListParam = None,
    group: ListParam = None,
    object_class: Annotated[list[str] | None, Query(alias="class", description="object classes")] = None,
    colour: ListParam = None,
    upper: ListParam = None,
    lower: ListParam = None,
    zone: Annotated[str | None, Query(max_length=64)] = None,
    line: Annotated[str | None, Query(max_length=64)] = None,
    direction: Annotated[str | None, Query(pattern="^(a_to_b|b_to_a)$")] = None,
    min_dwell_s: Annotated[float, Query(ge=0, le=86400)] = 0.0,
    min_speed: Annotated[float | None, Query(ge=0, le=100)] = None,
    max_speed: Annotated[float | None, Query(ge=0, le=100)] = None,
    bbox: Annotated[str | None, Query(max_length=100, description="map box: south,west,north,east")] = None,
    polygon: Annotated[
        str | None,
        Query(max_length=8000, description="map area: lat,lon;lat,lon;lat,lon..."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict[str, Any]:
    """Tracks seen in the period that match every filter, in time order, with thumbnails."""
    asked = {k: v for k, v in request.query_params.multi_items()}
    detail = "&".join(f"{k}={v}" for k, v in request.query_params.multi_items())
    try:
        cams = _values("camera", camera, None, "")
        classes = _values("class", object_class, COCO_CLASSES, "a COCO class such as person, car, truck")
        hint = ", ".join(COLOURS)
        colours = _values("colour", colour, COLOURS, hint)
        uppers = _values("upper colour", upper, COLOURS, hint)
        lowers = _values("lower colour", lower, COLOURS, hint)
        groups = _values("group", group, None, "")
        area = _bbox(bbox)
        poly = None if polygon is None else parse_polygon(polygon)
        if poly is not None and area is not None:
            raise InputError("give a map box (bbox) or a polygon, not both")
    except InputError as exc:
        raise _bad(console, request, session, str(exc)) from exc
    in_groups = _group_cameras(console, request, session, groups)
    scope = _scope(console, request, session, cams, "search_tracks")
    if groups:  # the asked cameras and the cameras of the asked groups (the user's groups only)
        scope = frozenset(in_groups | set(cams))
    if poly is not None:  # a record's position is its camera's: exactly the cameras inside the polygon
        # (no map box on top: the camera list alone is exact and takes the (camera, first seen) index,
        # faster than the R*Tree on SQLite, docs/search.md)
        inside = _in_polygon(console, poly)
        scope = inside if scope is None else scope & inside
    try:
        q = TrackQuery(
            since.timestamp(), until.timestamp(), cameras=scope, classes=classes, colours=colours,
            upper=uppers, lower=lowers, zone=zone, line=line, direction=direction, min_dwell_s=min_dwell_s,
            min_speed=min_speed, max_speed=max_speed, area=area, limit=limit, offset=offset,
        )  # fmt: skip
    except InputError as exc:
        raise _bad(console, request, session, str(exc)) from exc
    index = TrackIndex(console.services.engine)
    results = index.search(q)
    total = index.count(q)
    _audit(console, request, session, "search_tracks", True, f"{total} results: {detail}", "tracks")
    return {"total": total, "total_capped": total >= 10_000, "query": asked,
            "results": [_public(console, r) for r in results]}  # fmt: skip


def _record(console: Console, request: Request, session: Session, uid: str, action: str) -> dict[str, Any]:
    rec = TrackIndex(console.services.engine).get(uid)
    if rec is None:
        raise HTTPException(
            status_code=404, detail=f"no track record {uid!r} (never stored, or removed by retention)"
        )
    require_camera(console, request, session, str(rec["camera"]), action=action)
    return rec


@router.get("/tracks/{uid}")
def get_track(
    uid: UidPath,
    console: ConsoleDep,
    request: Request,
    session: OperatorDep,
    at: Annotated[
        UtcDatetime | None,
        Query(description="the moment to open (ISO 8601; default: when the track was first seen)"),
    ] = None,
) -> dict[str, Any]:
    """One record with the events of its camera that involved its track (their clips and snapshots).

    Each clip comes with its absolute span (``clip_start_at``, ``clip_duration_s``) and ``seek_s``,
    the offset in it of the moment (``at``, or when the track was first seen, clamped to the clip);
    ``clip_event`` names the event whose clip shows that moment (or comes nearest to it)."""
    rec = _record(console, request, session, uid, "view_track")
    events = console.events.list_events(
        camera=rec["camera"], since=rec["first_at"] - timedelta(seconds=5), until=rec["last_at"], limit=50
    )
    mine = [e for e in events if rec["track_id"] in (e.get("track_ids") or [])]
    moment = (at or rec["first_at"]).timestamp()
    spans = [_clip_span(console, e) for e in mine]
    best = nearest_clip(spans, moment)
    related = [
        {"uid": e["uid"], "type": e["type"], "start_at": e["start_at"],
         "clip_url": f"/api/events/{e['uid']}/clip" if span is not None else None,
         "snapshot_url": f"/api/events/{e['uid']}/snapshot" if e.get("snapshot_path") else None,
         "clip_start_at": None if span is None else datetime.fromtimestamp(span.start_s, UTC),
         "clip_duration_s": None if span is None else round(span.duration_s, 3),
         "clip_start_exact": None if span is None else span.exact,
         "seek_s": None if span is None else span.seek(moment)}
        for e, span in zip(mine, spans, strict=True)
    ]  # fmt: skip
    _audit(console, request, session, "view_track", True, f"camera {rec['camera']}", uid)
    return {**_public(console, rec), "events": related, "moment_at": datetime.fromtimestamp(moment, UTC),
            "clip_event": None if best is None else mine[best]["uid"]}  # fmt: skip


@router.get("/tracks/{uid}/thumbnail", response_class=Response)
def thumbnail(uid: UidPath, console: ConsoleDep, request: Request, session: OperatorDep) -> Response:
    """The record's best crop (JPEG)."""
    _record(console, request, session, uid, "view_track")
    data = TrackIndex(console.services.engine).thumbnail(uid)
    if data is None:
        raise HTTPException(
            status_code=404, detail=f"track record {uid!r} has no thumbnail (no frame was sampled)"
        )
    return Response(content=data, media_type="image/jpeg")


@router.get("/tracks/{uid}/where-else")
def where_else(
    uid: UidPath,
    console: ConsoleDep,
    request: Request,
    session: OperatorDep,
    window_s: Annotated[
        float, Query(gt=0, le=6 * 3600, description="look this long after it was last seen")
    ] = 1800,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    """Tracks on the user's other cameras that may be the same object, ranked (see
    :mod:`safecity.search.where_else`)."""
    rec = _record(console, request, session, uid, "search_where_else")
    group = class_group(str(rec["object_class"]))
    classes = tuple(sorted(c for c, g in CLASS_GROUPS.items() if g == group)) or (str(rec["object_class"]),)
    last = rec["last_at"].timestamp()
    allowed = console.users.cameras_of(session.user)
    scope = None if allowed is None else allowed - {rec["camera"]}
    q = TrackQuery(last - 30.0, last + window_s, cameras=scope, classes=classes, limit=MAX_LIMIT)
    ranked = rank_candidates(rec, TrackIndex(console.services.engine).search(q), limit=limit)
    _audit(console, request, session, "search_where_else", True,
           f"{len(ranked)} candidates within {window_s:.0f} s of {rec['camera']}", uid)  # fmt: skip
    return {
        "source": _public(console, rec),
        "candidates": [
            {"record": _public(console, dict(c.record)), "score": round(c.score, 4),
             "appearance": round(c.appearance, 4), "plausibility": round(c.plausibility, 4),
             "distance_m": None if c.distance_m is None else round(c.distance_m, 1),
             "gap_s": round(c.gap_s, 1), "reason": c.reason}
            for c in ranked
        ],
    }  # fmt: skip


router.include_router(synopsis_router)  # /api/search/synopsis
router.include_router(cases_router)  # /api/search/cases
