"""Schedules: windows crossing midnight, weekdays, replay without a clock, live time zones."""

from __future__ import annotations

from datetime import datetime

import pytest

from safecity.monitor.config.schedule import local_time, parse_schedule


@pytest.mark.parametrize(
    ("spec", "when", "active"),
    [
        ("22:00-06:00", datetime(2026, 11, 25, 23, 30), True),  # night, before midnight
        ("22:00-06:00", datetime(2026, 11, 26, 5, 59), True),  # night, after midnight
        ("22:00-06:00", datetime(2026, 11, 26, 6, 0), False),  # end is exclusive
        ("22:00-06:00", datetime(2026, 11, 26, 12, 0), False),  # day
        ("mon-fri 08:00-18:00", datetime(2026, 11, 28, 9, 0), False),  # Saturday
        ("mon-fri 08:00-18:00", datetime(2026, 11, 27, 9, 0), True),  # Friday
        ("fri 22:00-06:00", datetime(2026, 11, 28, 3, 0), True),  # Friday night runs into Saturday
        ("fri 22:00-06:00", datetime(2026, 11, 29, 3, 0), False),  # Saturday night is not Friday's
        ("sat,sun", datetime(2026, 11, 29, 13, 0), True),  # whole Sunday
        ("fri-mon 00:00-24:00", datetime(2026, 11, 30, 23, 59), True),  # day range wraps the week
        ("always", datetime(2026, 11, 25, 3, 0), True),  # always
    ],
)
def test_schedule_active(spec: str, when: datetime, active: bool) -> None:
    assert parse_schedule(spec).active_at(when) is active


@pytest.mark.parametrize("spec", ["25:00-06:00", "10:00-10:00", "funday 10:00-11:00", "8-9", "10:60-11:00"])
def test_schedule_rejects(spec: str) -> None:
    with pytest.raises(ValueError, match="does not parse"):
        parse_schedule(spec)


def test_schedule_none_clock_is_active() -> None:
    # replay without replay_start: schedules are always on
    assert parse_schedule("22:00-06:00").active_at(None)


def test_local_time_live_and_replay() -> None:
    # 2026-11-25 00:00 UTC is 09:00 in Seoul
    t = datetime(2026, 11, 25).timestamp() - datetime(1970, 1, 1).timestamp()
    live = local_time(t, live=True, tz="Asia/Seoul", replay_start=None)
    assert live is not None and live.hour == 9
    start = datetime.fromisoformat("2026-11-27T23:00:00+09:00")
    replay = local_time(3600.0, live=False, tz="Asia/Seoul", replay_start=start)
    assert replay is not None and (replay.day, replay.hour) == (28, 0)
    assert local_time(3600.0, live=False, tz="Asia/Seoul", replay_start=None) is None
