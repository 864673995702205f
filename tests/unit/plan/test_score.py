"""Score layers and their weighted combination."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from safecity.plan.config import LayerWeights
from safecity.plan.score import (
    LAYER_LABELS_KO,
    LAYERS,
    combine,
    count_within,
    coverage_gap,
    dark_and_active,
    request_counts,
    scaled,
)
from tests.unit.plan.factories import X0, Y0

CELLS = np.array([[X0, Y0], [X0 + 100, Y0], [X0 + 200, Y0]])


@pytest.mark.parametrize(
    ("cams", "radius", "expected"),
    [
        (np.zeros((0, 2)), 50.0, [1, 1, 1]),  # no camera anywhere: every cell is a gap
        (np.array([[X0 + 10, Y0]]), 50.0, [0, 1, 1]),  # one camera covers the first cell only
        (np.array([[X0 + 50, Y0]]), 50.0, [0, 0, 1]),  # exactly on the radius of two cells: both covered
        (np.array([[X0 + 100, Y0]]), 120.0, [0, 0, 0]),  # a wide radius covers all three
    ],
)
def test_coverage_gap(cams: np.ndarray, radius: float, expected: list[int]) -> None:
    assert coverage_gap(CELLS, cams, radius).tolist() == expected


def test_count_within_and_requests() -> None:
    pts = np.array([[X0, Y0 + 10], [X0 + 5, Y0], [X0 + 200, Y0 + 30]])
    assert count_within(CELLS, pts, 50.0).tolist() == [2, 0, 1]
    # a request 400 m away from every cell counts nowhere
    reqs = np.vstack([pts, [[X0 + 600, Y0]]])
    assert request_counts(CELLS, reqs, 100.0).tolist() == [2, 0, 1]


def test_combine_weights_and_lighting_is_not_a_cell_value() -> None:
    layers = {
        "coverage_gap": np.array([1.0, 0.0, 1.0]),
        "crime": np.array([0.0, 1.0, 0.5]),
        "lighting": np.array([1.0, 1.0, 1.0]),  # prices new poles (sites.py), not what a camera sees
    }
    out = combine(layers, LayerWeights(coverage_gap=3.0, crime=2.0, lighting=5.0))
    assert out.score.tolist() == [3.0, 2.0, 4.0]


def test_dark_and_active() -> None:
    act = np.array([1.0, 0.5, 1.0, 0.0])
    lights = np.array([0.0, 0.0, 2.0, 0.0])
    assert dark_and_active(act, lights, 4).tolist() == [1.0, 0.5, 0.5, 0.0]


def test_combine_rejects_unknown_layer() -> None:
    with pytest.raises(ValueError, match="unknown score layer"):
        combine({"bars": np.zeros(3)}, LayerWeights())


def test_layers_match_weights_fields() -> None:
    assert set(LAYERS) == set(LayerWeights.model_fields) == set(LAYER_LABELS_KO)


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=50))
def test_scaled_is_within_unit_interval(values: list[float]) -> None:
    s = scaled(values)
    assert ((s >= 0) & (s <= 1)).all()
    if max(values) > 0:
        assert s.max() == pytest.approx(1.0)
