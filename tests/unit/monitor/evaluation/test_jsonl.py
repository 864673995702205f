"""Event JSON lines (the replay interface) and MOTChallenge track files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from safecity.errors import InputError
from safecity.monitor.evaluation.jsonl import (
    JsonlEventWriter,
    MotWriter,
    event_from_json,
    event_to_json,
    read_events_jsonl,
    read_mot,
)
from tests.factories import box_at, make_event, make_tracks

REQUIRED = {
    "type",
    "camera",
    "zone",
    "line",
    "start_s",
    "end_s",
    "track_ids",
    "class",
    "direction",
    "severity",
}


# (event, expected zone field, expected line field)
SCHEMA_CASES = [
    # zone events name their zone
    (make_event(type="intrusion", zone="gate", end_s=12.5), "gate", None),
    # line crossings name their line and carry a direction
    (make_event(type="line_crossing", zone="door", direction="a_to_b", end_s=11.0), None, "door"),
]


@pytest.mark.parametrize(("event", "zone", "line"), SCHEMA_CASES)
def test_event_to_json_schema(event: object, zone: str | None, line: str | None) -> None:
    obj = event_to_json("end", event)  # type: ignore[arg-type]
    assert set(obj) >= REQUIRED
    assert (obj["zone"], obj["line"]) == (zone, line)
    assert obj["start_s"] == 10.0 and isinstance(obj["track_ids"], list)
    assert event_from_json(json.loads(json.dumps(obj))) == event


def test_event_to_json_live_times_are_iso() -> None:
    obj = event_to_json("start", make_event(start_s=1_764_000_000.0), live=True)
    assert obj["start_s"].startswith("2025-11-24T") and obj["start_s"].endswith("+00:00")
    assert obj["start_unix"] == 1_764_000_000.0


def test_writer_only_final_writes_one_line_per_event() -> None:
    buf = io.StringIO()
    w = JsonlEventWriter(buf)
    ev = make_event(uid="a")
    w.publish("start", ev)
    w.publish("update", ev)
    w.publish("end", make_event(uid="a", end_s=20.0))
    w.publish("start", make_event(uid="b", start_s=30.0))  # never ends: written at close
    w.close()
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert [(x["uid"], x["end_s"]) for x in lines] == [("a", 20.0), ("b", None)]


def test_read_events_jsonl_keeps_last_message(tmp_path: Path) -> None:
    path = tmp_path / "ev.jsonl"
    w = JsonlEventWriter(path, only_final=False)
    w.publish("start", make_event(uid="a"))
    w.publish("end", make_event(uid="a", end_s=15.0))
    w.close()
    assert [e.end_s for e in read_events_jsonl(path)] == [15.0]


def test_read_events_jsonl_bad_line_names_it(tmp_path: Path) -> None:
    path = tmp_path / "ev.jsonl"
    path.write_text('{"type": "intrusion", "camera": "c", "start_s": 1}\nnot json\n')
    with pytest.raises(InputError, match=r"ev.jsonl:2: not JSON"):
        read_events_jsonl(path)


def test_mot_writer_format_and_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    w = MotWriter(path)
    w.write(1, make_tracks(0.0, [(10, 20, 40, 80), box_at(100, 50, 20, 40)], ids=[3, 9], conf=0.8))
    w.write(2, make_tracks(0.1, []))
    w.close()
    lines = path.read_text().splitlines()
    assert lines[0] == "1,3,10.00,20.00,30.00,60.00,0.800,-1,-1,-1"
    assert len(lines) == 2 and all(len(x.split(",")) == 10 for x in lines)
    rows = read_mot(path)
    assert rows[1].ids.tolist() == [3, 9]
    assert rows[1].xyxy_px[0].tolist() == [10.0, 20.0, 40.0, 80.0]


def test_mot_writer_rejects_frame_zero() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        MotWriter(io.StringIO()).write(0, make_tracks(0.0, []))


def test_read_mot_reads_mot17_gt(shared_dir: Path) -> None:
    rows = read_mot(shared_dir / "data/video/mot17-mini-dev/MOT17-05-FRCNN/gt/gt.txt")
    assert sorted(rows) == [1, 2, 3, 4, 5, 6]
    scored = sum(int(((r.conf > 0) & (r.cls == 1)).sum()) for r in rows.values())
    assert scored == 45  # SOURCE.md: 45 pedestrian rows with consider == 1


def test_read_mot_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "gt.txt"
    path.write_text("1,2,3\n")
    with pytest.raises(InputError, match=r"gt.txt:1: 3 columns"):
        read_mot(path)
