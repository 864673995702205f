"""End to end: the incident queue (/incidents) in headless Debian chromium (Playwright).

The console runs in this process (uvicorn on a free port, the real app, SQLite store and EventStore with
its incident folding, the live hub and the WebSocket), and events enter it through the same EventSink
interface the monitoring runtime uses (``FakeMonitor.emit`` calls the event store's and the hub's
``publish``): the test decides when an incident starts, which a looping video cannot. The runtime itself is
covered by tests/e2e/test_web_console.py.

The operator enables sound once, hears and sees the alarm (the audio element played, the row and the menu
count flash, the count is in the tab title), acknowledges with the keyboard only, keeps their row while
new incidents arrive, escalates and marks a false alarm with keys and sees the next matching event
suppressed and counted; the help overlay opens on ``?``. A viewer cannot mark false alarms or lift
suppressions (403, audited); an admin lifts it. The alarm latency (runtime publish -> sound and flash in
the page) is recorded in ``var/alarm_latency.json`` (no timed assert). Screenshots go to docs/img/.
"""

from __future__ import annotations

import json
import re
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from argon2 import PasswordHasher

from safecity.monitor.types import Event
from safecity.service import LiveCamera, Services
from safecity.settings import Settings
from safecity.store.db import connect
from safecity.store.events import EventStore
from safecity.web.app import create_app
from tests.e2e.harness import REPO, SHOTS, chromium, login
from tests.ports import free_port
from tests.unit.web.conftest import FakeMonitor, make_event

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORDS = {"admin": "admin-e2e-pass", "operator": "operator-e2e-pass", "viewer": "viewer-e2e-pass"}
WEST, EAST = "guro-west-gate", "guro-lot"
NAMES = {WEST: "구로역 서문", EAST: "구로 공영주차장"}
DOCS_IMG = REPO / "docs" / "img"
HD = {"width": 1920, "height": 1080}


