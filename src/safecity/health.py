"""Camera health from health events: the one mapping of ``camera_*`` event types to health states.

Used by the monitoring runtime (a camera's state from its live health events), the wall selector (health
counts through its own term) and the event store (``camera_health`` table). No dependencies, so every layer
may import it.

Example:
    >>> HEALTH_OF_TYPE["camera_offline"]
    'offline'
    >>> worst_health(["blurred", "offline"])
    'offline'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

__all__ = ["HEALTH_OF_TYPE", "HEALTH_ORDER", "HealthState", "worst_health"]

HealthState = Literal["online", "offline", "frozen", "covered", "blurred", "moved"]

HEALTH_OF_TYPE: dict[str, HealthState] = {
    "camera_offline": "offline",
    "camera_frozen": "frozen",
    "camera_covered": "covered",
    "camera_blurred": "blurred",
    "camera_moved": "moved",
}
HEALTH_ORDER: tuple[HealthState, ...] = ("offline", "covered", "frozen", "moved", "blurred")
"""Worst first: the state a camera shows when several health events are live."""


def worst_health(states: Iterable[str]) -> HealthState:
    """The worst of ``states`` by :data:`HEALTH_ORDER`; ``"online"`` when none is a known bad state."""
    present = set(states)
    for s in HEALTH_ORDER:
        if s in present:
            return s
    return "online"
