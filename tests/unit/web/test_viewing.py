"""StreamViews: one viewing session per camera shown on a connection, not one per reload."""

from __future__ import annotations

from safecity.store.audit import AuditFilter, AuditLog
from safecity.store.db import connect
from safecity.store.viewing import ViewingFilter, ViewingLog
from safecity.web.viewing import StreamViews


def test_reloads_write_nothing_and_changes_open_and_close(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    t = [5000.0]
    audit = AuditLog(engine, clock=lambda: t[0])
    log = ViewingLog(engine, audit, clock=lambda: t[0])
    views = StreamViews(log, "kim", "wall", "10.0.0.5", touch_every_s=30, clock=lambda: t[0])
    for _ in range(20):  # the wall re-sends its camera list: still one session per camera
        views.show(["a", "b"])
        t[0] += 5
    assert audit.count(AuditFilter(action="view_start")) == 2
    views.show(["b", "c"])  # a leaves, c arrives
    views.show(["x"], how="on_demand")  # an on-demand view beside the wall tiles
    assert sorted(views.cameras) == ["b", "c", "x"]
    ended = log.query(ViewingFilter(open=False))
    assert [(s.camera, s.end_reason) for s in ended] == [("a", "removed")]
    t[0] += 31
    views.keep_alive()
    assert {s.last_seen_at.timestamp() for s in log.query(ViewingFilter(open=True))} == {t[0]}
    views.close_all()
    assert log.count(ViewingFilter(open=True)) == 0
    assert audit.count(AuditFilter(action="view_start")) == 4
    assert audit.count(AuditFilter(action="view_end")) == 4
    assert {s.how for s in log.query()} == {"wall", "on_demand"}


def test_a_session_swept_during_a_stall_is_reopened(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    t = [5000.0]
    log = ViewingLog(engine, AuditLog(engine, clock=lambda: t[0]), clock=lambda: t[0], idle_s=60, merge_s=30)
    views = StreamViews(log, "kim", "mjpeg", touch_every_s=30, clock=lambda: t[0])
    views.show(["a"])
    t[0] += 200
    assert log.sweep() == 1
    views.keep_alive()
    open_now = log.query(ViewingFilter(open=True))
    assert [s.camera for s in open_now] == ["a"] and open_now[0].started_at.timestamp() == t[0]
