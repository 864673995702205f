"""Request bodies of the console API (pydantic: this is where untrusted data enters)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "EscalateBody",
    "GroupBody",
    "LiveClientMessage",
    "LoginBody",
    "MAX_OFFSET",
    "MAX_ROW_ID",
    "NoteBody",
    "OffsetParam",
    "RowIdPath",
    "TilesMessage",
    "UserCreateBody",
    "UserPatchBody",
    "UtcDatetime",
    "to_utc_checked",
]

RoleName = Literal["admin", "operator", "viewer"]

#: the largest row offset a list accepts: far beyond any table, far below a 64-bit integer
MAX_OFFSET = 1_000_000_000
OffsetParam = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"rows to skip (0..{MAX_OFFSET:,})")]
#: the largest row id a table can hold (a signed 64-bit integer in SQLite and PostgreSQL)
MAX_ROW_ID = 2**63 - 1
#: a numeric row id in a path (``/api/incidents/{incident_id}``): 1..2^63-1, else 422 (not an overflow)
RowIdPath = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="row id (1..2^63-1)")]


def to_utc_checked(value: datetime) -> datetime:
    """The time in UTC; a naive time is taken as UTC. ValueError (422) for a time whose UTC falls
    outside years 1..9999 (e.g. ``9999-12-31T23:59:59-01:00``) instead of an overflow later."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(
            f"{value.isoformat()} is outside the times that can be stored once converted to UTC; "
            "give a time between 0001-01-02 and 9999-12-30 (ISO 8601)"
        ) from None


#: an ISO 8601 time as a query parameter, converted to UTC (naive = UTC); 422 when out of range
UtcDatetime = Annotated[datetime, AfterValidator(to_utc_checked)]
#: passwords are taken exactly as typed (no stripping; see safecity.store.password_policy)
Password = Annotated[str, StringConstraints(strip_whitespace=False)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginBody(_Body):
    username: str = Field(min_length=1, max_length=64, description="console user name")
    password: Password = Field(min_length=1, max_length=512, description="the user's password (as typed)")


class NoteBody(_Body):
    note: str | None = Field(default=None, max_length=2000, description="operator's note")


class EscalateBody(_Body):
    target: Literal["112", "119", "district"] = Field(
        description="112 police, 119 fire/ambulance, district = district office"
    )
    note: str | None = Field(default=None, max_length=2000, description="what was reported")


class UserCreateBody(_Body):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    password: Password = Field(
        min_length=8, max_length=512, description="as typed; the password policy applies (docs/security.md)"
    )
    role: RoleName
    groups: list[str] = Field(default_factory=list, description="camera group names")


class UserPatchBody(_Body):
    role: RoleName | None = None
    password: Password | None = Field(default=None, min_length=8, max_length=512)
    disabled: bool | None = None
    groups: list[str] | None = Field(default=None, description="replaces the user's camera groups")


class GroupBody(_Body):
    cameras: list[str] = Field(default_factory=list, description="camera keys in the group")
    description: str | None = Field(default=None, max_length=500)


class _Message(BaseModel):
    """A WebSocket message from the client (validated like a request body)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TilesMessage(_Message):
    """``/ws/tiles``: the cameras to stream and the frame rate per camera."""

    cameras: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] = Field(
        max_length=64, description="camera keys (at most 64)"
    )
    fps: float = Field(default=3.0, ge=0.2, le=10, description="frames per second per camera")


class LiveClientMessage(_Message):
    """``/ws/live``: the client may only ping (the server answers ``{"type": "pong"}``)."""

    type: Literal["ping"]
