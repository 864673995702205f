"""Monitoring config: the example loads, bad configs name file, key and line, schedules parse."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from safecity.errors import ConfigError
from safecity.monitor.config.model import (
    DETECTOR_KINDS,
    CameraHealthRuleConfig,
    IntrusionRuleConfig,
    MonitorConfig,
    load_monitor_config,
)

REPO = Path(__file__).resolve().parents[4]
EXAMPLE = REPO / "configs" / "example-cameras.yaml"

GOOD = """\
cameras:
  - id: cam1
    source: clip.mp4
    zones:
      - name: gate
        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]
    lines:
      - name: door
        a: [0.2, 0.5]
        b: [0.8, 0.5]
    rules:
      - type: intrusion
        zone: gate
      - type: line_crossing
        line: door
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cams.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_example_config_loads_with_every_rule_type() -> None:
    cfg = load_monitor_config(EXAMPLE)
    types = {r.type for cam in cfg.cameras for r in cam.rules}
    assert types == {
        "intrusion", "line_crossing", "loitering", "crowding", "fall", "abandoned_object", "camera_health",
    }  # fmt: skip
    # relative sources are read from the config's folder and exist
    files = [Path(c.source) for c in cfg.cameras if not c.live]
    assert files and all(f.is_file() for f in files)


def test_good_config_defaults(tmp_path: Path) -> None:
    cfg = load_monitor_config(_write(tmp_path, GOOD))
    cam = cfg.camera("cam1")
    assert isinstance(cam.rules[0], IntrusionRuleConfig)
    assert cam.rules[0].classes == ["person"]
    assert cfg.selection.max_tiles == 9 and cfg.selection.hold_s == 10 and cfg.selection.pin_severity == 4
    assert cfg.timezone == "Asia/Seoul"
    assert Path(cam.source) == tmp_path / "clip.mp4"


# (what is replaced in GOOD, replacement, expected line, expected key, words in the message)
BAD_CASES = [
    # a zone corner outside the frame (x > 1)
    ("[0.9, 0.9]]", "[1.4, 0.9]]", 6, "cameras.0.zones.0.polygon.2.0", "less than or equal to 1"),
    # an unknown class name, with a suggestion
    ("        zone: gate\n", "        zone: gate\n        classes: [persn]\n", 14,
     "cameras.0.rules.0.classes.0", "did you mean 'person'"),
    # a rule naming a zone that does not exist
    ("        zone: gate\n", "        zone: gaet\n", 13, "cameras.0.rules.0.zone", "'gaet' does not exist"),
    # a rule naming a line that does not exist
    ("        line: door\n", "        line: dor\n", 15, "cameras.0.rules.1.line", "'dor' does not exist"),
    # a schedule that does not parse
    ("    zones:\n      - name: gate\n", "    zones:\n      - name: gate\n        schedule: '25:00-06:00'\n",
     6, "cameras.0.zones.0.schedule", "does not parse"),
    # an unknown key
    ("    source: clip.mp4\n", "    source: clip.mp4\n    fps: 5\n", 4, "cameras.0.fps", "Extra inputs"),
    # an unknown rule type
    ("      - type: intrusion\n", "      - type: intrusoin\n", 12, "cameras.0.rules.0", "intrusion"),
    # a degenerate polygon (collinear corners)
    ("[[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]", "[[0.1, 0.1], [0.5, 0.1], [0.9, 0.1]]", 6,
     "cameras.0.zones.0.polygon", "no area"),
    # line ends equal
    ("        b: [0.8, 0.5]\n", "        b: [0.2, 0.5]\n", 8, "cameras.0.lines.0", "same point"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "line", "key", "words"), BAD_CASES)
def test_bad_config_names_file_key_and_line(
    tmp_path: Path, old: str, new: str, line: int, key: str, words: str
) -> None:
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_monitor_config(path)
    msg = str(info.value)
    assert f"{path}:{line}: {key}" in msg, msg
    assert words in msg


def test_duplicate_camera_ids_point_at_the_second(tmp_path: Path) -> None:
    text = GOOD + "  - id: cam1\n    source: other.mp4\n"
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=r"cams.yaml:16: cameras.1.id: duplicate camera id 'cam1'"):
        load_monitor_config(path)


def test_duplicate_zone_names(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    lines:\n", "      - name: gate\n        polygon: [[0, 0], [1, 0], [1, 1]]\n    lines:\n"
    )
    with pytest.raises(ConfigError, match=r"cameras.0.zones.1.name: duplicate name 'gate'"):
        load_monitor_config(_write(tmp_path, text))


