"""MaskLifts: per user and camera, bounded, expiring from stored times (injected clock)."""

from __future__ import annotations

import doctest

import pytest

import safecity.store.mask_lifts
import safecity.store.permissions
from safecity.errors import InputError
from safecity.store.db import connect
from safecity.store.mask_lifts import MaskLifts


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def test_lift_expires_by_itself_and_is_per_user_and_camera(sqlite_url: str) -> None:
    clock = Clock()
    lifts = MaskLifts(connect(sqlite_url), clock=clock)
    lift = lifts.lift("cam1", "kim", "수색", 1800)
    assert (lift.expires_at - lift.started_at).total_seconds() == 1800
    assert lifts.active("cam1", "kim") is not None
    assert lifts.active("cam2", "kim") is None and lifts.active("cam1", "lee") is None
    clock.t += 1799
    assert lifts.active("cam1", "kim") is not None
    clock.t += 1
    assert lifts.active("cam1", "kim") is None


def test_new_lift_replaces_the_active_one_and_end_stops_it(sqlite_url: str) -> None:
    clock = Clock()
    lifts = MaskLifts(connect(sqlite_url), clock=clock)
    first = lifts.lift("cam1", "kim", "a", 60)
    second = lifts.lift("cam1", "kim", "b", 600)
    active = lifts.active("cam1", "kim")
    assert active is not None and active.id == second.id != first.id
    ended = lifts.end("cam1", "kim")
    assert ended is not None and ended.ended_at is not None
    assert lifts.active("cam1", "kim") is None and lifts.end("cam1", "kim") is None


@pytest.mark.parametrize(
    ("reason", "duration_s", "match"),
    [
        ("", 60, "reason"),
        ("x" * 501, 60, "reason"),
        ("ok", 0, "at most 30 minutes"),
        ("ok", 1801, "at most 30 minutes"),
    ],
)
def test_lift_is_bounded(sqlite_url: str, reason: str, duration_s: float, match: str) -> None:
    with pytest.raises(InputError, match=match):
        MaskLifts(connect(sqlite_url)).lift("cam1", "kim", reason, duration_s)


def test_doctests() -> None:
    assert doctest.testmod(safecity.store.mask_lifts).failed == 0
    assert doctest.testmod(safecity.store.permissions).failed == 0
