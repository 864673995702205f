"""Each reduction of the pole model on a constructed case: what it drops and what it must keep."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial import cKDTree

from safecity.plan.geometry import CameraKind, option_coverage
from safecity.plan.poles import PoleProblem
from safecity.plan.reduce import (
    close_pairs,
    dominated_sites,
    merge_points,
    same_site_dominated,
    site_profit_bound,
)

X0, Y0 = 940_000.0, 1_940_000.0


def test_a_camera_seeing_a_subset_of_another_heading_is_dropped() -> None:
    # 180° cameras facing north and east: the point to the north-east is seen by both, the one to the
    # south-east only by the east-facing one, so "north" ⊂ "east" on these points
    kinds = [CameraKind("fixed", 80.0, 180.0, (0.0, 90.0), 1.0, 2)]
    pts = np.array([[X0 + 20, Y0 + 20], [X0 + 20, Y0 - 20]])
    opt = option_coverage(pts, np.array([[X0, Y0]]), kinds)
    drop = same_site_dominated(opt, opt.kind[: opt.slots], np.array([True, True]))
    assert drop.tolist() == [True, False]
    # with the south-east point worthless the two cameras see the same: only the later slot goes
    drop = same_site_dominated(opt, opt.kind[: opt.slots], np.array([True, False]))
    assert drop.tolist() == [False, True]


def _pair_problem(cost: tuple[float, float], n_max: int) -> PoleProblem:
    kinds = (CameraKind("dome", 50.0, 360.0, (), 1.0, 2),)  # two all-round cameras fit on one pole
    sites = np.array([[X0, Y0], [X0 + 2.0, Y0]])
    pts = np.array([[X0 + 10, Y0], [X0 + 45, Y0]])  # both poles see both points
    return PoleProblem(
        weights=np.ones(2),
        options=option_coverage(pts, sites, kinds),
        kinds=kinds,
        site_cost_krw=np.array(cost),
        site_xy=sites,
        budget_krw=10.0,
        max_cameras_per_site=n_max,
    )


def test_a_dearer_twin_pole_is_dropped_only_when_its_cameras_fit_on_the_other() -> None:
    prob = _pair_problem((5.0, 3.0), n_max=2)
    useful = np.arange(len(prob.options))
    a = prob.options.matrix
    assert dominated_sites(prob, useful, a, prob.site_xy, near_m=10.0).tolist() == [True, False]
    # one PTZ per pole: both poles' PTZs cannot move onto one pole, so nothing is dropped
    kinds = (CameraKind("ptz", 50.0, 360.0, (), 1.0, 1), CameraKind("fixed", 80.0, 90.0, (0.0, 90.0), 1.0, 1))
    prob2 = PoleProblem(
        weights=prob.weights,
        options=option_coverage(np.array([[X0 + 10, Y0]]), prob.site_xy, kinds),
        kinds=kinds,
        site_cost_krw=prob.site_cost_krw,
        site_xy=prob.site_xy,
        budget_krw=10.0,
        max_cameras_per_site=4,
    )
    useful2 = np.flatnonzero(np.asarray(prob2.options.matrix.sum(axis=0)).ravel() > 0)
    assert not dominated_sites(prob2, useful2, prob2.options.matrix, prob2.site_xy, 10.0).any()


def test_merge_points_sums_weights_of_identical_coverage() -> None:
    a = sp.csc_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 1, 0], [1, 1, 0]], dtype=float))
    m, w, g = merge_points(a, np.array([1.0, 2.0, 4.0, 8.0]))
    assert m.shape == (2, 3) and sorted(w.tolist()) == [4.0, 11.0]
    assert g[0] == g[1] == g[3] != g[2]


def test_site_profit_bound_is_exact_for_a_disc_and_disjoint_sectors() -> None:
    # one pole: PTZ worth 10 (cost 6), sectors worth 5 and 4 in all, 3 and 1 outside the disc (cost 2)
    site = np.array([0, 0, 0])
    kind = np.array([1, 0, 0])
    value = np.array([10.0, 5.0, 4.0])
    outer = np.array([10.0, 3.0, 1.0])
    cost = np.array([6.0, 2.0, 2.0])
    disc = np.array([True, False, False])
    caps = np.array([2, 1])
    got = site_profit_bound(site, kind, value, outer, cost, disc, caps, 3, np.array([4.0]), 1.0)
    # best: PTZ (10-6) + first sector outside the disc (3-2) = 5, minus the pole 4 -> 1;
    # sectors alone: (5-2) + (4-2) - 4 = 1; the bound is the larger, 1
    assert got.tolist() == [1.0]


@pytest.mark.parametrize(("n", "r"), [(500, 10.0), (2000, 3.0), (150, 60.0)])
def test_close_pairs_match_a_kd_tree(n: int, r: float) -> None:
    rng = np.random.default_rng(n)
    xy = np.round(rng.uniform(0, 400, (n, 2)), 0)  # integer metres: some pairs exactly r apart
    ref = np.sort(cKDTree(xy).query_pairs(r, output_type="ndarray"), axis=1)
    ref = ref[np.lexsort((ref[:, 1], ref[:, 0]))]
    assert np.array_equal(close_pairs(xy, r), ref)
