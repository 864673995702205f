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
    read_mot_gt,
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


def _motmetrics_data() -> Path:
    """MOT15-format gt files py-motmetrics ships (TUD-Campus, TUD-Stadtmitte), found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("motmetrics")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def test_read_mot_gt_detects_mot15_with_world_coordinates() -> None:
    """TUD-Stadtmitte: 10 columns with world coordinates; read as MOT17 it would lose every row."""
    path = _motmetrics_data() / "TUD-Stadtmitte" / "gt.txt"
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    assert all(len(ln.split(",")) == 10 for ln in lines)
    rows = read_mot_gt(path)
    assert sum(len(r.ids) for r in rows.values()) == len(lines)
    scored = sum(int(((r.conf > 0) & (r.cls == 1) & (r.visibility >= 0.25)).sum()) for r in rows.values())
    assert scored == len(lines)  # every annotated pedestrian is scored
    assert len({int(i) for r in rows.values() for i in r.ids}) == 10  # the sequence's 10 people
    forced = read_mot_gt(path, "mot15")
    assert sorted(forced) == sorted(rows) and all((forced[f].ids == rows[f].ids).all() for f in rows)
    # the same boxes as the plain reader
    plain = read_mot(path)
    assert all((plain[f].xyxy_px == rows[f].xyxy_px).all() for f in plain)


def test_read_mot_gt_detects_mot15_without_world_coordinates() -> None:
    rows = read_mot_gt(_motmetrics_data() / "TUD-Campus" / "gt.txt")
    assert sum(int((r.cls == 1).sum()) for r in rows.values()) == 359


def test_read_mot_gt_refuses_mot15_read_as_mot17() -> None:
    with pytest.raises(InputError, match=r"--gt-format mot15") as info:
        read_mot_gt(_motmetrics_data() / "TUD-Stadtmitte" / "gt.txt", "mot17")
    assert "10 columns" in str(info.value) and "read as MOT17" in str(info.value)


def test_read_mot_gt_refuses_a_file_with_almost_no_scored_rows(tmp_path: Path) -> None:
    """A 9-column file of (almost) only non-pedestrian classes, and a predictions file given as gt."""
    gt = tmp_path / "gt.txt"
    gt.write_text(
        "".join(f"{f},{i},10,10,20,40,1,{3 if i < 20 else 1},1.0\n" for f in (1, 2) for i in range(21))
    )
    with pytest.raises(InputError, match=r"only 2 of 42 rows are scored pedestrians .* when read as mot17"):
        read_mot_gt(gt)
    preds = _motmetrics_data() / "TUD-Campus" / "test.txt"  # conf -1: tracker output, not gt
    with pytest.raises(InputError, match=r"only 0 of \d+ rows"):
        read_mot_gt(preds)


def test_read_mot_gt_mot17_and_bad_layouts(tmp_path: Path) -> None:
    gt = tmp_path / "gt.txt"
    gt.write_text("1,1,10,10,20,40,1,1,0.8\n1,2,50,10,20,40,0,7,1.0\n2,1,12,10,20,40,1,1,0.9\n")
    rows = read_mot_gt(gt)
    assert rows[1].cls.tolist() == [1, 7] and rows[1].visibility.tolist() == pytest.approx([0.8, 1.0])
    with pytest.raises(InputError, match=r"has 9; a MOT16/17/20 gt.txt has 9"):
        read_mot_gt(gt, "mot15")
    odd = tmp_path / "odd.txt"
    odd.write_text("1,1,10,10,20,40,1\n")
    with pytest.raises(InputError, match=r"7 columns per line"):
        read_mot_gt(odd)


def test_read_mot_gt_mot17_shared(shared_dir: Path) -> None:
    rows = read_mot_gt(shared_dir / "data/video/mot17-mini-dev/MOT17-05-FRCNN/gt/gt.txt")
    assert sum(int(((r.conf > 0) & (r.cls == 1)).sum()) for r in rows.values()) == 45
