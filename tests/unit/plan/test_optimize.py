"""SitingModel: exact optimum against brute force, budget/p/dong constraints, errors, invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safecity.errors import InputError, PlanningError
from safecity.plan.optimize import CameraOption, SitingModel
from tests.unit.plan.factories import X0, Y0, brute_force, random_instance

TWO_TYPES = [CameraOption("fixed", 60.0, 1.0, cameras=2), CameraOption("ptz", 120.0, 3.0, cameras=1)]
ONE_TYPE = [CameraOption("fixed", 80.0, 0.0, cameras=1)]


@pytest.mark.parametrize(
    ("seed", "options", "budget", "max_sites", "max_cameras"),
    [
        (0, TWO_TYPES, 6.0, None, 4),  # two types, budget binds
        (1, TWO_TYPES, 12.0, None, 4),  # larger budget
        (2, TWO_TYPES, 9.0, 2, 4),  # budget and at most 2 sites
        (3, TWO_TYPES, 20.0, None, 2),  # pole holds 2 cameras: fixed pair and PTZ exclude each other
        (4, ONE_TYPE, None, 2, 4),  # classic MCLP: p = 2, no budget (x and z merged)
        (5, ONE_TYPE, 4.0, None, 4),  # one type, budget on site costs only
    ],
)
def test_solve_matches_brute_force(
    seed: int, options: list[CameraOption], budget: float | None, max_sites: int | None, max_cameras: int
) -> None:
    cells, w, sites, cost = random_instance(seed)
    model = SitingModel.from_arrays(
        demand_xy=cells,
        weights=w,
        site_xy=sites,
        site_cost_krw=cost,
        options=options,
        budget_krw=budget,
        max_sites=max_sites,
        max_cameras_per_site=max_cameras,
    )
    res = model.solve(time_limit_s=10, mip_rel_gap=0.0)
    best = brute_force(cells, w, sites, cost, options, budget, max_sites, max_cameras)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best)
    if budget is not None:
        assert res.cost_krw <= budget + 1e-9
    if max_sites is not None:
        assert len(res.open_sites) <= max_sites
    cams = (res.chosen * np.array([o.cameras for o in options])).sum(axis=1)
    assert (cams <= max_cameras).all()


@pytest.mark.parametrize("seed", [0, 3, 7])  # random instances: two dongs, at least one site in each
def test_min_per_group_matches_brute_force(seed: int) -> None:
    cells, w, sites, cost = random_instance(seed, n_cells=10, n_sites=5)
    groups = ["A", "A", "B", "B", "B"]
    model = SitingModel.from_arrays(
        demand_xy=cells,
        weights=w,
        site_xy=sites,
        site_cost_krw=cost,
        options=TWO_TYPES,
        budget_krw=14.0,
        site_group=groups,
        min_sites_per_group=1,
    )
    res = model.solve(mip_rel_gap=0.0)
    best = brute_force(cells, w, sites, cost, TWO_TYPES, 14.0, groups=groups, min_per_group=1)
    assert res.objective == pytest.approx(best)
    open_ = res.chosen.any(axis=1)
    assert {groups[j] for j in np.flatnonzero(open_)} == {"A", "B"}


def test_min_per_group_forces_a_site_in_each_dong() -> None:
    # two clusters; all weight in cluster A, but dong B must still get one site
    cells = np.array([[X0, Y0], [X0 + 10, Y0], [X0 + 1000, Y0]])
    w = np.array([5.0, 5.0, 0.1])
    sites = np.array([[X0, Y0], [X0 + 5, Y0], [X0 + 1000, Y0]])
    model = SitingModel.from_arrays(
        demand_xy=cells,
        weights=w,
        site_xy=sites,
        site_cost_krw=[1.0, 1.0, 1.0],
        options=ONE_TYPE,
        max_sites=2,
        site_group=["A", "A", "B"],
        min_sites_per_group=1,
    )
    res = model.solve(mip_rel_gap=0.0)
    assert res.chosen[2, 0]
    assert res.objective == pytest.approx(10.1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"budget_krw": 0.5}, PlanningError, "too small for one camera"),  # cheapest is 1 + 1
        ({"site_xy": np.zeros((0, 2)), "site_cost_krw": np.zeros(0)}, PlanningError, "no candidate"),
        ({"site_xy": [[126.9, 37.5]]}, InputError, "look like degrees"),  # degrees where metres are needed
        ({"site_group": ["A"], "min_sites_per_group": 2, "budget_krw": 100.0}, PlanningError, "infeasible"),
        ({"max_sites": 0}, PlanningError, "max_sites"),
    ],
)
def test_bad_input_raises(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    base: dict[str, object] = {
        "demand_xy": [[X0, Y0]],
        "weights": [1.0],
        "site_xy": [[X0 + 1, Y0]],
        "site_cost_krw": [1.0],
        "options": [CameraOption("fixed", 50.0, 1.0)],
    }
    with pytest.raises(error, match=match):
        SitingModel.from_arrays(**(base | kwargs)).solve()  # type: ignore[arg-type]


def test_infeasible_mix_raises_planning_error() -> None:
    # each of two dongs needs a site but the budget pays for one
    model = SitingModel.from_arrays(
        demand_xy=[[X0, Y0], [X0 + 1000, Y0]],
        weights=[1.0, 1.0],
        site_xy=[[X0, Y0], [X0 + 1000, Y0]],
        site_cost_krw=[1.0, 1.0],
        options=[CameraOption("fixed", 50.0, 1.0)],
        budget_krw=2.5,
        site_group=["A", "B"],
        min_sites_per_group=1,
    )
    with pytest.raises(PlanningError, match="infeasible"):
        model.solve()


def test_redundant_options_are_not_bought() -> None:
    # two co-located sites, huge budget: the second adds nothing and must not be paid for
    model = SitingModel.from_arrays(
        demand_xy=[[X0, Y0]],
        weights=[1.0],
        site_xy=[[X0, Y0], [X0 + 1, Y0]],
        site_cost_krw=[1.0, 1.0],
        options=TWO_TYPES,
        budget_krw=100.0,
    )
    res = model.solve()
    assert res.chosen.sum() == 1
    assert res.objective == 1.0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), b1=st.integers(2, 15), extra=st.integers(0, 10))
def test_cost_within_budget_and_objective_monotone(seed: int, b1: int, extra: int) -> None:
    cells, w, sites, cost = random_instance(seed, n_cells=15, n_sites=6)
    results = []
    for budget in (float(b1), float(b1 + extra)):
        try:
            model = SitingModel.from_arrays(
                demand_xy=cells,
                weights=w,
                site_xy=sites,
                site_cost_krw=cost,
                options=TWO_TYPES,
                budget_krw=budget,
            )
            res = model.solve(mip_rel_gap=0.0)
        except PlanningError:
            results.append(None)
            continue
        assert res.cost_krw <= budget + 1e-9
        assert res.objective == pytest.approx(float(w[res.covered].sum()))
        results.append(res.objective)
    if results[0] is not None and results[1] is not None:
        assert results[1] >= results[0] - 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])  # three random non-nested instances
def test_non_nested_coverage_uses_full_model(seed: int) -> None:
    import itertools

    rng = np.random.default_rng(seed)
    n, m = 8, 4
    covs = [(rng.random((n, m)) < 0.35).astype(float) for _ in range(2)]
    w = rng.integers(1, 5, n).astype(float)
    s = rng.integers(1, 4, m).astype(float)
    opts = [CameraOption("a", 1.0, 1.0, cameras=2), CameraOption("b", 1.0, 2.0, cameras=2)]
    model = SitingModel.from_coverage(
        weights=w, coverage=covs, options=opts, site_cost_krw=s, budget_krw=7.0, max_cameras_per_site=3
    )
    assert not model.nested
    res = model.solve(mip_rel_gap=0.0)
    best = 0.0
    for combo in itertools.product(
        range(3), repeat=m
    ):  # 0 none, 1 type a, 2 type b (a+b needs 4 > 3 cameras)
        cost = sum(s[j] + opts[c - 1].option_cost_krw for j, c in enumerate(combo) if c)
        if cost <= 7.0:
            cov = np.zeros(n, dtype=bool)
            for j, c in enumerate(combo):
                if c:
                    cov |= covs[c - 1][:, j] > 0
            best = max(best, float(w[cov].sum()))
    assert res.objective == pytest.approx(best)
    assert res.cost_krw <= 7.0


def _gdfs(crs_d: str | None, crs_s: str | None) -> tuple[object, object]:
    import geopandas as gpd

    d = gpd.GeoDataFrame({"w": [1.0, 2.0]}, geometry=gpd.points_from_xy([X0, X0 + 300], [Y0, Y0]), crs=crs_d)
    s = gpd.GeoDataFrame({"c": [1.0]}, geometry=gpd.points_from_xy([X0 + 290], [Y0]), crs=crs_s)
    return d, s


def test_from_geodataframes_solves_projected() -> None:
    d, s = _gdfs("EPSG:5179", "EPSG:5179")
    model = SitingModel.from_geodataframes(
        d, s, weight_col="w", site_cost_col="c", options=ONE_TYPE, max_sites=1
    )
    assert model.solve().objective == 2.0


@pytest.mark.parametrize(
    ("crs_d", "crs_s", "match"),
    [
        ("EPSG:4326", "EPSG:4326", "projected CRS"),  # degrees
        (None, "EPSG:5179", "projected CRS"),  # no CRS at all
        ("EPSG:5179", "EPSG:5186", "share one CRS"),  # two different projected CRSs
    ],
)
def test_from_geodataframes_checks_crs(crs_d: str | None, crs_s: str | None, match: str) -> None:
    d, s = _gdfs(crs_d, crs_s)
    with pytest.raises(InputError, match=match):
        SitingModel.from_geodataframes(d, s, weight_col="w", options=ONE_TYPE)


def test_min_per_group_counts_sites_not_options() -> None:
    # dong A has one candidate site; fixed + PTZ there are two options but only one site
    model = SitingModel.from_arrays(
        demand_xy=[[X0, Y0], [X0 + 1000, Y0]],
        weights=[1.0, 1.0],
        site_xy=[[X0, Y0], [X0 + 1000, Y0]],
        site_cost_krw=[1.0, 1.0],
        options=TWO_TYPES,
        budget_krw=100.0,
        site_group=["A", "B"],
        min_sites_per_group=2,
    )
    with pytest.raises(PlanningError, match="dong A has 1 useful candidate site"):
        model.solve()


def test_min_per_group_needs_distinct_sites() -> None:
    # dong A: a cheap site and a dear one; two sites are required, two options at the cheap one do not count
    model = SitingModel.from_arrays(
        demand_xy=[[X0, Y0], [X0 + 2000, Y0]],
        weights=[1.0, 1.0],
        site_xy=[[X0, Y0], [X0 + 2000, Y0]],
        site_cost_krw=[1.0, 50.0],
        options=TWO_TYPES,
        budget_krw=200.0,
        site_group=["A", "A"],
        min_sites_per_group=2,
    )
    res = model.solve(mip_rel_gap=0.0)
    assert res.chosen.any(axis=1).tolist() == [True, True]
