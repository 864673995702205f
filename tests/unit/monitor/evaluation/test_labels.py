"""Label files: the bundled ones load and point at real files; bad ones fail with file:line:key."""

from __future__ import annotations

from pathlib import Path

import pytest

from safecity.errors import ConfigError
from safecity.health import HEALTH_OF_TYPE
from safecity.monitor.config.model import load_monitor_config
from safecity.monitor.evaluation.labels import find_label_files, load_labels

LABELS = Path(__file__).resolve().parents[3] / "data" / "labels"


def _label_cases() -> list[object]:
    """Label files; those whose clip lives in the shared test-only folder need it (marker)."""
    return [
        pytest.param(p, marks=pytest.mark.needs_shared_data) if "SAFECITY_SHARED" in p.read_text() else p
        for p in find_label_files(LABELS)
    ]


@pytest.mark.parametrize("path", _label_cases(), ids=lambda p: p.stem)
def test_bundled_label_files_load(path: Path) -> None:
    lab = load_labels(path)
    assert lab.clip.is_file(), f"{path.name}: clip {lab.clip} missing"
    cfg = load_monitor_config(lab.config_path)
    cam = cfg.camera(lab.doc.camera) if lab.doc.camera else cfg.cameras[0]
    zones = {z.name for z in cam.zones}
    lines = {ln.name for ln in cam.lines}
    for ev in lab.doc.events:
        if ev.type in HEALTH_OF_TYPE:
            # health events are the camera's, with no zone; its camera_health rule is on
            assert ev.zone is None and ev.line is None
            assert all(r.enabled for r in cam.rules if r.type == "camera_health")
            continue
        # every labelled event names a zone/line the config defines, and a rule of its type exists
        assert (ev.line in lines) if ev.type == "line_crossing" else (ev.zone in zones)
        assert ev.type in {r.type for r in cam.rules}
    if lab.gt_mot is not None:
        assert lab.gt_mot.is_file()


def test_every_intel_clip_has_intrusion_and_line_crossing_cases() -> None:
    types: dict[str, set[str]] = {}
    for path in find_label_files(LABELS):
        lab = load_labels(path)
        types[lab.scene] = {e.type for e in lab.doc.events}
    for clip in ("one-by-one-person-detection", "person-bicycle-car-detection", "car-detection"):
        assert {"intrusion", "line_crossing"} <= types[clip]
    assert "loitering" in types["one-by-one-person-detection"]


# (yaml text, message fragment)
BAD_CASES = [
    # line crossing without a line
    ("clip: a.mp4\nconfig: c.yaml\nevents:\n  - {type: line_crossing, start_s: 1}\n", "events.0"),
    # unknown event type
    ("clip: a.mp4\nconfig: c.yaml\nevents:\n  - {type: burglary, zone: z, start_s: 1}\n", "events.0.type"),
    # end before start
    ("clip: a.mp4\nconfig: c.yaml\nevents:\n  - {type: intrusion, zone: z, start_s: 5, end_s: 2}\n", "end_s"),
    # unknown key
    ("clip: a.mp4\nconfig: c.yaml\ncolour: red\n", "colour"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD_CASES)
def test_bad_label_file_names_file_line_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"bad\.yaml:\d+") as info:
        load_labels(path)
    assert fragment in str(info.value)


def test_label_event_to_event_maps_line_to_zone_field() -> None:
    path = LABELS / "person-bicycle-car-detection.yaml"
    events = load_labels(path).truth_events("cam")
    crossing = next(e for e in events if e.type == "line_crossing")
    assert crossing.zone in {"west", "east"} and crossing.direction in {"a_to_b", "b_to_a"}
    assert crossing.camera == "cam"
