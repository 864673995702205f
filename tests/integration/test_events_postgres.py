"""EventStore on a real PostgreSQL server: writes, queries, operator actions, concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from safecity.errors import InputError
from safecity.monitor.types import Event
from safecity.store.db import connect
from safecity.store.events import EventStore
from safecity.store.schema import camera_health

pytestmark = pytest.mark.integration
EPOCH = 1_764_000_000.0


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    eng = connect(pg_url)
    yield eng
    eng.dispose()


@pytest.fixture
def store(engine: Engine, tmp_path: Path) -> Iterator[EventStore]:
    s = EventStore(engine, spool_dir=tmp_path / "spool", epoch_s=EPOCH, media_root=tmp_path / "media")
    yield s
    s.close()


def _event(uid: str, **kw: object) -> Event:
    base: dict[str, object] = {
        "uid": uid,
        "type": "intrusion",
        "camera": "cam1",
        "start_s": 0.0,
        "last_s": 0.0,
    }
    base.update(kw)
    return Event(**base)  # type: ignore[arg-type]


def test_lifecycle_and_queries(store: EventStore) -> None:
    ev = _event("e1", zone="gate", severity=2, box_frac=(0.1, 0.1, 0.2, 0.2), detail={"dwell_s": 3.5})
    store.publish("start", ev)
    store.publish("update", replace(ev, last_s=4.0, severity=4))
    store.publish("end", replace(ev, last_s=6.0, end_s=6.0))
    store.publish("start", _event("e2", camera="cam2", type="fall", start_s=10.0, last_s=10.0))
    assert store.flush(10)
    got = store.get_event("e1")
    assert got is not None
    assert got["start_at"] == datetime.fromtimestamp(EPOCH, UTC)
    assert got["end_at"] == datetime.fromtimestamp(EPOCH + 6.0, UTC)
    assert got["detail"] == {"count": 0, "dwell_s": 3.5}
    assert [u["kind"] for u in got["updates"]] == ["start", "update", "end"]
    assert [e["uid"] for e in store.list_events()] == ["e2", "e1"]
    assert [e["uid"] for e in store.list_events(type="fall")] == ["e2"]
    assert [e["uid"] for e in store.list_events(camera_keys={"cam1"})] == ["e1"]
    assert [e["uid"] for e in store.list_events(since=EPOCH + 5)] == ["e2"]
    assert store.count_events(zone="gate") == 1


def test_operator_actions(store: EventStore) -> None:
    store.publish("start", _event("e1"))
    assert store.flush(10)
    assert store.acknowledge("e1", "kim", "seen")["state"] == "acknowledged"
    assert store.escalate("e1", "kim", "district", "broken fence")["state"] == "escalated"
    assert store.close_event("e1", "lee", "fixed")["state"] == "closed"
    with pytest.raises(InputError, match="it is closed"):
        store.acknowledge("e1", "kim")
    got = store.get_event("e1")
    assert got is not None
    assert [e["target"] for e in got["escalations"]] == ["district"]
    assert [a["username"] for a in got["acknowledgements"]] == ["kim", "lee"]


def test_concurrent_acknowledgements_only_one_wins(store: EventStore) -> None:
    store.publish("start", _event("e1"))
    assert store.flush(10)
    results: list[str] = []
    barrier = threading.Barrier(4)

    def ack(user: str) -> None:
        barrier.wait()
        try:
            store.acknowledge("e1", user)
            results.append("ok")
        except InputError:
            results.append("refused")

    threads = [threading.Thread(target=ack, args=(f"op{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused", "refused", "refused"]
    got = store.get_event("e1")
    assert got is not None and len(got["acknowledgements"]) == 1


def test_camera_health_on_postgres(store: EventStore, engine: Engine) -> None:
    off = _event("off", type="camera_offline", camera="cam9", start_s=1.0, last_s=1.0)
    store.publish("start", off)
    assert store.flush(10)
    with engine.connect() as c:
        assert c.execute(select(camera_health.c.state)).scalar_one() == "offline"
    store.publish("end", replace(off, last_s=9.0, end_s=9.0))
    assert store.flush(10)
    with engine.connect() as c:
        row = c.execute(select(camera_health)).one()
    assert row.state == "online"
    assert row.since == datetime.fromtimestamp(EPOCH + 9.0, UTC)


def test_reused_uid_is_refused_and_closed_event_stays_put(store: EventStore) -> None:
    """Issue 11, item 1 on PostgreSQL: a second run's start with a stored uid is not merged into it; a
    closed event is neither reopened nor moved by late messages."""
    ev = _event("dup", zone="gate", severity=2)
    store.publish("start", ev)
    store.publish("start", _event("c", zone="yard", severity=2))
    assert store.flush(10)
    store.close_event("c", "kim", "handled")
    store.publish("start", _event("dup", zone="other", severity=5, start_s=100.0, last_s=100.0))
    store.publish("end", _event("c", zone="yard", severity=5, last_s=50.0, end_s=50.0))
    assert store.flush(10)
    dup = store.get_event("dup")
    closed = store.get_event("c")
    assert dup is not None and (dup["zone"], dup["severity"]) == ("gate", 2)
    assert closed is not None and (closed["state"], closed["end_at"], closed["severity"]) == (
        "closed",
        None,
        2,
    )
    assert closed["updates"][-1]["detail"]["after_close"] is True
