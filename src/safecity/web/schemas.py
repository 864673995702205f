"""Request bodies of the console API (pydantic: this is where untrusted data enters)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "EscalateBody",
    "GroupBody",
    "LoginBody",
    "NoteBody",
    "UserCreateBody",
    "UserPatchBody",
]

RoleName = Literal["admin", "operator", "viewer"]
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
