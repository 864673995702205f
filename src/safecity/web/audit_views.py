"""Admin routes of the audit page that read like a log: viewing sessions and CSV export of a period.

- ``GET /api/audit/sessions``: viewing sessions (:mod:`safecity.store.viewing`) filtered by user,
  camera, kind and period, with the camera's name and the duration.
- ``GET /api/audit/export``: the audit log or the viewing sessions of a period (at most
  :data:`MAX_EXPORT_DAYS` days) as CSV, times in UTC and in the console's zone (KST, zero-padded);
  the export itself is one audit row (``audit_export``) written before the file goes out.

Included by :mod:`safecity.web.routes_admin` (so the app needs no change).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from safecity.store.audit import AuditEntry, AuditFilter
from safecity.store.schema import cameras
from safecity.store.viewing import HOW_LABELS, HOWS, ViewingFilter, ViewingSession
from safecity.web.deps import AdminDep, Console, ConsoleDep, audit_action
from safecity.web.routes_console import console_timezone
from safecity.web.schemas import OffsetParam, UtcDatetime

__all__ = ["MAX_EXPORT_DAYS", "camera_names", "local_text", "router"]

router = APIRouter(tags=["admin"])
MAX_EXPORT_DAYS = 366
_EXPORT_ROWS_CAP = 2_000_000
HowParam = Annotated[
    Literal["wall", "on_demand", "map", "mjpeg", "still", "playback"] | None,
    Query(description="how the camera was watched: " + ", ".join(HOWS)),
]


def local_text(at: datetime | None, tz: ZoneInfo) -> str:
    """``2026-12-07 09:05:03 KST``: zero-padded, 24 h, in ``tz`` with its abbreviation ("" for None)."""
    if at is None:
        return ""
    local = at.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or tz.key}"


def camera_names(console: Console, keys: Iterable[str]) -> dict[str, str]:
    """Display names (Hangul) of camera keys: monitored cameras from the config, others from the
    registry; a key known to neither maps to itself."""
    wanted = set(keys)
    names = {k: m.name for k, m in console.services.live_cameras.items() if k in wanted and m.name}
    rest = sorted(wanted - names.keys())
    for i in range(0, len(rest), 500):
        chunk = rest[i : i + 500]
        stmt = select(cameras.c.camera_key, cameras.c.name, cameras.c.purpose).where(
            cameras.c.camera_key.in_(chunk)
        )
        with console.services.engine.connect() as c:
            for key, name, purpose in c.execute(stmt):
                names[str(key)] = str(name or purpose or key)
    return {k: names.get(k, k) for k in wanted}


def _session_json(s: ViewingSession, names: dict[str, str], tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": s.id,
        "camera": s.camera,
        "camera_name": names.get(s.camera, s.camera),
        "username": s.username,
        "how": s.how,
        "how_label": HOW_LABELS.get(s.how, s.how),
        "started_at": s.started_at.isoformat(),
        "last_seen_at": s.last_seen_at.isoformat(),
        "ended_at": s.ended_at.isoformat() if s.ended_at else None,
        "started_local": local_text(s.started_at, tz),
        "ended_local": local_text(s.ended_at, tz),
        "open": s.ended_at is None,
        "end_reason": s.end_reason,
        "duration_s": round(s.duration_s, 1),
        "remote_addr": s.remote_addr,
        "detail": s.detail,
        "start_audit_id": s.start_audit_id,
        "end_audit_id": s.end_audit_id,
    }


@router.get("/api/audit/sessions")
def viewing_sessions(
    console: ConsoleDep,
    _: AdminDep,
    username: Annotated[str | None, Query(max_length=64)] = None,
    camera: Annotated[str | None, Query(max_length=128, description="camera key")] = None,
    how: HowParam = None,
    since: Annotated[
        UtcDatetime | None, Query(description="ISO 8601; sessions still open then or later")
    ] = None,
    until: Annotated[UtcDatetime | None, Query(description="ISO 8601; sessions started before")] = None,
    open_: Annotated[
        bool | None, Query(alias="open", description="only open (true) or ended (false) sessions")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: OffsetParam = 0,
) -> dict[str, Any]:
    """Viewing sessions (who watched which camera, how, from when to when), newest first (admins)."""
    f = ViewingFilter(username, camera, how, since, until, open_, limit, offset)
    rows = console.viewing.query(f)
    names = camera_names(console, {s.camera for s in rows})
    tz = console_timezone(console)
    return {
        "total": console.viewing.count(f),
        "timezone": tz.key,
        "sessions": [_session_json(s, names, tz) for s in rows],
    }


def _csv_lines(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    yield "\ufeff"  # BOM: spreadsheet programs then read the Hangul as UTF-8
    writer.writerow(header)
    for n, row in enumerate(rows, 1):
        writer.writerow(row)
        if n % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _log_rows(entries: Iterable[AuditEntry], tz: ZoneInfo) -> Iterator[list[Any]]:
    for e in entries:
        yield [
            e.id,
            e.at.isoformat(),
            local_text(e.at, tz),
            e.username or "",
            e.action,
            e.target_type or "",
            e.target_id or "",
            e.remote_addr or "",
            "yes" if e.allowed else "no",
            e.detail or "",
        ]


def _session_rows(console: Console, f: ViewingFilter, tz: ZoneInfo) -> Iterator[list[Any]]:
    page = 1000
    for start in range(0, _EXPORT_ROWS_CAP, page):
        rows = console.viewing.query(
            ViewingFilter(f.username, f.camera, f.how, f.since, f.until, None, page, start)
        )
        names = camera_names(console, {s.camera for s in rows})
        for s in rows:
            yield [
                s.id,
                s.camera,
                names.get(s.camera, s.camera),
                s.username,
                HOW_LABELS.get(s.how, s.how),
                s.started_at.isoformat(),
                local_text(s.started_at, tz),
                s.ended_at.isoformat() if s.ended_at else "",
                local_text(s.ended_at, tz) if s.ended_at else "(open)",
                round(s.duration_s),
                s.end_reason or "",
                s.remote_addr or "",
                s.detail or "",
            ]
        if len(rows) < page:
            return


@router.get("/api/audit/export", response_class=StreamingResponse)
def export_csv(
    request: Request,
    console: ConsoleDep,
    admin: AdminDep,
    since: Annotated[UtcDatetime, Query(description="ISO 8601, start of the period (inclusive)")],
    until: Annotated[
        UtcDatetime, Query(description=f"ISO 8601, end (exclusive); at most {MAX_EXPORT_DAYS} days")
    ],
    what: Annotated[
        Literal["log", "sessions"], Query(description="the audit log or the viewing sessions")
    ] = "log",
    username: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=48)] = None,
    camera: Annotated[str | None, Query(max_length=128, description="camera key")] = None,
    how: HowParam = None,
    allowed: Annotated[bool | None, Query()] = None,
) -> StreamingResponse:
    """The audit log (or the viewing sessions) of a period as CSV, UTC and local (KST) times; audited."""
    if until <= since:
        raise HTTPException(status_code=400, detail="until must be after since; give a period to export")
    if until - since > timedelta(days=MAX_EXPORT_DAYS):
        raise HTTPException(
            status_code=400,
            detail=f"the period is {(until - since).days} days; "
            f"export at most {MAX_EXPORT_DAYS} days at a time",
        )
    tz = console_timezone(console)
    period = f"{local_text(since, tz)} .. {local_text(until, tz)}"
    filters = ", ".join(
        f"{k}={v}"
        for k, v in (
            ("user", username),
            ("action", action),
            ("camera", camera),
            ("how", how),
            ("allowed", allowed),
        )
        if v is not None
    )
    if what == "log":
        f = AuditFilter(
            username=username,
            action=action,
            target_type="camera" if camera else None,
            target_id=camera,
            allowed=allowed,
            since=since,
            until=until,
            max_id=console.audit.last_id(),  # the rows there are now (not this export's own row)
        )
        n = console.audit.count(f)
        header = [
            "id",
            "at_utc",
            "at_local",
            "user",
            "action",
            "target_type",
            "target_id",
            "from",
            "allowed",
            "detail",
        ]
        rows: Iterator[list[Any]] = _log_rows(console.audit.iter_entries(f), tz)
    else:
        vf = ViewingFilter(username=username, camera=camera, how=how, since=since, until=until)
        n = console.viewing.count(vf)
        header = [
            "session",
            "camera",
            "camera_name",
            "user",
            "how",
            "started_utc",
            "started_local",
            "ended_utc",
            "ended_local",
            "duration_s",
            "end_reason",
            "from",
            "detail",
        ]
        rows = _session_rows(console, vf, tz)
    audit_action(
        console,
        request,
        admin,
        "audit_export",
        target_type="audit",
        target_id=what,
        detail=f"CSV of {n} {'rows' if what == 'log' else 'viewing sessions'}, {period}"
        + (f", {filters}" if filters else ""),
    )
    stamp = f"{since.astimezone(tz):%Y%m%d-%H%M}_{until.astimezone(tz):%Y%m%d-%H%M}"
    name = f"safecity-audit-{what}-{stamp}.csv"
    return StreamingResponse(
        _csv_lines(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
