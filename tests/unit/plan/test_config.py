"""Plan config: defaults equal the shipped configs/plan.yaml; errors name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from safecity.errors import ConfigError
from safecity.plan.config import PlanConfig, load_plan_config

REPO = Path(__file__).resolve().parents[3]


def test_shipped_yaml_equals_defaults() -> None:
    assert load_plan_config(REPO / "configs" / "plan.yaml") == PlanConfig()


def test_none_gives_defaults() -> None:
    cfg = load_plan_config(None)
    assert cfg.camera_types["ptz"].radius_m == 50.0 and cfg.camera_types["ptz"].headings_deg == ()
    assert cfg.camera_types["fixed"].headings_deg == (0.0, 60.0, 120.0, 180.0, 240.0, 300.0)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("weights:\n  crime: -1.0\n", r"x.yaml:2: weights.crime"),  # weights are >= 0
        (
            "camera_types:\n  ptz:\n    radius_m: -5\n",
            r"x.yaml:3: camera_types.ptz.radius_m",
        ),  # negative radius
        ("cell_size: 100\n", r"x.yaml:1: cell_size"),  # unknown key (typo of cell_size_m)
        (
            "max_cameras_per_site: 1\n",  # three fixed cameras no longer fit on a pole
            "max_cameras_per_site",
        ),
        (
            "camera_types:\n  ptz:\n    radius_m: 50\n    fov_deg: 0\n    cost_krw: 1\n"
            "    replacement_cost_krw: 1\n",
            r"fov_deg must be in \(0, 360\], got 0",
        ),
        (
            "camera_types:\n  ptz:\n    radius_m: 50\n    headings: 4\n    cost_krw: 1\n"
            "    replacement_cost_krw: 1\n",
            "headings must be 1, got 4",
        ),
        ("demand_step_m: 30\n", "demand_step_m must divide cell_size_m"),
    ],
)
def test_bad_config_names_file_and_line(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "x.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        load_plan_config(p)
