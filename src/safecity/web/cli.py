"""``safecity serve``, ``safecity users ...`` and ``safecity demo``.

``serve`` runs the console (and the monitoring runtime when given ``--monitor-config``);
``users`` manages console accounts (the first admin is created here, the password read from a
prompt or ``--password-stdin``, never a default); ``demo`` sets up a local demonstration in
the default data folder (``SAFECITY_HOME`` or ``./var``: the same SQLite database that ``serve`` and
``safecity plan`` use, so plans made on the command line show in the console; bundled Guro registry,
plans, demo users and camera groups, sample videos looped as cameras) and serves it.
"""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safecity.errors import ConfigError, InputError
from safecity.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["register", "server_config"]

DEMO_CONFIG = Path("configs/demo-cameras.yaml")
DEMO_GROUPS = ("guro-east", "guro-west")


def _progress(msg: str) -> None:
    print(f"safecity: {msg}", file=sys.stderr, flush=True)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the operator console (web UI + API)")
    _server_args(serve, default_port=8000)
    serve.add_argument(
        "--monitor-config", type=Path, help="monitoring config (YAML): also run the monitoring runtime"
    )
    serve.add_argument(
        "--replay",
        action="store_true",
        help="video-file cameras loop at their own frame rate (like live ones)",
    )
    serve.add_argument("--workers", type=int, default=2, help="monitoring worker processes (default 2)")
    serve.set_defaults(func=_serve)

    demo = sub.add_parser(
        "demo", help="local demonstration: registry, plans, demo users, sample videos as cameras, console"
    )
    _server_args(demo, default_port=8000)
    demo.add_argument(
        "--home",
        type=Path,
        default=None,
        help="demo data folder (default: SAFECITY_HOME or ./var, shared with serve and plan)",
    )
    demo.add_argument(
        "--config", type=Path, default=DEMO_CONFIG, help="monitoring config of the demo cameras"
    )
    demo.add_argument("--no-monitor", action="store_true", help="console only, no video analysis")
    demo.add_argument("--no-plans", action="store_true", help="skip computing the demo plans")
    demo.add_argument("--setup-only", action="store_true", help="prepare the demo data and exit (no server)")
    demo.set_defaults(func=_demo)

    users = sub.add_parser("users", help="console users: add, list, passwd, set, delete")
    usub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = usub.add_parser("add", help="create a user (prompts for the password)")
    add.add_argument("name")
    add.add_argument("--role", choices=("admin", "operator", "viewer"), required=True)
    add.add_argument("--groups", default="", help="comma-separated camera groups")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(func=_users_add)
    ls = usub.add_parser("list", help="list users")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_users_list)
    pw = usub.add_parser("passwd", help="set a user's password (ends their sessions)")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true")
    pw.set_defaults(func=_users_passwd)
    st = usub.add_parser("set", help="change role, camera groups or the disabled flag")
    st.add_argument("name")
    st.add_argument("--role", choices=("admin", "operator", "viewer"))
    st.add_argument("--groups", help="comma-separated camera groups (replaces the current ones)")
    st.add_argument("--disable", action="store_true")
    st.add_argument("--enable", action="store_true")
    st.set_defaults(func=_users_set)
    rm = usub.add_parser("delete", help="delete a user")
    rm.add_argument("name")
    rm.set_defaults(func=_users_delete)
    for p in (add, ls, pw, st, rm):
        p.add_argument(
            "--database-url", help="SQLAlchemy URL (default: SAFECITY_DATABASE_URL or var/safecity.db)"
        )


