"""Console users, roles, camera groups and server-side sessions.

Passwords are hashed with Argon2id (``argon2-cffi``); session tokens are random 32-byte strings
of which only the SHA-256 is stored, so a copy of the database does not hand out live sessions.
Times come from an injected ``clock`` (Unix seconds) so that expiry can be tested.

Example:
    >>> from safecity.store.db import connect
    >>> users = UserStore(connect("sqlite:///:memory:"))
    >>> users.add_user("kim", "a long passphrase", "operator").role
    'operator'
    >>> users.authenticate("kim", "wrong") is None
    True
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from safecity.errors import InputError
from safecity.store.password_policy import check_password, normalize_password
from safecity.store.schema import camera_group_members, camera_groups, sessions, user_groups, users

__all__ = [
    "CameraGroup",
    "LastAdminError",
    "ROLES",
    "Role",
    "Session",
    "UserRecord",
    "UserStore",
    "hash_token",
    "to_utc",
]

Role = Literal["admin", "operator", "viewer"]
ROLES: tuple[Role, ...] = get_args(Role)
_NAME_RE = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")
_GROUP_RE = re.compile(r"^[\w.-]{1,100}$")


class LastAdminError(InputError):
    """The change would leave no enabled admin (nobody could manage users any more)."""


def to_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were written as UTC, so mark them so."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def hash_token(token: str) -> str:
    """SHA-256 hex of a session token (what the ``sessions`` table stores)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A console user; ``groups`` are camera group names (admins see every camera anyway)."""

    id: int
    username: str
    role: Role
    disabled: bool
    created_at: datetime
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Session:
    """A live console session (the token itself is never stored)."""

    id: int
    user: UserRecord
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    remote_addr: str | None


@dataclass(frozen=True, slots=True)
class CameraGroup:
    id: int
    name: str
    description: str | None
    cameras: tuple[str, ...]


def _check_role(role: str) -> Role:
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}, but got {role!r}")
    return role


class UserStore:
    """Users, camera groups and sessions on the store's engine.

    Args:
        engine: a migrated engine (``safecity.store.db.connect``).
        clock: Unix seconds now; injected by tests to expire sessions.
        hasher: the Argon2 hasher (tests may pass cheaper parameters).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    @property
    def engine(self) -> Engine:
        """The engine the users live in (for an audit log on the same database)."""
        return self._engine

    @property
    def _dummy_hash(self) -> str:
        """A hash to verify against for unknown users, so that they take as long as known ones."""
        if self._dummy is None:
            self._dummy = self._hasher.hash("not-a-real-password")
        return self._dummy

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    # ------------------------------------------------------------ users
    def add_user(self, username: str, password: str, role: str, groups: Sequence[str] = ()) -> UserRecord:
        """Create a user in ``groups``; InputError (and nothing written) for a bad name, role, password
        (see :mod:`safecity.store.password_policy`), unknown group or a duplicate."""
        if not _NAME_RE.match(username):
            raise InputError(f"username must be 2-64 letters, digits or . _ @ -, but got {username!r}")
        checked = _check_role(role)
        check_password(password, username)
        password_hash = self._hasher.hash(normalize_password(password))
        try:
            with self._engine.begin() as c:
                group_ids = self._group_ids(c, groups)  # validated before anything is written
                res = c.execute(
                    insert(users).values(
                        username=username,
                        password_hash=password_hash,
                        role=checked,
                        created_at=self._now(),
                        disabled=False,
                    )
                )
                uid = res.inserted_primary_key[0] if res.inserted_primary_key else None
                if group_ids:
                    c.execute(insert(user_groups), [{"user_id": uid, "group_id": g} for g in group_ids])
        except IntegrityError as exc:
            raise InputError(
                f"user {username!r} already exists; pick another name or change the existing user"
            ) from exc
        user = self.get_user(username)
        assert user is not None
        return user

    def _group_ids(self, conn: Connection, group_names: Sequence[str]) -> list[int]:
        """Ids of the named camera groups; InputError naming the unknown ones."""
        known = {str(n): int(i) for n, i in conn.execute(select(camera_groups.c.name, camera_groups.c.id))}
        missing = sorted(set(group_names) - set(known))
        if missing:
            raise InputError(
                f"unknown camera group(s) {', '.join(missing)}; existing groups: "
                f"{', '.join(sorted(known)) or '(none)'}; create them first (PUT /api/groups/NAME)"
            )
        return [known[n] for n in sorted(set(group_names))]

    def _check_keeps_an_admin(self, conn: Connection, user_id: int, what: str) -> None:
        """Raise LastAdminError if no enabled admin other than ``user_id`` exists (inside the write)."""
        others = conn.execute(
            select(func.count())
            .select_from(users)
            .where(users.c.role == "admin", users.c.disabled.is_(False), users.c.id != user_id)
        ).scalar_one()
        if not others:
            raise LastAdminError(
                f"cannot {what}: it is the last enabled admin and nobody could manage users any more; "
                "make another user admin first"
            )

    def get_user(self, username: str) -> UserRecord | None:
        with self._engine.connect() as c:
            row = c.execute(select(users).where(users.c.username == username)).mappings().first()
            if row is None:
                return None
            return self._record(c, row)

    def list_users(self) -> list[UserRecord]:
        with self._engine.connect() as c:
            rows = c.execute(select(users).order_by(users.c.username)).mappings().all()
            return [self._record(c, r) for r in rows]

    def _record(self, conn: Connection, r: Mapping[Any, Any]) -> UserRecord:
        names = conn.execute(
            select(camera_groups.c.name)
            .join(user_groups, user_groups.c.group_id == camera_groups.c.id)
            .where(user_groups.c.user_id == r["id"])
            .order_by(camera_groups.c.name)
        ).scalars()
        return UserRecord(
            id=int(r["id"]),
            username=str(r["username"]),
            role=_check_role(str(r["role"])),
            disabled=bool(r["disabled"]),
            created_at=to_utc(r["created_at"]),
            groups=tuple(str(n) for n in names),
        )

    def update_user(
        self,
        username: str,
        *,
        role: str | None = None,
        password: str | None = None,
        disabled: bool | None = None,
        groups: Sequence[str] | None = None,
    ) -> UserRecord:
        """Change role, password, the disabled flag or the camera groups, all or nothing.

        Disabling or a new password ends the user's sessions. Raises InputError for bad input
        and :class:`LastAdminError` when it would demote or disable the last enabled admin.
        """
        values: dict[str, object] = {}
        if role is not None:
            values["role"] = _check_role(role)
        if password is not None:
            check_password(password, username)
            values["password_hash"] = self._hasher.hash(normalize_password(password))
        if disabled is not None:
            values["disabled"] = disabled
        user = self._require(username)
        if values or groups is not None:
            with self._engine.begin() as c:
                group_ids = self._group_ids(c, groups) if groups is not None else None
                row = c.execute(select(users.c.role, users.c.disabled).where(users.c.id == user.id)).one()
                active_admin = row.role == "admin" and not row.disabled
                if active_admin and (values.get("role", "admin") != "admin" or values.get("disabled")):
                    what = "disable" if values.get("disabled") else f"make {username!r} {values['role']}"
                    self._check_keeps_an_admin(c, user.id, f"{what} ({username!r})")
                if values:
                    c.execute(update(users).where(users.c.id == user.id).values(**values))
                if password is not None or disabled:
                    c.execute(delete(sessions).where(sessions.c.user_id == user.id))
                if group_ids is not None:
                    c.execute(delete(user_groups).where(user_groups.c.user_id == user.id))
                    if group_ids:
                        c.execute(
                            insert(user_groups), [{"user_id": user.id, "group_id": g} for g in group_ids]
                        )
        return self._require(username)

    def reset_password(self, username: str, password: str) -> int:
        """Set a new password (the policy applies: InputError, nothing changed) and end every session
        of the user; returns how many sessions were ended."""
        user = self._require(username)
        check_password(password, username)
        digest = self._hasher.hash(normalize_password(password))
        with self._engine.begin() as c:
            c.execute(update(users).where(users.c.id == user.id).values(password_hash=digest))
            ended = c.execute(delete(sessions).where(sessions.c.user_id == user.id))
        return int(ended.rowcount)

    def delete_user(self, username: str) -> None:
        """Delete the user and their sessions; :class:`LastAdminError` for the last enabled admin."""
        user = self._require(username)
        with self._engine.begin() as c:
            if user.role == "admin" and not user.disabled:
                self._check_keeps_an_admin(c, user.id, f"delete {username!r}")
            c.execute(delete(sessions).where(sessions.c.user_id == user.id))
            c.execute(delete(user_groups).where(user_groups.c.user_id == user.id))
            c.execute(delete(users).where(users.c.id == user.id))

    def _require(self, username: str) -> UserRecord:
        user = self.get_user(username)
        if user is None:
            raise InputError(f"no user named {username!r}; list users with `safecity users list`")
        return user

    def authenticate(self, username: str, password: str) -> UserRecord | None:
        """The user if the password matches and the account is enabled, else None."""
        with self._engine.connect() as c:
            row = c.execute(select(users).where(users.c.username == username)).mappings().first()
        stored = str(row["password_hash"]) if row is not None else self._dummy_hash
        normal = normalize_password(password)
        candidates = (normal,) if normal == password else (normal, password)  # older non-NFC hashes
        for candidate in candidates:
            try:
                self._hasher.verify(stored, candidate)
                password = candidate
                break
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                continue
        else:
            return None
        if row is None or row["disabled"]:
            return None
        if self._hasher.check_needs_rehash(stored):
            with self._engine.begin() as c:
                c.execute(
                    update(users)
                    .where(users.c.id == row["id"])
                    .values(password_hash=self._hasher.hash(normalize_password(password)))
                )
        return self.get_user(username)

    # ------------------------------------------------------------ sessions
    def create_session(self, user: UserRecord, ttl_s: float, remote_addr: str | None) -> tuple[str, Session]:
        """A new random token (returned once, to be sent to the client) and its session."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        expires = datetime.fromtimestamp(self._clock() + ttl_s, UTC)
        with self._engine.begin() as c:
            c.execute(delete(sessions).where(sessions.c.expires_at < now))
            res = c.execute(
                insert(sessions).values(
                    token_hash=hash_token(token),
                    user_id=user.id,
                    created_at=now,
                    expires_at=expires,
                    last_seen_at=now,
                    remote_addr=remote_addr,
                )
            )
            sid = int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0
        return token, Session(sid, user, now, expires, now, remote_addr)

    def resolve_session(self, token: str, *, touch_every_s: float = 30.0) -> Session | None:
        """The live session of ``token``; None if unknown, expired or its user is disabled."""
        now = self._now()
        stmt = (
            select(sessions, users)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == hash_token(token))
        )
        with self._engine.connect() as c:
            joined = c.execute(stmt).first()
            if joined is None:
                return None
            row = joined._mapping
            if row[users.c.disabled]:
                return None
            user = self._record(c, {col.name: row[col] for col in users.c})
        if to_utc(row["expires_at"]) <= now:
            return None
        last_seen = to_utc(row["last_seen_at"])
        if (now - last_seen).total_seconds() >= touch_every_s:
            with self._engine.begin() as c:
                c.execute(
                    update(sessions).where(sessions.c.id == row[sessions.c.id]).values(last_seen_at=now)
                )
            last_seen = now
        return Session(
            int(row[sessions.c.id]),
            user,
            to_utc(row[sessions.c.created_at]),
            to_utc(row["expires_at"]),
            last_seen,
            row["remote_addr"],
        )

    def end_session(self, token: str) -> bool:
        """Log out: delete the session; True if there was one."""
        with self._engine.begin() as c:
            res = c.execute(delete(sessions).where(sessions.c.token_hash == hash_token(token)))
        return bool(res.rowcount)

    # ------------------------------------------------------------ camera groups
    def list_groups(self) -> list[CameraGroup]:
        with self._engine.connect() as c:
            groups = c.execute(select(camera_groups).order_by(camera_groups.c.name)).mappings().all()
            members = c.execute(
                select(camera_group_members).order_by(camera_group_members.c.camera_key)
            ).all()
        by_group: dict[int, list[str]] = {}
        for gid, key in members:
            by_group.setdefault(int(gid), []).append(str(key))
        return [
            CameraGroup(int(g["id"]), str(g["name"]), g["description"], tuple(by_group.get(int(g["id"]), ())))
            for g in groups
        ]

    def get_group(self, name: str) -> CameraGroup | None:
        return next((g for g in self.list_groups() if g.name == name), None)

    def upsert_group(self, name: str, cameras: Iterable[str], description: str | None = None) -> CameraGroup:
        """Create the group or replace its description and camera list."""
        if not _GROUP_RE.match(name):
            raise InputError(f"group name must be 1-100 letters, digits or . _ -, but got {name!r}")
        keys = sorted(set(cameras))
        with self._engine.begin() as c:
            gid = c.execute(select(camera_groups.c.id).where(camera_groups.c.name == name)).scalar()
            if gid is None:
                res = c.execute(insert(camera_groups).values(name=name, description=description))
                gid = res.inserted_primary_key[0] if res.inserted_primary_key else None
            else:
                c.execute(
                    update(camera_groups).where(camera_groups.c.id == gid).values(description=description)
                )
            c.execute(delete(camera_group_members).where(camera_group_members.c.group_id == gid))
            if keys:
                c.execute(insert(camera_group_members), [{"group_id": gid, "camera_key": k} for k in keys])
        group = self.get_group(name)
        assert group is not None
        return group

    def delete_group(self, name: str) -> bool:
        with self._engine.begin() as c:
            res = c.execute(delete(camera_groups).where(camera_groups.c.name == name))
        return bool(res.rowcount)

    def set_user_groups(self, username: str, group_names: Sequence[str]) -> UserRecord:
        """Replace the user's camera groups; unknown group names raise InputError (nothing changed)."""
        return self.update_user(username, groups=group_names)

    def cameras_of(self, user: UserRecord) -> frozenset[str] | None:
        """Camera keys the user may see; None means all (admins)."""
        if user.role == "admin":
            return None
        with self._engine.connect() as c:
            keys = c.execute(
                select(camera_group_members.c.camera_key)
                .join(user_groups, and_(user_groups.c.group_id == camera_group_members.c.group_id))
                .where(user_groups.c.user_id == user.id)
            ).scalars()
            return frozenset(str(k) for k in keys)
