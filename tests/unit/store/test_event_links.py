"""event_links: the incident and suppression of each event, for the console's event list."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from safecity.errors import StoreError
from safecity.store.db import connect
from safecity.store.event_links import event_links
from safecity.store.schema import events


def test_links_of_known_events_and_none_for_unknown(tmp_path: Path) -> None:
    from safecity.store.events import EventStore
    from tests.unit.web.conftest import make_event

    engine = connect(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store = EventStore(engine, spool_dir=tmp_path / "spool", media_root=tmp_path / "media")
    store.publish("start", make_event("a", "cam-1"))
    store.publish("start", make_event("b", "cam-1", zone="other"))
    assert store.flush(10)
    store.close()
    with engine.begin() as conn:
        conn.execute(update(events).where(events.c.uid == "b").values(incident_id=None, suppressed_by=None))
    links = event_links(engine, ["a", "b", "nope"] + [f"x{i}" for i in range(600)])
    assert set(links) == {"a", "b"}
    assert links["a"][0] is not None and links["a"][1] is None
    assert links["b"] == (None, None)
    engine.dispose()
    with pytest.raises(StoreError, match="cannot read the incidents of events"):
        event_links(connect(f"sqlite:///{tmp_path / 'missing' / 'x.db'}", migrate=False), ["a"])
