"""Viewing sessions on a real PostgreSQL server: lifecycle, racing closes end a session once, one chain."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from safecity.store.audit import AuditFilter, AuditLog
from safecity.store.audit_chain import verify_chain
from safecity.store.db import connect
from safecity.store.viewing import ViewingFilter, ViewingLog

pytestmark = pytest.mark.integration


def test_postgres_session_lifecycle_and_filters(pg_url: str) -> None:
    engine = connect(pg_url)
    t = [2_000_000.0]
    audit = AuditLog(engine, clock=lambda: t[0])
    views = ViewingLog(engine, audit, clock=lambda: t[0], idle_s=120, merge_s=60)
    a = views.open("guro-hall-door", "김민수", "wall", remote_addr="10.0.0.5")
    t[0] += 30
    assert views.touch_many([a, 12345]) == {a}
    assert views.view("guro-lot-west", "kim", "still") == views.view("guro-lot-west", "kim", "still")
    t[0] += 30
    closed = views.close(a)
    assert closed is not None and closed.duration_s == 60.0 and closed.username == "김민수"
    t[0] += 200  # the still session is silent for 200 s > idle_s
    rows = views.query(ViewingFilter(since=datetime.fromtimestamp(0, UTC)))
    assert {(s.camera, s.end_reason) for s in rows} == {
        ("guro-hall-door", "closed"),
        ("guro-lot-west", "idle"),
    }
    assert views.count(ViewingFilter(username="김민수")) == 1
    assert [e.action for e in audit.query(AuditFilter(limit=10))].count("view_end") == 2
    report = verify_chain(engine)
    assert report.ok and report.rows == 4
    engine.dispose()


def test_postgres_racing_closes_and_writers_keep_one_chain(pg_url: str) -> None:
    engine = connect(pg_url)
    engines = [connect(pg_url, migrate=False) for _ in range(4)]
    logs = [ViewingLog(e, AuditLog(e)) for e in engines]
    sids = [logs[0].open(f"cam{i}", "kim", "wall") for i in range(20)]
    ended: list[int] = []
    lock = threading.Lock()

    def closer(k: int) -> None:
        for sid in sids:  # four threads close the same 20 sessions, and each opens 10 of its own
            if logs[k].close(sid) is not None:
                with lock:
                    ended.append(sid)
        for i in range(10):
            logs[k].close(logs[k].open(f"own{k}-{i}", f"w{k}", "mjpeg"))

    threads = [threading.Thread(target=closer, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(ended) == sorted(sids)  # each session ended exactly once
    audit = AuditLog(engine)
    assert audit.count(AuditFilter(action="view_end")) == 20 + 40
    assert audit.count(AuditFilter(action="view_start")) == 20 + 40
    report = verify_chain(engine)
    assert report.ok, report.first_break
    assert report.rows == 120
    for e in engines:
        e.dispose()
    engine.dispose()
