"""The audit hash chain on a real PostgreSQL server: direct edits are found; writers keep one chain."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from safecity.store.audit import AuditLog
from safecity.store.audit_chain import verify_chain
from safecity.store.db import connect, upgrade

pytestmark = pytest.mark.integration
RAW_INSERT = "INSERT INTO audit_log (at, username, action, allowed) VALUES (now(), 'x', 'login', true)"


def test_postgres_chain_finds_update_insert_delete(pg_url: str) -> None:
    engine = connect(pg_url)
    log = AuditLog(engine)
    for i in range(6):
        log.record("view_clip", username=f"u{i}", allowed=True, target_id=f"e{i}", detail="상세")
    assert verify_chain(engine).ok
    edits = [  # all three at once
        ("UPDATE audit_log SET allowed = false WHERE id = 2", "altered", 2),
        ("DELETE FROM audit_log WHERE id = 4", "broken", 5),
        (RAW_INSERT, "inserted", 7),
    ]
    for sql, _kind, _row_id in edits:
        with engine.begin() as c:
            c.execute(text(sql))
    # the first break is reported: the UPDATE of row 2
    brk = verify_chain(engine).first_break
    assert brk is not None and (brk.kind, brk.row_id) == ("altered", 2)
    engine.dispose()


@pytest.mark.parametrize(
    ("sql", "kind", "row_id"),
    [
        ("UPDATE audit_log SET username = 'nobody' WHERE id = 3", "altered", 3),
        ("DELETE FROM audit_log WHERE id = 3", "broken", 4),
        ("DELETE FROM audit_log WHERE id = 6", "truncated", 6),
        (RAW_INSERT, "inserted", 7),
    ],
)
def test_postgres_each_edit_is_named(pg_url: str, sql: str, kind: str, row_id: int) -> None:
    engine = connect(pg_url)
    log = AuditLog(engine)
    for i in range(6):
        log.record("login", username=f"u{i}", allowed=i != 2)
    with engine.begin() as c:
        c.execute(text(sql))
    brk = verify_chain(engine).first_break
    assert brk is not None
    assert (brk.kind, brk.row_id) == (kind, row_id)
    engine.dispose()


def test_postgres_concurrent_writers_keep_one_chain(pg_url: str) -> None:
    engine = connect(pg_url)
    engines = [connect(pg_url, migrate=False) for _ in range(6)]

    def write(k: int) -> None:
        log = AuditLog(engines[k])
        for i in range(30):
            log.record("view_camera", username=f"w{k}", allowed=True, target_id=str(i))

    threads = [threading.Thread(target=write, args=(k,)) for k in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    report = verify_chain(engine)
    assert report.ok, report.first_break
    assert report.rows == 180
    for e in engines:
        e.dispose()
    engine.dispose()


def test_postgres_migration_chains_existing_rows(pg_url: str) -> None:
    engine = connect(pg_url, migrate=False)
    upgrade(engine, "0002")
    with engine.begin() as c:
        for i in range(4):
            c.execute(
                text(RAW_INSERT.replace("'x'", ":u")),
                {"u": f"u{i}"},
            )
    upgrade(engine)
    report = verify_chain(engine)
    assert report.ok and report.rows == 4
    engine.dispose()
