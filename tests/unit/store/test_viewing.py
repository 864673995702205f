"""ViewingLog on SQLite: sessions instead of a row per reload, each start and end one chained audit row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from safecity.errors import InputError
from safecity.store.audit import AuditFilter, AuditLog
from safecity.store.audit_chain import verify_chain
from safecity.store.db import connect
from safecity.store.viewing import ViewingFilter, ViewingLog


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def parts(sqlite_url: str, clock: Clock) -> tuple[ViewingLog, AuditLog]:
    engine = connect(sqlite_url)
    audit = AuditLog(engine, clock=clock)
    return ViewingLog(engine, audit, clock=clock, idle_s=120, merge_s=60), audit


def _actions(audit: AuditLog) -> list[str]:
    return [e.action for e in reversed(audit.query(AuditFilter(limit=1000)))]


def test_open_close_is_one_session_with_two_chained_audit_rows(
    parts: tuple[ViewingLog, AuditLog], clock: Clock, sqlite_url: str
) -> None:
    views, audit = parts
    sid = views.open("guro-hall-door", "kim", "wall", remote_addr="10.0.0.5")
    clock.t += 185
    s = views.close(sid)
    assert s is not None
    assert (s.camera, s.username, s.how, s.end_reason, s.duration_s) == (
        "guro-hall-door",
        "kim",
        "wall",
        "closed",
        185.0,
    )
    start, end = sorted(audit.query(), key=lambda e: e.id)
    assert (start.action, start.target_type, start.target_id, start.username) == (
        "view_start",
        "camera",
        "guro-hall-door",
        "kim",
    )
    assert start.detail == f"wall tile, session {sid}"
    assert end.action == "view_end" and end.detail == f"wall tile, session {sid}, 3:05 (closed)"
    assert (s.start_audit_id, s.end_audit_id) == (start.id, end.id)
    assert views.close(sid) is None  # a second close writes nothing
    assert len(audit.query()) == 2
    assert verify_chain(connect(sqlite_url)).ok


def test_viewing_kind_and_names_are_checked(parts: tuple[ViewingLog, AuditLog]) -> None:
    views, audit = parts
    with pytest.raises(InputError, match="viewing kind must be one of wall, on_demand"):
        views.open("c1", "kim", "tile")
    with pytest.raises(InputError, match="needs a camera key and a user name"):
        views.open("", "kim", "wall")
    assert audit.query() == []


def test_one_shot_views_continue_one_session_until_idle(
    parts: tuple[ViewingLog, AuditLog], clock: Clock
) -> None:
    views, audit = parts
    first = views.view("c1", "kim", "still")
    for _ in range(10):  # a still every 30 s for 5 minutes: one session
        clock.t += 30
        assert views.view("c1", "kim", "still") == first
    other_cam = views.view("c2", "kim", "still")
    other_user = views.view("c1", "lee", "still")
    other_how = views.view("c1", "kim", "playback", detail="c1-intrusion-x")
    assert len({first, other_cam, other_user, other_how}) == 4
    clock.t += 61  # beyond merge_s: a new session, the old one stays open until swept
    later = views.view("c1", "kim", "still")
    assert later != first
    assert _actions(audit).count("view_start") == 5


def test_sweep_ends_silent_sessions_at_their_last_sign_of_life(
    parts: tuple[ViewingLog, AuditLog], clock: Clock
) -> None:
    views, audit = parts
    alive = views.open("c1", "kim", "wall")
    silent = views.open("c2", "kim", "mjpeg")
    t0 = clock.t
    for _ in range(5):
        clock.t += 30
        assert views.touch(alive)
    clock.t += 100  # silent: last seen at t0, 250 s ago > idle_s; alive: 100 s ago
    assert views.sweep() == 1
    s = views.get(silent)
    assert s is not None and s.end_reason == "idle"
    assert s.ended_at == datetime.fromtimestamp(t0, UTC)
    assert views.get(alive) is not None and views.get(alive).ended_at is None  # type: ignore[union-attr]
    assert not views.touch(silent)  # closed: the caller opens a new one
    assert views.sweep() == 0
    end = audit.query(AuditFilter(action="view_end"))[0]
    assert end.detail is not None and "(idle), ended at" in end.detail


def test_query_filters_and_period_overlap(parts: tuple[ViewingLog, AuditLog], clock: Clock) -> None:
    views, _ = parts
    t0 = clock.t
    a = views.open("c1", "kim", "wall")  # t0 .. t0+100
    clock.t += 100
    views.close(a)
    clock.t += 100
    b = views.open("c2", "lee", "on_demand")  # t0+200 .. open
    at = lambda dt: datetime.fromtimestamp(t0 + dt, UTC)  # noqa: E731

    def ids(**kw: object) -> list[int]:
        return [s.id for s in views.query(ViewingFilter(**kw))]  # type: ignore[arg-type]

    assert ids() == [b, a]  # newest start first
    assert ids(username="kim") == [a]
    assert ids(camera="c2") == [b]
    assert ids(how="on_demand") == [b]
    assert ids(open=True) == [b] and ids(open=False) == [a]
    assert ids(since=at(50), until=at(150)) == [a]  # overlaps the closed one only
    assert ids(since=at(150)) == [b]  # a ended before
    assert ids(since=at(100)) == [b, a]  # ended exactly at since: still overlaps
    assert ids(until=at(200)) == [a]  # b starts at until: excluded
    assert ids(limit=1, offset=1) == [a]
    assert views.count(ViewingFilter(open=True)) == 1


def test_merge_window_must_fit_idle(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    with pytest.raises(InputError, match="merge_s <= idle_s"):
        ViewingLog(engine, AuditLog(engine), idle_s=30, merge_s=60)


def test_touch_many_reports_which_sessions_are_still_open(
    parts: tuple[ViewingLog, AuditLog], clock: Clock
) -> None:
    views, _ = parts
    a, b, c = (views.open(cam, "kim", "wall") for cam in ("c1", "c2", "c3"))
    views.close(b)
    clock.t += 10
    assert views.touch_many([a, b, c, 999]) == {a, c}
    assert views.touch_many([]) == set()
    s = views.get(a)
    assert s is not None and s.last_seen_at == datetime.fromtimestamp(clock.t, UTC)
