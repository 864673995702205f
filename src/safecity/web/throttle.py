"""Login throttling: too many failed logins for a user name or from an address lock it out for a while.

In memory (per console process), keyed by user name and by remote address, with an injected clock.

The check and the record of an attempt happen in ONE critical section, *before* the password is
verified (:meth:`LoginThrottle.begin`): every attempt counts as a failure until it is proven right
(:meth:`LoginThrottle.succeeded` takes it back). So N concurrent guesses cannot all pass the check
before the first failure is written: at most ``max_failures`` passwords of one user name (and
``max_failures_per_addr`` from one address) are ever verified within the window.

Example:
    >>> t = LoginThrottle(max_failures=2, window_s=60, clock=lambda: 0.0)
    >>> a = t.begin("kim", "10.0.0.1"); b = t.begin("kim", "10.0.0.1")
    >>> a.retry_after_s is None and b.retry_after_s is None
    True
    >>> t.begin("kim", "10.0.0.9").retry_after_s
    60.0
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Attempt", "LoginThrottle"]


@dataclass(frozen=True, slots=True)
class Attempt:
    """A login attempt admitted (``retry_after_s`` None) or refused by :meth:`LoginThrottle.begin`.

    Attributes:
        keys: the throttle keys the attempt was counted under (empty when refused).
        at: when it was counted (the throttle's clock).
        retry_after_s: seconds until a refused attempt may be made again; None when admitted.
    """

    keys: tuple[str, ...]
    at: float
    retry_after_s: float | None = None


class LoginThrottle:
    """Counts attempts in a sliding window; at the limit a key is refused until they age out.

    Args:
        max_failures: password checks allowed within ``window_s`` per user name.
        max_failures_per_addr: password checks allowed per remote address (higher: a control room
            shares one).
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

    @property
    def max_failures(self) -> int:
        return self._max

    @property
    def max_failures_per_addr(self) -> int:
        return self._max_addr

    @property
    def window_s(self) -> float:
        return self._window_s

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

    def _wait_locked(self, keys: tuple[str, ...], now: float) -> float:
        wait = 0.0
        for key in keys:
            q = self._prune(key, now)
            limit = self._limit(key)
            if len(q) >= limit:
                wait = max(wait, q[len(q) - limit] + self._window_s - now)
        return wait

    def begin(self, username: str, addr: str | None) -> Attempt:
        """Check the limits and, if they allow it, count this attempt as a failure, atomically.

        Returns an admitted :class:`Attempt` (pass it to :meth:`succeeded` if the password is
        right) or a refused one whose ``retry_after_s`` says how long to wait (nothing counted).
        """
        now = self._clock()
        keys = self._keys(username, addr)
        with self._lock:
            wait = self._wait_locked(keys, now)
            if wait > 0:
                return Attempt((), now, wait)
            for key in keys:
                q = self._fails.setdefault(key, deque())
                q.append(now)
        return Attempt(keys, now)

    def succeeded(self, attempt: Attempt) -> None:
        """The attempt's password was right: clear the user name's failures and take the attempt back
        from the address's count (a shared control-room address is not locked by good logins)."""
        with self._lock:
            for key in attempt.keys:
                if key.startswith("u:"):
                    self._fails.pop(key, None)
                    continue
                q = self._fails.get(key)
                if q is not None and attempt.at in q:
                    q.remove(attempt.at)
                    if not q:
                        self._fails.pop(key, None)

    def retry_after_s(self, username: str, addr: str | None) -> float | None:
        """Seconds until a login for ``username`` from ``addr`` is accepted again; None if it is now."""
        now = self._clock()
        with self._lock:
            wait = self._wait_locked(self._keys(username, addr), now)
        return wait if wait > 0 else None

    def fail(self, username: str, addr: str | None) -> None:
        """Count a failure without a check (e.g. a failure seen elsewhere)."""
        now = self._clock()
        with self._lock:
            for key in self._keys(username, addr):
                q = self._prune(key, now)
                q.append(now)
                while len(q) > self._limit(key):
                    q.popleft()
                self._fails[key] = q

    def succeed(self, username: str) -> None:
        """Clear the user name's failures (not the address's)."""
        with self._lock:
            self._fails.pop(f"u:{username.lower()}", None)
