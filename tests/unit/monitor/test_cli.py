"""`safecity check-config | replay | eval` argument handling and error reporting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safecity.cli import main

REPO = Path(__file__).resolve().parents[3]
CLIP = REPO / "data" / "video" / "intel-sample-videos" / "car-detection.mp4"
DEMO = REPO / "configs" / "demo-cameras.yaml"

GOOD = f"""
cameras:
  - id: cam1
    source: {CLIP}
    zones:
      - name: gate
        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]
    rules:
      - type: intrusion
        zone: gate
"""

# (config text, expected line, expected key fragment, expected message fragment)
BAD_CASES = [
    # a zone corner outside the frame (fractions must be 0..1)
    (GOOD.replace("[0.9, 0.9]", "[1.5, 0.9]"), 7, "polygon", "less than or equal to 1"),
    # a class the detectors do not know
    (
        GOOD.replace("zone: gate", "zone: gate\n        classes: [persn]"),
        11,
        "classes",
        "did you mean 'person'",
    ),
    # a rule naming a zone that does not exist
    (GOOD.replace("zone: gate", "zone: door"), 10, "zone", "does not exist"),
    # the video file is missing
    (GOOD.replace(str(CLIP), "/nonexistent/cam.mp4"), 4, "source", "does not exist"),
    # a class the detector is not configured to report
    (
        GOOD.replace("zone: gate", "zone: gate\n        classes: [dog]"),
        11,
        "classes",
        "not in detector.classes",
    ),
]


@pytest.mark.parametrize(("text", "line", "key", "message"), BAD_CASES)
def test_check_config_names_file_line_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: int, key: str, message: str
) -> None:
    cfg = tmp_path / "cams.yaml"
    cfg.write_text(text)
    assert main(["check-config", str(cfg), "--json", "--no-model"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False
    hits = [p for p in doc["problems"] if key in p["key"] and message in p["message"]]
    assert hits, doc["problems"]
    assert hits[0]["line"] == line and hits[0]["file"].endswith("cams.yaml")


def test_check_config_ok_loads_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "cams.yaml"
    cfg.write_text(GOOD)
    assert main(["check-config", str(cfg)]) == 0
    assert "is fine" in capsys.readouterr().err


def test_check_config_text_output_has_file_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "cams.yaml"
    cfg.write_text(GOOD.replace("[0.9, 0.9]", "[1.5, 0.9]"))
    assert main(["check-config", str(cfg), "--no-model"]) == 1
    err = capsys.readouterr().err
    assert f"{cfg}:7:" in err and "1 problem" in err


def test_check_config_bundled_demo_is_fine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(REPO / "configs" / "demo-cameras.yaml"), "--no-model"]) == 0


# (arguments, expected exit code, stderr fragment)
USAGE_CASES = [
    (["replay", "/nonexistent.mp4", "--config", "x.yaml"], 1, "does not exist"),  # missing video
    (["replay", str(CLIP), "--config", "/nonexistent.yaml"], 1, "does not exist"),  # missing config
    (["eval", "--clip", str(CLIP)], 1, "eval needs"),  # incomplete eval arguments
    (["replay", str(CLIP), "--config", "x.yaml", "--detect-fps", "-3"], 2, "must be > 0"),  # bad rate
    (
        ["monitor", "--config", str(DEMO), "--ray-address", "auto"],
        1,
        "needs --backend ray",
    ),  # flag w/o backend
    (["monitor", "--config", str(DEMO), "--backend", "ray", "--cameras-per-actor", "0"], 1, "at least 1"),
    (["monitor", "--config", str(DEMO), "--backend", "spark"], 2, "invalid choice"),  # unknown backend
]


@pytest.mark.parametrize(("argv", "code", "fragment"), USAGE_CASES)
def test_cli_errors_are_clear(
    argv: list[str], code: int, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if code == 2:
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    else:
        assert main(argv) == code
    assert fragment in capsys.readouterr().err


def test_replay_corrupt_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x01garbage" * 1000)
    cfg = tmp_path / "cams.yaml"
    cfg.write_text(GOOD.replace(str(CLIP), str(bad)))
    assert main(["replay", str(bad), "--config", str(cfg)]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_eval_gt_mot_json(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seq = shared_dir / "data" / "video" / "mot17-mini-dev" / "MOT17-05-FRCNN"
    cfg = REPO / "tests" / "data" / "labels" / "mot17.cameras.yaml"
    argv = [
        "eval", "--clip", str(seq / "img1_h264.mp4"), "--config", str(cfg), "--camera", "mot17-05-frcnn",
        "--gt-mot", str(seq / "gt" / "gt.txt"), "--detect-fps", "full", "--json",
    ]  # fmt: skip
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    clip = doc["clips"][0]
    assert clip["counters"]["frames"] == 6  # every frame of the 6-frame excerpt
    det = clip["detector"]
    assert det["tp"] + det["fn"] > 0 and 0.0 <= det["recall"] <= 1.0 and det["min_visibility"] == 0.25
    assert clip["tracking"]["frames"] == 6 and clip["tracking"]["gt_ids"] > 0


def _short_clip(tmp_path: Path, seconds: int = 8) -> Path:
    """The first seconds of the bundled clip, index (moov) first, so that a cut file still opens."""
    import subprocess

    out = tmp_path / "short.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(CLIP), "-t", str(seconds), "-c", "copy",
         "-movflags", "+faststart", str(out)],
        check=True,
    )  # fmt: skip
    return out


def _config(tmp_path: Path, video: Path) -> Path:
    cfg = tmp_path / "cams.yaml"
    cfg.write_text(GOOD.replace(str(CLIP), str(video)).replace("    zones:", "    detect_fps: 2\n    zones:"))
    return cfg


def test_replay_of_a_video_damaged_mid_file_exits_3_naming_the_point_reached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = _short_clip(tmp_path)
    damaged = tmp_path / "damaged.mp4"
    data = whole.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])  # the second half of the frames is gone
    events = tmp_path / "events.jsonl"
    code = main(
        ["replay", str(damaged), "--config", str(_config(tmp_path, damaged)), "--events-jsonl", str(events)]
    )
    err = capsys.readouterr().err
    assert code == 3, err
    assert "damaged.mp4 ended early: the analysis stopped at" in err and "of 8.0 s" in err
    assert events.exists()  # the events up to the damage are kept
    assert main(["replay", str(whole), "--config", str(_config(tmp_path, whole))]) == 0  # the intact clip


def test_replay_of_an_unreadable_video_leaves_existing_outputs_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x01garbage" * 1000)
    events, tracks = tmp_path / "events.jsonl", tmp_path / "tracks.txt"
    events.write_text('{"uid": "kept"}\n', encoding="utf-8")
    tracks.write_text("1,1,0,0,1,1,1,-1,-1,-1\n", encoding="utf-8")
    argv = ["replay", str(bad), "--config", str(_config(tmp_path, bad)), "--events-jsonl", str(events)]
    assert main([*argv, "--tracks-mot", str(tracks)]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert events.read_text(encoding="utf-8") == '{"uid": "kept"}\n'
    assert tracks.read_text(encoding="utf-8") == "1,1,0,0,1,1,1,-1,-1,-1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.mp4",
        "cams.yaml",
        "events.jsonl",
        "tracks.txt",
    ]


ROOM = REPO / "data" / "video" / "intel-sample-videos" / "one-by-one-person-detection.mp4"
LABELS = REPO / "tests" / "data" / "labels"


def _tud_gt() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("motmetrics")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "TUD-Stadtmitte" / "gt.txt"


def test_eval_refuses_mot15_gt_read_as_mot17(capsys: pytest.CaptureFixture[str]) -> None:
    """py-motmetrics' TUD-Stadtmitte gt (MOT15 layout) forced to MOT17: a clear error before any replay."""
    argv = [
        "eval", "--clip", str(ROOM), "--config", str(LABELS / "one-by-one-person-detection.cameras.yaml"),
        "--gt-mot", str(_tud_gt()), "--gt-format", "mot17",
    ]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "read as MOT17" in err and "--gt-format mot15" in err and "Traceback" not in err


