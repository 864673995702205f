"""``safecity db upgrade|status``."""

from __future__ import annotations

import argparse
import json

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
