"""UserStore: users, password hashing, sessions with an injected clock, camera groups."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from safecity.errors import InputError
from safecity.store.db import connect
from safecity.store.schema import sessions, users
from safecity.store.users import UserStore, hash_token

FAST = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@pytest.fixture
def store(sqlite_url: str) -> tuple[UserStore, list[float]]:
    now = [1_000_000.0]
    return UserStore(connect(sqlite_url), clock=lambda: now[0], hasher=FAST), now


def test_password_is_argon2_hashed_never_stored_plain(store: tuple[UserStore, list[float]]) -> None:
    us, _ = store
    us.add_user("kim", "correct horse", "operator")
    with us._engine.connect() as c:
        stored = c.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert us.authenticate("kim", "correct horse") is not None
    assert us.authenticate("kim", "wrong horse") is None


@pytest.mark.parametrize(
    ("name", "password", "role", "match"),
    [
        ("k", "long enough", "viewer", "username"),  # name too short
        ("kim lee", "long enough", "viewer", "username"),  # space in name
        ("kim", "short", "viewer", "at least 8"),  # password too short
        ("kim", "long enough", "root", "role must be one of"),  # unknown role
    ],
)
def test_add_user_rejects_bad_input(
    store: tuple[UserStore, list[float]], name: str, password: str, role: str, match: str
) -> None:
    with pytest.raises(InputError, match=match):
        store[0].add_user(name, password, role)


def test_duplicate_user_is_input_error(store: tuple[UserStore, list[float]]) -> None:
    us, _ = store
    us.add_user("kim", "long enough", "viewer")
    with pytest.raises(InputError, match="already exists"):
        us.add_user("kim", "long enough", "viewer")


def test_session_token_stored_only_as_hash_and_expires(store: tuple[UserStore, list[float]]) -> None:
    us, now = store
    user = us.add_user("kim", "long enough", "viewer")
    token, _ = us.create_session(user, 60.0, "10.0.0.1")
    with us._engine.connect() as c:
        stored = c.execute(select(sessions.c.token_hash)).scalar_one()
    assert stored == hash_token(token) and token not in stored
    now[0] += 59.0
    got = us.resolve_session(token)
    assert got is not None and got.user.username == "kim" and got.remote_addr == "10.0.0.1"
    assert got.last_seen_at.timestamp() == now[0]  # touched
    now[0] += 1.0
    assert us.resolve_session(token) is None
    assert us.resolve_session("forged") is None


def test_new_password_ends_sessions(store: tuple[UserStore, list[float]]) -> None:
    us, _ = store
    user = us.add_user("kim", "long enough", "viewer")
    token, _ = us.create_session(user, 600.0, None)
    us.update_user("kim", password="another long one")
    assert us.resolve_session(token) is None
    assert us.authenticate("kim", "another long one") is not None


def test_groups_scope_cameras(store: tuple[UserStore, list[float]]) -> None:
    us, _ = store
    us.upsert_group("west", ["c1", "c2"], "w")
    us.upsert_group("east", ["c3"])
    viewer = us.add_user("v1", "long enough", "viewer")
    admin = us.add_user("a1", "long enough", "admin")
    assert us.cameras_of(viewer) == frozenset()  # no group: sees nothing
    viewer = us.set_user_groups("v1", ["west"])
    assert viewer.groups == ("west",)
    assert us.cameras_of(viewer) == {"c1", "c2"}
    assert us.cameras_of(admin) is None  # admins: all
    us.upsert_group("west", ["c2"])  # replace members
    assert us.cameras_of(viewer) == {"c2"}
    with pytest.raises(InputError, match="unknown camera group"):
        us.set_user_groups("v1", ["north"])
    assert us.delete_group("west") and us.get_user("v1").groups == ()  # type: ignore[union-attr]


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_authenticate_never_accepts_another_password(
    tmp_path_factory: pytest.TempPathFactory, guess: str
) -> None:
    us = _shared_store(tmp_path_factory)
    assert (us.authenticate("kim", guess) is not None) == (guess == "the real one")


_STORE: dict[str, UserStore] = {}


def _shared_store(factory: pytest.TempPathFactory) -> UserStore:
    if "s" not in _STORE:
        path: Path = factory.mktemp("users") / "u.db"
        us = UserStore(connect(f"sqlite:///{path}"), hasher=FAST)
        us.add_user("kim", "the real one", "viewer")
        _STORE["s"] = us
    return _STORE["s"]


def test_reset_password_checks_policy_and_ends_every_session(store: tuple[UserStore, list[float]]) -> None:
    us, _ = store
    user = us.add_user("kim", "first passphrase", "operator")
    tokens = [us.create_session(user, 3600, None)[0] for _ in range(3)]
    with pytest.raises(InputError, match="common"):
        us.reset_password("kim", "password123")
    assert all(us.resolve_session(t) is not None for t in tokens)  # a refused reset changes nothing
    assert us.authenticate("kim", "first passphrase") is not None
    assert us.reset_password("kim", "second passphrase") == 3
    assert all(us.resolve_session(t) is None for t in tokens)
    assert us.authenticate("kim", "first passphrase") is None
    assert us.authenticate("kim", "second passphrase") is not None
    with pytest.raises(InputError, match="no user named 'nobody'"):
        us.reset_password("nobody", "second passphrase")
