"""Login throttling: too many failed logins for a user name or from an address lock it out for a while.

In memory (per console process), keyed by user name and by remote address, with an injected clock.

Example:
    >>> t = LoginThrottle(max_failures=2, window_s=60, clock=lambda: 0.0)
    >>> t.fail("kim", "10.0.0.1"); t.fail("kim", "10.0.0.1")
    >>> t.retry_after_s("kim", "10.0.0.9")
    60.0
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["LoginThrottle"]


class LoginThrottle:
    """Counts failures in a sliding window; at ``max_failures`` the key is refused until they age out.

    Args:
        max_failures: failures allowed within ``window_s`` per user name.
        max_failures_per_addr: failures allowed per remote address (higher: a control room shares one).
        window_s: the window in seconds.
        clock: seconds (monotonic or Unix).
    """

    def __init__(
        self,
        *,
        max_failures: int = 5,
        max_failures_per_addr: int = 20,
        window_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_failures
        self._max_addr = max_failures_per_addr
        self._window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._fails: dict[str, deque[float]] = {}

    def _keys(self, username: str, addr: str | None) -> tuple[str, ...]:
        return (f"u:{username.lower()}",) + ((f"a:{addr}",) if addr else ())

    def _limit(self, key: str) -> int:
        return self._max if key.startswith("u:") else self._max_addr

    def _prune(self, key: str, now: float) -> deque[float]:
        q = self._fails.get(key, deque())
        while q and q[0] <= now - self._window_s:
            q.popleft()
        if q:
            self._fails[key] = q
        else:
            self._fails.pop(key, None)
        return q

    def retry_after_s(self, username: str, addr: str | None) -> float | None:
        """Seconds until a login for ``username`` from ``addr`` is accepted again; None if it is now."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in self._keys(username, addr):
                q = self._prune(key, now)
                limit = self._limit(key)
                if len(q) >= limit:
                    wait = max(wait, q[len(q) - limit] + self._window_s - now)
        return wait if wait > 0 else None

    def fail(self, username: str, addr: str | None) -> None:
        now = self._clock()
        with self._lock:
            for key in self._keys(username, addr):
                q = self._prune(key, now)
                q.append(now)
                while len(q) > self._limit(key):
                    q.popleft()
                self._fails[key] = q

    def succeed(self, username: str) -> None:
        """A successful login clears the user name's failures (not the address's)."""
        with self._lock:
            self._fails.pop(f"u:{username.lower()}", None)
