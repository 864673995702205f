"""Sparse coverage matrix against a dense distance check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from safecity.errors import InputError
from safecity.plan.coverage import coverage_matrix
from tests.unit.plan.factories import X0, Y0


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), radius=st.floats(10.0, 300.0))
def test_matches_dense_distances(seed: int, radius: float) -> None:
    rng = np.random.default_rng(seed)
    cells = np.column_stack([X0 + rng.uniform(0, 500, 40), Y0 + rng.uniform(0, 500, 40)])
    sites = np.column_stack([X0 + rng.uniform(0, 500, 30), Y0 + rng.uniform(0, 500, 30)])
    dense = cdist(cells, sites) <= radius
    assert (coverage_matrix(cells, sites, radius).toarray() > 0).tolist() == dense.tolist()


@pytest.mark.parametrize(
    ("cells", "sites", "match"),
    [
        ([[126.88, 37.49]], [[X0, Y0]], "demand cells.*degrees"),  # lon/lat given as demand cells
        ([[X0, Y0]], [[126.88, 37.49]], "candidate sites.*degrees"),  # lon/lat given as sites
    ],
)
def test_degrees_are_refused(cells: list[list[float]], sites: list[list[float]], match: str) -> None:
    with pytest.raises(InputError, match=match):
        coverage_matrix(np.array(cells), np.array(sites), 50.0)


def test_empty_inputs_give_empty_matrix() -> None:
    m = coverage_matrix(np.zeros((0, 2)), np.array([[X0, Y0]]), 50.0)
    assert m.shape == (0, 1) and m.nnz == 0
