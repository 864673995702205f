"""``safecity evidence export | verify | public-key``.

``verify`` exits 0 when the package is intact and signed, 3 when something was altered, added or
removed (each finding names the file), 1 when the package cannot be read at all.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from pathlib import Path

from safecity.errors import AuthError, InputError
from safecity.settings import Settings

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("evidence", help="signed evidence exports: export, verify, public key")
    esub = p.add_subparsers(dest="evidence_command", metavar="ACTION", required=True)

    ex = esub.add_parser(
        "export",
        help="export one event, or a camera's time range, as a signed package",
        description="Writes <home>/exports/<id>/ and <id>.zip; the export is recorded and audited. "
        "USER must exist and have the export_evidence permission (admin, operator) and the camera.",
    )
    what = ex.add_mutually_exclusive_group(required=True)
    what.add_argument("--event", metavar="UID", help="the event to export")
    what.add_argument("--camera", help="the camera whose events in --since/--until to export")
    ex.add_argument(
        "--since", type=_aware, help="range start, ISO 8601 with offset (e.g. 2026-12-06T21:00+09:00)"
    )
    ex.add_argument("--until", type=_aware, help="range end (exclusive), at most 24 h after --since")
    ex.add_argument("--user", required=True, help="the console user on whose behalf the export is made")
    ex.add_argument(
        "--reason", required=True, help="why (e.g. the police request number); kept in the package"
    )
    ex.add_argument("--database-url")
    ex.add_argument("--media-dir", type=Path, help="snapshots and clips folder (default: <home>/media)")
    ex.add_argument("--json", action="store_true", help="machine-readable output")
    ex.set_defaults(func=_export)

    ver = esub.add_parser(
        "verify", help="check a package offline; exit 3 and name each altered/added/removed file"
    )
    ver.add_argument("package", type=Path, help="package folder or .zip")
    ver.add_argument("--public-key", type=Path, help="trusted public key (PEM) of the exporting installation")
    ver.add_argument("--json", action="store_true", help="machine-readable output")
    ver.set_defaults(func=_verify)

    pk = esub.add_parser(
        "public-key", help="print this installation's public key (PEM), creating the key if needed"
    )
    pk.set_defaults(func=_public_key)


def _aware(text: str) -> datetime:
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as 2026-12-06T21:00+09:00, got {text!r}"
        ) from exc
    if dt.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the time zone, e.g. {text}+09:00 (KST)")
    return dt


def _export(args: argparse.Namespace) -> int:
    from safecity.evidence.package import ExportRequest
    from safecity.evidence.run import run_export
    from safecity.store.audit import AuditLog
    from safecity.store.db import connect
    from safecity.store.events import EventStore
    from safecity.store.permissions import has_permission, roles_with
    from safecity.store.users import UserStore

    settings = Settings()
    engine = connect(str(args.database_url or settings.db_url))
    audit = AuditLog(engine)
    user = UserStore(engine).get_user(args.user)
    if user is None or user.disabled:
        raise AuthError(f"no active console user {args.user!r}; create one with `safecity users add`")
    store = EventStore(engine, spool_dir=settings.home / "spool" / "evidence-cli", start=False)
    try:
        if args.event:
            ev = store.get_event(args.event)
            if ev is None:
                raise InputError(f"no event with uid {args.event!r}")
            camera = str(ev["camera"])
            start = ev["start_at"]
            end = ev["end_at"] if ev["end_at"] and ev["end_at"] > start else start.replace(microsecond=0)
            end = max(end, start + timedelta(seconds=1))
        else:
            if args.since is None or args.until is None:
                raise InputError("--camera needs --since and --until")
            camera, start, end = args.camera, args.since, args.until
        target = ("event", args.event) if args.event else ("camera", camera)
        allowed_cams = UserStore(engine).cameras_of(user)
        problem = None
        if not has_permission(user.role, "export_evidence"):
            may = ", ".join(roles_with("export_evidence"))
            problem = f"user {user.username!r} ({user.role}) may not export evidence; roles that may: {may}"
        elif allowed_cams is not None and camera not in allowed_cams:
            problem = f"camera {camera!r} is outside the camera groups of user {user.username!r}"
        if problem is not None:
            audit.record(
                "export_evidence",
                username=user.username,
                allowed=False,
                target_type=target[0],
                target_id=target[1],
                remote_addr="cli",
                detail=f"403: {problem}",
            )
            raise AuthError(problem)
        req = ExportRequest(user.username, args.reason, camera, start, end, args.event)
        result = run_export(
            engine,
            store,
            audit,
            home=settings.home,
            media_root=args.media_dir or settings.home / "media",
            req=req,
            remote_addr="cli",
        )
    finally:
        store.close()
        engine.dispose()
    if args.json:
        print(
            json.dumps(
                {
                    "export_id": result.export_id,
                    "folder": str(result.folder),
                    "zip": str(result.zip_path),
                    "manifest_sha256": result.manifest_sha256,
                    "files": result.files,
                    "missing": list(result.missing),
                },
                ensure_ascii=False,
            )
        )
    else:
        print(
            f"exported {result.export_id}: {result.files} file(s) in {result.folder} "
            f"(and {result.zip_path.name})"
        )
        for m in result.missing:
            print(f"  not included: {m}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from safecity.evidence.verify import verify_package

    report = verify_package(args.package, trusted_key=args.public_key)
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "signature_ok": report.signature_ok,
                    "key_trusted": report.key_trusted,
                    "files_checked": report.files_checked,
                    "findings": [
                        {"kind": f.kind, "path": f.path, "message": f.message} for f in report.findings
                    ],
                    "export_id": report.manifest.get("export_id"),
                    "exported_by": report.manifest.get("exported_by"),
                    "reason": report.manifest.get("reason"),
                },
                ensure_ascii=False,
            )
        )
    else:
        m = report.manifest
        if m:
            print(
                f"package {m.get('export_id')}: exported by {m.get('exported_by')} "
                f"at {m.get('created_at_kst')}, "
                f"camera {m.get('camera')}; reason: {m.get('reason')}"
            )
        for f in report.findings:
            print(f"{f.kind.upper():8s} {f.path}: {f.message}")
        if report.ok:
            trust = (
                " with the trusted key"
                if report.key_trusted
                else " (embedded key; pass --public-key to pin it)"
            )
            print(f"OK: signature valid{trust}; {report.files_checked} file(s) match the manifest")
        else:
            print(f"FAILED: {len(report.findings)} problem(s)")
    return 0 if report.ok else 3


def _public_key(_args: argparse.Namespace) -> int:
    from safecity.evidence.keys import load_or_create_key, public_key_pem

    print(public_key_pem(load_or_create_key(Settings().home)).decode("ascii"), end="")
    return 0