@dataclass
class Live:
    url: str
    monitor: FakeMonitor
    events: EventStore
    media_root: Path
    n: int = 0

    def emit(self, camera: str, *, zone: str = "gate", sev: int = 4, **kw: Any) -> Event:
        """A new event from 'the runtime' now, written and folded before returning."""
        self.n += 1
        ev = replace(make_event(f"e2e-{self.n}", camera, t=time.time(), zone=zone, sev=sev), **kw)
        self.monitor.emit("start", ev)
        assert self.events.flush(10)
        return ev

    def snapshot(self, uid: str, clip: str = "person-bicycle-car-detection.mp4", at_s: float = 12.0) -> None:
        """Write the event's snapshot where the recorder would (a frame of an Intel sample clip)."""
        import cv2

        rel = self.events.get_event(uid)["snapshot_path"]  # type: ignore[index]
        cap = cv2.VideoCapture(str(REPO / "data" / "video" / "intel-sample-videos" / clip))
        cap.set(cv2.CAP_PROP_POS_MSEC, at_s * 1000)
        ok, frame = cap.read()
        cap.release()
        assert ok and rel
        path = self.media_root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(path), frame)

    def token(self, user: str) -> dict[str, str]:
        r = httpx.post(f"{self.url}/api/auth/login", json={"username": user, "password": PASSWORDS[user]})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    import uvicorn

    home = tmp_path_factory.mktemp("e2e-incidents")
    engine = connect(f"sqlite:///{home / 'safecity.db'}")
    events = EventStore(engine, spool_dir=home / "spool", media_root=home / "media")
    monitor = FakeMonitor([WEST, EAST])
    monitor.add_sink(events)
    services = Services(
        settings=Settings(home=home, secret_key="e2e-" + "k" * 40),
        engine=engine,
        events=events,
        media_root=home / "media",
        monitor=monitor,
        live_cameras={k: LiveCamera(k, n, None, 37.49, 126.85) for k, n in NAMES.items()},
    )
    app = create_app(
        services.settings, services, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    users = app.state.console.users
    users.upsert_group("west", [WEST])
    users.upsert_group("east", [EAST])
    for name, pw in PASSWORDS.items():
        users.add_user(name, pw, name)
    users.set_user_groups("operator", ["west", "east"])
    users.set_user_groups("viewer", ["west"])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the console did not start"
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", monitor, events, home / "media")
    finally:
        server.should_exit = True
        thread.join(15)
        events.close()
        engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _queue(browser: Any, live: Live, user: str, **context: Any) -> Any:
    page = login(browser, live.url, user, PASSWORDS[user], path="/incidents", viewport=HD, **context)
    page.locator("#queue-body[data-loaded]").wait_for()
    page.wait_for_function("() => document.getElementById('conn')?.classList.contains('on')")
    return page


def _incident_of(live: Live, camera: str, zone: str) -> dict[str, Any]:
    r = httpx.get(f"{live.url}/api/incidents", params={"camera": camera}, headers=live.token("admin"))
    return next(i for i in r.json()["incidents"] if i["zone"] == zone)


def test_operator_hears_and_sees_the_alarm_and_acknowledges_with_the_keyboard(
    live: Live, browser: Any
) -> None:
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    page = _queue(browser, live, "operator", timezone_id="America/New_York")  # the browser's zone is not KST
    page.click("#sound-btn")  # the one-time "enable sound" (browsers' autoplay rules)
    # the button turns on once the browser has played the unlock sound (a promise): wait for it, then check
    page.wait_for_function(
        "() => document.getElementById('sound-btn').dataset.state !== 'off'", timeout=10_000
    )
    assert page.locator("#sound-btn").get_attribute("data-state") == "on"

    first = live.emit(WEST, zone="gate")
    live.snapshot(first.uid)
    row = page.locator("#queue-body tr.ringing")
    row.wait_for(timeout=10_000)  # the row flashes
    page.wait_for_function("() => (window.__safecityAlarms || []).some((r) => r.sound === 'played')")
    played = page.evaluate("() => document.getElementById('alarm-audio').played.length")
    assert played >= 1  # the audio element really played
    assert NAMES[WEST] in row.inner_text()  # the camera's Hangul name, not only its id
    page.wait_for_function("() => document.title.startsWith('(1) ')")
    assert page.locator("#nav-unacked").inner_text() == "1"
    # times in the config's zone (Asia/Seoul), zero-padded, labelled, whatever the browser's zone
    first_at = datetime.fromisoformat(_incident_of(live, WEST, "gate")["first_at"])
    kst = first_at.astimezone(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%d %H:%M:%S KST")
    assert row.locator("td.time").first.inner_text() == kst
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2} KST", page.locator("#clock").inner_text())
    page.wait_for_function("() => document.getElementById('count-alerts').textContent === '1'")

    # keyboard only: select, look (escalation is above the fold at 1080p), acknowledge
    page.keyboard.press("j")
    page.locator("#inc-actions").wait_for()
    page.wait_for_function("() => document.getElementById('snapshot')?.naturalWidth > 0")
    box = page.locator("#esc-112").bounding_box()
    assert box is not None and box["y"] + box["height"] <= HD["height"]
    assert "KST" in page.locator("#inc-facts").inner_text()
    page.screenshot(path=str(DOCS_IMG / "console-incident.png"))
    page.keyboard.press("n")
    page.keyboard.type("e2e: 경비원 확인")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.locator("#detail .state-acknowledged").first.wait_for(timeout=10_000)
    page.wait_for_function("() => document.getElementById('nav-unacked').hidden")
    assert not page.title().startswith("(")
    inc = _incident_of(live, WEST, "gate")
    assert inc["state"] == "acknowledged"
    audit = httpx.get(
        f"{live.url}/api/audit", params={"action": "incident_ack"}, headers=live.token("admin")
    ).json()["entries"]
    assert audit and audit[0]["username"] == "operator" and "e2e: 경비원 확인" in audit[0]["detail"]

    # the help overlay
    page.keyboard.press("?")
    page.locator("#keys-help").wait_for()
    assert "acknowledge" in page.locator("#keys-help").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "queue-keys-help.png"))
    page.keyboard.press("Escape")
    page.locator("#keys-help").wait_for(state="detached")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: one column, nothing wider
    page.wait_for_timeout(200)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390 + 1
    page.screenshot(path=str(SHOTS / "queue-390px.png"), full_page=True)
    page.set_viewport_size(HD)
    page.keyboard.press("o")  # the camera on demand, at the incident's time
    page.wait_for_url(f"{live.url}/camera?key={WEST}*")
    page.context.close()


