"""Pure helpers of the plan routes: site keys, the comparison, the bounded priority grid."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from safecity.store.plans_read import PlanItemView, PlanView
from safecity.web.plan_views import compare_plans, priority_geojson, site_key, sites_of


def item(rank: int, lat: float, lon: float, **kw: object) -> PlanItemView:
    base: dict[str, object] = {
        "kind": "streetlight",
        "camera_type": "ptz",
        "n_cameras": 1,
        "cost_krw": 8e6,
        "priority": 2.0,
        "ref": None,
        "props": {},
    }
    return PlanItemView(rank=rank, lat=lat, lon=lon, **(base | kw))  # type: ignore[arg-type]


def view(pid: int, items: list[PlanItemView]) -> PlanView:
    return PlanView(
        pid,
        "sites",
        "guro",
        datetime(2026, 1, 1, tzinfo=UTC),
        1e8,
        5e7,
        "optimal",
        None,
        0.0,
        {},
        {},
        len(items),
        tuple(items),
    )


def test_items_at_one_position_are_one_site() -> None:
    items = [
        item(1, 37.5, 126.88),
        item(2, 37.5, 126.88, camera_type="fixed", n_cameras=2),
        item(3, 37.51, 126.88),
    ]
    sites = sites_of(items)
    assert list(sites) == ["37.50000,126.88000", "37.51000,126.88000"]
    first = sites["37.50000,126.88000"]
    assert (first.cameras, first.ptz, first.fixed, first.ranks, first.cost_krw) == (3, 1, 2, (1, 2), 16e6)
    assert first.site_kind == "streetlight" and first.value == 4.0


def test_replacements_are_keyed_by_record() -> None:
    a = item(1, 37.5, 126.88, kind="replacement", ref="cam-7")
    b = item(2, 37.5, 126.88, kind="replacement", ref="cam-8")
    assert site_key(a) != site_key(b) and len(sites_of([a, b])) == 2


def test_comparison_lists_are_bounded_but_counts_complete() -> None:
    a = view(1, [item(i + 1, 37.4 + i * 1e-3, 126.8) for i in range(30)])
    b = view(2, [item(i + 1, 37.6 + i * 1e-3, 126.8) for i in range(20)])
    d = compare_plans(a, b, limit=5)
    assert (d["n_added"], d["n_removed"], d["n_kept"]) == (20, 30, 0)
    assert len(d["added"]) == 5 and len(d["removed"]) == 5 and d["truncated"] is True
    assert d["delta"]["sites"] == -10


def test_priority_grid_merges_blocks_and_keeps_the_maximum() -> None:
    rng = random.Random(3)
    cells = [
        (37.45 + i * 0.0009, 126.82 + j * 0.00113, rng.uniform(0, 5)) for i in range(60) for j in range(60)
    ]
    cells.append((37.45, 126.82, 0.0))
    full = priority_geojson(cells, 100.0, max_cells=10_000)
    pts = full["features"][0]["geometry"]["coordinates"]
    assert len(pts) == 3600 and full["merged_factor"] == 1  # the zero cell is left out
    small = priority_geojson(cells, 100.0, max_cells=500)
    n = len(small["features"][0]["properties"]["scores"])
    assert 0 < n <= 500 and small["cell_m"] == 100.0 * small["merged_factor"]
    assert small["max_score"] == full["max_score"] == round(max(c[2] for c in cells), 4)
