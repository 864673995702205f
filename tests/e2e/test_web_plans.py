"""End to end: the console's plans page in headless Debian chromium through Playwright.

Three Guro plans (a proven site plan A, an unproven cheaper plan B, a replacement plan) are saved
through the planner's own ``save_plan`` (see ``guro_plans``); ``safecity serve`` reads them from
SQLite. A viewer sees the legend and the priority layer, opens a site's explanation, downloads the
plan as GeoJSON, compares A with B (sites added / removed), sees B's missing proof, and the admin
finds the download in the audit log. Screenshots go to ``var/screenshots/`` (look at them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.guro_plans import save_guro_plans, site_pool
from tests.e2e.harness import SHOTS, chromium, login, serve

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORDS = {"admin": "admin-e2e-pass", "viewer": "viewer-e2e-pass"}


@dataclass
class Server:
    url: str
    ids: dict[str, int]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from safecity.store.db import connect
    from safecity.store.users import UserStore

    home = tmp_path_factory.mktemp("e2e-plans")
    engine = connect(f"sqlite:///{home / 'safecity.db'}")
    users = UserStore(engine)
    for name, pw in PASSWORDS.items():
        users.add_user(name, pw, name)
    ids = save_guro_plans(engine)
    engine.dispose()
    with serve(home) as url:
        yield Server(url, ids)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


def _login(browser: object, server: Server, user: str, path: str) -> object:
    return login(
        browser,
        server.url,
        user,
        PASSWORDS[user],
        path=path,
        viewport={"width": 1600, "height": 1000},
        timezone_id="Asia/Seoul",
        accept_downloads=True,
    )


def test_plans_page_legend_explanation_download_comparison(server: Server, browser: object) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    a, b = server.ids["a"], server.ids["b"]
    page = _login(browser, server, "viewer", f"/plans?plan={a}")
    page.wait_for_function(f"() => document.body.dataset.planReady === '{a}'", timeout=60_000)
    legend = page.locator("#plan-legend")
    assert legend.is_visible()
    text = legend.inner_text()
    assert "회전형 PTZ" in text and "고정형 fixed" in text and "우선순위 priority" in text
    proof = page.locator("#proof")
    assert proof.get_attribute("data-proven") == "true" and "최적 증명됨" in proof.inner_text()
    detail = page.locator("#plan-detail").inner_text()
    assert "12억 2,000만 원" in detail  # the budget, formatted the Korean way
    for raw in ("cost_due_krw", "wall_s", "mip_gap", "covered_priority"):
        assert raw not in detail
    assert "구로 2024 Guro" in page.locator("#mix").inner_text()
    page.screenshot(path=str(SHOTS / "plans-guro.png"))

    # a site's explanation: the best site's popup lists its layer contributions, dong, cameras, costs
    page.locator("#site-rows tbody tr").first.click()
    popup = page.locator(".plan-popup .plan-pop")
    popup.wait_for(timeout=10_000)
    best = max(site_pool()[:54], key=lambda s: s.value)
    ptext = popup.inner_text()
    assert best.dong in ptext and "선정 이유" in ptext and "합계 total" in ptext
    assert popup.locator(".pp-bar").count() >= 5
    assert "방범 공백 coverage gap" in ptext or "인구 population" in ptext
    headings = [c["heading_deg"] for c in best.props["cameras"] if c["heading_deg"] is not None]
    assert all(f"{h}°" in ptext for h in headings)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / "plans-popup.png"))

    # one-click download: the GeoJSON link returns the plan's 54 sites
    with page.expect_download() as dl:
        page.click("#dl-geojson")
    gj = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == 54
    assert gj["features"][0]["properties"]["explain"]["dong"]
    assert dl.value.suggested_filename == f"safecity-plan-{a}-sites-guro.geojson"

    # the unproven plan says so loudly
    page.goto(f"{server.url}/plans?plan={b}")
    page.wait_for_function(f"() => document.body.dataset.planReady === '{b}'", timeout=60_000)
    assert page.locator("#proof").get_attribute("data-proven") == "false"
    assert "gap 3.2 %" in page.locator("#proof").inner_text()
    assert page.locator(f'.plan-row[data-plan="{b}"] .badge-bad').is_visible()
    page.screenshot(path=str(SHOTS / "plans-unproven.png"))

    # comparison: B keeps 40 of A's sites, drops 14, adds 8
    page.select_option("#compare-a", str(a))
    page.select_option("#compare-b", str(b))
    page.click("#compare-btn")
    page.wait_for_function(f"() => document.body.dataset.compareReady === '{a}-{b}'", timeout=30_000)
    assert page.locator("#diff-added").inner_text() == "8"
    assert page.locator("#diff-removed").inner_text() == "14"
    assert page.locator("#diff-kept").inner_text() == "40"
    assert "제거 removed (A" in page.locator("#plan-legend").inner_text()
    page.screenshot(path=str(SHOTS / "plans-compare.png"))

    # the replacement plan: install year, resolution and reason in the popup
    rid = server.ids["replace"]
    page.goto(f"{server.url}/plans?plan={rid}")
    page.wait_for_function(f"() => document.body.dataset.planReady === '{rid}'", timeout=60_000)
    page.locator("#site-rows tbody tr").first.click()
    rtext = page.locator(".plan-popup .plan-pop").inner_text()
    assert "설치 연도 installed" in rtext and "해상도 resolution" in rtext and "사유 reason" in rtext
    page.screenshot(path=str(SHOTS / "plans-replacement.png"))
    page.context.close()

    # the download is in the audit log, with who and which format
    token = httpx.post(
        f"{server.url}/api/auth/login", json={"username": "admin", "password": PASSWORDS["admin"]}
    ).json()["token"]
    entries = httpx.get(
        f"{server.url}/api/audit",
        params={"username": "viewer", "action": "download_plan"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["entries"]
    assert [(e["target_id"], e["detail"]) for e in entries] == [(str(a), "geojson")]


def test_html_report_download_opens_offline_with_explanations(server: Server, browser: object) -> None:
    a = server.ids["a"]
    token = httpx.post(
        f"{server.url}/api/auth/login", json={"username": "viewer", "password": PASSWORDS["viewer"]}
    ).json()["token"]
    r = httpx.get(
        f"{server.url}/api/plans/{a}/download/html",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert r.status_code == 200
    report = SHOTS.parent / "plan-report-e2e.html"
    SHOTS.mkdir(parents=True, exist_ok=True)
    report.write_text(r.text, encoding="utf-8")
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")  # type: ignore[attr-defined]
    ctx.route(
        "**/*",
        lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_(),
    )
    page = ctx.new_page()
    page.goto(report.as_uri())
    page.wait_for_function("() => document.body.dataset.mapReady === '1'", timeout=30_000)
    assert page.locator(".plan-legend").is_visible()
    assert "최적 증명됨" in page.locator("#proof").inner_text()
    assert page.locator(".leaflet-overlay-pane canvas").count() >= 1  # cells, coverage, sites drawn
    page.screenshot(path=str(SHOTS / "plan-report.png"))
    ctx.close()
