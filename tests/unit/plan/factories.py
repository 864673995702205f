"""Small planning instances for tests: points in EPSG:5179 metres near Guro."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from safecity.plan.coverage import coverage_matrix
from safecity.plan.optimize import CameraOption

X0, Y0 = 940_000.0, 1_940_000.0  # metres, inside Guro's EPSG:5179 range

F64 = npt.NDArray[np.float64]


def random_instance(
    seed: int, n_cells: int = 10, n_sites: int = 5, span_m: float = 300.0
) -> tuple[F64, F64, F64, F64]:
    """(cells_xy, weights, sites_xy, site_costs) with integer weights and costs, seeded."""
    rng = np.random.default_rng(seed)
    cells = np.column_stack([X0 + rng.uniform(0, span_m, n_cells), Y0 + rng.uniform(0, span_m, n_cells)])
    sites = np.column_stack([X0 + rng.uniform(0, span_m, n_sites), Y0 + rng.uniform(0, span_m, n_sites)])
    weights = rng.integers(0, 6, n_cells).astype(float)
    costs = rng.integers(1, 4, n_sites).astype(float)
    return cells, weights, sites, costs


def brute_force(
    cells: F64,
    weights: F64,
    sites: F64,
    site_cost: F64,
    options: Sequence[CameraOption],
    budget: float | None,
    max_sites: int | None = None,
    max_cameras: int = 4,
    groups: Sequence[str] | None = None,
    min_per_group: int = 0,
) -> float:
    """Best covered weight by enumerating every subset of options at every site."""
    covs = [coverage_matrix(cells, sites, o.radius_m).toarray() > 0 for o in options]
    n_types = len(options)
    subsets = list(itertools.product([False, True], repeat=n_types))
    best = 0.0
    for combo in itertools.product(range(len(subsets)), repeat=len(sites)):
        chosen = np.array([subsets[c] for c in combo], dtype=bool).reshape(len(sites), n_types)
        cams = (chosen * np.array([o.cameras for o in options])).sum(axis=1)
        if (cams > max_cameras).any():
            continue
        open_ = chosen.any(axis=1)
        if max_sites is not None and open_.sum() > max_sites:
            continue
        if groups is not None and any(
            sum(1 for j in range(len(sites)) if open_[j] and groups[j] == g) < min_per_group
            for g in set(groups)
        ):
            continue
        cost = float(site_cost[open_].sum()) + float((chosen * [o.option_cost_krw for o in options]).sum())
        if budget is not None and cost > budget + 1e-9:
            continue
        covered = np.zeros(len(cells), dtype=bool)
        for t in range(n_types):
            covered |= covs[t][:, chosen[:, t]].any(axis=1)
        best = max(best, float(weights[covered].sum()))
    return best