def test_rows_stay_put_when_new_incidents_arrive_and_alarm_latency(live: Live, browser: Any) -> None:
    page = _queue(browser, live, "operator")
    page.click("#sound-btn")
    page.click("#tab-acknowledged")
    page.locator('#queue-body[data-loaded="acknowledged"]').wait_for()
    page.click("#tab-alerts")
    page.locator('#queue-body[data-loaded="alerts"]').wait_for()
    for i in range(3):
        live.emit(EAST, zone=f"warm-{i}")
    page.locator("#queue-body tr[data-id]").nth(2).wait_for()
    target_id = page.locator("#queue-body tr[data-id]").nth(1).get_attribute("data-id")
    target = page.locator(f'#queue-body tr[data-id="{target_id}"]')
    target.click()
    target.hover()
    before = target.bounding_box()
    live.emit(EAST, zone="arrives-while-hovering")
    page.locator("#queue-body tr[data-id]").nth(3).wait_for(timeout=10_000)
    page.wait_for_timeout(300)
    after = target.bounding_box()
    assert before is not None and after is not None and abs(after["y"] - before["y"]) <= 1.0
    assert page.locator("#new-above").is_visible()
    assert target.get_attribute("class") is not None and "selected" in str(target.get_attribute("class"))

    # latency: 20 more alerts, one every 0.6 s; the page records when each one sounded and flashed
    page.mouse.move(5, 5)
    n0 = page.evaluate("() => window.__safecityAlarms.length")
    kinds = ["intrusion", "loitering", "fall", "abandoned_object", "crowding"]
    zones = ["north-gate", "car-park", "back-door", "stairs", "lobby"]
    zones += ["ramp", "bike-rack", "playground", "crossing", "bus-stop"]
    for i in range(20):
        live.emit((WEST, EAST)[i % 2], zone=zones[i // 2], sev=3 + i % 3, type=kinds[i % 5])
        time.sleep(0.6)
    page.wait_for_function(
        f"() => window.__safecityAlarms.length >= {n0 + 20}"
        " && window.__safecityAlarms.slice(-20).every((r) => r.flash_at && r.sound !== 'pending')"
    )
    recs = page.evaluate("() => window.__safecityAlarms.slice(-20)")
    page.locator("#queue-list").evaluate("(el) => { el.scrollTop = 0; }")
    page.wait_for_timeout(200)
    page.screenshot(path=str(DOCS_IMG / "console-queue.png"))
    page.context.close()
    assert all(r["sound"] == "played" for r in recs), recs
    assert all(r["event_published_at"] is not None for r in recs)
    sound = [(r["sound_at"] - r["event_published_at"]) / 1000 for r in recs]
    flash = [(r["flash_at"] - r["event_published_at"]) / 1000 for r in recs]
    both = [max(a, b) for a, b in zip(sound, flash, strict=True)]
    report = {
        "what": "runtime publishes an event -> the page played the alarm / painted the flash (s)",
        "n": len(recs),
        "sound_p50_s": statistics.median(sound),
        "flash_p50_s": statistics.median(flash),
        "both_p50_s": statistics.median(both),
        "both_p95_s": statistics.quantiles(both, n=20)[-1],
        "both_max_s": max(both),
        "samples_s": both,
    }
    out = REPO / "var" / "alarm_latency.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "samples_s"}))


def test_false_alarm_with_keys_suppresses_and_counts_the_next_matching_event(
    live: Live, browser: Any
) -> None:
    page = _queue(browser, live, "operator")
    ev = live.emit(WEST, zone="lot", sev=3)
    inc_id = _incident_of(live, WEST, "lot")["id"]
    page.locator(f'#queue-body tr[data-id="{inc_id}"]').click()
    page.locator("#fa-btn").wait_for()
    # `f` typed with a Korean IME in Hangul mode arrives as "ㄹ": the physical key counts
    page.evaluate(
        "() => document.body.dispatchEvent(new KeyboardEvent('keydown',"
        " { key: 'ㄹ', code: 'KeyF', bubbles: true, cancelable: true }))"
    )
    page.locator("#keys-prompt").wait_for()
    page.keyboard.press("3")  # 8 h (a shift)
    page.locator("#inc-sups .sup-count").wait_for(timeout=10_000)
    assert page.locator("#inc-sups .sup-count").inner_text() == "0"
    assert "false alarm" in page.locator("#closed-note").inner_text()
    sup = httpx.get(f"{live.url}/api/incidents/{inc_id}", headers=live.token("admin")).json()["suppressions"][
        0
    ]
    assert (
        8 * 3600 - 60
        < (
            time.mktime(time.strptime(sup["expires_at"][:19], "%Y-%m-%dT%H:%M:%S"))
            - time.mktime(time.strptime(sup["created_at"][:19], "%Y-%m-%dT%H:%M:%S"))
        )
        <= 8 * 3600 + 1
    )

    # the same camera, rule, class and box again: stored, suppressed, counted, no new incident
    before = httpx.get(f"{live.url}/api/incidents", headers=live.token("admin")).json()["total"]
    again = live.emit(WEST, zone="lot", sev=3, box_frac=ev.box_frac)
    page.wait_for_function(
        "() => document.querySelector('#inc-sups .sup-count')?.textContent === '1'", timeout=10_000
    )
    got = httpx.get(f"{live.url}/api/events/{again.uid}", headers=live.token("admin")).json()
    assert got["suppressed_by"] == sup["id"] and got["incident_id"] is None
    assert httpx.get(f"{live.url}/api/incidents", headers=live.token("admin")).json()["total"] == before
    page.click("#tab-false")
    page.locator(f'#queue-body tr[data-id="{inc_id}"]').wait_for()
    page.wait_for_function("() => document.getElementById('count-false').textContent === '1'")
    page.context.close()

    # a viewer (who sees WEST) may neither mark false alarms nor lift suppressions: 403, audited
    other = live.emit(WEST, zone="viewer-zone", box_frac=(0.6, 0.6, 0.9, 0.95))  # elsewhere: not suppressed
    other_id = _incident_of(live, WEST, "viewer-zone")["id"]
    viewer = _queue(browser, live, "viewer")
    viewer.locator(f'#queue-body tr[data-id="{other_id}"]').click()
    viewer.locator("#view-only").wait_for()
    assert viewer.locator("#fa-btn").count() == 0 and viewer.locator("#tab-suppressions").count() == 0
    r = viewer.request.post(f"{live.url}/api/incidents/{other_id}/false-alarm", data={"duration_s": 600})
    assert r.status == 403
    assert viewer.request.delete(f"{live.url}/api/suppressions/{sup['id']}").status == 403
    viewer.context.close()
    assert other.camera == WEST
    refused = httpx.get(
        f"{live.url}/api/audit",
        params={"username": "viewer", "allowed": "false"},
        headers=live.token("admin"),
    ).json()["entries"]
    paths = {(e["action"], e["target_id"]) for e in refused}
    assert ("denied", f"/api/incidents/{other_id}/false-alarm") in paths
    assert ("denied", f"/api/suppressions/{sup['id']}") in paths

    # an admin sees every suppression and lifts it
    admin = _queue(browser, live, "admin")
    admin.click("#tab-suppressions")
    lift = admin.locator(f'#sup-list tr[data-id="{sup["id"]}"] .lift-btn')
    lift.click()
    admin.locator(f'#sup-list tr[data-id="{sup["id"]}"].ended').wait_for(timeout=10_000)
    admin.context.close()
    lifted = httpx.get(f"{live.url}/api/suppressions", headers=live.token("admin")).json()["suppressions"]
    assert next(s for s in lifted if s["id"] == sup["id"])["active"] is False


def test_wall_keys_focus_tiles_by_slot_and_an_alarm_flashes_the_tile(live: Live, browser: Any) -> None:
    from safecity.monitor.types import WallLayout, WallTile

    live.monitor.layout = WallLayout(
        10.0,
        (
            WallTile(WEST, 2.0, "intrusion in zone 'gate'", 4, False, 1.0, (), slot=0),
            WallTile(EAST, 1.0, "camera covered, 30 s", 3, False, 2.0, (), slot=1),
        ),
    )
    page = login(browser, live.url, "operator", PASSWORDS["operator"], path="/wall", viewport=HD)
    east = page.locator(f'#wall .tile[data-camera="{EAST}"]')
    east.wait_for(timeout=10_000)
    page.wait_for_function("() => document.getElementById('conn')?.classList.contains('on')")
    page.keyboard.press("2")  # slot 2 = EAST
    page.locator(f'#wall .tile.kbd-focus[data-camera="{EAST}"]').wait_for()
    page.keyboard.press("1")
    page.locator(f'#wall .tile.kbd-focus[data-camera="{WEST}"]').wait_for()
    assert "kbd-focus" not in str(east.get_attribute("class"))
    page.keyboard.press("?")
    assert "focus the tile in slot 1-9" in page.locator("#keys-help").inner_text()
    page.keyboard.press("Escape")
    live.emit(EAST, zone="wall-flash")
    page.locator(f'#wall .tile.alarm-flash[data-camera="{EAST}"]').wait_for(timeout=10_000)
    page.context.close()


def test_event_history_shows_names_and_reads_filter_times_in_kst(live: Live, browser: Any) -> None:
    ev = live.emit(EAST, zone="history")
    start = datetime.fromtimestamp(ev.start_s, ZoneInfo("Asia/Seoul"))
    page = login(browser, live.url, "operator", PASSWORDS["operator"], path="/events", timezone_id="UTC")
    row = page.locator(f'#events-body tr[data-uid="{ev.uid}"]')
    row.wait_for()
    assert NAMES[EAST] in row.inner_text() and "KST" in row.inner_text()
    assert "From (KST)" in page.locator("#filters").inner_text()
    page.fill("#f-since", (start - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M"))
    page.click("#filters button[type=submit]")
    row.wait_for()
    page.fill("#f-since", (start + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M"))
    page.click("#filters button[type=submit]")
    row.wait_for(state="detached")  # read as KST: one minute after the event, so it is not listed
    page.context.close()
