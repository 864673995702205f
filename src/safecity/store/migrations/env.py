"""Alembic environment: the engine is passed in by safecity.store.db (or built from sqlalchemy.url)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from safecity.store.schema import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///var/safecity.db")


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Autogenerate leaves the SQLite R*Tree of the track index alone (a virtual table, migration 0005)."""
    return not (type_ == "table" and (name or "").startswith("track_records_rtree"))


with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=_include_object,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
