"""The HTML report's wording and explanations (files and the store: test_report_store)."""

from __future__ import annotations

import dataclasses
import doctest
import json
import re

import pytest

from safecity.plan import report
from safecity.plan.report import fmt_won, plan_html, proof_text
from safecity.plan.types import MapLayers, Plan, PlanItem
from tests.unit.web.test_routes_plans import S1, S3, make_plan

LAYERS = MapLayers(
    area_geojson={"type": "FeatureCollection", "features": []},
    dong_geojson={"type": "FeatureCollection", "features": []},
    cells=((37.49, 126.88, 1.5), (37.491, 126.88, 0.5)),
    cell_size_m=100.0,
    existing=(),
)


def test_doctests() -> None:
    result = doctest.testmod(report)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    ("krw", "text"),
    [
        (321_000_000, "3억 2,100만 원"),
        (1.22e9, "12억 2,000만 원"),
        (1e8, "1억 원"),
        (199_999_999, "2억 원"),  # rounds to 만 without "1억 10,000만"
        (23e6, "2,300만 원"),
        (9_999, "9,999 원"),
        (-5e8, "−5억 원"),
        (float("nan"), "–"),
    ],
)
def test_fmt_won(krw: float, text: str) -> None:
    assert fmt_won(krw) == text


def _data(page: str) -> dict[str, object]:
    m = re.search(r'<script type="application/json" id="plan-data">(.*?)</script>', page, re.S)
    assert m is not None
    return dict(json.loads(m.group(1)))


def test_html_explains_sites_and_says_proven() -> None:
    page = plan_html(make_plan([S1, S3]), LAYERS)
    assert "최적 증명됨 · proven optimal" in page and 'class="proof ok"' in page
    assert "구로3동" in page and "방범 공백 coverage gap" in page and "회전형 PTZ, 고정형 fixed 45°" in page
    assert "12억 2,000만 원" in page and "+1 보안등 light" in page
    assert "window.SafecityPlanDraw" in page  # the console's drawing script, inlined
    items = _data(page)["items"]
    assert isinstance(items, list) and items[0]["props"]["cameras"][1]["heading_deg"] == 45
    for raw in ("mip_gap", "cost_due_krw", "wall_s"):
        assert raw not in page.split('id="plan-data"')[0].split("summary (raw)")[0]


def test_html_says_loudly_when_not_proven_and_shows_notes() -> None:
    page = plan_html(make_plan([S1], proven=False), LAYERS, notes=["rebuilt with default weights"])
    assert "최적 미증명 · NOT proven optimal — gap 3.2%" in page and 'class="proof bad"' in page
    assert "<p class='note'>rebuilt with default weights</p>" in page


def test_html_mix_against_guro_2024() -> None:
    plan = make_plan([S1, S3])
    plan = dataclasses.replace(
        plan, summary={**plan.summary, "guro_2024": {"cameras": 126, "sites": 54, "ptz": 35, "fixed": 91}}
    )
    page = plan_html(plan, LAYERS)
    mix = page[page.index("<table class='mix'>") :].split("</table>")[0]
    assert "구로 2024 Guro" in mix and "<td>2.5</td><td>2.3</td>" in mix  # 5 cameras / 2 sites vs 126 / 54


def test_replacement_rows_show_year_resolution_reason() -> None:
    item = PlanItem(
        1,
        "replacement",
        37.49,
        126.88,
        "fixed",
        2,
        3.8e6,
        1.2,
        "r-1",
        {"install_year": 2011, "resolution": "0.4 MP", "reason": "age+resolution", "address": "구로동 1"},
    )
    old = dataclasses.replace(
        item, rank=2, props={"installed_ym": "2009-05", "megapixels": 1.3, "reason": "age"}
    )
    plan = Plan(
        "replace",
        "guro",
        "구로구",
        make_plan([S1]).created_at,
        1e7,
        7.6e6,
        "optimal",
        2.0,
        0.0,
        {},
        {},
        (item, old),
    )
    page = plan_html(plan, LAYERS)
    assert "<td>2011</td><td>0.4 MP</td><td>내용연수 초과 + 저해상도 · old and low resolution</td>" in page
    assert "<td>2009</td><td>1.3 MP</td><td>내용연수 초과 · past service life</td>" in page


def test_proof_text_of_old_plans_uses_status() -> None:
    plan = dataclasses.replace(make_plan([S1]), summary={}, status="feasible", mip_gap=3.467)
    assert proof_text(plan) == (
        False,
        "최적 미증명 · NOT proven optimal — gap 346.7% (해 있음 · feasible solution)",
    )


def test_dong_codes_of_older_plans_read_as_names() -> None:
    item = PlanItem(1, "existing_site", 37.49, 126.88, "ptz", 1, 8e6, 2.5, "site:1", {"dong": "1117054"})
    plan = dataclasses.replace(make_plan([S1]), items=(item,), summary={})
    dongs = {
        "type": "FeatureCollection",
        "features": [{"properties": {"code": "1117054", "name": "구로3동"}}],
    }
    page = plan_html(plan, dataclasses.replace(LAYERS, dong_geojson=dongs))
    assert "<td>기존 설치 지점 existing site</td><td>구로3동</td>" in page
