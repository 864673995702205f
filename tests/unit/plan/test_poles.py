"""The reduced pole model (dominance, merged points, Lagrangian fixing, greedy warm start) has the same
optimum as the unreduced model handed straight to HiGHS, on seeded random instances."""

from __future__ import annotations

import numpy as np
import pytest

from safecity.errors import PlanningError
from safecity.plan.geometry import CameraKind, option_coverage
from safecity.plan.poles import PoleProblem, Progress, solve_poles

X0, Y0 = 940_000.0, 1_940_000.0
KINDS = (
    CameraKind("fixed", 80.0, 90.0, (0.0, 90.0, 180.0, 270.0), 3.0, 3),
    CameraKind("ptz", 50.0, 360.0, (), 6.5, 1),
)


def _instance(
    seed: int,
    n_pts: int = 60,
    n_sites: int = 12,
    span: float = 300.0,
    bonus: bool = False,
    kinds: tuple[CameraKind, ...] = KINDS,
    budget: float | None = None,
) -> PoleProblem:
    rng = np.random.default_rng(seed)
    pts = np.column_stack([X0 + rng.uniform(0, span, n_pts), Y0 + rng.uniform(0, span, n_pts)])
    # points on a 25 m lattice so that some share coverage sets (merging has work to do)
    pts = np.round(pts / 25.0) * 25.0
    sites = np.column_stack([X0 + rng.uniform(0, span, n_sites), Y0 + rng.uniform(0, span, n_sites)])
    sites[: n_sites // 4] = sites[n_sites // 4 : 2 * (n_sites // 4)] + rng.uniform(-3, 3, (n_sites // 4, 2))
    w = rng.integers(0, 5, n_pts).astype(float)
    cost = rng.choice([1.5, 6.0, 13.0], n_sites)
    opts = option_coverage(pts, sites, kinds)
    return PoleProblem(
        weights=w,
        options=opts,
        kinds=kinds,
        site_cost_krw=cost,
        site_xy=sites,
        budget_krw=float(budget if budget is not None else rng.uniform(15, 60)),
        max_cameras_per_site=3,
        site_value=rng.uniform(0, 3, n_sites) * (cost == 13.0) if bonus else None,
    )


@pytest.mark.parametrize("seed", range(12))
def test_reduced_model_has_the_unreduced_optimum(seed: int) -> None:
    prob = _instance(seed, bonus=seed % 2 == 1)
    ref = solve_poles(prob, mip_rel_gap=0.0, reduce=False)
    got = solve_poles(prob, mip_rel_gap=0.0)
    assert ref.proven_optimal and got.proven_optimal
    assert got.objective == pytest.approx(ref.objective, abs=1e-6)
    assert got.cost_krw <= prob.budget_krw + 1e-9
    assert got.bound >= got.objective - 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_overlapping_headings_and_dense_poles_keep_the_optimum(seed: int) -> None:
    kinds = (
        CameraKind("fixed", 70.0, 90.0, tuple(float(h) for h in range(0, 360, 45)), 3.0, 3),
        CameraKind("ptz", 40.0, 360.0, (), 6.5, 1),
    )
    prob = _instance(100 + seed, n_pts=80, n_sites=16, span=200.0, kinds=kinds)
    ref = solve_poles(prob, mip_rel_gap=0.0, reduce=False)
    got = solve_poles(prob, mip_rel_gap=0.0)
    assert got.objective == pytest.approx(ref.objective, abs=1e-6)


def test_camera_limits_hold_in_the_plan() -> None:
    prob = _instance(7, budget=200.0)
    res = solve_poles(prob, mip_rel_gap=0.0)
    o = prob.options
    per_site = np.bincount(o.site[res.chosen], minlength=prob.n_sites)
    ptz = np.bincount(o.site[res.chosen & (o.kind == 1)], minlength=prob.n_sites)
    assert per_site.max() <= prob.max_cameras_per_site and ptz.max() <= 1


def test_progress_is_reported_and_budget_below_one_pole_is_refused() -> None:
    prob = _instance(3)
    seen: list[Progress] = []
    solve_poles(prob, report=seen.append, report_every_s=0.0)
    assert seen[0].phase == "greedy" and seen[-1].phase == "done"
    assert seen[-1].gap <= 1e-3
    small = PoleProblem(
        weights=prob.weights,
        options=prob.options,
        kinds=prob.kinds,
        site_cost_krw=prob.site_cost_krw,
        site_xy=prob.site_xy,
        budget_krw=1.0,
    )
    with pytest.raises(PlanningError, match="below one pole"):
        solve_poles(small)


def test_without_branch_and_bound_the_greedy_plan_comes_with_the_lagrangian_bound() -> None:
    prob = _instance(5, n_pts=120, n_sites=20, budget=40.0)
    exact = solve_poles(prob, mip_rel_gap=0.0)
    quick = solve_poles(prob, mip_max_poles=1)  # as on Seoul: no MIP, the time goes to the bound
    assert quick.stats.lagrange_bound >= exact.objective - 1e-9  # a valid bound on the true optimum
    assert quick.bound == pytest.approx(max(quick.stats.lagrange_bound, quick.objective))
    assert quick.objective <= exact.objective + 1e-9 and quick.cost_krw <= prob.budget_krw + 1e-9
    assert quick.proven_optimal == (quick.gap <= 1e-3)
