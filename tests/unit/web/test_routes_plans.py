"""The plan routes: listing, one plan, downloads, comparison, priority layer; ids, roles and audit."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from safecity.plan.store_io import save_plan
from safecity.plan.types import Plan, PlanItem
from safecity.web import plan_layers
from tests.unit.web.conftest import Env

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def site(
    lat: float, lon: float, *, dong: str, value: float, fixed_headings: tuple[int, ...] = ()
) -> dict[str, Any]:
    cams: list[dict[str, Any]] = [{"type": "ptz", "heading_deg": None, "range_m": 100.0, "fov_deg": None}]
    cams += [{"type": "fixed", "heading_deg": h, "range_m": 50.0, "fov_deg": 90.0} for h in fixed_headings]
    return {
        "lat": lat,
        "lon": lon,
        "props": {
            "explain": {
                "layers": {
                    "coverage_gap": value * 0.6,
                    "population": value * 0.3,
                    "event_history": value * 0.1,
                },
                "dong": dong,
                "value": value,
                "points_covered": int(value * 3),
            },
            "cameras": cams,
            "cost_lines": [{"item": "new_pole", "krw": 13e6}, {"item": "ptz", "krw": 6.5e6}]
            + ([{"item": "fixed", "krw": 3e6 * len(fixed_headings)}] if fixed_headings else []),
            "site_kind": "new_pole",
            "lights_added": 1,
        },
    }


S1 = site(37.4954, 126.8874, dong="구로3동", value=9.0, fixed_headings=(45, 225))
S2 = site(37.5012, 126.8601, dong="개봉1동", value=7.0)
S3 = site(37.4870, 126.9011, dong="가리봉동", value=5.0, fixed_headings=(90,))
S4 = site(37.4990, 126.8700, dong="고척2동", value=6.0)


def make_plan(
    sites: list[dict[str, Any]], *, proven: bool = True, area: str = "guro", hours: int = 0
) -> Plan:
    items = tuple(
        PlanItem(
            rank=i + 1,
            kind="new_pole",
            lat=s["lat"],
            lon=s["lon"],
            camera_type="ptz",
            n_cameras=len(s["props"]["cameras"]),
            cost_krw=sum(x["krw"] for x in s["props"]["cost_lines"]),
            priority=s["props"]["explain"]["value"],
            ref=f"s{i}",
            props=s["props"],
        )
        for i, s in enumerate(sites)
    )
    value = sum(s["props"]["explain"]["value"] for s in sites)
    return Plan(
        kind="sites",
        area=area,
        area_name="구로구",
        created_at=T0 + timedelta(hours=hours),
        budget_krw=1.22e9,
        cost_krw=sum(it.cost_krw for it in items),
        status="optimal" if proven else "time_limit",
        objective=value,
        mip_gap=0.0 if proven else 0.032,
        params={},
        summary={"proven_optimal": proven, "gap": 0.0 if proven else 0.032, "covered_priority": value},
        items=items,
    )


def old_plan() -> Plan:
    """A plan saved before sites were explained: per-type items, radius_m only."""
    items = tuple(
        PlanItem(
            r,
            "existing_site",
            37.49 + r * 1e-3,
            126.88,
            "ptz",
            1,
            8e6,
            3.0 / r,
            f"site:{r}",
            {"radius_m": 100},
        )
        for r in (1, 2)
    )
    return Plan(
        "sites", "guro", "구로구", T0, 1e8, 1.6e7, "optimal", 4.5, 0.0006, {}, {"cost_due_krw": 1.0}, items
    )


@pytest.fixture
def ids(env: Env) -> dict[str, int]:
    e = env.services.engine
    return {
        "a": save_plan(e, make_plan([S1, S2, S3], hours=1)),
        "b": save_plan(e, make_plan([S1, S3, S4], proven=False, hours=2)),
        "old": save_plan(e, old_plan()),
    }


def test_list_and_get_plan_audited(env: Env, ids: dict[str, int]) -> None:
    h = env.bearer("viewer")
    listing = env.client.get("/api/plans", headers=h).json()["plans"]
    assert [p["id"] for p in listing] == [ids["b"], ids["a"], ids["old"]]  # newest first
    assert all("items" not in p for p in listing)
    p = env.client.get(f"/api/plans/{ids['a']}", headers=h).json()
    assert [i["rank"] for i in p["items"]] == [1, 2, 3]
    assert p["items"][0]["props"]["explain"]["dong"] == "구로3동"
    assert p["summary"]["area_name"] == "구로구"
    actions = {(e["action"], e["target_id"]) for e in env.audit(username="viewer")}
    assert ("list_plans", "*") in actions and ("view_plan", str(ids["a"])) in actions


@pytest.mark.parametrize(
    "path",
    [
        "/api/plans/{id}",
        "/api/plans/{id}/download/geojson",
        "/api/plans/{id}/priority",
    ],
)
@pytest.mark.parametrize(
    ("bad", "status"), [("0", 422), ("-3", 422), (str(2**63), 422), ("abc", 422), ("999999", 404)]
)
def test_bad_ids_are_422_or_404_never_500(env: Env, path: str, bad: str, status: int) -> None:
    r = env.client.get(path.format(id=bad), headers=env.bearer("viewer"))
    assert r.status_code == status, r.text
    if status == 404:
        assert r.json()["detail"] == "no plan with id 999999; GET /api/plans lists the saved plans"
    else:
        assert "plan_id" in r.json()["message"]


def test_largest_id_is_accepted_and_missing(env: Env) -> None:
    r = env.client.get(f"/api/plans/{2**63 - 1}", headers=env.bearer("viewer"))
    assert r.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/plans",
        "/api/plans/1",
        "/api/plans/1/download/csv",
        "/api/plans/compare?a=1&b=2",
        "/api/plans/1/priority",
    ],
)
def test_every_plan_route_needs_a_login(env: Env, path: str) -> None:
    assert env.client.get(path).status_code == 401


def test_download_geojson_csv_html(env: Env, ids: dict[str, int]) -> None:
    h = env.bearer("operator")
    a = ids["a"]
    r = env.client.get(f"/api/plans/{a}/download/geojson", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert r.headers["content-disposition"] == f'attachment; filename="safecity-plan-{a}-sites-guro.geojson"'
    gj = r.json()
    assert gj["features"][0]["geometry"]["coordinates"] == [126.8874, 37.4954]
    assert gj["features"][0]["properties"]["cameras"][1]["heading_deg"] == 45
    assert gj["plan"]["summary"]["proven_optimal"] is True

    r = env.client.get(f"/api/plans/{a}/download/csv", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads Hangul as UTF-8
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["rank"] for r in rows] == ["1", "2", "3"]
    assert json.loads(rows[1]["props"])["explain"]["dong"] == "개봉1동"

    plan_layers.clear_cache()
    r = env.client.get(f"/api/plans/{a}/download/html", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "SafecityPlanDraw" in page and "L.map(" in page and "<script src=" not in page
    assert "최적 증명됨" in page and "구로3동" in page and "방범 공백 coverage gap" in page
    assert "12억 2,000만 원" in page  # the budget as a planner reads it
    downloads = [(e["target_id"], e["detail"]) for e in env.audit(action="download_plan")]
    assert sorted(downloads) == sorted([(str(a), "csv"), (str(a), "geojson"), (str(a), "html")])


def test_download_unknown_format_is_422(env: Env, ids: dict[str, int]) -> None:
    r = env.client.get(f"/api/plans/{ids['a']}/download/xlsx", headers=env.bearer("viewer"))
    assert r.status_code == 422 and "fmt" in r.json()["message"]


def test_compare_added_removed_kept_and_figures(env: Env, ids: dict[str, int]) -> None:
    h = env.bearer("viewer")
    r = env.client.get("/api/plans/compare", params={"a": ids["a"], "b": ids["b"]}, headers=h)
    assert r.status_code == 200, r.text
    d = r.json()
    assert (d["n_added"], d["n_removed"], d["n_kept"]) == (1, 1, 2)
    assert [s["dong"] for s in d["added"]] == ["고척2동"] and [s["dong"] for s in d["removed"]] == ["개봉1동"]
    assert d["a"]["value"] == 21.0 and d["b"]["value"] == 20.0 and d["delta"]["value"] == -1.0
    assert d["a"]["points_covered"] == 63 and d["b"]["points_covered"] == 60
    assert d["a"]["proven_optimal"] is True and d["b"]["proven_optimal"] is False
    assert (d["a"]["ptz"], d["a"]["fixed"]) == (3, 3)
    assert d["delta"]["cost_krw"] == pytest.approx(d["b"]["cost_krw"] - d["a"]["cost_krw"])
    entry = env.audit(action="compare_plans")[0]
    assert entry["target_id"] == f"{ids['a']}..{ids['b']}" and entry["detail"] == "+1 -1 =2"


def test_compare_with_an_old_plan_and_bad_pairs(env: Env, ids: dict[str, int]) -> None:
    h = env.bearer("viewer")
    d = env.client.get("/api/plans/compare", params={"a": ids["old"], "b": ids["a"]}, headers=h).json()
    assert (d["n_added"], d["n_removed"], d["n_kept"]) == (3, 2, 0)
    assert d["a"]["points_covered"] is None and d["a"]["value"] == 4.5 and d["a"]["ptz"] == 2
    r = env.client.get("/api/plans/compare", params={"a": ids["a"], "b": ids["a"]}, headers=h)
    assert r.status_code == 422 and "two different plans" in r.json()["detail"]
    r = env.client.get("/api/plans/compare", params={"a": ids["a"], "b": 424242}, headers=h)
    assert r.status_code == 404 and "424242" in r.json()["detail"]
    r = env.client.get("/api/plans/compare", params={"a": 0, "b": ids["a"]}, headers=h)
    assert r.status_code == 422 and "query.a" in r.json()["message"]
    assert env.client.get("/api/plans/compare", params={"a": ids["a"]}, headers=h).status_code == 422


def test_priority_layer_is_bounded_geojson(env: Env, ids: dict[str, int]) -> None:
    plan_layers.clear_cache()
    h = env.bearer("viewer")
    r = env.client.get(f"/api/plans/{ids['a']}/priority", headers=h)
    assert r.status_code == 200, r.text
    g = r.json()
    geom = g["features"][0]["geometry"]
    scores = g["features"][0]["properties"]["scores"]
    assert geom["type"] == "MultiPoint" and len(geom["coordinates"]) == len(scores) > 1000
    assert g["n_cells"] == 1982 and g["merged_factor"] == 1 and g["cell_m"] == 100.0
    assert max(scores) == g["max_score"] > 0 and min(scores) > 0
    lon, lat = geom["coordinates"][0]
    assert 126.8 < lon < 126.92 and 37.47 < lat < 37.52  # Guro
    assert g["notes"] == ["the plan saved no config; the default weights were used"]
    small = env.client.get(f"/api/plans/{ids['a']}/priority", params={"max_cells": 200}, headers=h).json()
    n = len(small["features"][0]["properties"]["scores"])
    assert n <= 200 and small["merged_factor"] > 1 and small["max_score"] == g["max_score"]
    r = env.client.get(f"/api/plans/{ids['a']}/priority", params={"max_cells": 10}, headers=h)
    assert r.status_code == 422 and "max_cells" in r.json()["message"]
    assert env.audit(action="view_plan_priority")[0]["detail"] == "1982 cells"


def test_priority_of_an_unknown_area_is_503_with_the_reason(env: Env) -> None:
    pid = save_plan(env.services.engine, make_plan([S1], area="atlantis"))
    r = env.client.get(f"/api/plans/{pid}/priority", headers=env.bearer("viewer"))
    assert r.status_code == 503 and "atlantis" in r.json()["detail"]
    # the HTML report still downloads, without outlines, saying why
    r = env.client.get(f"/api/plans/{pid}/download/html", headers=env.bearer("viewer"))
    assert r.status_code == 200 and "no priority cells or outlines" in r.text
