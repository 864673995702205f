"""The alert policy and box filters: defaults, first-match rules, schedules, strict validation with lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from safecity.errors import ConfigError
from safecity.monitor.config.model import MonitorConfig, load_monitor_config
from safecity.monitor.config.policy import (
    ALERT_TYPES,
    AlertPolicy,
    BoundPolicy,
    BoxFilterConfig,
    filter_boxes,
)
from safecity.monitor.types import Detections

NOON_KST = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # Monday 12:00 in Seoul


def test_defaults_alert_every_required_type_and_record_low_line_crossings() -> None:
    bound = BoundPolicy(AlertPolicy(), {})
    for t in ALERT_TYPES:
        for sev in range(1, 6):
            assert bound.action("c", t, sev, None, NOON_KST) == "alert", (t, sev)
    assert bound.action("c", "line_crossing", 2, "west", NOON_KST) == "record"
    assert bound.action("c", "line_crossing", 3, "west", NOON_KST) == "alert"


def test_first_match_wins_with_groups_zones_and_schedule() -> None:
    policy = AlertPolicy.model_validate(
        {
            "rules": [
                {"groups": ["school"], "types": ["line_crossing"], "schedule": "mon-fri 08:00-09:00",
                 "action": "alert"},
                {"zones": ["car-wash"], "action": "ignore"},
                {"types": ["line_crossing"], "action": "record"},
            ]
        }
    )  # fmt: skip
    bound = BoundPolicy(policy, {"gate": "school", "lot": None})
    eight_kst = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)  # Tuesday 08:30 in Seoul
    assert bound.action("gate", "line_crossing", 2, "x", eight_kst) == "alert"
    assert bound.action("gate", "line_crossing", 2, "x", NOON_KST) == "record"
    assert bound.action("lot", "line_crossing", 2, "x", eight_kst) == "record"
    assert bound.action("lot", "intrusion", 4, "car-wash", NOON_KST) == "ignore"
    assert bound.action("lot", "intrusion", 4, "bays", NOON_KST) == "alert"


def test_filter_boxes_drops_boxes_too_large_for_their_class() -> None:
    det = Detections(
        np.array([[0, 0, 640, 360], [10, 10, 60, 40], [0, 0, 640, 360]], np.float32),
        np.array([0.5, 0.6, 0.7], np.float32),
        np.array(["truck", "truck", "person"]),
    )
    limits = BoxFilterConfig(cameras={"lot": {"person": 0.5}}).limits_for("lot")
    kept = filter_boxes(det, limits, 640, 360)
    assert list(kept.class_name) == ["truck"] and float(kept.xyxy_px[0, 2]) == 60.0
    assert len(filter_boxes(det, {}, 640, 360)) == 3


def _write(tmp_path: Path, extra: str) -> Path:
    p = tmp_path / "cams.yaml"
    p.write_text("cameras:\n  - id: lot\n    source: x.mp4\n    group: parking\n" + extra, encoding="utf-8")
    return p


def test_unknown_names_and_bad_values_name_file_key_and_line(tmp_path: Path) -> None:
    p = _write(tmp_path, "policy:\n  rules:\n    - {groups: [school], action: alert}\n")
    with pytest.raises(ConfigError) as err:
        load_monitor_config(p)
    msg = str(err.value)
    assert "cams.yaml" in msg and "policy.rules.0.groups" in msg and "unknown camera group 'school'" in msg
    assert "parking" in msg and "cams.yaml:7:" in msg
    p = _write(tmp_path, "policy:\n  rules:\n    - {action: ring}\n")
    with pytest.raises(ConfigError, match="action"):
        load_monitor_config(p)
    p = _write(tmp_path, "filters:\n  cameras:\n    gate: {truck: 0.5}\n")
    with pytest.raises(ConfigError, match="unknown camera id 'gate'"):
        load_monitor_config(p)
    p = _write(tmp_path, "filters:\n  max_box_frac: {lorry: 0.5}\n")
    with pytest.raises(ConfigError, match="unknown class name 'lorry'"):
        load_monitor_config(p)
    p = _write(tmp_path, "policy:\n  rules:\n    - {min_severity: 4, max_severity: 2, action: record}\n")
    with pytest.raises(ConfigError, match="min_severity 4 is above max_severity 2"):
        load_monitor_config(p)


def test_config_without_policy_gets_the_defaults() -> None:
    cfg = MonitorConfig.model_validate({"cameras": [{"id": "c", "source": "x.mp4"}]})
    assert cfg.policy == AlertPolicy() and cfg.filters.limits_for("c")["truck"] == 0.6
