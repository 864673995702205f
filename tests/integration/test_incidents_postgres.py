"""Incidents on a real PostgreSQL server: folding in the writer, two writers, actions, suppressions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from safecity.errors import InputError
from safecity.monitor.types import Event
from safecity.store.db import connect
from safecity.store.events import EventStore
from safecity.store.incident_store import IncidentStore
from safecity.store.schema import events, incidents

pytestmark = pytest.mark.integration
EPOCH = 1_764_000_000.0


class Policy:
    window_s = 60.0
    auto_close_after_s: float | None = 30.0
    max_incident_s: float | None = None
    auto_close_max_severity = 2

    def action(self, camera: str, type_: str, severity: int, zone: str | None, at: datetime) -> str:
        return "record" if type_ == "line_crossing" and severity <= 2 else "alert"


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    eng = connect(pg_url)
    with eng.begin() as c:  # each test starts from empty incident tables
        c.execute(text("TRUNCATE incident_actions, suppressions, incidents, event_updates, events CASCADE"))
    yield eng
    eng.dispose()


def _ev(uid: str, t: float, **kw: Any) -> Event:
    base: dict[str, Any] = {"uid": uid, "type": "intrusion", "camera": "cam1", "start_s": t, "last_s": t,
                            "severity": 3, "zone": "gate", "track_ids": (1,), "object_class": "person",
                            "box_frac": (0.1, 0.1, 0.2, 0.2)}  # fmt: skip
    base.update(kw)
    return Event(**base)


def _store(engine: Engine, tmp_path: Path, name: str) -> EventStore:
    return EventStore(engine, spool_dir=tmp_path / name, epoch_s=EPOCH, policy=Policy())


def _incident(engine: Engine, uid: str) -> int | None:
    with engine.connect() as c:
        return c.execute(select(events.c.incident_id).where(events.c.uid == uid)).scalar()


def test_fold_window_levels_and_actions(engine: Engine, tmp_path: Path) -> None:
    store = _store(engine, tmp_path, "a")
    a, b = _ev("a", 0.0), _ev("b", 30.0, severity=5)
    msgs = [
        ("start", a),
        ("end", replace(a, last_s=2.0, end_s=2.0)),
        ("start", b),
        ("end", replace(b, last_s=31.0, end_s=31.0)),
        ("start", _ev("c", 500.0)),
        ("start", line_ev := _ev("l", 1.0, type="line_crossing", severity=2, zone="west")),
        ("end", replace(line_ev, end_s=1.5, last_s=1.5)),
        ("start", _ev("later", 501.0, camera="cam2")),  # moves the writer's clock past the auto-close time
    ]
    for kind, e in msgs:
        store.publish(kind, e)  # type: ignore[arg-type]
    assert store.flush(10)
    inc = IncidentStore(engine)
    first = _incident(engine, "a")
    assert first is not None and first == _incident(engine, "b") and _incident(engine, "c") != first
    got = inc.get_incident(first)
    assert got is not None and got["severity"] == 5 and got["best_event"] == "b" and got["needs_ack"]
    line = inc.get_incident(_incident(engine, "l") or -1)
    assert line is not None and line["level"] == "record" and line["state"] == "closed"  # auto-closed
    assert inc.counts()["needs_ack"] == 3  # a+b, c, later (cam2)
    inc.acknowledge(first, "kim", "seen")
    with pytest.raises(InputError, match="it is acknowledged"):
        inc.acknowledge(first, "lee")
    out = inc.escalate(first, "kim", "119", "ambulance")
    assert out["state"] == "escalated" and {e["state"] for e in out["timeline"]} == {"escalated"}
    sup = inc.false_alarm(first, "kim", duration_s=600, max_duration_s=3600, min_iou=0.3, max_centre_dist=0.1)
    store.publish("start", _ev("d", 40.0, box_frac=(0.11, 0.1, 0.21, 0.2)))
    assert store.close(10)
    assert _incident(engine, "d") is None
    listed = inc.list_suppressions(active=True)
    assert [s["id"] for s in listed] == [sup["id"]] and listed[0]["suppressed_count"] == 1
    assert inc.lift_suppression(sup["id"], "admin")["active"] is False


def test_two_writers_fold_one_place_into_one_incident(engine: Engine, tmp_path: Path) -> None:
    one, two = _store(engine, tmp_path, "one"), _store(engine, tmp_path, "two")
    for i in range(40):  # two stores (two processes) write the same camera and zone at once
        (one if i % 2 else two).publish("start", _ev(f"e{i}", float(i)))
    assert one.close(20) and two.close(20)
    with engine.connect() as c:
        rows = c.execute(select(incidents.c.id, incidents.c.event_count)).all()
        linked = (
            c.execute(select(events.c.incident_id).where(events.c.incident_id.is_not(None))).scalars().all()
        )
    assert len(linked) == 40
    assert sum(n for _, n in rows) == 40 and {i for i, _ in rows} == set(linked)
    assert len(rows) == 1  # 1 s apart, all in the window: one incident although two writers raced
