from __future__ import annotations

from sqlalchemy import inspect

from safecity.store.db import connect, current_revision, head_revision
from safecity.store.schema import metadata


def test_connect_migrates_to_head_and_is_idempotent(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    connect(sqlite_url)  # second run: nothing to do, no error
    assert current_revision(engine) == head_revision()


def test_sqlite_uses_wal(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
