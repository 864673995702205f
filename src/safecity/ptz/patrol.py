"""Which preset a PTZ camera's patrol wants, given the time and where the patrol stands (pure).

The runtime owns the camera and the clock; it asks :meth:`PatrolScheduler.step` what to do and tells
it when the camera arrived (:meth:`PatrolScheduler.arrived`, from ONVIF status going idle or the
picture settling). A stop's dwell counts from arrival, so a slow swing never eats the look. The first
tour (in config order) whose schedule is active at the local time runs; with none active the camera
goes to its home preset. While an operator or a hand-off holds the camera the runtime simply does not
call :meth:`step`; afterwards :meth:`resume` sends the patrol back to the stop it was at.

Example:
    >>> from safecity.monitor.config.ptz import TourConfig
    >>> tour = TourConfig(name="t", stops=[{"preset": "a", "dwell_s": 10}, {"preset": "b", "dwell_s": 5}])
    >>> s = PatrolScheduler([tour], home_preset=None, timezone="Asia/Seoul")
    >>> step = s.step(None, now_s=0.0)
    >>> step.preset, step.state.arrived_s
    ('a', None)
    >>> step = s.step(s.arrived(step.state, 3.0), now_s=12.0)
    >>> step.preset, step.wake_s
    ('a', 13.0)
    >>> s.step(step.state, now_s=13.0).preset
    'b'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from safecity.monitor.config.ptz import TourConfig
from safecity.monitor.config.schedule import Schedule, parse_schedule

__all__ = ["PatrolScheduler", "PatrolState", "PatrolStep"]


@dataclass(frozen=True, slots=True)
class PatrolState:
    """Where a patrol stands.

    Attributes:
        tour: the running tour's name (None: resting at home, or nothing to do).
        index: the current stop in ``tour.stops``.
        direction: +1 or -1 (``back_and_forth`` tours walk back).
        arrived_s: when the camera reached the current stop (None while it travels there).
    """

    tour: str | None = None
    index: int = 0
    direction: int = 1
    arrived_s: float | None = None


@dataclass(frozen=True, slots=True)
class PatrolStep:
    """The answer of :meth:`PatrolScheduler.step`.

    Attributes:
        preset: where the camera should be (go there if it is not): a stop's preset, the home
            preset, or None (no tour active and no home: leave the camera where it is).
        state: the new state to keep and pass to the next call.
        wake_s: when the answer changes at the latest (dwell over); None while waiting for an
            arrival or with nothing scheduled. Schedules are re-checked at every call, so callers
            should also call at least every few seconds.
        reason: for logs and the console, e.g. ``"tour night: stop 2/3 (road)"``.
    """

    preset: str | None
    state: PatrolState
    wake_s: float | None
    reason: str


class PatrolScheduler:
    """Patrol decisions for one camera.

    Args:
        tours: the camera's tours in config order (validated: at least one stop, dwell > 0).
        home_preset: where to rest when no tour is active (None: stay put).
        timezone: IANA zone the tours' schedules are written in.
    """

    def __init__(self, tours: Sequence[TourConfig], home_preset: str | None, timezone: str) -> None:
        self.tours = list(tours)
        self.home_preset = home_preset
        self._tz = ZoneInfo(timezone)
        self._schedules: dict[str, Schedule] = {t.name: parse_schedule(t.schedule) for t in self.tours}

    def active_tour(self, now_s: float) -> TourConfig | None:
        """The first tour whose schedule is active at ``now_s`` (Unix seconds), or None."""
        local = datetime.fromtimestamp(now_s, self._tz).replace(tzinfo=None)
        for t in self.tours:
            if self._schedules[t.name].active_at(local):
                return t
        return None

    def step(self, state: PatrolState | None, now_s: float) -> PatrolStep:
        """What the camera should do at ``now_s`` given ``state`` (None: nothing known yet)."""
        tour = self.active_tour(now_s)
        if tour is None:
            rest = PatrolState()
            if self.home_preset is None:
                return PatrolStep(None, rest, None, "no tour active, no home preset: staying")
            return PatrolStep(self.home_preset, rest, None, f"no tour active: home ({self.home_preset})")
        n = len(tour.stops)
        if state is None or state.tour != tour.name or not 0 <= state.index < n:
            state = PatrolState(tour.name, 0, 1, None)  # a new (or changed) tour starts at its first stop
        stop = tour.stops[state.index]
        if state.arrived_s is None:
            return PatrolStep(stop.preset, state, None, self._reason(tour, state.index, "travelling"))
        due = state.arrived_s + stop.dwell_s
        if now_s < due or n == 1:
            wake = due if n > 1 else None
            return PatrolStep(stop.preset, state, wake, self._reason(tour, state.index, "dwelling"))
        index, direction = self._next(tour, state.index, state.direction)
        state = PatrolState(tour.name, index, direction, None)
        return PatrolStep(tour.stops[index].preset, state, None, self._reason(tour, index, "travelling"))

    @staticmethod
    def arrived(state: PatrolState, now_s: float) -> PatrolState:
        """``state`` with the camera at its stop since ``now_s`` (ignored if already arrived)."""
        return state if state.arrived_s is not None else replace(state, arrived_s=now_s)

    @staticmethod
    def resume(state: PatrolState | None) -> PatrolState | None:
        """After an operator or a hand-off released the camera: go back to the same stop, dwell anew."""
        return None if state is None else replace(state, arrived_s=None)

    @staticmethod
    def _next(tour: TourConfig, index: int, direction: int) -> tuple[int, int]:
        n = len(tour.stops)
        if tour.order == "loop":
            return (index + 1) % n, 1
        nxt = index + direction
        if not 0 <= nxt < n:
            direction = -direction
            nxt = index + direction
        return nxt, direction

    @staticmethod
    def _reason(tour: TourConfig, index: int, doing: str) -> str:
        stop = tour.stops[index]
        return f"tour {tour.name}: stop {index + 1}/{len(tour.stops)} ({stop.preset}), {doing}"