def _settings() -> Settings:
    """Settings from the environment; a bad ``SAFECITY_*`` value is a ConfigError naming it."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"SAFECITY_{'_'.join(str(p) for p in e['loc'][:1]).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"bad environment setting: {problems}") from exc


def _server_args(p: argparse.ArgumentParser, *, default_port: int) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=default_port, help=f"port (default {default_port})")


# ---------------------------------------------------------------------------------------- users
def _user_store(args: argparse.Namespace) -> Any:
    from safecity.store.db import connect
    from safecity.store.users import UserStore

    url = args.database_url or _settings().db_url
    return UserStore(connect(url))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        return "unknown"


class _CliAudit:
    """Writes a ``safecity users`` change (or its refusal) to the audit log, as the API does: who is
    ``cli:<OS user>``, what the same action names as the API (``user_create``, ``user_update``,
    ``user_password_reset``, ``user_delete``), the detail says it came from the command line."""

    def __init__(self, users: Any, command: str) -> None:
        from safecity.store.audit import AuditLog

        self._log = AuditLog(users.engine)
        self._who = f"cli:{_os_user()}"[:64]
        self._command = command

    def record(self, action: str, target: str, detail: str, *, allowed: bool = True) -> None:
        host = socket.gethostname()
        self._log.record(
            action,
            username=self._who,
            allowed=allowed,
            target_type="user",
            target_id=target,
            remote_addr=f"cli@{host}"[:64],
            detail=f"{detail} (command line: safecity users {self._command})",
        )

    def refused(self, action: str, target: str, exc: InputError) -> None:
        self.record(action, target, f"refused: {exc}"[:500], allowed=False)


def _read_password(args: argparse.Namespace, name: str) -> str:
    """The password exactly as typed: only the line ending of stdin is removed, never spaces
    (the one normalisation of passwords lives in safecity.store.password_policy)."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise InputError("no terminal to prompt for the password; pass --password-stdin and pipe it in")
        password = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != password:
            raise InputError("the two passwords differ; run the command again")
    if not password:
        raise InputError("empty password; give a passphrase of at least 8 characters")
    return password


def _groups(text: str | None) -> list[str]:
    return [g.strip() for g in (text or "").split(",") if g.strip()]


def _users_add(args: argparse.Namespace) -> int:
    users = _user_store(args)
    audit = _CliAudit(users, "add")
    password = _read_password(args, args.name)
    try:
        user = users.add_user(args.name, password, args.role, _groups(args.groups))
    except InputError as exc:
        audit.refused("user_create", args.name, exc)
        raise
    audit.record("user_create", user.username, f"role {user.role}, groups {', '.join(user.groups) or '-'}")
    print(
        f"created {user.role} {user.username}"
        + (f" (groups {', '.join(user.groups)})" if user.groups else "")
    )
    return 0


def _users_list(args: argparse.Namespace) -> int:
    rows = [
        {
            "username": u.username,
            "role": u.role,
            "disabled": u.disabled,
            "groups": list(u.groups),
            "created_at": u.created_at.isoformat(),
        }
        for u in _user_store(args).list_users()
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for r in rows:
            flag = " (disabled)" if r["disabled"] else ""
            print(f"{r['username']:<20} {r['role']:<9} {','.join(r['groups']) or '-'}{flag}")
    return 0


def _users_passwd(args: argparse.Namespace) -> int:
    users = _user_store(args)
    audit = _CliAudit(users, "passwd")
    password = _read_password(args, args.name)
    try:
        ended = users.reset_password(args.name, password)
    except InputError as exc:
        audit.refused("user_password_reset", args.name, exc)
        raise
    audit.record(
        "user_password_reset", args.name, f"password set; {ended} session{'' if ended == 1 else 's'} ended"
    )
    print(f"password of {args.name} changed; their sessions were ended")
    return 0


def _users_set(args: argparse.Namespace) -> int:
    if args.disable and args.enable:
        raise InputError("give --disable or --enable, not both")
    users = _user_store(args)
    audit = _CliAudit(users, "set")
    disabled = True if args.disable else False if args.enable else None
    groups = _groups(args.groups) if args.groups is not None else None
    changed = [
        k for k, v in (("role", args.role), ("disabled", disabled), ("groups", groups)) if v is not None
    ]
    try:
        users.update_user(args.name, role=args.role, disabled=disabled, groups=groups)
    except InputError as exc:
        audit.refused("user_update", args.name, exc)
        raise
    u = users.get_user(args.name)
    audit.record(
        "user_update",
        args.name,
        f"changed {', '.join(changed) or 'nothing'}: {u.role}, groups {','.join(u.groups) or '-'}"
        + (", disabled" if u.disabled else ""),
    )
    print(f"{u.username}: {u.role}, groups {','.join(u.groups) or '-'}{' (disabled)' if u.disabled else ''}")
    return 0


def _users_delete(args: argparse.Namespace) -> int:
    users = _user_store(args)
    audit = _CliAudit(users, "delete")
    try:
        users.delete_user(args.name)
    except InputError as exc:
        audit.refused("user_delete", args.name, exc)
        raise
    audit.record("user_delete", args.name, "user and their sessions deleted")
    print(f"deleted {args.name}")
    return 0


# ---------------------------------------------------------------------------------------- serve
def server_config(app: Any, host: str, port: int) -> Any:
    """The uvicorn configuration of ``safecity serve`` (a ``uvicorn.Config``).

    ``proxy_headers`` is off: uvicorn would otherwise believe ``X-Forwarded-For`` from 127.0.0.1
    (its default ``forwarded_allow_ips``), so any local client could forge its address. The app
    decides itself, from ``SAFECITY_TRUSTED_PROXIES`` (:func:`safecity.web.deps.client_addr`).
    """
    import uvicorn

    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", ws="websockets-sansio", proxy_headers=False
    )


