"""AuditLog: append and filtered, newest-first queries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from safecity.store.audit import AuditFilter, AuditLog
from safecity.store.db import connect


@pytest.fixture
def log(sqlite_url: str) -> AuditLog:
    t = iter(range(1000, 2000, 10))
    audit = AuditLog(connect(sqlite_url), clock=lambda: float(next(t)))
    audit.record("login", username="kim", allowed=True, remote_addr="10.0.0.1")  # t=1000
    audit.record("view_camera", username="kim", allowed=False, target_type="camera", target_id="c9")  # 1010
    audit.record(
        "ack", username="lee", allowed=True, target_type="event", target_id="e1", detail="ok"
    )  # 1020
    return audit


@pytest.mark.parametrize(
    ("f", "actions"),
    [
        (AuditFilter(), ["ack", "view_camera", "login"]),  # all, newest first
        (AuditFilter(username="kim"), ["view_camera", "login"]),  # by user
        (AuditFilter(allowed=False), ["view_camera"]),  # refusals
        (AuditFilter(target_id="e1"), ["ack"]),  # by target
        (AuditFilter(since=datetime.fromtimestamp(1010, UTC)), ["ack", "view_camera"]),  # inclusive from
        (AuditFilter(until=datetime.fromtimestamp(1010, UTC)), ["login"]),  # exclusive until
        (AuditFilter(limit=1, offset=1), ["view_camera"]),  # paging
    ],
)
def test_query_filters(log: AuditLog, f: AuditFilter, actions: list[str]) -> None:
    assert [e.action for e in log.query(f)] == actions


def test_count_and_fields(log: AuditLog) -> None:
    assert log.count(AuditFilter(username="kim")) == 2
    e = log.query(AuditFilter(action="login"))[0]
    assert (e.username, e.remote_addr, e.allowed, e.at) == (
        "kim",
        "10.0.0.1",
        True,
        datetime.fromtimestamp(1000, UTC),
    )


def test_iter_entries_reads_all_in_chain_order_in_batches_up_to_a_snapshot(log: AuditLog) -> None:
    for i in range(7):
        log.record("view_start", username="kim", allowed=True, target_type="camera", target_id=f"c{i}")
    snapshot = log.last_id()
    log.record("audit_export", username="boss", allowed=True)  # after the snapshot
    got = list(log.iter_entries(AuditFilter(max_id=snapshot, limit=1), batch=3))
    assert [e.id for e in got] == list(range(1, snapshot + 1))  # oldest first, limit ignored
    assert [e.target_id for e in log.iter_entries(AuditFilter(action="view_start"), batch=2)] == [
        f"c{i}" for i in range(7)
    ]
    assert log.count(AuditFilter(max_id=snapshot)) == snapshot == 10
