"""The exact Lagrangian bound per component: never below the unreduced optimum, enumeration equal to
HiGHS on every component, plans from the knapsack feasible, and the reduced model proven within the
gap on seeded random instances."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp

from safecity.plan.geometry import CameraKind, option_coverage
from safecity.plan.lagrange import InnerModel, knapsack_plan, lagrangian_search, solve_inner
from safecity.plan.poles import PoleProblem, solve_poles

X0, Y0 = 940_000.0, 1_940_000.0
KINDS = (
    CameraKind("fixed", 80.0, 60.0, (0.0, 60.0, 120.0, 180.0, 240.0, 300.0), 3.0, 3),
    CameraKind("ptz", 50.0, 360.0, (), 6.5, 1),
)


def _instance(seed: int, n_pts: int = 120, n_sites: int = 24, span: float = 400.0) -> PoleProblem:
    rng = np.random.default_rng(seed)
    pts = (
        np.round(np.column_stack([X0 + rng.uniform(0, span, n_pts), Y0 + rng.uniform(0, span, n_pts)]) / 25.0)
        * 25.0
    )
    sites = np.column_stack([X0 + rng.uniform(0, span, n_sites), Y0 + rng.uniform(0, span, n_sites)])
    cost = rng.choice([1.5, 6.0, 13.0], n_sites)
    return PoleProblem(
        weights=rng.integers(0, 5, n_pts).astype(float),
        options=option_coverage(pts, sites, KINDS),
        kinds=KINDS,
        site_cost_krw=cost,
        site_xy=sites,
        budget_krw=float(rng.uniform(20, 70)),
        max_cameras_per_site=4,
        site_value=rng.uniform(0, 3, n_sites) * (cost == 13.0) if seed % 2 else None,
    )


def _model(prob: PoleProblem) -> InnerModel:
    o = prob.options
    a = sp.csc_matrix(o.matrix)
    w = np.asarray(prob.weights, dtype=np.float64)
    value = np.asarray(a.T @ w).ravel()
    inner = np.asarray(sp.csc_matrix(o.inner).T @ w).ravel()
    return InnerModel(
        a=a,
        w=w,
        site=o.site,
        kind=o.kind,
        cost=prob.option_cost,
        disc=np.array([k.is_disc for k in prob.kinds])[o.kind],
        value=value,
        value_out=value - inner,
        site_cost=prob.site_cost_krw,
        bonus=prob.bonus,
        caps=np.array([k.max_per_site for k in prob.kinds], dtype=np.int64),
        n_max=prob.max_cameras_per_site,
        budget=prob.budget_krw,
    )


@pytest.mark.parametrize("seed", range(8))
def test_bound_never_below_the_unreduced_optimum_and_enumeration_equals_highs(seed: int) -> None:
    prob = _instance(seed)
    opt = solve_poles(prob, mip_rel_gap=0.0, reduce=False)
    assert opt.proven_optimal
    model = _model(prob)
    far = time.perf_counter() + 600
    for lam in (0.05, 0.2, 0.5, 1.0):
        by_enum = solve_inner(model, lam, far)
        by_mip = solve_inner(model, lam, far, enum_max_poles=0)
        assert by_enum.exact and by_mip.exact
        assert by_enum.bound == pytest.approx(by_mip.bound, abs=1e-5)
        assert by_enum.bound >= opt.objective - 1e-6
        # the solution found earns exactly the bound: L(λ) = λB + value − λ·cost
        assert lam * prob.budget_krw + by_enum.value - lam * by_enum.cost == pytest.approx(
            by_enum.bound, abs=1e-5
        )


@pytest.mark.parametrize("seed", range(4))
def test_past_the_deadline_the_bound_stays_valid(seed: int) -> None:
    prob = _instance(20 + seed, n_pts=200, n_sites=40, span=300.0)
    opt = solve_poles(prob, mip_rel_gap=0.0, reduce=False)
    model = _model(prob)
    late = solve_inner(model, 0.1, time.perf_counter() - 1.0, enum_max_poles=0)
    assert late.bound >= opt.objective - 1e-6
    assert not late.exact or late.bound == pytest.approx(
        solve_inner(model, 0.1, time.perf_counter() + 600).bound, abs=1e-5
    )


@pytest.mark.parametrize("seed", range(6))
def test_knapsack_plan_is_feasible_and_the_search_brackets_the_optimum(seed: int) -> None:
    prob = _instance(40 + seed)
    opt = solve_poles(prob, mip_rel_gap=0.0, reduce=False)
    model = _model(prob)
    res = lagrangian_search(model, 0.3, deadline=time.perf_counter() + 600, max_solves=10)
    assert res.best_bound >= opt.objective - 1e-6
    plan = knapsack_plan(model, res.solves, time.perf_counter() + 600)
    assert model.plan_cost(plan) <= prob.budget_krw + 1e-9
    assert model.plan_value(plan) <= opt.objective + 1e-6
    sites = np.unique(model.site[plan])
    per_site = np.bincount(model.site[plan], minlength=prob.n_sites)
    assert per_site[sites].max(initial=0) <= prob.max_cameras_per_site


@pytest.mark.parametrize("seed", range(8))
def test_reduced_solve_proves_within_the_gap_and_its_bound_covers_the_optimum(seed: int) -> None:
    prob = _instance(60 + seed, n_pts=300, n_sites=60, span=600.0)
    ref = solve_poles(prob, mip_rel_gap=0.0, reduce=False)
    got = solve_poles(prob, mip_rel_gap=1e-3)
    assert got.proven_optimal
    assert got.bound >= ref.objective - 1e-6
    assert got.objective >= ref.objective * (1 - 1e-3) - 1e-9
    assert got.cost_krw <= prob.budget_krw + 1e-9


@pytest.mark.parametrize("seed", range(3))
def test_at_a_spent_time_limit_the_plan_is_feasible_and_its_bound_valid(seed: int) -> None:
    prob = _instance(80 + seed, n_pts=300, n_sites=60, span=600.0)
    ref = solve_poles(prob, mip_rel_gap=0.0, reduce=False)
    got = solve_poles(prob, time_limit_s=1e-3, mip_rel_gap=1e-3)
    assert got.cost_krw <= prob.budget_krw + 1e-9
    assert got.objective <= ref.objective + 1e-6
    assert got.bound >= ref.objective - 1e-6  # possibly infinite: then the plan is not proven
    assert got.proven_optimal == (got.gap <= 1e-3 + 1e-9)
