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
    assert load_plan_config(None).camera_types["fixed"].radius_m == 50.0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("weights:\n  streetlight_density: 1.0\n", r"x.yaml:2: weights.streetlight_density"),  # must be <= 0
        (
            "camera_types:\n  ptz:\n    radius_m: -5\n",
            r"x.yaml:3: camera_types.ptz.radius_m",
        ),  # negative radius
        ("cell_size: 100\n", r"x.yaml:1: cell_size"),  # unknown key (typo of cell_size_m)
        (
            "max_cameras_per_site: 1\n",  # the fixed pair no longer fits on a pole
            "max_cameras_per_site",
        ),
    ],
)
def test_bad_config_names_file_and_line(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "x.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        load_plan_config(p)
