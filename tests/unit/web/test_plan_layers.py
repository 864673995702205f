"""Rebuilding a stored plan's map layers: cache, notes on config, unknown areas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from safecity.store.db import connect
from safecity.store.plans_read import PlanView
from safecity.web.plan_layers import LayersUnavailable, clear_cache, stored_layers


def view(area: str, params: dict[str, Any]) -> PlanView:
    return PlanView(
        7, "sites", area, datetime(2026, 1, 1, tzinfo=UTC), 1e8, 5e7, "optimal", 1.0, 0.0, params, {}, 0
    )


@pytest.fixture
def engine(tmp_path: Any) -> Engine:
    clear_cache()
    return connect(f"sqlite:///{tmp_path / 's.db'}")


def test_rebuild_is_cached_with_its_notes(engine: Engine) -> None:
    v = view("guro", {"config": {"weights": {"no_such_layer": 1.0}}})
    layers, notes = stored_layers(engine, v)
    assert len(layers.cells) == 1982 and layers.cell_size_m == 100.0
    assert layers.area_geojson["features"] and layers.existing  # outline and the bundled 2018 cameras
    assert notes == ["the plan's saved config no longer validates; the default weights were used"]
    again, notes2 = stored_layers(engine, v)
    assert again is layers and notes2 == notes


def test_saved_config_changes_the_scores(engine: Engine) -> None:
    base, _ = stored_layers(engine, view("guro", {"config": {}}))
    crime_only = {
        "config": {
            "weights": {
                k: 0.0
                for k in (  # every layer but crime (layer names of the pole model, issue 12)
                    "coverage_gap",
                    "population",
                    "one_person_households",
                    "lighting",
                    "requests",
                    "event_history",
                )
            }
        }
    }
    other, notes = stored_layers(engine, view("guro", crime_only))
    assert notes == [] and other is not base
    assert len({round(c[2], 6) for c in other.cells}) < len({round(c[2], 6) for c in base.cells})


def test_unknown_area_says_which(engine: Engine) -> None:
    with pytest.raises(LayersUnavailable, match="cannot load its area 'atlantis'"):
        stored_layers(engine, view("atlantis", {}))
