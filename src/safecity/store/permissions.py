"""Permissions beyond the role ranks (viewer < operator < admin): who may do the sensitive things.

=====================  =====================  ======================================================
permission             roles                  what it allows
=====================  =====================  ======================================================
``export_evidence``    admin, operator        signed evidence exports of events and camera ranges
``lift_privacy_mask``  admin                  lifting a camera's liftable privacy masks for a while
=====================  =====================  ======================================================

Viewers have neither. Camera groups still apply: a permission never widens the cameras a user sees.
The table is code, not configuration, so that a change shows in review and in the audit of releases.

Example:
    >>> has_permission("operator", "export_evidence"), has_permission("operator", "lift_privacy_mask")
    (True, False)
"""

from __future__ import annotations

from typing import Literal, get_args

from safecity.errors import InputError
from safecity.store.users import Role

__all__ = ["PERMISSIONS", "Permission", "has_permission", "roles_with"]

Permission = Literal["export_evidence", "lift_privacy_mask"]
PERMISSIONS: dict[Permission, frozenset[Role]] = {
    "export_evidence": frozenset({"admin", "operator"}),
    "lift_privacy_mask": frozenset({"admin"}),
}


def has_permission(role: str, permission: Permission) -> bool:
    """Whether ``role`` carries ``permission``."""
    if permission not in get_args(Permission):
        raise InputError(f"unknown permission {permission!r}; known: {', '.join(get_args(Permission))}")
    return role in PERMISSIONS[permission]


def roles_with(permission: Permission) -> list[str]:
    """The roles that carry ``permission``, sorted."""
    return sorted(PERMISSIONS[permission])
