"""Camera health on real footage with injected faults (tests/data/video/health, CC BY 4.0).

Every ``tests/data/labels/health-*.yaml`` label file is replayed through the camera's own
``camera_health`` rule (:class:`CameraHealthMonitor`, documented defaults, no detector) and its
events are matched to the labels with the suite's KISA window. The faults start and end at known
ffmpeg times (README.md next to the clips); the two fault-free clips must raise nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from safecity.monitor.config.model import CameraHealthRuleConfig, load_monitor_config
from safecity.monitor.evaluation.labels import find_label_files, load_labels
from safecity.monitor.evaluation.suite import match_events
from safecity.monitor.rules.health import CameraHealthMonitor
from safecity.monitor.sources.readers import DecodedFrame, FileSource
from safecity.monitor.types import Event

LABELS = Path(__file__).resolve().parents[1] / "data" / "labels"
HEALTH_FILES = [p for p in find_label_files(LABELS) if p.stem.startswith("health-")]


def _replay(path: Path) -> tuple[list[Event], list[Event], float]:
    """(predicted health events, true events, clip duration) of one label file."""
    lab = load_labels(path)
    cam = load_monitor_config(lab.config_path).camera(lab.doc.camera or "")
    rule = next(r for r in cam.rules if isinstance(r, CameraHealthRuleConfig))
    mon = CameraHealthMonitor(cam.id, rule)
    final: dict[str, Event] = {}
    t_last = 0.0
    src = FileSource(lab.clip, camera=cam.id, detect_fps=2.0)
    try:
        for item in src:
            if isinstance(item, DecodedFrame):
                t_last = item.t_s
                for _kind, ev in mon.update_frame(item.gray, item.t_s):
                    final[ev.uid] = ev
    finally:
        src.close()
    for _kind, ev in mon.finish(t_last):
        final[ev.uid] = ev
    return sorted(final.values(), key=lambda e: e.start_s), lab.truth_events(cam.id), t_last


def test_health_label_files_cover_every_picture_fault() -> None:
    # the suite has a real case for each picture check (offline needs a source gap: unit tests)
    types = {e.type for p in HEALTH_FILES for e in load_labels(p).doc.events}
    assert types == {"camera_frozen", "camera_covered", "camera_blurred", "camera_moved"}
    # and at least one clip without any fault, for false alarms
    assert any(not load_labels(p).doc.events for p in HEALTH_FILES)


@pytest.mark.parametrize("path", HEALTH_FILES, ids=lambda p: p.stem)
def test_health_events_match_the_injected_faults(path: Path) -> None:
    pred, truth, _duration = _replay(path)
    m = match_events(pred, truth)
    # every injected fault is found, nothing else is raised (no other health type, no repeat)
    assert not m.missed, f"missed {[truth[i] for i in m.missed]}"
    assert not m.false_pos and not m.duplicates, f"false alarms {[pred[i] for i in m.false_pos]}"
    for ti, pi in m.pairs:
        # the event's end (when the condition turned false) is within two checks of the fault's end
        t_end, p_end = truth[ti].end_s, pred[pi].end_s
        assert t_end is not None and p_end is not None
        assert abs(p_end - t_end) <= 1.0, (pred[pi], truth[ti])
