"""Users and camera groups through the API (admins only), the audit page's filters.

The plan routes are tested in ``test_routes_plans``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.unit.web.conftest import EAST, WEST, Env


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/users", None),  # list users
        ("POST", "/api/users", {"username": "x1", "password": "long-enough", "role": "viewer"}),  # create
        ("PATCH", "/api/users/viewer", {"role": "admin"}),  # self-promotion attempt
        ("PUT", "/api/groups/west", {"cameras": [EAST]}),  # widen own group
        ("GET", "/api/audit", None),  # read the audit log
    ],
)
@pytest.mark.parametrize("user", ["viewer", "operator"])
def test_admin_routes_refuse_non_admins_with_audit(
    env: Env, user: str, method: str, path: str, body: dict[str, object] | None
) -> None:
    r = env.client.request(method, path, json=body, headers=env.bearer(user))
    assert r.status_code == 403
    assert "needs role admin" in r.json()["detail"]
    assert env.audit(username=user, action="denied", target_id=path)


def test_admin_creates_user_with_groups_who_then_sees_only_them(env: Env) -> None:
    h = env.bearer("admin")
    r = env.client.post(
        "/api/users",
        json={"username": "kim", "password": "kim-pass-123", "role": "viewer", "groups": ["east"]},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["groups"] == ["east"]
    tok = env.client.post("/api/auth/login", json={"username": "kim", "password": "kim-pass-123"}).json()[
        "token"
    ]
    cams = env.client.get("/api/cameras", headers={"Authorization": f"Bearer {tok}"}).json()["cameras"]
    assert [c["key"] for c in cams] == [EAST]
    assert env.audit(action="user_create", target_id="kim")[0]["username"] == "admin"


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"username": "operator", "password": "long-enough", "role": "viewer"}, 409, "already exists"),  # dup
        ({"username": "k", "password": "long-enough", "role": "viewer"}, 422, "body.username"),  # too short
        ({"username": "kim", "password": "short", "role": "viewer"}, 422, "body.password"),  # weak password
        ({"username": "kim", "password": "long-enough", "role": "root"}, 422, "body.role"),  # unknown role
        ({"username": "kim", "password": "long-enough", "role": "viewer", "groups": ["nope"]}, 400, "nope"),
    ],
)
def test_create_user_bad_input(env: Env, body: dict[str, object], status: int, needle: str) -> None:
    r = env.client.post("/api/users", json=body, headers=env.bearer("admin"))
    assert r.status_code == status
    assert needle in (r.json().get("message") or r.json()["detail"])


def test_user_with_no_group_sees_nothing(env: Env) -> None:
    env.add_event("ev-w", WEST)
    h = env.bearer("admin")
    env.client.patch("/api/users/viewer", json={"groups": []}, headers=h)
    vh = env.bearer("viewer")
    assert env.client.get("/api/events", headers=vh).json()["events"] == []
    assert env.client.get("/api/cameras", headers=vh).json()["cameras"] == []
    env.monitor.layout = env.monitor.layout  # unchanged wall; still nothing for this user
    assert env.client.get("/api/wall", headers=vh).json()["tiles"] == []


def test_groups_put_list_delete(env: Env) -> None:
    h = env.bearer("admin")
    r = env.client.put(
        "/api/groups/guro-east", json={"cameras": [EAST, "reg-1"], "description": "east"}, headers=h
    )
    assert r.json() == {"name": "guro-east", "description": "east", "cameras": [EAST, "reg-1"]}
    names = [g["name"] for g in env.client.get("/api/groups", headers=h).json()["groups"]]
    assert names == ["east", "guro-east", "west"]
    assert [
        g["name"] for g in env.client.get("/api/groups", headers=env.bearer("viewer")).json()["groups"]
    ] == ["west"]
    assert env.client.delete("/api/groups/guro-east", headers=h).status_code == 200
    assert env.client.delete("/api/groups/guro-east", headers=h).status_code == 404


def test_admin_cannot_delete_self_but_can_delete_others(env: Env) -> None:
    h = env.bearer("admin")
    assert env.client.delete("/api/users/admin", headers=h).status_code == 400
    assert env.client.delete("/api/users/viewer", headers=h).status_code == 200
    assert env.client.delete("/api/users/viewer", headers=h).status_code == 404


def test_audit_filters(env: Env) -> None:
    env.client.post("/api/auth/login", json={"username": "viewer", "password": "bad-password"})
    env.login("operator")
    env.clock.t += 3600
    env.login("viewer")
    assert {(e["username"], e["allowed"]) for e in env.audit(action="login", allowed="false")} == {
        ("viewer", False)
    }
    since = datetime.fromtimestamp(env.clock.t - 10, UTC).isoformat()
    recent = env.audit(action="login", since=since)
    assert {e["username"] for e in recent} >= {"viewer", "admin"} and "operator" not in {
        e["username"] for e in recent
    }
    r = env.client.get("/api/audit", params={"allowed": "maybe"}, headers=env.bearer("admin"))
    assert r.status_code == 422 and "query.allowed" in r.json()["message"]


def test_stats_for_admins_only(env: Env) -> None:
    assert env.client.get("/api/stats", headers=env.bearer("operator")).status_code == 403
    body = env.client.get("/api/stats", headers=env.bearer("admin")).json()
    assert body["wall_latency_s"] == {"n": 0, "p50": None, "p95": None} and body["ws_clients"] == 0
