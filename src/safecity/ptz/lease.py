"""Operator leases on PTZ cameras: one operator steers a camera at a time; a lease expires on its own.

A lease is taken (or renewed) by each move, so an operator who keeps steering keeps the camera; one who
walks away loses it after ``duration_s``. Another operator's move is refused while the lease runs
(:class:`LeaseHeldError` says who holds it and until when); an admin may break it. When a lease ends
(release, break or expiry) :meth:`LeaseBook.released_since` tells the runtime since when the camera is
free, so that the patrol resumes (and a camera that does not go back raises a health event).
Thread-safe; time comes from an injected clock (Unix seconds).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from safecity.errors import PtzError

__all__ = ["Lease", "LeaseBook", "LeaseHeldError"]


@dataclass(frozen=True, slots=True)
class Lease:
    """``holder`` steers ``camera`` from ``since_s`` until ``expires_s`` (Unix seconds)."""

    camera: str
    holder: str
    since_s: float
    expires_s: float


class LeaseHeldError(PtzError):
    """Another user holds the camera's lease."""

    def __init__(self, lease: Lease, now_s: float) -> None:
        left = max(0.0, lease.expires_s - now_s)
        super().__init__(
            f"camera {lease.camera} is being steered by {lease.holder} (lease ends in {left:.0f} s); "
            "wait for it to end, ask them to release it, or ask an admin to break it"
        )
        self.lease = lease


class LeaseBook:
    """The leases of all PTZ cameras of one console."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._leases: dict[str, Lease] = {}
        self._free_since: dict[str, float] = {}
        self._lock = threading.Lock()

    def _current(self, camera: str, now: float) -> Lease | None:
        lease = self._leases.get(camera)
        if lease is not None and lease.expires_s <= now:
            del self._leases[camera]
            self._free_since[camera] = lease.expires_s
            return None
        return lease

    def holder(self, camera: str) -> Lease | None:
        """The running lease of ``camera`` (None when free or expired)."""
        with self._lock:
            return self._current(camera, self._clock())

    def acquire(self, camera: str, user: str, duration_s: float) -> Lease:
        """Take or renew the lease for ``duration_s`` seconds.

        Raises:
            LeaseHeldError: another user holds an unexpired lease.
        """
        with self._lock:
            now = self._clock()
            lease = self._current(camera, now)
            if lease is not None and lease.holder != user:
                raise LeaseHeldError(lease, now)
            since = lease.since_s if lease is not None else now
            new = Lease(camera, user, since, now + duration_s)
            self._leases[camera] = new
            self._free_since.pop(camera, None)
            return new

    def release(self, camera: str, user: str, *, force: bool = False) -> Lease | None:
        """End the lease; the lease that ended, or None if there was none.

        Args:
            force: end another user's lease (admins breaking it).

        Raises:
            LeaseHeldError: the lease is another user's and ``force`` is false.
        """
        with self._lock:
            now = self._clock()
            lease = self._current(camera, now)
            if lease is None:
                return None
            if lease.holder != user and not force:
                raise LeaseHeldError(lease, now)
            del self._leases[camera]
            self._free_since[camera] = now
            return lease

    def released_since(self, camera: str) -> float | None:
        """When the camera's last lease ended (None: held now, or never leased since start)."""
        with self._lock:
            self._current(camera, self._clock())
            return self._free_since.get(camera)
