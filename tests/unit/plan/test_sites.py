"""plan_sites: demand points, a layer with missing values refused by name, the event layer's key."""

from __future__ import annotations

import numpy as np
import pytest

from safecity.errors import PlanningError
from safecity.plan import data
from safecity.plan.config import PlanConfig
from safecity.plan.sites import camera_kinds, plan_sites


def test_a_layer_with_missing_values_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "crime_per_km2", lambda area, data_dir=None: {})  # no crime figure for Guro
    with pytest.raises(PlanningError, match=r"layer 'crime' has 1,?982 cell\(s\) without a value"):
        plan_sites(area="guro", budget_krw=2e8, cfg=PlanConfig())


def test_camera_kinds_follow_the_config() -> None:
    kinds = {k.name: k for k in camera_kinds(PlanConfig())}
    assert kinds["ptz"].is_disc and kinds["ptz"].max_per_site == 1
    assert not kinds["fixed"].is_disc and len(kinds["fixed"].headings_deg) == 6
    assert np.isclose(kinds["fixed"].fov_deg * len(kinds["fixed"].headings_deg), 360.0)
