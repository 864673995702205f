"""End to end: the forensic search page in headless chromium (Playwright) against ``safecity serve``.

The track index is filled beforehand by the real :class:`TrackSummariser` on real frames of the Intel
car clip (boxes labelled by eye, as in tests/unit/search): a red car seen on camera ``lot-1`` and,
two minutes later, the same crop on ``hall-2`` 300 m away (standing in for a second camera), and a
white car. An operator searches for red cars, opens the result, runs "where else" and gets the other
camera; a viewer is refused the page; the search is in the audit log. Screenshots go to
``var/screenshots/``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from safecity.monitor.types import Tracks
from safecity.search.records import TrackRecord, shifted
from safecity.search.summary import TrackSummariser
from tests.e2e.harness import SHOTS, chromium, login, serve
from tests.e2e.test_web_console import Server
from tests.unit.search.conftest import read_frame

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PASSWORDS = {"admin": "admin-e2e-pass", "operator": "operator-e2e-pass", "viewer": "viewer-e2e-pass"}


def _record(
    camera: str, t0: float, at_s: float, box: tuple[float, float, float, float], lat: float
) -> TrackRecord:
    frame = read_frame("car-detection.mp4", at_s)
    h, w = frame.shape[:2]
    px = np.array([[box[0] * w, box[1] * h, box[2] * w, box[3] * h]], np.float32)
    s = TrackSummariser(camera, lat=lat, lon=126.8874, sample_every_s=0.0)
    for i in range(5):
        s.update(Tracks(i * 1.0, np.array([1]), px, np.array([0.7], np.float32), np.array(["car"]),
                        np.array([0.0])), (w, h), frame)  # fmt: skip
    (rec,) = s.finish()
    return shifted(rec, t0)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from safecity.store.db import connect
    from safecity.store.tracks import TrackIndex
    from safecity.store.users import UserStore

    home = tmp_path_factory.mktemp("e2e-search")
    engine = connect(f"sqlite:///{home / 'safecity.db'}")
    users = UserStore(engine)
    users.upsert_group("east", ["lot-1"])
    users.upsert_group("west", ["hall-2"])
    for name, pw in PASSWORDS.items():
        users.add_user(name, pw, name)
    users.set_user_groups("operator", ["east", "west"])
    users.set_user_groups("viewer", ["west"])
    now = time.time() - 600
    red = (0.41, 0.06, 0.60, 0.59)
    TrackIndex(engine).write([
        _record("lot-1", now, 17.4, red, 37.4954),
        _record("hall-2", now + 120, 17.4, red, 37.4981),  # ~300 m north, 2 min later
        _record("lot-1", now + 30, 6.8, (0.37, 0.05, 0.55, 0.58), 37.4954),
    ])  # fmt: skip
    engine.dispose()
    with serve(home) as url:
        yield Server(url)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


def _login(browser: object, server: Server, user: str) -> object:
    return login(browser, server.url, user, PASSWORDS[user])


def test_operator_searches_red_cars_opens_one_and_finds_it_elsewhere(server: Server, browser: object) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _login(browser, server, "operator")
    page.goto(f"{server.url}/search")
    page.select_option("#s-class", "car")
    page.select_option("#s-colour", "red")
    page.click("#s-go")
    cards = page.locator("#s-results .track-card")
    cards.first.wait_for(timeout=15_000)
    assert cards.count() == 2  # the two red cars, not the white one
    assert "lot-1" in cards.nth(0).inner_text() and "빨강" in cards.nth(0).inner_text()
    page.wait_for_function("() => { const i = document.querySelector('#s-results img');"
                           " return i && i.naturalWidth > 0; }", timeout=10_000)  # fmt: skip
    cards.nth(0).click()
    page.locator("#s-where-else").click()
    cand = page.locator("#s-candidates .track-card")
    cand.first.wait_for(timeout=15_000)
    assert cand.count() == 1 and "hall-2" in cand.first.inner_text() and "m/s" in cand.first.inner_text()
    page.screenshot(path=str(SHOTS / "search-operator.png"))
    page.context.close()

    viewer = _login(browser, server, "viewer")
    viewer.goto(f"{server.url}/search")
    viewer.get_by_text("This page needs the operator role").wait_for(timeout=10_000)
    viewer.context.close()

    admin = _login(browser, server, "admin")
    r = admin.request.get(f"{server.url}/api/audit?action=search_tracks")
    entries = r.json()["entries"]
    assert any(e["username"] == "operator" and "colour=red" in (e["detail"] or "") for e in entries)
    admin.context.close()
