"""The same migrations on a real PostgreSQL server (started by scripts/test-services.sh).

No column or query uses PostGIS, so the schema must not need it: the server has no PostGIS installed.
"""

from __future__ import annotations

from sqlalchemy import inspect, text

from safecity.store.db import connect, current_revision, head_revision
from safecity.store.schema import metadata


def test_postgres_migrates_to_head(pg_url: str) -> None:
    engine = connect(pg_url)
    assert current_revision(engine) == head_revision()
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.connect() as c:
        installed = c.execute(text("SELECT extname FROM pg_extension")).scalars().all()
    assert "postgis" not in installed
    engine.dispose()
