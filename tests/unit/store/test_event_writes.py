"""apply_record, the event store's write path, called directly inside one transaction (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from safecity.monitor.types import Event
from safecity.store.db import connect
from safecity.store.event_writes import apply_record, utc
from safecity.store.events import event_to_record
from safecity.store.schema import camera_health, event_updates, events

EPOCH = 1_764_000_000.0


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    eng = connect(sqlite_url)
    yield eng
    eng.dispose()


def _event(**kw: object) -> Event:
    base: dict[str, object] = {
        "uid": "w1", "type": "intrusion", "camera": "cam1", "start_s": 5.0, "last_s": 5.0,
        "severity": 3, "zone": "gate", "track_ids": (2,), "object_class": "person",
    }  # fmt: skip
    base.update(kw)
    return Event(**base)  # type: ignore[arg-type]


def test_start_replay_and_duplicate_uid(engine: Engine, tmp_path: Path) -> None:
    refused: set[str] = set()
    start = event_to_record("start", _event(), EPOCH)
    with engine.begin() as conn:
        assert apply_record(conn, start, tmp_path, refused) is None
        assert apply_record(conn, start, tmp_path, refused) is None  # the same start again: skipped
        row = conn.execute(select(events)).one()
        assert row.start_at.replace(tzinfo=UTC) == utc(EPOCH + 5.0)
        assert row.snapshot_path == "cam1/w1.jpg" and row.state == "new"
        assert conn.execute(select(func.count()).select_from(event_updates)).scalar_one() == 1
        other = event_to_record("start", _event(start_s=9.0, last_s=9.0), EPOCH)  # same uid, another start
        reason = apply_record(conn, other, tmp_path, refused)
        assert reason is not None and "already stored" in reason and "w1" in refused
        later = apply_record(
            conn, event_to_record("end", _event(end_s=12.0, last_s=12.0), EPOCH), tmp_path, refused
        )
        assert later is not None and "refused" in later  # every later message of that uid too
        assert conn.execute(select(events.c.end_at)).scalar_one() is None  # the stored event untouched


def test_health_events_keep_the_camera_state(engine: Engine) -> None:
    frozen = _event(uid="h1", type="camera_frozen", zone=None, track_ids=(), object_class=None)
    with engine.begin() as conn:
        apply_record(conn, event_to_record("start", frozen, EPOCH), None, set())
        assert conn.execute(select(camera_health.c.state)).scalar_one() == "frozen"
        apply_record(
            conn, event_to_record("end", replace(frozen, end_s=20.0, last_s=20.0), EPOCH), None, set()
        )
        state, since = conn.execute(select(camera_health.c.state, camera_health.c.since)).one()
        assert state == "online" and since.replace(tzinfo=UTC) == datetime.fromtimestamp(EPOCH + 20.0, UTC)
