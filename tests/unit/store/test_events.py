"""EventStore on SQLite: writing messages, camera health, spooling while the database is down, console API."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select

from safecity.errors import InputError
from safecity.monitor.types import Event
from safecity.store.db import connect
from safecity.store.events import EventStore, event_to_record
from safecity.store.schema import camera_health
from safecity.store.spool import Spool

EPOCH = 1_764_000_000.0  # 2025-11-24T16:00:00Z


def make_event(uid: str = "e1", **kw: Any) -> Event:
    base: dict[str, Any] = {
        "uid": uid,
        "type": "intrusion",
        "camera": "cam1",
        "start_s": 10.0,
        "last_s": 10.0,
        "severity": 3,
        "zone": "gate",
        "track_ids": (4,),
        "object_class": "person",
        "box_frac": (0.1, 0.2, 0.3, 0.4),
    }
    base.update(kw)
    return Event(**base)


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    eng = connect(sqlite_url)
    yield eng
    eng.dispose()


@pytest.fixture
def store(engine: Engine, tmp_path: Path) -> Iterator[EventStore]:
    s = EventStore(engine, spool_dir=tmp_path / "spool", epoch_s=EPOCH, media_root=tmp_path / "media")
    yield s
    s.close()


def test_start_update_end_writes_row_and_updates(store: EventStore) -> None:
    ev = make_event()
    store.publish("start", ev)
    store.publish("update", replace(ev, last_s=12.0, severity=4, track_ids=(4, 5)))
    store.publish("end", replace(ev, last_s=15.0, end_s=15.0, severity=4))
    assert store.flush(10)
    got = store.get_event("e1")
    assert got is not None
    assert got["state"] == "new"
    assert got["start_at"] == datetime.fromtimestamp(EPOCH + 10.0, UTC)
    assert got["end_at"] == datetime.fromtimestamp(EPOCH + 15.0, UTC)
    assert got["severity"] == 4
    assert got["box"] == [0.1, 0.2, 0.3, 0.4]
    assert got["snapshot_path"] == "cam1/e1.jpg"
    assert got["clip_path"] == "cam1/e1.mp4"
    assert [u["kind"] for u in got["updates"]] == ["start", "update", "end"]
    assert got["updates"][1]["detail"]["track_ids"] == [4, 5]
    assert [u["at"].timestamp() - EPOCH for u in got["updates"]] == [10.0, 12.0, 15.0]


def test_same_message_twice_is_written_once(store: EventStore) -> None:
    ev = make_event()
    store.publish("start", ev)
    store.publish("start", ev)  # e.g. replayed from the spool after a crash before its acknowledgement
    assert store.flush(10)
    got = store.get_event("e1")
    assert got is not None
    assert len(got["updates"]) == 1


def test_update_without_start_creates_the_event(store: EventStore) -> None:
    store.publish("update", make_event(last_s=20.0))
    assert store.flush(10)
    got = store.get_event("e1")
    assert got is not None and got["state"] == "new"


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        # went offline
        ([("start", "camera_offline", 1.0)], "offline"),
        # offline, then back
        ([("start", "camera_offline", 1.0), ("end", "camera_offline", 5.0)], "online"),
        # frozen picture
        ([("start", "camera_frozen", 1.0)], "frozen"),
        # frozen ends while the camera is offline: it stays offline
        (
            [
                ("start", "camera_frozen", 1.0),
                ("start", "camera_offline", 2.0),
                ("end", "camera_frozen", 3.0),
            ],
            "offline",
        ),
        # covered, then uncovered
        ([("start", "camera_covered", 1.0), ("end", "camera_covered", 4.0)], "online"),
    ],
)
def test_camera_events_keep_health_current(
    store: EventStore, engine: Engine, messages: list[tuple[str, str, float]], expected: str
) -> None:
    for kind, typ, t in messages:
        end = t if kind == "end" else None
        store.publish(kind, make_event(f"{typ}-1", type=typ, start_s=0.0, last_s=t, end_s=end))  # type: ignore[arg-type]
    assert store.flush(10)
    with engine.connect() as c:
        row = c.execute(select(camera_health).where(camera_health.c.camera_key == "cam1")).one()
    assert row.state == expected


def _seed(store: EventStore) -> None:
    store.publish("start", make_event("a", camera="cam1", type="intrusion", zone="gate", start_s=0.0))
    store.publish("start", make_event("b", camera="cam1", type="loitering", zone="park", start_s=100.0))
    store.publish("start", make_event("c", camera="cam2", type="intrusion", zone="gate", start_s=200.0))
    store.publish("start", make_event("d", camera="cam3", type="fall", zone=None, start_s=300.0))
    assert store.flush(10)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["d", "c", "b", "a"]),  # no filter: newest first
        ({"camera": "cam1"}, ["b", "a"]),  # one camera
        ({"type": "intrusion"}, ["c", "a"]),  # one type
        ({"zone": "gate"}, ["c", "a"]),  # one zone
        ({"since": EPOCH + 100.0}, ["d", "c", "b"]),  # since is inclusive (Unix seconds)
        ({"until": datetime.fromtimestamp(EPOCH + 200.0, UTC)}, ["b", "a"]),  # until is exclusive
        ({"camera_keys": {"cam2", "cam3"}}, ["d", "c"]),  # user sees only some cameras
        ({"camera_keys": set()}, []),  # user sees no camera
        ({"limit": 2, "offset": 1}, ["c", "b"]),  # a page
        ({"state": "acknowledged"}, []),  # nothing acknowledged yet
    ],
)
def test_list_events_filters(store: EventStore, filters: dict[str, Any], expected: list[str]) -> None:
    _seed(store)
    assert [e["uid"] for e in store.list_events(**filters)] == expected
    count_filters = {k: v for k, v in filters.items() if k not in ("limit", "offset")}
    if "limit" not in filters:
        assert store.count_events(**count_filters) == len(expected)


@pytest.mark.parametrize(
    ("filters", "match"),
    [
        ({"state": "open"}, "state must be one of"),  # unknown state
        ({"limit": 0}, "limit must be between"),  # empty page
        ({"offset": -1}, "offset must be 0 or more"),  # negative offset
        ({"since": datetime(2025, 1, 1)}, "timezone-aware"),  # naive datetime is ambiguous
    ],
)
def test_list_events_rejects_bad_filters(store: EventStore, filters: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        store.list_events(**filters)


def test_get_event_hides_cameras_outside_the_allowed_set(store: EventStore) -> None:
    _seed(store)
    assert store.get_event("a", camera_keys={"cam1"}) is not None
    assert store.get_event("a", camera_keys={"cam2"}) is None
    assert store.get_event("nope") is None


@pytest.mark.parametrize(
    ("steps", "error"),
    [
        (["ack"], None),  # new -> acknowledged
        (["ack", "escalate"], None),  # acknowledged -> escalated
        (["escalate", "escalate"], None),  # escalated again to another target
        (["ack", "close"], None),  # acknowledged -> closed
        (["close"], None),  # new -> closed
        (["ack", "ack"], "cannot acknowledge event 'e1': it is acknowledged"),  # twice
        (["close", "escalate"], "cannot escalate event 'e1': it is closed"),  # closed is final
        (["close", "close"], "cannot close event 'e1': it is closed"),  # closed is final
        (["escalate", "ack"], "cannot acknowledge event 'e1': it is escalated"),  # no way back
    ],
)
def test_operator_transitions(store: EventStore, steps: list[str], error: str | None) -> None:
    store.publish("start", make_event())
    assert store.flush(10)
    expected_state = {"ack": "acknowledged", "escalate": "escalated", "close": "closed"}

    def run(step: str) -> dict[str, Any]:
        if step == "ack":
            return store.acknowledge("e1", "kim", "seen it")
        if step == "escalate":
            return store.escalate("e1", "kim", "112", "police please")
        return store.close_event("e1", "kim", "false alarm")

    for step in steps[:-1]:
        run(step)
    if error is None:
        got = run(steps[-1])
        assert got["state"] == expected_state[steps[-1]]
    else:
        with pytest.raises(InputError, match=error):
            run(steps[-1])


def test_acknowledge_and_escalate_are_recorded(store: EventStore) -> None:
    store.publish("start", make_event())
    assert store.flush(10)
    store.acknowledge("e1", "kim", "seen")
    got = store.escalate("e1", "lee", "119", "person down")
    assert [(a["username"], a["note"]) for a in got["acknowledgements"]] == [("kim", "seen")]
    assert [(e["username"], e["target"], e["note"]) for e in got["escalations"]] == [
        ("lee", "119", "person down")
    ]


@pytest.mark.parametrize(
    ("uid", "target", "match"),
    [
        ("e1", "911", "escalation target must be one of 112, 119, district"),  # not a Korean service
        ("zz", "112", "no event with uid 'zz'"),  # unknown event
    ],
)
def test_escalate_rejects_bad_input(store: EventStore, uid: str, target: str, match: str) -> None:
    store.publish("start", make_event())
    assert store.flush(10)
    with pytest.raises(InputError, match=match):
        store.escalate(uid, "kim", target)


def test_database_down_spools_then_writes_in_order_when_it_returns(tmp_path: Path) -> None:
    db_dir = tmp_path / "not-yet"  # SQLite cannot open a file in a missing folder: the database is "down"
    url = f"sqlite:///{db_dir / 'safecity.db'}"
    down = create_engine(url)
    store = EventStore(down, spool_dir=tmp_path / "spool", epoch_s=EPOCH, backoff_s=(0.05,))
    ev = make_event()
    store.publish("start", ev)
    for k in range(1, 6):
        store.publish("update", replace(ev, last_s=10.0 + k))
    assert not store.flush(0.5)  # cannot reach the database
    assert store.backlog == 6
    assert list((tmp_path / "spool").glob("spool-*.jsonl"))  # on disk, durable
    connect(url).dispose()  # the database comes back (folder + schema)
    assert store.flush(10)
    got = store.get_event("e1")
    assert got is not None
    assert [u["at"].timestamp() - EPOCH for u in got["updates"]] == [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
    assert not list((tmp_path / "spool").glob("spool-*.jsonl"))  # spool consumed
    store.close()
    down.dispose()


def test_spool_left_by_a_previous_run_is_written_first(tmp_path: Path, sqlite_url: str) -> None:
    down = create_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    first = EventStore(down, spool_dir=tmp_path / "spool", epoch_s=EPOCH, backoff_s=(60.0,))
    first.publish("start", make_event("old"))
    assert not first.close(0.3)  # the run ends with the message only in the spool
    down.dispose()
    engine = connect(sqlite_url)
    second = EventStore(engine, spool_dir=tmp_path / "spool", epoch_s=EPOCH)
    second.publish("start", make_event("new", start_s=50.0))
    assert second.flush(10)
    assert [e["uid"] for e in second.list_events()] == ["new", "old"]
    second.close()
    engine.dispose()


def test_message_the_database_refuses_goes_to_dead_letter(store: EventStore, tmp_path: Path) -> None:
    bad = make_event("bad", type=None)  # NOT NULL violation: a refusal, not an outage
    store.publish("start", bad)
    store.publish("start", make_event("good"))
    assert store.flush(10)
    assert [e["uid"] for e in store.list_events()] == ["good"]
    lines = (tmp_path / "spool" / "dead-letter").glob("spool-*.jsonl")
    rows = [json.loads(line) for f in lines for line in f.read_text().splitlines()]
    assert [r["rec"]["event"]["uid"] for r in rows] == ["bad"]


def test_publish_rejects_unknown_kind(store: EventStore) -> None:
    with pytest.raises(InputError, match="kind must be one of"):
        store.publish("begin", make_event())  # type: ignore[arg-type]


def test_spools_left_by_other_processes_are_written(engine: Engine, tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    other = Spool(spool_dir / "pid-4242")  # a process that died with messages in its private spool
    other.append(event_to_record("start", make_event("orphan"), EPOCH))
    other.close()
    store = EventStore(engine, spool_dir=spool_dir, epoch_s=EPOCH)
    store.publish("start", make_event("mine", start_s=20.0))
    assert store.flush(10)
    orphan = store.get_event("orphan")
    store.close()
    assert orphan is not None
    assert len(Spool(spool_dir / "pid-4242", lock=False)) == 0


def test_second_store_on_a_busy_spool_folder_uses_a_private_one(engine: Engine, tmp_path: Path) -> None:
    first = EventStore(engine, spool_dir=tmp_path / "spool")
    second = EventStore(engine, spool_dir=tmp_path / "spool")  # e.g. console and monitor on one home
    second.publish("start", make_event("x"))
    assert second.flush(10)
    assert second.get_event("x") is not None
    first.close()
    second.close()
    assert (tmp_path / "spool" / f"pid-{os.getpid()}").is_dir()


@pytest.mark.parametrize(
    ("start_s", "relative"),
    [
        (12.0, True),  # seconds from a file's start: offset by the store's creation time
        (1_700_000_000.0, False),  # a Unix time: stored as is
    ],
)
def test_default_epoch_keeps_file_times_out_of_1970(
    engine: Engine, tmp_path: Path, start_s: float, relative: bool
) -> None:
    before = time.time()
    store = EventStore(engine, spool_dir=tmp_path / "spool")  # epoch_s=0: live mode
    after = time.time()
    store.publish("start", make_event(start_s=start_s, last_s=start_s))
    assert store.flush(10)
    got = store.get_event("e1")
    store.close()
    assert got is not None
    t = got["start_at"].timestamp()
    if relative:
        assert before + start_s - 1e-3 <= t <= after + start_s + 1e-3
    else:
        assert t == start_s


# ------------------------------------------------------------------ restart-safe identity (issue 11, item 1)


def _dead_letters(tmp_path: Path) -> list[dict[str, Any]]:
    files = list((tmp_path / "spool" / "dead-letter").glob("spool-*.jsonl"))
    return [json.loads(line)["rec"] for f in files for line in f.read_text().splitlines() if line.strip()]


def test_start_of_a_stored_uid_is_refused_not_merged(store: EventStore, tmp_path: Path) -> None:
    """A second run reusing a uid (the old per-process counter) must not update the stored event."""
    ev = make_event("dup", start_s=10.0, last_s=10.0)
    store.publish("start", ev)
    store.publish("end", replace(ev, last_s=12.0, end_s=12.0))
    assert store.flush(10)
    again = make_event("dup", start_s=500.0, last_s=500.0, severity=5, zone="yard")
    store.publish("start", again)
    store.publish("update", replace(again, last_s=505.0))
    store.publish("end", replace(again, last_s=510.0, end_s=510.0))
    assert store.flush(10)
    got = store.get_event("dup")
    assert got is not None
    assert (got["severity"], got["zone"]) == (3, "gate")
    assert got["end_at"] == datetime.fromtimestamp(EPOCH + 12.0, UTC)
    assert [u["kind"] for u in got["updates"]] == ["start", "end"]
    dead = _dead_letters(tmp_path)
    assert [d["kind"] for d in dead] == ["start", "update", "end"]  # kept aside, not lost
    assert "already stored" in dead[0]["error"]


def test_replayed_start_is_skipped_silently(store: EventStore, tmp_path: Path) -> None:
    ev = make_event("same")
    store.publish("start", ev)
    store.publish("start", ev)  # the same message again (spool replay after a crash)
    store.publish("update", replace(ev, last_s=11.0, severity=4))
    assert store.flush(10)
    got = store.get_event("same")
    assert got is not None and got["severity"] == 4
    assert [u["kind"] for u in got["updates"]] == ["start", "update"]
    assert _dead_letters(tmp_path) == []


def test_closed_event_is_not_reopened_or_moved(store: EventStore) -> None:
    ev = make_event("c1")
    store.publish("start", ev)
    assert store.flush(10)
    store.close_event("c1", "kim", "false alarm")
    store.publish("update", replace(ev, last_s=20.0, severity=5))
    store.publish("end", replace(ev, last_s=30.0, end_s=30.0, severity=5))
    assert store.flush(10)
    got = store.get_event("c1")
    assert got is not None
    assert (got["state"], got["severity"], got["end_at"]) == ("closed", 3, None)
    # the messages are in the history, marked as arriving after the close
    late = [u for u in got["updates"] if u["kind"] != "start"]
    assert [(u["kind"], u["detail"]["after_close"]) for u in late] == [("update", True), ("end", True)]
