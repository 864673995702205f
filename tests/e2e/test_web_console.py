"""End to end: ``safecity serve`` with the real monitoring runtime on an Intel sample clip, driven by
headless Debian chromium through Playwright.

An operator logs in, sees the wall tile of the camera whose zone fires, acknowledges the event on
the events page; an admin finds the acknowledgement on the audit page; a viewer is refused the
camera outside their group. Screenshots go to ``var/screenshots/`` (look at them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import REPO, SHOTS, chromium, login, serve

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORDS = {"admin": "admin-e2e-pass", "operator": "operator-e2e-pass", "viewer": "viewer-e2e-pass"}
CLIP = REPO / "data" / "video" / "intel-sample-videos" / "person-bicycle-car-detection.mp4"
QUIET = REPO / "data" / "video" / "intel-sample-videos" / "car-detection.mp4"

CONFIG = f"""
detector: {{type: nanodet, threads: 1}}
selection: {{max_tiles: 4, hold_s: 5}}
cameras:
  - id: lot-1
    name: "구로 공영주차장"
    source: {CLIP}
    detect_fps: 4
    lat: 37.4954
    lon: 126.8874
    zones:
      - name: yard
        polygon: [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    rules:
      - type: intrusion
        zone: yard
        classes: [person, bicycle, car]
        min_s: 0.5
        severity: 4
  - id: hall-2
    name: "구로 주차장 2"
    source: {QUIET}
    detect_fps: 1
    lat: 37.50
    lon: 126.86
"""


@dataclass
class Server:
    url: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from safecity.store.db import connect
    from safecity.store.users import UserStore

    home = tmp_path_factory.mktemp("e2e-home")
    cfg = home / "cameras.yaml"
    cfg.write_text(CONFIG, encoding="utf-8")
    engine = connect(f"sqlite:///{home / 'safecity.db'}")
    users = UserStore(engine)
    users.upsert_group("east", ["lot-1"])
    users.upsert_group("west", ["hall-2"])
    for name, pw in PASSWORDS.items():
        users.add_user(name, pw, name)
    users.set_user_groups("operator", ["east", "west"])
    users.set_user_groups("viewer", ["west"])
    engine.dispose()
    with serve(home, "--monitor-config", str(cfg), "--replay") as url:
        yield Server(url)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


def _login(browser: object, server: Server, user: str) -> object:
    return login(browser, server.url, user, PASSWORDS[user])


def test_operator_sees_tile_acknowledges_admin_audits_viewer_refused(
    server: Server, browser: object, tmp_path: Path
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _login(browser, server, "operator")
    # the wall: the tile of lot-1 appears with its reason, without reloading the page
    tile = page.locator('.tile[data-camera="lot-1"]')
    tile.wait_for(timeout=90_000)
    reason = tile.locator(".reason")
    assert "intrusion in zone 'yard'" in reason.inner_text()
    page.wait_for_function(
        "() => { const i = document.querySelector('.tile[data-camera=\"lot-1\"] img');"
        " return i && i.naturalWidth > 0; }",
        timeout=30_000,
    )
    page.screenshot(path=str(SHOTS / "wall-operator.png"))
    uid = tile.get_attribute("data-event-uids").split()[0]

    # events page: acknowledge with a note
    page.goto(f"{server.url}/events?uid={uid}")
    page.locator("#ack-note").fill("e2e: checked, guard informed")
    page.click("#ack-btn")
    page.locator("#detail .state-acknowledged").wait_for(timeout=15_000)
    assert "e2e: checked, guard informed" in page.locator("#detail .history").inner_text()
    page.locator("#snapshot").wait_for(timeout=5_000)
    page.screenshot(path=str(SHOTS / "events-operator.png"))
    # a signed evidence export from the event page; the downloaded package verifies offline
    page.locator("#export-reason").fill("e2e: 경찰 요청 2026-1")
    page.click("#export-btn")
    page.locator("#export-download").wait_for(timeout=90_000)
    package = page.request.get(server.url + str(page.locator("#export-download").get_attribute("href")))
    assert package.status == 200
    (tmp_path / "export.zip").write_bytes(package.body())
    from safecity.evidence.verify import verify_package

    report = verify_package(tmp_path / "export.zip")
    assert report.ok and report.manifest["exported_by"] == "operator", report.findings
    page.context.close()

    # admin finds the acknowledgement in the audit page
    admin = _login(browser, server, "admin")
    admin.goto(f"{server.url}/audit")
    admin.select_option("#a-action", "ack")
    admin.click("#audit-filters button[type=submit]")
    row = admin.locator('#audit-body tr[data-action="ack"]').first
    row.wait_for(timeout=10_000)
    text = row.inner_text()
    assert "operator" in text and uid in text
    admin.screenshot(path=str(SHOTS / "audit-admin.png"))
    admin.goto(f"{server.url}/cameras")
    admin.locator("#camera-rows tr").first.wait_for(timeout=10_000)
    admin.wait_for_timeout(500)
    admin.screenshot(path=str(SHOTS / "cameras-admin.png"))
    admin.context.close()

    # a viewer is refused the camera outside their group, and does not get its tile
    viewer = _login(browser, server, "viewer")
    r = viewer.request.get(f"{server.url}/api/cameras/lot-1/frame.jpg")
    assert r.status == 403
    assert viewer.request.get(f"{server.url}/api/cameras/hall-2/frame.jpg").status in (200, 503)
    viewer.wait_for_timeout(1500)
    assert viewer.locator('.tile[data-camera="lot-1"]').count() == 0
    viewer.screenshot(path=str(SHOTS / "wall-viewer.png"))
    viewer.context.close()

    # and that refusal is in the audit log
    token = httpx.post(
        f"{server.url}/api/auth/login", json={"username": "admin", "password": PASSWORDS["admin"]}
    )
    entries = httpx.get(
        f"{server.url}/api/audit",
        params={"username": "viewer", "allowed": "false", "target_id": "lot-1"},
        headers={"Authorization": f"Bearer {token.json()['token']}"},
    ).json()["entries"]
    assert entries and entries[0]["action"] == "view_camera"
