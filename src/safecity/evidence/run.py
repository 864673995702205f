"""One evidence export end to end: pick the events, build and sign the package, record and audit it.

Used by the console route (``POST /api/exports``) and ``safecity evidence export``; the caller has
already checked the user's permission and camera groups.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from safecity.errors import InputError
from safecity.evidence.keys import load_or_create_key
from safecity.evidence.package import ExportRequest, ExportResult, build_package
from safecity.store.audit import AuditLog
from safecity.store.events import EventStore
from safecity.store.schema import audit_head, evidence_exports

__all__ = ["MAX_EVENTS", "exports_dir", "find_export", "run_export"]

MAX_EVENTS = 200  # events in one time-range export at most


def exports_dir(home: Path) -> Path:
    return Path(home) / "exports"


def _events_for(store: EventStore, req: ExportRequest) -> list[dict[str, Any]]:
    if req.event_uid is not None:
        ev = store.get_event(req.event_uid)
        if ev is None or ev["camera"] != req.camera:
            raise InputError(f"no event {req.event_uid!r} of camera {req.camera!r} to export")
        return [ev]
    found = store.list_events(camera=req.camera, since=req.start, until=req.end, limit=MAX_EVENTS + 1)
    if len(found) > MAX_EVENTS:
        raise InputError(
            f"more than {MAX_EVENTS} events of camera {req.camera!r} in that range; export a shorter range"
        )
    out = []
    for row in reversed(found):  # oldest first
        full = store.get_event(str(row["uid"]))
        if full is not None:
            out.append(full)
    return out


def run_export(
    engine: Engine,
    store: EventStore,
    audit: AuditLog,
    *,
    home: Path,
    media_root: Path,
    req: ExportRequest,
    remote_addr: str | None = None,
    clock: Callable[[], float] = time.time,
    codec: str = "libx264",
) -> ExportResult:
    """Export ``req`` into ``<home>/exports``, record it in ``evidence_exports`` and audit it."""
    events = _events_for(store, req)
    with engine.connect() as c:
        head = c.execute(select(audit_head.c.last_hash).where(audit_head.c.id == 1)).scalar()
    key = load_or_create_key(home)
    result = build_package(
        exports_dir(home), req, events, media_root, key, audit_head=head, clock=clock, codec=codec
    )
    with engine.begin() as c:
        c.execute(
            insert(evidence_exports).values(
                export_id=result.export_id,
                created_at=datetime.fromtimestamp(clock(), UTC),
                username=req.username,
                reason=req.reason,
                camera_key=req.camera,
                event_uid=req.event_uid,
                start_at=req.start,
                end_at=req.end,
                path=str(result.folder),
                manifest_sha256=result.manifest_sha256,
                media=list(result.media),
            )
        )
    audit.record(
        "export_evidence",
        username=req.username,
        allowed=True,
        target_type="event" if req.event_uid else "camera",
        target_id=req.event_uid or req.camera,
        remote_addr=remote_addr,
        detail=(
            f"export {result.export_id}: {len(events)} event(s), {result.files} file(s), manifest sha256 "
            f"{result.manifest_sha256}; reason: {req.reason[:500]}"
        ),
    )
    return result


def find_export(engine: Engine, export_id: str) -> dict[str, Any] | None:
    """The ``evidence_exports`` row of ``export_id`` as a dict, or None."""
    with engine.connect() as c:
        row = c.execute(select(evidence_exports).where(evidence_exports.c.export_id == export_id)).first()
    return dict(row._mapping) if row is not None else None