def test_every_problem_is_listed(tmp_path: Path) -> None:
    text = GOOD.replace("zone: gate", "zone: nowhere").replace("line: door", "line: nothing")
    with pytest.raises(ConfigError, match="2 problem") as info:
        load_monitor_config(_write(tmp_path, text))
    assert "'nowhere'" in str(info.value) and "'nothing'" in str(info.value)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("timezone", "Mars/Base", "unknown time zone"),  # not an IANA zone
        ("detector", {"type": "onnx-yolo"}, "no bundled model"),  # YOLO needs a user model
        # a cascade stage of type onnx-yolo needs a model too
        ("detector", {"type": "cascade", "confirm": {"type": "onnx-yolo", "conf": 0.3}}, "no bundled model"),
        ("detector", {"type": "cascade", "confirm_when": "always"}, "'any' or 'in_zones'"),  # unknown mode
        ("selection", {"max_tiles": 0}, "greater than or equal to 1"),  # no wall at all
        ("selection", {"severity_weights": {7: 1.0}}, "severity keys must be 1..5"),  # unknown severity
        ("tracker", {"low_thresh": 0.6, "high_thresh": 0.4}, "low_thresh"),  # stages swapped
    ],
)
def test_root_sections_validate(field: str, value: object, words: str) -> None:
    data = {"cameras": [{"id": "c", "source": "x.mp4"}], field: value}
    with pytest.raises(ValueError, match=words):
        MonitorConfig.model_validate(data)


def test_fall_rule_aspects_must_be_ordered() -> None:
    rule = {"type": "fall", "upright_max_aspect": 1.5, "lying_min_aspect": 1.2}
    with pytest.raises(ValueError, match="lying_min_aspect must be greater"):
        MonitorConfig.model_validate({"cameras": [{"id": "c", "source": "x.mp4", "rules": [rule]}]})


def test_camera_health_rule_defaults() -> None:
    cfg = MonitorConfig.model_validate(
        {"cameras": [{"id": "c", "source": "x.mp4", "rules": [{"type": "camera_health"}]}]}
    )
    rule = cfg.cameras[0].rules[0]
    assert isinstance(rule, CameraHealthRuleConfig) and rule.frozen_s > 0


def test_docs_reference_matches_the_models() -> None:
    from safecity.monitor.config.reference import BEGIN, END, SECTIONS, reference_markdown

    text = (REPO / "docs" / "config.md").read_text(encoding="utf-8")
    generated = text[text.index(BEGIN) : text.index(END) + len(END)] + "\n"
    assert generated == reference_markdown(), (
        'docs/config.md is out of date: run .venv/bin/python -c "from safecity.monitor.config.reference '
        "import write_reference as w; w('docs/config.md')\""
    )
    for _, model in SECTIONS:
        for name in model.model_fields:
            assert f"| `{name}` |" in generated


def test_cross_field_problems_are_listed_next_to_field_errors(tmp_path: Path) -> None:
    # the camera has a field error (zone outside the frame), a rule naming a missing zone, and a
    # second camera repeats the id: all three are reported, each with its line
    text = GOOD.replace("[0.9, 0.9]]", "[1.4, 0.9]]").replace("zone: gate", "zone: gaet")
    text += "  - id: cam1\n    source: other.mp4\n"
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match="3 problem") as info:
        load_monitor_config(path)
    msg = str(info.value)
    assert f"{path}:6: cameras.0.zones.0.polygon.2.0" in msg
    assert f"{path}:13: cameras.0.rules.0.zone: zone 'gaet' does not exist" in msg
    assert f"{path}:16: cameras.1.id: duplicate camera id 'cam1'" in msg


# (config detector type, load_detector kind)
KIND_CASES = [
    ("nanodet", "nanodet"),  # same name
    ("ssd", "ssd"),  # same name
    ("onnx-yolo", "yolo"),  # the one name that differs
    ("cascade", "cascade"),  # first pass + confirmation
]


@pytest.mark.parametrize(("type_", "kind"), KIND_CASES)
def test_detector_type_maps_to_the_load_detector_kind(type_: str, kind: str) -> None:
    det = {"type": type_, "model": "m.onnx"} if type_ == "onnx-yolo" else {"type": type_}
    cfg = MonitorConfig.model_validate({"cameras": [{"id": "c", "source": "x.mp4"}], "detector": det})
    assert cfg.detector.kind == kind == DETECTOR_KINDS[type_]


def test_camera_detector_and_tracker_override_the_top_level_ones(tmp_path: Path) -> None:
    text = GOOD + (
        "  - id: hall\n    source: hall.mp4\n"
        "    detector: {type: ssd, conf: 0.3, model: models/hall.onnx}\n"
        "    tracker: {high_thresh: 0.15, low_thresh: 0.05, new_track_thresh: 0.15}\n"
        "detector:\n  type: cascade\n  confirm_when: in_zones\n"
        "  confirm: {type: onnx-yolo, model: y.onnx, conf: 0.5}\n"
    )
    cfg = load_monitor_config(_write(tmp_path, text))
    cam1, hall = cfg.camera("cam1"), cfg.camera("hall")
    assert cam1.detector is None and cfg.detector_for(cam1) is cfg.detector  # unset: the global one
    assert cfg.tracker_for(cam1) is cfg.tracker and cfg.tracker_for(hall).high_thresh == 0.15
    own = cfg.detector_for(hall)
    assert (own.kind, own.conf) == ("ssd", 0.3)
    assert own.model == tmp_path / "models" / "hall.onnx"  # relative to the config file
    # cascade stages: defaults for the first pass, the given confirmation with its path resolved
    assert (cfg.detector.first_pass.kind, cfg.detector.first_pass.conf) == ("ssd", 0.4)
    assert (cfg.detector.confirm.kind, cfg.detector.confirm.model) == ("yolo", tmp_path / "y.onnx")
    assert cfg.detector.confirm_when == "in_zones"
