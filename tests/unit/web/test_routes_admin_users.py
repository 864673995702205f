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
