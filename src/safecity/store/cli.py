"""``safecity db upgrade|status`` and ``safecity audit verify``.

``audit verify`` exits 0 when the audit hash chain is intact, 3 when it found a break (the first altered,
inserted or deleted row is named), 1 when the database cannot be read.
"""

from __future__ import annotations

import argparse
import json

from safecity.errors import InputError
from safecity.settings import Settings

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("db", help="database schema (migrations)")
    dsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dsub.add_parser("upgrade", help="create or migrate the schema to the newest revision")
    up.add_argument(
        "--database-url", help="SQLAlchemy URL (default: SAFECITY_DATABASE_URL or var/safecity.db)"
    )
    up.set_defaults(func=_upgrade)
    st = dsub.add_parser("status", help="print the schema revision")
    st.add_argument("--database-url")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.set_defaults(func=_status)

    a = sub.add_parser("audit", help="the audit log (tamper-evident hash chain)")
    asub = a.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    ver = asub.add_parser(
        "verify",
        help="check the audit log's hash chain; exit 3 and name the first altered, inserted or deleted row",
    )
    ver.add_argument("--database-url")
    ver.add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="HASH",
        help="a head hash recorded earlier (an earlier run's output, an evidence manifest's audit_head); "
        "it must still be in the chain (repeatable)",
    )
    ver.add_argument("--json", action="store_true", help="machine-readable output")
    ver.set_defaults(func=_audit_verify)


def _url(args: argparse.Namespace) -> str:
    return str(args.database_url or Settings().db_url)


def _upgrade(args: argparse.Namespace) -> int:
    from safecity.store.db import connect, current_revision

    engine = connect(_url(args))
    print(
        f"database {engine.url.render_as_string(hide_password=True)} at revision {current_revision(engine)}"
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    from safecity.store.db import connect, current_revision, head_revision

    engine = connect(_url(args), migrate=False)
    cur, head = current_revision(engine), head_revision()
    if args.json:
        print(json.dumps({"current": cur, "head": head, "up_to_date": cur == head}))
    else:
        print(
            f"current {cur or '(empty)'}; newest {head}"
            + ("" if cur == head else "; run `safecity db upgrade`")
        )
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from safecity.store.audit_chain import verify_chain
    from safecity.store.db import connect

    engine = connect(_url(args))
    bad = [a for a in args.anchor if len(a) != 64 or any(ch not in "0123456789abcdef" for ch in a)]
    if bad:
        raise InputError(f"--anchor must be a 64-digit lowercase hex SHA-256, got {bad[0]!r}")
    report = verify_chain(engine, anchors=args.anchor)
    brk = report.first_break
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "rows_checked": report.rows,
                    "head_hash": report.head_hash,
                    "last_id": report.last_id,
                    "break": None
                    if brk is None
                    else {"kind": brk.kind, "row_id": brk.row_id, "message": brk.message},
                }
            )
        )
    elif brk is None:
        print(f"audit log intact: {report.rows} rows chained; head {report.head_hash}")
    else:
        print(f"audit log TAMPERED ({brk.kind}): {brk.message}")
    engine.dispose()
    return 0 if brk is None else 3
