"""The console API on PostgreSQL: migrations, users/sessions, scoping, event actions, audit.

Runs the same code paths as the SQLite unit tests against a real PostgreSQL server (started by
scripts/test-services.sh), through ``build_services`` (the composition root) with no runtime:
events are published into the real EventStore as the runtime would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from safecity.service import build_services
from safecity.settings import Settings
from safecity.web.app import create_app
from tests.unit.web.conftest import FakeClock, make_event

pytestmark = pytest.mark.integration

PW = {"admin": "admin-pg-pass", "operator": "operator-pg-pass", "viewer": "viewer-pg-pass"}


@pytest.fixture
def client(pg_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, object, FakeClock]]:
    settings = Settings(home=tmp_path, database_url=pg_url, secret_key="s" * 40)
    services = build_services(settings)
    clock = FakeClock()
    app = create_app(
        settings, services, clock=clock, hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )
    users = app.state.console.users
    users.upsert_group("west", ["cam-w"])
    users.upsert_group("east", ["cam-e"])
    for name, pw in PW.items():
        users.add_user(name, pw, name)
    users.set_user_groups("operator", ["west", "east"])
    users.set_user_groups("viewer", ["west"])
    for uid, cam in (("ev-w", "cam-w"), ("ev-e", "cam-e")):
        services.events.publish("start", make_event(uid, cam))
    assert services.events.flush(10)
    try:
        with TestClient(app) as c:
            yield c, services, clock
    finally:
        services.close()


def _h(c: TestClient, user: str) -> dict[str, str]:
    r = c.post("/api/auth/login", json={"username": user, "password": PW[user]})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_scoping_actions_and_audit_on_postgres(client: tuple[TestClient, object, FakeClock]) -> None:
    c, _, _ = client
    viewer = _h(c, "viewer")
    assert [e["uid"] for e in c.get("/api/events", headers=viewer).json()["events"]] == ["ev-w"]
    assert c.get("/api/events/ev-e", headers=viewer).status_code == 403
    assert c.post("/api/events/ev-w/ack", json={}, headers=viewer).status_code == 403
    op = _h(c, "operator")
    r = c.post("/api/events/ev-e/escalate", json={"target": "119", "note": "fall"}, headers=op)
    assert r.status_code == 200 and r.json()["state"] == "escalated"
    r = c.post("/api/events/ev-w/ack", json={"note": "seen"}, headers=op)
    assert r.json()["acknowledgements"][0]["username"] == "operator"
    admin = _h(c, "admin")
    audit = c.get("/api/audit", params={"username": "operator"}, headers=admin).json()["entries"]
    assert [e["action"] for e in audit][:3] == ["ack", "escalate", "login"]
    refused = c.get("/api/audit", params={"allowed": "false"}, headers=admin).json()
    assert refused["total"] == 2 and {e["username"] for e in refused["entries"]} == {"viewer"}


def test_session_expiry_and_malformed_requests_on_postgres(
    client: tuple[TestClient, object, FakeClock],
) -> None:
    c, _, clock = client
    h = _h(c, "operator")
    assert c.get("/api/wall", headers=h).json() == {"t_s": 0.0, "tiles": [], "monitor": False}
    clock.t += 8 * 3600 + 1
    assert c.get("/api/wall", headers=h).status_code == 401
    r = c.post("/api/auth/login", json={"username": "operator"})
    assert r.status_code == 422 and "body.password" in r.json()["message"]
