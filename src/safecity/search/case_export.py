"""One signed evidence package that answers a case (:mod:`safecity.store.cases`).

The package has the evidence export's layout and format (``safecity-evidence/1``: files, SHA-256
manifest signed with the installation's Ed25519 key, zip), so ``safecity evidence verify`` checks it
offline like any other export, and it is recorded in ``evidence_exports`` (retention keeps its
media; ``GET /api/exports/{id}/package.zip`` serves it too). Inside:

- ``case.json``: the request (number, agency, reason, period, cameras) and the collected items;
- ``tracks/<uid>.json`` and ``.jpg``: each collected search result and its best crop;
- ``synopses/<id>.mp4`` and ``.json``: each collected synopsis and its sidecar;
- ``media/<event uid>.mp4`` / ``.jpg``: the clip and snapshot of each collected event and of each
  event that involved a collected track, watermarked with who exported it, when (KST) and the case.

Files that are gone (retention) are listed under ``missing`` in the manifest; a case with nothing
collected is refused.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from safecity.errors import InputError
from safecity.evidence.keys import load_or_create_key
from safecity.evidence.package import FORMAT, KST, add_event_media, seal_package
from safecity.evidence.run import exports_dir
from safecity.media import safe_name
from safecity.search.synopsis_job import synopsis_files
from safecity.store.audit import AuditLog
from safecity.store.cases import CaseStore
from safecity.store.events import EventStore
from safecity.store.schema import audit_head, evidence_exports
from safecity.store.tracks import TrackIndex

__all__ = ["CaseExport", "export_case"]


@dataclass(frozen=True, slots=True)
class CaseExport:
    """What :func:`export_case` wrote."""

    export_id: str
    zip_path: Path
    manifest_sha256: str
    files: int
    missing: tuple[str, ...]


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def export_case(
    engine: Engine,
    events: EventStore,
    audit: AuditLog,
    case_id: int,
    *,
    home: Path,
    media_root: Path,
    username: str,
    remote_addr: str | None = None,
    clock: Callable[[], float] = time.time,
) -> CaseExport:
    """Build, sign, record and audit the package of case ``case_id`` (the caller checked the user's
    permission and every camera of the case).

    Raises:
        InputError: no such case, or nothing collected for it.
    """
    store = CaseStore(engine)
    case = store.get(case_id)
    if case is None:
        raise InputError(f"no case {case_id}")
    if not case["items"]:
        raise InputError(
            f"case {case['number']!r} holds nothing yet: add search results, synopses or clips first"
        )
    now = datetime.fromtimestamp(clock(), UTC)
    now_kst = now.astimezone(KST)
    export_id = safe_name(
        f"{now_kst:%Y%m%d-%H%M%S}-case-{safe_name(case['number'])[:24]}-{secrets.token_hex(4)}"
    )
    folder = exports_dir(home) / export_id
    (folder / "media").mkdir(parents=True, exist_ok=False)
    mark = f"{username} | {now_kst:%Y-%m-%d %H:%M:%S} KST | case {case['number']}"
    root = Path(media_root).resolve()
    used: list[str] = []
    missing: list[str] = []
    index = TrackIndex(engine)
    for item in case["items"]:
        kind, ref, cam = item["kind"], str(item["ref"]), str(item["camera_key"])
        if kind == "track":
            rec = index.get(ref)
            if rec is None:
                missing.append(f"track {ref}: not in the index (removed by retention)")
                continue
            (folder / "tracks").mkdir(exist_ok=True)
            out = folder / "tracks" / safe_name(ref)
            out.with_suffix(".json").write_text(
                json.dumps(rec, default=_json_default, ensure_ascii=False, indent=1)
            )
            thumb = index.thumbnail(ref)
            if thumb is not None:
                out.with_suffix(".jpg").write_bytes(thumb)
            since = rec["first_at"] - timedelta(seconds=5)
            for ev in events.list_events(camera=cam, since=since, until=rec["last_at"], limit=50):
                if rec["track_id"] in (ev.get("track_ids") or []):
                    full = events.get_event(str(ev["uid"]))
                    if full is not None:
                        add_event_media(full, root, folder, mark, used, missing, export_id=export_id)
        elif kind == "synopsis":
            video, sidecar = synopsis_files(media_root, cam, ref)
            if not (video.is_file() and sidecar.is_file()):
                missing.append(f"synopsis {ref}: not on disk (removed by retention)")
                continue
            (folder / "synopses").mkdir(exist_ok=True)
            shutil.copyfile(video, folder / "synopses" / video.name)
            shutil.copyfile(sidecar, folder / "synopses" / sidecar.name)
        else:
            one = events.get_event(ref)
            if one is None or one["camera"] != cam:
                missing.append(f"event {ref}: not in the store")
                continue
            add_event_media(one, root, folder, mark, used, missing, export_id=export_id)
    (folder / "case.json").write_text(
        json.dumps(case, default=_json_default, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    with engine.connect() as c:
        head = c.execute(select(audit_head.c.last_hash).where(audit_head.c.id == 1)).scalar()
    key = load_or_create_key(home)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    reason = f"case {case['number']} ({case['agency']}): {case['reason']}"
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "export_id": export_id,
        "created_at": now.isoformat(),
        "created_at_kst": now_kst.isoformat(),
        "exported_by": username,
        "reason": reason,
        "case": {
            "number": case["number"],
            "agency": case["agency"],
            "cameras": case["cameras"],
            "since": case["since_at"].isoformat(),
            "until": case["until_at"].isoformat(),
            "items": len(case["items"]),
        },
        "audit_head": head,
        "watermark": mark,
        "missing": missing,
    }
    zip_path, sha = seal_package(folder, export_id, manifest, files, key)
    with engine.begin() as c:
        c.execute(
            insert(evidence_exports).values(
                export_id=export_id, created_at=now, username=username, reason=reason[:2000],
                camera_key=case["cameras"][0], event_uid=None, start_at=case["since_at"],
                end_at=case["until_at"], path=str(folder), manifest_sha256=sha, media=used,
            )
        )  # fmt: skip
    store.set_export(case_id, export_id)
    detail = f"export {export_id}: {len(case['items'])} item(s), {len(files)} file(s), manifest sha256 {sha}"
    audit.record("export_case", username=username, allowed=True, target_type="case",
                 target_id=str(case["number"])[:128], remote_addr=remote_addr, detail=detail)  # fmt: skip
    return CaseExport(export_id, zip_path, sha, len(files), tuple(missing))
