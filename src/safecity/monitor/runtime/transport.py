"""The seam between the hub and the places cameras run: :class:`Transport` and :class:`HubInbox`.

A transport starts camera workers somewhere (worker processes on this machine, Ray actors on a cluster,
or the calling thread for replay), hands every ``WorkerMessage`` they produce to the hub's
:class:`HubInbox` in the order each camera produced them, delivers tiles on a lossy side path, and
forwards the hub's tile wishes to the workers. It owns no event state: live events, health, the wall
and the sinks belong to the hub (:mod:`safecity.monitor.runtime.hub`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from safecity.monitor.runtime.messages import TileMsg, WorkerMessage

__all__ = ["HubInbox", "Transport"]


class HubInbox(Protocol):
    """What a transport may call on the hub (thread-safe)."""

    def deliver(self, msg: WorkerMessage) -> None:
        """One message from a worker, in the camera's order."""
        ...

    def deliver_tile(self, msg: TileMsg) -> None:
        """The newest tile of a camera (may be dropped when a newer one arrives)."""
        ...


class Transport(Protocol):
    """Runs the cameras' workers and connects them to a hub."""

    name: str
    """Short name shown in status and logs: ``"local"``, ``"ray"``, ``"inline"``."""

    def start(self, inbox: HubInbox) -> None:
        """Start the workers (returns at once); their messages go to ``inbox``."""
        ...

    def want_tiles(self, cameras: frozenset[str]) -> None:
        """The cameras whose tiles the hub wants now (each worker gets its own share)."""
        ...

    def placement(self) -> Mapping[str, str]:
        """Where each camera runs now (camera id -> worker/node name), for status pages and tests."""
        ...

    def stop(self, timeout_s: float) -> None:
        """Stop the workers; every message they produced before stopping is delivered first."""
        ...
