"""The safecity store: SQLAlchemy Core tables, Alembic migrations, SQLite (WAL) or PostgreSQL."""

from __future__ import annotations

from safecity.store.db import connect, upgrade

__all__ = ["connect", "upgrade"]
