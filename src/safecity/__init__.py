"""safecity: an open-source platform for a district's public CCTV.

Selective monitoring (motion-gated detection, tracking, rules and a ranked video wall), camera planning
(site selection and replacement on real Seoul data), the camera registry, an event store and an
operator console. Importing this package has no side effects.
"""

from __future__ import annotations

from safecity.errors import (
    AlertError,
    AuthError,
    ConfigError,
    ImportRowError,
    InputError,
    ModelError,
    PlanningError,
    SafecityError,
    SourceError,
    StoreError,
)

__version__ = "0.1.0"

__all__ = [
    "AlertError",
    "AuthError",
    "ConfigError",
    "ImportRowError",
    "InputError",
    "ModelError",
    "PlanningError",
    "SafecityError",
    "SourceError",
    "StoreError",
    "__version__",
]
