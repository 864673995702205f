"""Accounts through the API: the last enabled admin is kept, the password policy, groups all-or-nothing."""

from __future__ import annotations

import pytest

from tests.unit.web.conftest import PASSWORDS, Env


@pytest.mark.parametrize(
    "body", [{"disabled": True}, {"role": "operator"}, {"role": "viewer", "disabled": True}]
)
def test_last_enabled_admin_cannot_be_disabled_or_demoted(env: Env, body: dict[str, object]) -> None:
    h = env.bearer("admin")
    r = env.client.post(
        "/api/users", json={"username": "deputy", "password": "deputy-pass-1", "role": "admin"}, headers=h
    )
    assert r.status_code == 201
    assert env.client.patch("/api/users/admin", json=body, headers=h).status_code == 200  # deputy remains
    dh = env.bearer_of("deputy", "deputy-pass-1")
    r = env.client.patch("/api/users/deputy", json=body, headers=dh)  # now the last enabled admin
    assert r.status_code == 409, r.text
    assert "last enabled admin" in r.json()["detail"]
    users = {u["username"]: u for u in env.client.get("/api/users", headers=dh).json()["users"]}
    assert (users["deputy"]["role"], users["deputy"]["disabled"]) == ("admin", False)


def test_deleting_the_last_other_admin_is_refused(env: Env) -> None:
    h = env.bearer("admin")
    env.client.post(
        "/api/users", json={"username": "deputy", "password": "deputy-pass-1", "role": "admin"}, headers=h
    )
    env.client.patch("/api/users/deputy", json={"disabled": True}, headers=h)  # disabled: not counted
    # the store-level rule (not only "not yourself") keeps the only enabled admin
    users = env.client.app.state.console.users  # type: ignore[attr-defined]
    from safecity.store.users import LastAdminError

    with pytest.raises(LastAdminError):
        users.delete_user("admin")


@pytest.mark.parametrize(
    ("password", "needle"),
    [
        ("12345678", "most common"),
        ("password", "most common"),
        ("Password1", "most common"),
        ("aaaaaaaa", "different character"),
        ("newuser1", None),  # fine unless it is the user name
    ],
)
def test_password_policy_on_create(env: Env, password: str, needle: str | None) -> None:
    body = {"username": "newuser1", "password": password, "role": "viewer"}
    r = env.client.post("/api/users", json=body, headers=env.bearer("admin"))
    assert r.status_code == 400, r.text
    assert (needle or "user name") in r.json()["detail"]
    names = [u["username"] for u in env.client.get("/api/users", headers=env.bearer("admin")).json()["users"]]
    assert "newuser1" not in names


def test_create_with_unknown_group_writes_nothing(env: Env) -> None:
    body = {"username": "kim", "password": "kim-pass-123", "role": "viewer", "groups": ["west", "nope"]}
    r = env.client.post("/api/users", json=body, headers=env.bearer("admin"))
    assert r.status_code == 400 and "nope" in r.json()["detail"]
    names = [u["username"] for u in env.client.get("/api/users", headers=env.bearer("admin")).json()["users"]]
    assert "kim" not in names


def test_patch_with_unknown_group_changes_nothing(env: Env) -> None:
    h = env.bearer("admin")
    r = env.client.patch("/api/users/viewer", json={"role": "operator", "groups": ["nope"]}, headers=h)
    assert r.status_code == 400
    users = {u["username"]: u for u in env.client.get("/api/users", headers=h).json()["users"]}
    assert users["viewer"]["role"] == "viewer" and users["viewer"]["groups"] == ["west"]


def test_password_is_not_stripped(env: Env) -> None:
    h = env.bearer("admin")
    body = {"username": "kim", "password": " padded pass ", "role": "viewer"}
    assert env.client.post("/api/users", json=body, headers=h).status_code == 201
    ok = env.client.post("/api/auth/login", json={"username": "kim", "password": " padded pass "})
    assert ok.status_code == 200
    bad = env.client.post("/api/auth/login", json={"username": "kim", "password": "padded pass"})
    assert bad.status_code == 401
    assert PASSWORDS  # the fixture users are untouched


def test_admin_resets_a_password_policy_checked_audited_sessions_ended(env: Env) -> None:
    admin = env.bearer("admin")
    operator = env.bearer("operator")  # a live session of the user
    assert env.client.get("/api/auth/me", headers=operator).status_code == 200
    r = env.client.post("/api/users/operator/password", json={"password": "password1"}, headers=admin)
    assert r.status_code == 400 and "common" in r.json()["detail"]
    assert env.client.get("/api/auth/me", headers=operator).status_code == 200  # refused: nothing changed
    r = env.client.post(
        "/api/users/operator/password", json={"password": "new operator pass 7"}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"username": "operator", "sessions_ended": 1}
    assert env.client.get("/api/auth/me", headers=operator).status_code == 401
    assert env.bearer_of("operator", "new operator pass 7")
    rows = env.audit(action="user_password_reset", target_id="operator")
    assert [(e["allowed"], e["username"]) for e in rows] == [(True, "admin"), (False, "admin")]
    assert rows[0]["detail"] == "password reset by an admin; 1 session ended"
    assert "password1" not in str(rows[1]["detail"])  # the refused password itself is never logged


@pytest.mark.parametrize(
    ("user", "path", "status"),
    [
        ("operator", "/api/users/viewer/password", 403),  # only admins
        ("admin", "/api/users/nobody/password", 404),
    ],
)
def test_password_reset_refusals(env: Env, user: str, path: str, status: int) -> None:
    r = env.client.post(path, json={"password": "a fine passphrase"}, headers=env.bearer(user))
    assert r.status_code == status
    assert env.client.post(path, json={"password": "short"}, headers=env.bearer("admin")).status_code in (
        404,
        422,
    )
