"""Which incident each event joined and which suppression hid it (``events.incident_id`` /
``events.suppressed_by``), for the event list and detail of the console."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from safecity.errors import StoreError
from safecity.store.schema import events

__all__ = ["event_links"]

_CHUNK = 500


def event_links(engine: Engine, uids: Collection[str]) -> dict[str, tuple[int | None, int | None]]:
    """uid -> (incident id, suppression id) for the given event uids (unknown uids are left out).

    Raises:
        StoreError: the database cannot be read.
    """
    keys = sorted(set(uids))
    out: dict[str, tuple[int | None, int | None]] = {}
    try:
        with engine.connect() as conn:
            for i in range(0, len(keys), _CHUNK):
                stmt = select(events.c.uid, events.c.incident_id, events.c.suppressed_by).where(
                    events.c.uid.in_(keys[i : i + _CHUNK])
                )
                for uid, incident_id, suppressed_by in conn.execute(stmt):
                    out[str(uid)] = (incident_id, suppressed_by)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the incidents of events: {exc}; is the database reachable?") from exc
    return out
