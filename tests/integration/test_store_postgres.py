"""The same migrations on a real PostgreSQL + PostGIS server (started by scripts/test-services.sh)."""

from __future__ import annotations

from sqlalchemy import inspect, text

from safecity.store.db import connect, current_revision, head_revision
from safecity.store.schema import metadata


def test_postgres_migrates_to_head(pg_url: str) -> None:
    engine = connect(pg_url)
    assert current_revision(engine) == head_revision()
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.connect() as c:
        assert c.execute(text("SELECT postgis_version()")).scalar()
    engine.dispose()
