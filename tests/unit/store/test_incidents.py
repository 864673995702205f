"""Incident folding in the event store's writer (SQLite): windows, zones, levels, restart, auto-close."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from safecity.monitor.types import Event
from safecity.store.db import connect
from safecity.store.events import EventStore
from safecity.store.incident_store import IncidentStore
from safecity.store.incidents import FixedPolicy, zone_key
from safecity.store.schema import events, incidents

EPOCH = 1_764_000_000.0


class LinePolicy:
    """Line crossings of severity <= 2 are record, the rest alert (like the config default)."""

    window_s = 60.0
    auto_close_after_s: float | None = 30.0
    max_incident_s: float | None = None
    auto_close_max_severity = 2

    def action(self, camera: str, type_: str, severity: int, zone: str | None, at: datetime) -> str:
        return "record" if type_ == "line_crossing" and severity <= 2 else "alert"


def ev(uid: str, t: float, **kw: Any) -> Event:
    base: dict[str, Any] = {
        "uid": uid, "type": "intrusion", "camera": "cam1", "start_s": t, "last_s": t, "severity": 3,
        "zone": "gate", "track_ids": (1,), "object_class": "person", "box_frac": (0.1, 0.1, 0.2, 0.3),
    }  # fmt: skip
    base.update(kw)
    return Event(**base)


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    eng = connect(sqlite_url)
    yield eng
    eng.dispose()


def make_store(engine: Engine, tmp_path: Path, policy: Any = None) -> EventStore:
    return EventStore(engine, spool_dir=tmp_path / "spool", epoch_s=EPOCH, policy=policy)


def write(store: EventStore, *msgs: tuple[str, Event]) -> None:
    for kind, e in msgs:
        store.publish(kind, e)  # type: ignore[arg-type]
    assert store.flush(10)


def incident_of(engine: Engine, uid: str) -> int | None:
    with engine.connect() as c:
        return c.execute(select(events.c.incident_id).where(events.c.uid == uid)).scalar()


def test_events_in_window_fold_and_a_gap_starts_a_new_incident(engine: Engine, tmp_path: Path) -> None:
    store = make_store(engine, tmp_path, LinePolicy())
    a = ev("a", 0.0)
    write(store, ("start", a), ("end", replace(a, last_s=5.0, end_s=5.0)))
    b = ev("b", 40.0, severity=4, track_ids=(2,), object_class="bicycle")
    write(store, ("start", b), ("end", replace(b, last_s=42.0, end_s=42.0)))
    c = ev("c", 200.0)  # 158 s after b ended: beyond the 60 s window
    write(store, ("start", c))
    other_zone = ev("d", 41.0, zone="bays")
    write(store, ("start", other_zone))
    store.close()
    ia, ib, ic, idd = (incident_of(engine, u) for u in "abcd")
    assert ia == ib and ia is not None
    assert ic not in (ia, None) and idd not in (ia, ic, None)
    got = IncidentStore(engine).get_incident(ia)
    assert got is not None
    assert got["event_count"] == 2 and got["open_events"] == 0
    assert got["severity"] == 4 and got["best_event"] == "b"
    assert got["object_classes"] == ["bicycle", "person"] and got["track_ids"] == [1, 2]
    assert [e["uid"] for e in got["timeline"]] == ["a", "b"]
    assert got["level"] == "alert" and got["needs_ack"] and got["rings"] == 1
    assert got["end_at"] == datetime.fromtimestamp(EPOCH + 42.0, UTC)


def test_an_incident_stays_open_while_its_events_are_live(engine: Engine, tmp_path: Path) -> None:
    store = make_store(engine, tmp_path, LinePolicy())
    long = ev("long", 0.0)
    write(store, ("start", long), ("update", replace(long, last_s=300.0)))
    write(store, ("start", ev("late", 500.0)))  # long still live: same incident despite the gap
    store.close()
    assert incident_of(engine, "long") == incident_of(engine, "late")


def test_record_level_becomes_alert_and_reack_rings_again(engine: Engine, tmp_path: Path) -> None:
    store = make_store(engine, tmp_path, LinePolicy())
    line = ev("l1", 0.0, type="line_crossing", severity=2, zone="west")
    write(store, ("start", line), ("end", replace(line, end_s=0.5, last_s=0.5)))
    inc_id = incident_of(engine, "l1")
    assert inc_id is not None
    inc = IncidentStore(engine)
    first = inc.get_incident(inc_id)
    assert first is not None and first["level"] == "record" and not first["needs_ack"] and first["rings"] == 0
    write(store, ("start", ev("l2", 10.0, type="line_crossing", severity=4, zone="west")))
    got = inc.get_incident(inc_id)
    assert got is not None and got["level"] == "alert" and got["needs_ack"] and got["rings"] == 1
    inc.acknowledge(inc_id, "kim", "seen")
    write(store, ("start", ev("l3", 20.0, type="line_crossing", severity=5, zone="west")))
    got = inc.get_incident(inc_id)
    store.close()
    assert got is not None and got["state"] == "new" and got["needs_ack"] and got["rings"] == 2
    assert [a["action"] for a in got["actions"]] == ["ack", "reopen"]


def test_folding_is_restart_safe(engine: Engine, tmp_path: Path) -> None:
    store = make_store(engine, tmp_path, LinePolicy())
    write(store, ("start", ev("a", 0.0)))
    store.close()
    again = make_store(engine, tmp_path, LinePolicy())  # a new process: nothing in memory
    write(again, ("start", ev("b", 10.0)), ("start", ev("a", 0.0)))  # a replayed start changes nothing
    again.close()
    assert incident_of(engine, "a") == incident_of(engine, "b")
    with engine.connect() as c:
        assert c.execute(select(incidents.c.event_count)).scalars().all() == [2]


def test_closed_incident_is_never_reopened(engine: Engine, tmp_path: Path) -> None:
    store = make_store(engine, tmp_path, LinePolicy())
    a = ev("a", 0.0)
    write(store, ("start", a))
    first = incident_of(engine, "a")
    assert first is not None
    IncidentStore(engine).close(first, "kim", "done")
    write(store, ("update", replace(a, last_s=3.0, severity=5)), ("start", ev("b", 4.0)))
    store.close()
    got = IncidentStore(engine).get_incident(first)
    assert got is not None and got["state"] == "closed" and got["severity"] == 3
    assert incident_of(engine, "b") != first
    assert got["timeline"][0]["state"] == "closed"


def test_ignore_makes_no_incident_and_auto_close_closes_resolved_low_severity(
    engine: Engine, tmp_path: Path
) -> None:
    store = make_store(engine, tmp_path, FixedPolicy(fixed="ignore"))
    write(store, ("start", ev("x", 0.0)))
    store.close()
    assert incident_of(engine, "x") is None
    store = make_store(engine, tmp_path, LinePolicy())
    line = ev("l", 0.0, type="line_crossing", severity=2, zone="west")
    write(store, ("start", line), ("end", replace(line, end_s=1.0, last_s=1.0)))
    write(store, ("start", ev("i", 100.0, severity=4)))  # the clock moves past 30 s after l's end
    store.close()
    closed = IncidentStore(engine).get_incident(incident_of(engine, "l") or -1)
    assert closed is not None and closed["state"] == "closed" and closed["closed_reason"] == "auto"
    alert = IncidentStore(engine).get_incident(incident_of(engine, "i") or -1)
    assert alert is not None and alert["state"] == "new"  # an alert waiting for acknowledgement stays


def test_zone_key() -> None:
    assert zone_key("camera_covered", None) == "@camera"
    assert zone_key("intrusion", None) == ""
    assert zone_key("line_crossing", "west") == "west"


def test_a_busy_zone_gets_a_fresh_incident_after_max_incident_s(engine: Engine, tmp_path: Path) -> None:
    policy = LinePolicy()
    policy.max_incident_s = 100.0
    store = make_store(engine, tmp_path, policy)
    for i in range(8):  # an event every 30 s, each ending at once: never quiet for the 60 s window
        e = ev(f"b{i}", 30.0 * i)
        write(store, ("start", e), ("end", replace(e, last_s=30.0 * i + 1, end_s=30.0 * i + 1)))
    store.close()
    ids = [incident_of(engine, f"b{i}") for i in range(8)]
    assert ids[0] == ids[3] != ids[4] == ids[7]  # b4 starts 120 s after b0 began: beyond 100 s
    second = IncidentStore(engine).get_incident(ids[4] or -1)
    assert second is not None and second["needs_ack"] and second["rings"] == 1


def test_list_by_closed_reason_and_a_bad_reason_is_an_input_error(engine: Engine) -> None:
    from safecity.errors import InputError

    store = IncidentStore(engine)
    assert store.list_incidents(closed_reason="false_alarm") == (0, [])
    with pytest.raises(InputError, match="closed_reason must be one of"):
        store.list_incidents(closed_reason="nope")
