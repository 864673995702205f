"""``safecity users ...``, ``serve`` refusing a placeholder secret, ``demo --setup-only``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from safecity.cli import main
from tests.unit.web.conftest import Env


@pytest.fixture
def db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SAFECITY_DATABASE_URL", sqlite_url)
    return sqlite_url


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_users_add_list_passwd_set_delete(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, "first-admin-pass\n")
    assert main(["users", "add", "boss", "--role", "admin", "--password-stdin"]) == 0
    assert "created admin boss" in capsys.readouterr().out
    assert main(["users", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["username"], r["role"]) for r in rows] == [("boss", "admin")]
    _stdin(monkeypatch, "second-admin-pass\n")
    assert main(["users", "passwd", "boss", "--password-stdin"]) == 0
    from safecity.store.db import connect
    from safecity.store.users import UserStore

    assert UserStore(connect(db)).authenticate("boss", "second-admin-pass") is not None
    _stdin(monkeypatch, "deputy-admin-pass\n")
    assert main(["users", "add", "deputy", "--role", "admin", "--password-stdin"]) == 0
    assert main(["users", "set", "boss", "--disable"]) == 0
    assert "(disabled)" in capsys.readouterr().out
    assert main(["users", "delete", "boss"]) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["users", "set", "boss", "--disable"],
        ["users", "set", "boss", "--role", "operator"],
        ["users", "delete", "boss"],
    ],
)
def test_users_last_admin_is_kept(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    _stdin(monkeypatch, "first-admin-pass\n")
    assert main(["users", "add", "boss", "--role", "admin", "--password-stdin"]) == 0
    assert main(argv) == 1
    assert "last enabled admin" in capsys.readouterr().err
    assert main(["users", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["username"], r["role"], r["disabled"]) for r in rows] == [("boss", "admin", False)]


def test_users_add_with_an_unknown_group_creates_nobody(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, "long enough pw\n")
    argv = ["users", "add", "kim", "--role", "viewer", "--groups", "unknown", "--password-stdin"]
    assert main(argv) == 1
    assert "unknown camera group(s) unknown" in capsys.readouterr().err
    assert main(["users", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_cli_and_api_take_the_password_as_typed(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A password with surrounding spaces set on the CLI logs in through the API exactly as typed."""
    from fastapi.testclient import TestClient

    from safecity.service import build_services
    from safecity.settings import Settings
    from safecity.web.app import create_app

    _stdin(monkeypatch, "  spaced passphrase \n")
    assert main(["users", "add", "kim", "--role", "viewer", "--password-stdin"]) == 0
    settings = Settings(database_url=db, secret_key="k" * 40, home=Path(db.split("///")[1]).parent)
    services = build_services(settings, None)
    try:
        with TestClient(create_app(settings, services)) as client:

            def login(pw: str) -> int:
                return client.post("/api/auth/login", json={"username": "kim", "password": pw}).status_code

            assert login("  spaced passphrase ") == 200
            assert login("spaced passphrase") == 401
    finally:
        services.close()


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["users", "add", "kim", "--role", "viewer", "--password-stdin"], "short\n", "at least 8"),  # weak
        (["users", "add", "kim", "--role", "viewer", "--password-stdin"], "12345678\n", "most common"),
        (["users", "add", "kim", "--role", "viewer", "--password-stdin"], "aaaaaaaa\n", "different char"),
        (["users", "add", "kim", "--role", "viewer", "--password-stdin"], "\n", "empty password"),  # empty
        (["users", "add", "kim", "--role", "viewer"], "", "--password-stdin"),  # no tty to prompt on
        (["users", "set", "nobody", "--role", "admin"], "", "no user named 'nobody'"),  # unknown user
        (
            ["users", "add", "kim", "--role", "viewer", "--groups", "north", "--password-stdin"],
            "long enough pw\n",
            "unknown camera group",
        ),
    ],
)
def test_users_errors_exit_1_with_a_message(
    db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    message: str,
) -> None:
    _stdin(monkeypatch, stdin)
    assert main(argv) == 1
    assert message in capsys.readouterr().err


def test_serve_refuses_a_placeholder_secret(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAFECITY_SECRET_KEY", "changeme")
    monkeypatch.delenv("SAFECITY_DEMO", raising=False)
    assert main(["serve", "--port", "1"]) == 1
    assert "SAFECITY_SECRET_KEY" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("SAFECITY_TRUSTED_PROXIES", "10.0.0.1,nonsense", "'nonsense' is not an IP address or CIDR network"),
        ("SAFECITY_ALLOWED_ORIGINS", "wall.example.org", "'wall.example.org' is not an origin"),
    ],
)
def test_serve_names_a_bad_setting(
    db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    needle: str,
) -> None:
    monkeypatch.setenv("SAFECITY_SECRET_KEY", "k" * 40)
    monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "1"]) == 1
    err = capsys.readouterr().err
    assert f"{name}: Value error, {needle}" in err and "Traceback" not in err


