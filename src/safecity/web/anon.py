"""Anonymous (401) requests: counted, and audited as one row per address per interval.

A scanner sending thousands of requests without a session must not add thousands of audit rows.
The first refused request from an address in an interval is audited as usual (so a single probe is
visible at once); the rest are only counted, and when the interval is over one summary row says how
many more came and to which paths. :meth:`AnonymousTally.flush` writes the summaries that are due
(the console calls it periodically and at shutdown).

Example:
    >>> rows = []
    >>> t = AnonymousTally(lambda **kw: rows.append(kw), interval_s=60, clock=lambda: 0.0)
    >>> for _ in range(3):
    ...     t.refused("10.0.0.7", "/api/wall", "no session")
    >>> len(rows), t.total
    (1, 3)
    >>> t.flush(force=True); rows[-1]["detail"]
    '401 x 2 more in 0 s: /api/wall x2'
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AnonymousTally"]

_MAX_ADDRS = 10_000  # bounded memory: beyond this many addresses in one interval, summaries go out early
_PATHS_SHOWN = 5


@dataclass
class _Window:
    start: float
    more: int = 0
    paths: Counter[str] = field(default_factory=Counter)


class AnonymousTally:
    """Counts 401 refusals per remote address; audits the first and then a summary per interval.

    Args:
        record: writes one audit row (keyword arguments of ``AuditLog.record`` without the action).
        interval_s: length of an address's counting interval.
        clock: Unix seconds.
    """

    def __init__(
        self,
        record: Callable[..., Any],
        *,
        interval_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._record = record
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str | None, _Window] = {}
        self.total = 0

    def refused(self, addr: str | None, path: str, reason: str) -> None:
        """Count one 401; audit it if it is the first from ``addr`` in the current interval."""
        now = self._clock()
        due: list[tuple[str | None, _Window]] = []
        with self._lock:
            self.total += 1
            win = self._windows.get(addr)
            if win is not None and now - win.start < self._interval_s:
                win.more += 1
                win.paths[path[:128]] += 1
                return
            if win is not None:
                due.append((addr, self._windows.pop(addr)))
            if len(self._windows) >= _MAX_ADDRS:
                due.extend(self._windows.items())
                self._windows.clear()
            self._windows[addr] = _Window(now)
        self._write_summaries(due, now)
        self._record(
            username=None,
            allowed=False,
            target_type="path",
            target_id=path,
            remote_addr=addr,
            detail=f"401: {reason}",
        )

    def flush(self, *, force: bool = False) -> int:
        """Write the summaries of intervals that are over (all of them with ``force``); how many rows."""
        now = self._clock()
        with self._lock:
            due = [(a, w) for a, w in self._windows.items() if force or now - w.start >= self._interval_s]
            for a, _ in due:
                del self._windows[a]
        return self._write_summaries(due, now)

    def _write_summaries(self, due: list[tuple[str | None, _Window]], now: float) -> int:
        n = 0
        for addr, win in due:
            if win.more == 0:
                continue
            top = ", ".join(f"{p} x{c}" for p, c in win.paths.most_common(_PATHS_SHOWN))
            others = len(win.paths) - _PATHS_SHOWN
            self._record(
                username=None,
                allowed=False,
                target_type="summary",
                target_id=None,
                remote_addr=addr,
                detail=f"401 x {win.more} more in {now - win.start:.0f} s: {top}"
                + (f" and {others} other paths" if others > 0 else ""),
            )
            n += 1
        return n
