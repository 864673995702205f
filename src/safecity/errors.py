"""Exception tree for safecity.

Every error a user can cause is a :class:`SafecityError`; its message says what was expected,
what arrived and what to do. The CLI turns these into a one-line message and exit code 1.

::

    SafecityError
    ├── ConfigError            a config file or setting is wrong (names file, key and line)
    ├── InputError             an input data file is wrong (CSV columns, coordinates, units)
    │   └── ImportRowError     one row of an import is bad (row number and reason)
    ├── StoreError             the database cannot be reached or written
    ├── PlanningError          a plan cannot be built or solved (budget, candidates, infeasible)
    ├── SourceError            a video source cannot be opened or read
    ├── ModelError             a detector model is missing or has an unsupported layout
    ├── AlertError             an alert sink (MQTT, webhook) failed permanently
    ├── AuthError              login, session or permission problem (console)
    └── PtzError               a PTZ camera refused or failed a command (e.g. unknown preset)
        ├── PtzAuthError       the camera refused the ONVIF credentials
        ├── PtzUnknownPresetError  the camera (or its config) has no such preset
        ├── PtzUnreachableError  no answer from the camera (refused, timed out, stopped mid-move)
        └── PtzUnsupportedError  the camera offers no PTZ service (a fixed camera)
"""

from __future__ import annotations

__all__ = [
    "AlertError",
    "AuthError",
    "ConfigError",
    "ImportRowError",
    "InputError",
    "ModelError",
    "PlanningError",
    "PtzAuthError",
    "PtzError",
    "PtzUnknownPresetError",
    "PtzUnreachableError",
    "PtzUnsupportedError",
    "SafecityError",
    "SourceError",
    "StoreError",
]


class SafecityError(Exception):
    """Root of every error safecity raises on purpose."""


class ConfigError(SafecityError):
    """A configuration file or deployment setting is invalid."""


class InputError(SafecityError):
    """An input data file (CSV, GeoJSON, video path) is not what was expected."""


class ImportRowError(InputError):
    """One row of an import cannot be used.

    Args:
        row: 1-based data row number (header excluded) in the source file.
        reason: what is wrong with it.
    """

    def __init__(self, row: int, reason: str) -> None:
        super().__init__(f"row {row}: {reason}")
        self.row = row
        self.reason = reason


class StoreError(SafecityError):
    """The store (database) failed."""


class PlanningError(SafecityError):
    """A planning model cannot be built or has no usable solution."""


class SourceError(SafecityError):
    """A video source cannot be opened or read."""


class ModelError(SafecityError):
    """A detector model is missing, unreadable or has an unsupported layout."""


class AlertError(SafecityError):
    """An alert sink failed and gave up."""


class AuthError(SafecityError):
    """Authentication or authorisation failed."""


class PtzError(SafecityError):
    """A PTZ camera refused or failed a command (unknown preset, position out of range...)."""


class PtzAuthError(PtzError):
    """The camera refused the ONVIF user name or password."""


class PtzUnknownPresetError(PtzError):
    """The camera (or its configured presets) has no preset of that name or token."""


class PtzUnreachableError(PtzError):
    """The camera did not answer: connection refused, no route, or no reply within the timeout."""


class PtzUnsupportedError(PtzError):
    """The camera offers no PTZ service (or not the operation asked for)."""
