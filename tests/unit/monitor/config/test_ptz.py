"""The ``ptz:`` block: presets with their rules, tours, home, hand-off geometry, and clear errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from safecity.errors import ConfigError
from safecity.monitor.config.model import CameraConfig, load_monitor_config
from safecity.monitor.config.ptz import PtzConfig

ONVIF = {"host": "10.0.0.7", "user": "admin", "password_env": "PTZ7_PASSWORD"}

GOOD = """\
cameras:
  - id: ptz-1
    source: rtsp://10.0.0.7/stream
    lat: 37.495
    lon: 126.887
    zones:
      - {name: gate_zone, polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]}
      - {name: road_zone, polygon: [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0]]}
    rules:
      - {type: intrusion, zone: gate_zone, name: gate_in}
      - {type: crowding, zone: road_zone, name: road_crowd}
      - {type: camera_health}
    ptz:
      onvif: {host: 10.0.0.7, port: 8080, user: admin, password_env: PTZ1_PASSWORD}
      presets:
        - {name: gate, rules: [gate_in], position: [-0.6, 0.1, 0.0], lat: 37.4952, lon: 126.8871}
        - {name: road, rules: [road_crowd], settle_s: 3}
      tours:
        - name: night
          schedule: "22:00-06:00"
          order: back_and_forth
          stops: [{preset: gate, dwell_s: 30}, {preset: road, dwell_s: 15}]
      home_preset: gate
      pan_zero_heading_deg: 45
  - id: fixed-1
    source: rtsp://10.0.0.8/stream
    lat: 37.4951
    lon: 126.8869
    heading_deg: 90
    fov_deg: 70
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cameras.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_a_good_ptz_config_loads(tmp_path: Path) -> None:
    cfg = load_monitor_config(_write(tmp_path, GOOD))
    ptz = cfg.camera("ptz-1").ptz
    assert ptz is not None
    assert ptz.onvif.port == 8080 and ptz.onvif.timeout_s == 5.0
    assert ptz.preset("gate").rules == ["gate_in"] and ptz.preset("road").settle_s == 3
    assert ptz.tours[0].order == "back_and_forth" and ptz.tours[0].schedule == ["22:00-06:00"]
    assert ptz.home_preset == "gate" and ptz.lease_s == 60.0
    fixed = cfg.camera("fixed-1")
    assert fixed.ptz is None and fixed.heading_deg == 90 and fixed.fov_deg == 70


@pytest.mark.parametrize(
    ("replace", "by", "line", "words"),
    [
        (
            "{preset: road, dwell_s: 15}",
            "{preset: road, dwell_s: 0}",
            22,
            "dwell_s must be more than 0 seconds",
        ),
        ("{preset: road, dwell_s: 15}", "{preset: pier, dwell_s: 15}", 22, "preset 'pier' does not exist"),
        ("home_preset: gate", "home_preset: pier", 23, "defined presets: gate, road"),
        ("rules: [road_crowd]", "rules: [road_crowd, nope]", 17, "rule 'nope' does not exist in this camera"),
        (
            "rules: [road_crowd], settle_s: 3",
            "settle_s: 3",
            11,
            "'road_crowd' of this PTZ camera is armed at no preset",
        ),
        ("pan_zero_heading_deg: 45", "pan_zero_heading_deg: 400", 24, "less than 360"),
        ("password_env: PTZ1_PASSWORD", "password_env: hunter2", 14, "the NAME of the environment variable"),
    ],
)
def test_bad_ptz_config_names_file_key_and_line(
    tmp_path: Path, replace: str, by: str, line: int, words: str
) -> None:
    assert replace in GOOD
    path = _write(tmp_path, GOOD.replace(replace, by, 1))
    with pytest.raises(ConfigError) as err:
        load_monitor_config(path)
    msg = str(err.value)
    assert f"{path}:{line}:" in msg, msg
    assert words in msg, msg


def test_ptz_settings_on_a_camera_without_ptz_say_where_they_belong(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    heading_deg: 90\n", "    heading_deg: 90\n    presets: [{name: x}]\n    tours: []\n"
    )
    with pytest.raises(ConfigError, match=r"cameras\.1: presets, tours belong\(s\) in a ptz: block"):
        load_monitor_config(_write(tmp_path, text))


def test_heading_is_for_fixed_cameras(tmp_path: Path) -> None:
    text = GOOD.replace("    lon: 126.887\n", "    lon: 126.887\n    heading_deg: 10\n", 1)
    with pytest.raises(ConfigError, match=r"cameras\.0\.heading_deg: heading_deg is for fixed cameras"):
        load_monitor_config(_write(tmp_path, text))


def test_unnamed_zone_rule_on_a_ptz_camera_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"#1 \(intrusion, no name\)"):
        CameraConfig.model_validate(
            {
                "id": "p",
                "source": "rtsp://x/y",
                "zones": [{"name": "z", "polygon": [[0, 0], [1, 0], [1, 1]]}],
                "rules": [{"type": "intrusion", "zone": "z"}],
                "ptz": {"onvif": ONVIF, "presets": [{"name": "a"}]},
            }
        )


def test_duplicate_presets_and_tours_and_every_problem_at_once() -> None:
    with pytest.raises(ValidationError) as err:
        PtzConfig.model_validate(
            {
                "onvif": ONVIF,
                "presets": [{"name": "a"}, {"name": "a"}],
                "tours": [
                    {"name": "t", "stops": [{"preset": "a", "dwell_s": 0}]},
                    {"name": "t", "stops": [{"preset": "b", "dwell_s": 5}]},
                ],
            }
        )
    text = str(err.value)
    for words in ("duplicate preset name 'a'", "duplicate tour name 't'", "dwell_s must be more than 0",
                  "preset 'b' does not exist"):  # fmt: skip
        assert words in text
    assert err.value.error_count() == 4


def test_a_tour_needs_a_stop() -> None:
    with pytest.raises(ValidationError, match="at least 1 item"):
        PtzConfig.model_validate({"onvif": ONVIF, "tours": [{"name": "t", "stops": []}]})
