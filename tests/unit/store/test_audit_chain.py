"""The audit hash chain: direct edits of the database (UPDATE, INSERT, DELETE) are found and named."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from safecity.cli import main
from safecity.store.audit import AuditLog
from safecity.store.audit_chain import row_digest, verify_chain
from safecity.store.db import connect, upgrade


def _filled(engine: Engine, n: int = 5) -> AuditLog:
    t = iter(range(1000, 100000, 10))
    log = AuditLog(engine, clock=lambda: float(next(t)) + 0.123456)
    for i in range(n):
        log.record("view_camera", username=f"user{i}", allowed=i % 2 == 0, target_id=f"cam{i}", detail="한글")
    return log


def test_fresh_chain_verifies(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    _filled(engine)
    report = verify_chain(engine)
    assert report.ok and report.rows == 5 and report.last_id == 5


@pytest.mark.parametrize(
    ("sql", "kind", "row_id"),
    [
        # an operator's refused view rewritten as allowed
        ("UPDATE audit_log SET allowed = 1 WHERE id = 2", "altered", 2),
        # the user name of one row changed
        ("UPDATE audit_log SET username = 'nobody' WHERE id = 4", "altered", 4),
        # a row added by hand, without the chain
        (
            "INSERT INTO audit_log (at, username, action, allowed) "
            "VALUES ('2026-01-01 00:00:00', 'x', 'login', 1)",
            "inserted",
            6,
        ),
        # a row in the middle removed: the next row no longer follows
        ("DELETE FROM audit_log WHERE id = 3", "broken", 4),
        # the newest row removed: the head still counts it
        ("DELETE FROM audit_log WHERE id = 5", "truncated", 5),
        # a row's hash overwritten with junk
        ("UPDATE audit_log SET row_hash = '%s' WHERE id = 2" % ("f" * 64), "altered", 2),
    ],
)
def test_direct_edit_is_found(sqlite_url: str, sql: str, kind: str, row_id: int) -> None:
    engine = connect(sqlite_url)
    _filled(engine)
    with engine.begin() as c:
        c.execute(text(sql))
    brk = verify_chain(engine).first_break
    assert brk is not None
    assert (brk.kind, brk.row_id) == (kind, row_id)
    assert str(row_id) in brk.message


def test_row_rehashed_by_hand_breaks_the_next_link(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    _filled(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE audit_log SET allowed = 1 WHERE id = 2"))
        row = c.execute(text("SELECT * FROM audit_log WHERE id = 2")).mappings().one()
        forged = {**row, "at": datetime.fromisoformat(row["at"])}
        c.execute(
            text("UPDATE audit_log SET row_hash = :h WHERE id = 2"),
            {"h": row_digest(row["prev_hash"], forged)},
        )
    brk = verify_chain(engine).first_break
    assert brk is not None and (brk.kind, brk.row_id) == ("broken", 3)
    assert "row 2 was altered together with its hash" in brk.message


def test_concurrent_writers_do_not_fork_the_chain(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    logs = [AuditLog(connect(sqlite_url, migrate=False)) for _ in range(4)]

    def write(log: AuditLog, k: int) -> None:
        for i in range(40):
            log.record("view_clip", username=f"w{k}", allowed=True, target_id=str(i))

    threads = [threading.Thread(target=write, args=(log, k)) for k, log in enumerate(logs)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    report = verify_chain(engine)
    assert report.ok, report.first_break
    assert report.rows == 160


def test_migration_chains_existing_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = connect(url, migrate=False)
    upgrade(engine, "0002")
    with engine.begin() as c:
        for i in range(3):
            c.execute(
                text(
                    "INSERT INTO audit_log (at, username, action, allowed, detail) "
                    "VALUES (:at, :u, 'login', 1, NULL)"
                ),
                {"at": f"2026-01-0{i + 1} 00:00:00.000000", "u": f"u{i}"},
            )
    upgrade(engine)
    report = verify_chain(engine)
    assert report.ok and report.rows == 3
    AuditLog(engine).record("login", username="after", allowed=True)
    assert verify_chain(engine).ok
    with engine.begin() as c:
        c.execute(text("UPDATE audit_log SET username = 'u9' WHERE id = 1"))
    assert verify_chain(engine).first_break is not None


def test_cli_verify_exit_codes(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    engine = connect(sqlite_url)
    _filled(engine)
    assert main(["audit", "verify", "--database-url", sqlite_url]) == 0
    assert "intact: 5 rows" in capsys.readouterr().out
    with engine.begin() as c:
        c.execute(text("UPDATE audit_log SET action = 'login' WHERE id = 3"))
    assert main(["audit", "verify", "--database-url", sqlite_url]) == 3
    out = capsys.readouterr().out
    assert "TAMPERED (altered)" in out and "audit row 3 was altered" in out


def test_anchor_detects_a_log_rebuilt_with_recomputed_hashes(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Someone with database access deletes a row and recomputes every hash and the head: the chain is
    self-consistent again, but a head hash recorded earlier (an anchor) is gone."""
    engine = connect(sqlite_url)
    _filled(engine)
    anchor = verify_chain(engine).head_hash
    assert verify_chain(engine, anchors=[anchor]).ok
    with engine.begin() as c:
        c.execute(text("DELETE FROM audit_log WHERE id = 3"))
        prev = "0" * 64
        rows = c.execute(text("SELECT * FROM audit_log ORDER BY id")).mappings().all()
        for r in rows:
            h = row_digest(prev, {**r, "at": datetime.fromisoformat(r["at"])})
            c.execute(
                text("UPDATE audit_log SET prev_hash = :p, row_hash = :h WHERE id = :i"),
                {"p": prev, "h": h, "i": r["id"]},
            )
            prev = h
        c.execute(text("UPDATE audit_head SET rows = 4, last_id = 5, last_hash = :h"), {"h": prev})
    assert verify_chain(engine).ok  # the forgery is consistent ...
    brk = verify_chain(engine, anchors=[anchor]).first_break  # ... but the anchor is gone
    assert brk is not None and brk.kind == "rewritten" and anchor in brk.message
    assert main(["audit", "verify", "--database-url", sqlite_url, "--anchor", anchor]) == 3
    assert "TAMPERED (rewritten)" in capsys.readouterr().out
    assert main(["audit", "verify", "--database-url", sqlite_url, "--anchor", "xyz"]) == 1
