"""PatrolScheduler: order, dwell from arrival, schedules in local time, home, resume."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from safecity.monitor.config.ptz import TourConfig
from safecity.ptz.patrol import PatrolScheduler, PatrolState

SEOUL = ZoneInfo("Asia/Seoul")


def _tour(name: str, presets: str, order: str = "loop", schedule: list[str] | None = None) -> TourConfig:
    stops = [{"preset": p, "dwell_s": 10.0 * (i + 1)} for i, p in enumerate(presets.split())]
    return TourConfig.model_validate(
        {"name": name, "stops": stops, "order": order, "schedule": schedule or []}
    )


def _walk(s: PatrolScheduler, visits: int, t0: float = 1_800_000_000.0, travel_s: float = 3.0) -> list[str]:
    """Presets visited when the camera always arrives ``travel_s`` after being sent."""
    out: list[str] = []
    state: PatrolState | None = None
    now = t0
    while len(out) < visits:
        step = s.step(state, now)
        assert step.preset is not None
        out.append(step.preset)
        now += travel_s
        state = s.arrived(step.state, now)
        dwelling = s.step(state, now)
        assert dwelling.preset == step.preset and dwelling.wake_s is not None
        now = dwelling.wake_s
        state = dwelling.state
    return out


def test_loop_visits_stops_in_order() -> None:
    s = PatrolScheduler([_tour("t", "a b c")], None, "Asia/Seoul")
    assert _walk(s, 7) == ["a", "b", "c", "a", "b", "c", "a"]


def test_back_and_forth_turns_at_the_ends() -> None:
    s = PatrolScheduler([_tour("t", "a b c", "back_and_forth")], None, "Asia/Seoul")
    assert _walk(s, 8) == ["a", "b", "c", "b", "a", "b", "c", "b"]
    s2 = PatrolScheduler([_tour("t", "a b", "back_and_forth")], None, "Asia/Seoul")
    assert _walk(s2, 5) == ["a", "b", "a", "b", "a"]


def test_dwell_counts_from_arrival_not_from_the_command() -> None:
    s = PatrolScheduler([_tour("t", "a b")], None, "Asia/Seoul")  # a: 10 s, b: 20 s
    first = s.step(None, 100.0)
    assert (first.preset, first.wake_s) == ("a", None)
    still = s.step(first.state, 140.0)  # 40 s later, still travelling (no arrival reported)
    assert still.preset == "a" and still.state.arrived_s is None and "travelling" in still.reason
    at = s.arrived(still.state, 141.0)
    assert s.arrived(at, 150.0) == at  # arrival is only taken once
    dwell = s.step(at, 150.9)
    assert (dwell.preset, dwell.wake_s) == ("a", 151.0)
    nxt = s.step(dwell.state, 151.0)
    assert nxt.preset == "b" and nxt.state.index == 1 and nxt.reason == "tour t: stop 2/2 (b), travelling"


def test_schedules_in_local_time_pick_the_first_active_tour_else_home() -> None:
    night = _tour("night", "n1 n2", schedule=["22:00-06:00"])
    weekday = _tour("weekday", "d1", schedule=["mon-fri 08:00-18:00"])
    s = PatrolScheduler([night, weekday], "home", "Asia/Seoul")

    def at(y: int, mo: int, d: int, h: int) -> float:
        return datetime(y, mo, d, h, 0, tzinfo=SEOUL).timestamp()

    assert s.step(None, at(2026, 12, 7, 23)).preset == "n1"  # Monday 23:00 KST (14:00 UTC)
    assert s.step(None, at(2026, 12, 8, 5)).preset == "n1"  # past midnight
    assert s.step(None, at(2026, 12, 8, 10)).preset == "d1"  # Tuesday 10:00
    home = s.step(None, at(2026, 12, 12, 10))  # Saturday 10:00: no tour
    assert (home.preset, home.state.tour) == ("home", None)
    assert "home" in home.reason


def test_a_tour_change_starts_the_new_tour_at_its_first_stop() -> None:
    night = _tour("night", "n1 n2", schedule=["22:00-06:00"])
    day = _tour("day", "d1 d2 d3", schedule=["06:00-22:00"])
    s = PatrolScheduler([night, day], None, "Asia/Seoul")
    t = datetime(2026, 12, 7, 21, 59, 50, tzinfo=SEOUL).timestamp()
    mid_day = PatrolState("day", 2, 1, t - 5)
    assert s.step(mid_day, t).preset == "d3"
    switched = s.step(mid_day, t + 20)  # 22:00:10: the night tour
    assert switched.preset == "n1" and switched.state == PatrolState("night", 0, 1, None)


def test_no_tour_and_no_home_leaves_the_camera() -> None:
    s = PatrolScheduler([], None, "Asia/Seoul")
    step = s.step(PatrolState("gone", 3, 1, 5.0), 10.0)
    assert step.preset is None and step.state == PatrolState()


def test_single_stop_tour_stays_and_resume_dwells_anew() -> None:
    s = PatrolScheduler([_tour("t", "only")], None, "Asia/Seoul")
    st = s.arrived(s.step(None, 0.0).state, 1.0)
    later = s.step(st, 10_000.0)
    assert (later.preset, later.wake_s) == ("only", None)
    resumed = PatrolScheduler.resume(PatrolState("t", 0, 1, 1.0))
    assert resumed == PatrolState("t", 0, 1, None)
    assert PatrolScheduler.resume(None) is None