def _run_server(settings: Settings, services: Any, host: str, port: int, banner: list[str]) -> int:
    import uvicorn

    from safecity.web.app import create_app

    try:
        app = create_app(settings, services)
        services.start()
        server = uvicorn.Server(server_config(app, host, port))
        url = f"http://{host}:{port}/"
        for line in [f"console at {url}", *banner, "press Ctrl-C to stop"]:
            print(line, flush=True)
        server.run()
    finally:
        services.close()
    return 0


def _serve(args: argparse.Namespace) -> int:
    import logging

    from safecity.service import build_services

    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = _settings()
    settings.require_secret()
    if args.monitor_config is not None and not args.monitor_config.is_file():
        raise ConfigError(f"monitoring config {args.monitor_config} not found; pass an existing YAML file")
    _progress(f"database {settings.db_url.split('@')[-1]}")
    services = build_services(settings, args.monitor_config, replay=args.replay, workers=args.workers)
    return _run_server(settings, services, args.host, args.port, [])


# ---------------------------------------------------------------------------------------- demo
def _import_registry(engine: Engine) -> None:
    from sqlalchemy import func, select

    from safecity.paths import seoul_data_dir
    from safecity.store.schema import cameras

    with engine.connect() as c:
        n = int(
            c.execute(
                select(func.count()).select_from(cameras).where(cameras.c.district == "구로구")
            ).scalar_one()
        )
    if n:
        _progress(f"registry: {n} Guro camera records already imported")
        return
    try:
        from safecity.registry.repo import import_file
    except ImportError as exc:
        _progress(f"registry import skipped (safecity.registry not available: {exc})")
        return
    path = seoul_data_dir() / "cctv" / "guro_cctv_points_2018.csv"
    report = import_file(engine, path)
    _progress(
        f"registry: imported {path.name}: {report.rows_ok} of {report.rows_total} rows, "
        f"{report.cameras_in_file} cameras at {report.sites_in_file} sites, {report.rows_bad} bad rows"
    )