def test_eval_gt_format_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["eval", "--gt-format", "mot99"])
    assert info.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_eval_suite_skips_label_files_without_their_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A clone without ../shared: the Town Centre label is skipped with a note, the rest is evaluated."""
    import shutil
    import subprocess

    monkeypatch.setenv("SAFECITY_SHARED", str(tmp_path / "no-shared"))
    suite = tmp_path / "labels"
    suite.mkdir()
    for name in ("towncentre.yaml", "towncentre.cameras.yaml", "one-by-one-person-detection.cameras.yaml"):
        shutil.copy(LABELS / name, suite / name)
    assert main(["eval", "--suite", str(suite)]) == 1  # nothing left to evaluate: an error, not a 0
    err = capsys.readouterr().err
    assert (
        "towncentre.yaml: skipped" in err and "shared/ folder" in err and "none of the 1 label files" in err
    )
    clip = tmp_path / "room-3s.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-ss", "5", "-t", "3", "-i", str(ROOM), "-c:v", "libx264", "-preset",
         "veryfast", "-an", str(clip)], check=True, timeout=60,
    )  # fmt: skip
    (suite / "room.yaml").write_text(
        f"clip: {clip}\nconfig: one-by-one-person-detection.cameras.yaml\ncamera: obo-room\n"
        "events: []\nevent_types: []\n"
    )
    assert main(["eval", "--suite", str(suite), "--json"]) == 0
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert [c["scene"] for c in doc["clips"]] == ["room"]
    assert [s["label_file"] for s in doc["skipped"]] == ["towncentre.yaml"]
    assert "towncentre.yaml: skipped" in out.err