def test_demo_setup_imports_registry_and_creates_users_and_groups(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "demo"
    argv = ["demo", "--setup-only", "--no-monitor", "--no-plans", "--home", str(home)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "DEMO LOGINS (demo mode only" in out
    passwords = {line.split()[1]: line.split()[3] for line in out.splitlines() if " password " in line}
    assert set(passwords) == {"admin", "operator", "viewer"}
    from safecity.store.db import connect
    from safecity.store.users import UserStore

    users = UserStore(connect(f"sqlite:///{home / 'safecity.db'}"))
    assert users.authenticate("viewer", passwords["viewer"]) is not None
    groups = {g.name: len(g.cameras) for g in users.list_groups()}
    assert set(groups) == {"guro-east", "guro-west"} and min(groups.values()) > 500  # registry split in two
    assert main(argv) == 0  # a second run keeps the data and issues new passwords
    assert "Guro camera records already imported" in capsys.readouterr().err
    assert users.authenticate("viewer", passwords["viewer"]) is None


def test_served_console_ignores_a_forged_x_forwarded_for(env: Env) -> None:
    """Through the real uvicorn of ``safecity serve``: a local client's X-Forwarded-For is not its address.

    uvicorn's own proxy-header handling (on by default, trusting 127.0.0.1) used to rewrite the
    client address, which sidestepped the address lock and put the forged address in the audit.
    """
    import threading
    import time

    import httpx
    import uvicorn

    from safecity.web.app import create_app
    from safecity.web.cli import server_config

    app = create_app(env.services.settings, env.services)
    server = uvicorn.Server(server_config(app, "127.0.0.1", 0))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            time.sleep(0.01)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}/api/auth/login"
        codes = [
            httpx.post(
                url,
                json={"username": f"nobody{i}", "password": "guess-guess"},
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
            ).status_code
            for i in range(21)
        ]
    finally:
        server.should_exit = True
        thread.join(10)
    assert codes[:20] == [401] * 20 and codes[20] == 429  # one address, however many forged ones
    addrs = {row["remote_addr"] for row in env.audit(action="login", allowed="false", limit=50)}
    assert addrs == {"127.0.0.1"}


def test_users_changes_on_the_command_line_are_audited(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from safecity.store.audit import AuditFilter, AuditLog
    from safecity.store.audit_chain import verify_chain
    from safecity.store.db import connect

    monkeypatch.setattr("getpass.getuser", lambda: "ops")
    _stdin(monkeypatch, "first-admin-pass\n")
    assert main(["users", "add", "boss", "--role", "admin", "--password-stdin"]) == 0
    _stdin(monkeypatch, "kim long pass 1\n")
    assert main(["users", "add", "kim", "--role", "viewer", "--password-stdin"]) == 0
    _stdin(monkeypatch, "kim long pass 2\n")
    assert main(["users", "passwd", "kim", "--password-stdin"]) == 0
    assert main(["users", "set", "kim", "--role", "operator", "--disable"]) == 0
    assert main(["users", "delete", "boss"]) == 1  # the last admin: refused, and that is audited too
    assert main(["users", "delete", "kim"]) == 0
    assert main(["users", "list"]) == 0  # reading writes nothing
    capsys.readouterr()
    engine = connect(db)
    rows = list(reversed(AuditLog(engine).query(AuditFilter(limit=50))))
    got = [(r.username, r.action, r.target_id, r.allowed) for r in rows]
    assert got == [
        ("cli:ops", "user_create", "boss", True),
        ("cli:ops", "user_create", "kim", True),
        ("cli:ops", "user_password_reset", "kim", True),
        ("cli:ops", "user_update", "kim", True),
        ("cli:ops", "user_delete", "boss", False),
        ("cli:ops", "user_delete", "kim", True),
    ]
    assert rows[0].detail == "role admin, groups - (command line: safecity users add)"
    assert rows[2].detail == "password set; 0 sessions ended (command line: safecity users passwd)"
    assert rows[3].detail is not None and rows[3].detail.startswith("changed role, disabled: operator")
    assert rows[4].detail is not None and "last enabled admin" in rows[4].detail
    assert all(r.remote_addr and r.remote_addr.startswith("cli@") for r in rows)
    assert not any("kim long pass" in (r.detail or "") for r in rows)
    assert verify_chain(engine).ok
