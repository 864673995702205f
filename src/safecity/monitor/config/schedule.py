"""Schedules for rules and zones: ``"22:00-06:00"``, ``"mon-fri 08:00-18:00"``, ``"sat,sun"``, ``"always"``.

A window whose end is not after its start crosses midnight and belongs to the day it starts on. A
list of strings is active when any of them is. Live frame times are Unix time, judged in a time zone;
replay frame times (seconds from the start of a file) only map to a clock when the camera has a
``replay_start``; without one, schedules are always active.

Example:
    >>> s = parse_schedule("fri 22:00-06:00")
    >>> s.active_at(datetime(2026, 11, 27, 23, 0)), s.active_at(datetime(2026, 11, 28, 5, 59))
    (True, True)
    >>> s.active_at(datetime(2026, 11, 28, 23, 0))
    False
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Schedule", "ScheduleWindow", "local_time", "parse_schedule"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class ScheduleWindow:
    """Active from ``start_min`` to ``end_min`` (minutes after midnight) on ``days`` (0 = Monday).

    A window with ``end_min <= start_min`` crosses midnight: it starts on one of ``days`` and ends
    the next morning.
    """

    days: frozenset[int]
    start_min: int
    end_min: int

    def active_at(self, dt: datetime) -> bool:
        """Whether local time ``dt`` falls in this window."""
        d = dt.weekday()
        m = dt.hour * 60 + dt.minute
        if self.start_min < self.end_min:
            return d in self.days and self.start_min <= m < self.end_min
        return (d in self.days and m >= self.start_min) or ((d - 1) % 7 in self.days and m < self.end_min)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Union of windows; an empty schedule is always active."""

    windows: tuple[ScheduleWindow, ...] = ()

    def active_at(self, dt: datetime | None) -> bool:
        """True when ``dt`` (local time) falls in a window; ``None`` (no clock, replay) means active."""
        if dt is None or not self.windows:
            return True
        return any(w.active_at(dt) for w in self.windows)


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.split(","):
        part = part.strip().lower()
        if "-" in part:
            a, _, b = part.partition("-")
            if a not in _DAYS or b not in _DAYS:
                raise ValueError(part)
            i, j = _DAYS.index(a), _DAYS.index(b)
            k = i
            while True:
                days.add(k)
                if k == j:
                    break
                k = (k + 1) % 7
        elif part in _DAYS:
            days.add(_DAYS.index(part))
        else:
            raise ValueError(part)
    return frozenset(days)


def _parse_window(text: str) -> ScheduleWindow:
    spec = text.strip().lower()
    if spec in ("always", "*"):
        return ScheduleWindow(frozenset(range(7)), 0, 24 * 60)
    days_s, _, time_s = spec.rpartition(" ")
    if not _TIME_RE.match(time_s):  # "sat,sun" alone: whole days
        days_s, time_s = spec, "00:00-24:00"
    days = _parse_days(days_s) if days_s.strip() else frozenset(range(7))
    m = _TIME_RE.match(time_s)
    if m is None:
        raise ValueError(time_s)
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise ValueError(time_s)
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise ValueError(f"{time_s} is empty")
    return ScheduleWindow(days, start, end)


def parse_schedule(spec: str | Sequence[str] | None) -> Schedule:
    """Parse one schedule string or a list of them (any active = active).

    Raises:
        ValueError: a string that is not ``[days ]HH:MM-HH:MM``, ``days`` or ``always``.

    Example:
        >>> parse_schedule("mon-fri 08:00-18:00").windows[0].days == frozenset(range(5))
        True
    """
    if spec is None:
        return Schedule()
    items = [spec] if isinstance(spec, str) else list(spec)
    windows = []
    for item in items:
        try:
            windows.append(_parse_window(item))
        except ValueError as exc:
            raise ValueError(
                f"schedule {item!r} does not parse ({exc}): expected 'HH:MM-HH:MM' (may cross "
                "midnight, e.g. '22:00-06:00'), optionally after weekdays ('mon-fri 08:00-18:00', "
                "'sat,sun'), or 'always'"
            ) from None
    return Schedule(tuple(windows))


def local_time(t_s: float, *, live: bool, tz: str, replay_start: datetime | None) -> datetime | None:
    """Local wall-clock time of a frame time, or None when schedules should be treated as always on.

    Live frames carry Unix time; replay frames carry seconds from the file start and only map to a
    clock when ``replay_start`` is given (a naive ``replay_start`` is read in ``tz``).

    Example:
        >>> local_time(0.0, live=True, tz="Asia/Seoul", replay_start=None).hour
        9
        >>> local_time(5.0, live=False, tz="Asia/Seoul", replay_start=None) is None
        True
    """
    zone = ZoneInfo(tz)
    if live:
        return datetime.fromtimestamp(t_s, tz=UTC).astimezone(zone)
    if replay_start is None:
        return None
    start = replay_start if replay_start.tzinfo else replay_start.replace(tzinfo=zone)
    return (start + timedelta(seconds=t_s)).astimezone(zone)
