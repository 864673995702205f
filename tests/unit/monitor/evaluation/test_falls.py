"""The fall rule on real recorded falls (GMDCSA24, test-only shared data; tests/data/labels/README.md).

The falls run on the default settings a deployed camera has; two clips change only what the way
they were cut requires (``falls-short`` / ``falls-first-frame.cameras.yaml``, README "Falls")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from safecity.monitor.config.model import (
    CameraConfig,
    DetectorConfig,
    FallRuleConfig,
    MonitorConfig,
    TrackerConfig,
    load_monitor_config,
)
from safecity.monitor.evaluation.labels import load_labels
from safecity.monitor.evaluation.suite import evaluate_clip, evaluate_labels

LABELS = Path(__file__).resolve().parents[3] / "data" / "labels"
CONFIGS = ["falls.cameras.yaml", "falls-short.cameras.yaml", "falls-first-frame.cameras.yaml"]
# the settings each config may change from the defaults, and why (README.md, "Falls")
ARTIFACTS: dict[str, dict[str, Any]] = {
    "falls.cameras.yaml": {},  # a deployed camera's settings
    "falls-short.cameras.yaml": {"min_s": 1.5},  # S2-Fall-13: the clip ends 4.5 s after the body lands
    # S1-Fall-13: the person is in view on the first frame, 0.4 s before the fall; the clip is 4.3 s
    "falls-first-frame.cameras.yaml": {
        "min_s": 1.5,
        "high_thresh": 0.25,
        "new_track_thresh": 0.25,
        "min_hits": 1,
    },
}


def _changed(cfg: MonitorConfig) -> dict[str, Any]:
    """Every setting of the falls camera that is not the default (zone and rule placement aside)."""
    (cam,) = cfg.cameras
    (rule,) = cam.rules
    assert isinstance(rule, FallRuleConfig) and rule.zone == "room"
    out: dict[str, Any] = {}
    pairs = [
        (cfg.detector_for(cam), DetectorConfig()),
        (cfg.tracker, TrackerConfig()),
        (rule, FallRuleConfig(zone="room")),
    ]
    for got, default in pairs:
        want = default.model_dump()
        out |= {k: v for k, v in got.model_dump().items() if v != want[k]}
    plain = CameraConfig(id=cam.id, source=cam.source, zones=cam.zones, rules=cam.rules, name=cam.name)
    want = plain.model_dump()
    out |= {k: v for k, v in cam.model_dump().items() if v != want[k]}
    return out


@pytest.mark.parametrize("name", CONFIGS)
def test_falls_configs_change_only_what_the_clip_cut_requires(name: str) -> None:
    # the detector's confidence in particular is the default: a lying person scores 0.2-0.35
    assert _changed(load_monitor_config(LABELS / name)) == ARTIFACTS[name]


@pytest.mark.needs_shared_data
@pytest.mark.parametrize("clip", ["S1-Fall-13", "S2-Fall-12", "S2-Fall-13"])
def test_each_real_fall_is_found_once_while_the_person_still_lies_in_view(clip: str) -> None:
    report = evaluate_labels(LABELS / f"falls-{clip}.yaml")
    score = report.events["fall"]
    assert (score.tp, score.fp, score.fn, score.duplicates) == (1, 0, 0, 0), report.predicted
    (truth,) = report.truth
    (event,) = report.predicted
    # inside the KISA window, and raised before the clip ends (the person is still on the floor)
    assert truth.start_s - 2.0 <= event.start_s <= truth.start_s + 10.0
    assert event.start_s < report.duration_s


@pytest.mark.needs_shared_data
@pytest.mark.parametrize("name", CONFIGS)
def test_no_fall_on_the_daily_activity_clip(name: str) -> None:
    # sitting on a bed, eating: quiet with the defaults and with each clip's changes
    lab = load_labels(LABELS / "falls-S2-ADL-23.yaml")
    report = evaluate_clip(
        lab.clip, LABELS / name, truth=lab.truth_events("falls-room"), event_types=["fall"], scene=name
    )
    assert report.predicted == () and report.events["fall"].fp == 0