def _demo_plans(engine: Engine, url: str, home: Path) -> None:
    """A Guro site plan and a replacement plan through the planning CLI (skipped if absent)."""
    from sqlalchemy import func, select

    from safecity.errors import SafecityError
    from safecity.store.schema import plans

    with engine.connect() as c:
        n = int(c.execute(select(func.count()).select_from(plans)).scalar_one())
    if n:
        _progress(f"plans: {n} saved plans already there")
        return
    try:
        import safecity.plan.cli  # noqa: F401  (only to see whether planning is installed)
    except ImportError as exc:
        _progress(f"plans skipped (the planning part is not importable: {exc})")
        return
    from safecity.cli import main as safecity_main

    for kind, budget in (("sites", "1.22e9"), ("replace", "1.3e9")):
        _progress(f"plans: computing a Guro {kind} plan (budget {budget} KRW)")
        argv = ["-q", "plan", kind, "--area", "guro", "--budget-krw", budget, "--database-url", url]
        argv += ["--out", str(home / "plans" / kind), "--time-limit-s", "60"]
        try:
            rc = safecity_main(argv)
        except SafecityError as exc:  # pragma: no cover - main() already turns these into rc 1
            rc, msg = 1, str(exc)
        else:
            msg = f"exit code {rc}"
        if rc != 0:
            _progress(f"plans: the {kind} plan failed ({msg}); the console shows the others")


def _demo_users_and_groups(engine: Engine, live_keys: list[str]) -> list[str]:
    from sqlalchemy import select

    from safecity.store.schema import cameras
    from safecity.store.users import UserStore

    users = UserStore(engine)
    with engine.connect() as c:
        reg = [
            (str(k), lon)
            for k, lon in c.execute(select(cameras.c.camera_key, cameras.c.lon))
            if lon is not None
        ]
    reg.sort(key=lambda r: r[1])
    half = len(reg) // 2
    west = [k for k, _ in reg[:half]] + live_keys[: (len(live_keys) + 1) // 2]
    east = [k for k, _ in reg[half:]] + live_keys[(len(live_keys) + 1) // 2 :]
    users.upsert_group("guro-west", west, "demo: western half of Guro-gu and the first sample cameras")
    users.upsert_group("guro-east", east, "demo: eastern half of Guro-gu and the other sample cameras")
    lines = ["DEMO LOGINS (demo mode only; random passwords, new on every start):"]
    for name, role, groups in (
        ("admin", "admin", []),
        ("operator", "operator", list(DEMO_GROUPS)),
        ("viewer", "viewer", ["guro-west"]),
    ):
        password = secrets.token_urlsafe(9)
        if users.get_user(name) is None:
            users.add_user(name, password, role)
        else:
            users.update_user(name, role=role, password=password, disabled=False)
        users.set_user_groups(name, groups)
        lines.append(f"  {role:<9} {name:<9} password {password}   groups: {', '.join(groups) or 'all'}")
    return lines


def _demo(args: argparse.Namespace) -> int:
    import logging

    from safecity.service import build_services, live_cameras_from_config

    logging.getLogger("alembic").setLevel(logging.WARNING)
    home = (args.home if args.home is not None else Settings().home).resolve()
    settings = Settings(home=home, demo=True, database_url=f"sqlite:///{home / 'safecity.db'}")
    _progress(f"demo data in {home}")
    from safecity.store.db import connect

    engine = connect(settings.db_url)
    _progress("database migrated")
    _import_registry(engine)
    if not args.no_plans:
        _demo_plans(engine, settings.db_url, home)
    config_path: Path | None = None if args.no_monitor else args.config
    live_keys: list[str] = []
    if config_path is not None and not config_path.is_file() and not config_path.is_absolute():
        from safecity.paths import bundled_data_dir

        bundled = bundled_data_dir().parent / config_path  # run from elsewhere than the checkout
        config_path = bundled if bundled.is_file() else config_path
    if config_path is not None:
        if not config_path.is_file():
            _progress(f"no monitoring config at {config_path}; console without live cameras")
            config_path = None
        else:
            from safecity.monitor.config.model import load_monitor_config

            live_keys = list(live_cameras_from_config(load_monitor_config(config_path)))
    banner = _demo_users_and_groups(engine, live_keys)
    engine.dispose()
    if args.setup_only:
        print("\n".join(banner))
        return 0
    _progress("starting services" + (f" and the monitoring runtime on {config_path}" if config_path else ""))
    services = build_services(settings, config_path, replay=True)
    return _run_server(settings, services, args.host, args.port, banner)
