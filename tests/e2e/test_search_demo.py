"""End to end on the demo cameras: the runtime fills the track index, then the console finds,
opens, follows and summarises what it recorded (Playwright, headless chromium).

``safecity monitor`` runs two cameras of ``configs/demo-cameras.yaml`` (``guro-lot-west`` and
``guro-lot-lane``, real NanoDet) on the first 13 s of the bundled Intel lot clip, with a store:
its workers write track records, event clips and snapshots. ``guro-lot-lane`` is given no map
position here (both cameras watch the same footage at the same moment, which no real move could
do; without a position "where else" scores the move 0.5 instead of dropping it). Then
``safecity serve`` on the same home, an operator:

1. searches for the class and a colour of a recorded track that has an event clip (both read from
   the API: the test does not assume what the classifier named); the cards show the cameras' Hangul
   names (from the camera registry, as a deployment names them), not their keys,
2. opens that result and its clip plays (the browser decodes it), seeked to the moment the track was
   first seen (± 1 s of its offset from the clip's recorded start),
3. runs "where else" and gets the same object on the other camera,
4. renders the synopsis of that camera and period, and clicks an object in it at a moment that lies
   more than a second into one of its event clips: its record opens and the clip plays from that
   original moment (the player's ``currentTime`` is the moment's offset in the clip, ± 1 s).

Screenshots go to ``var/screenshots/`` (``search-demo.png`` is docs/img/search-synopsis.png).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import insert

from safecity.store.schema import cameras
from tests.e2e.harness import SHOTS, chromium, login, serve

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO / "data" / "video" / "intel-sample-videos" / "person-bicycle-car-detection.mp4"
PASSWORDS = {"operator": "operator-e2e-pass", "admin": "admin-e2e-pass"}
WEST, LANE = "guro-lot-west", "guro-lot-lane"
PLAYABLE = (
    "() => { const v = document.querySelector('%s'); return v && v.readyState >= 1 && v.videoWidth > 0; }"
)
SEEK = "t => { const v = document.querySelector('#syn-video'); v.pause(); v.currentTime = t; }"
SOUGHT = "t => Math.abs(document.querySelector('#syn-video').currentTime - t) < 0.01"
# the result's clip has loaded and stands at the second `want[its event]` (± 1 s)
AT_SECOND = (
    "want => { const v = document.querySelector('#s-clip'); const t = v && want[v.dataset.event];"
    " return t !== undefined && v.readyState >= 1 && Math.abs(v.currentTime - t) <= 1.0; }"
)
CLIP_STATE = (
    "() => { const v = document.querySelector('#s-clip'); return v && [v.dataset.event, v.currentTime]; }"
)


@dataclass
class Demo:
    url: str
    started: float
    media: Path
    names: dict[str, str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    from safecity.store.db import connect
    from safecity.store.users import UserStore

    home = tmp_path_factory.mktemp("e2e-search-demo")
    clip = home / "pbc-13s.mp4"
    cut = ["ffmpeg", "-v", "error", "-y", "-i", str(CLIP), "-t", "13", "-an", "-c:v", "copy", str(clip)]
    subprocess.run(cut, check=True, timeout=60)
    cfg = yaml.safe_load((REPO / "configs" / "demo-cameras.yaml").read_text(encoding="utf-8"))
    cams = {c["id"]: c for c in cfg["cameras"]}
    west = {**cams[WEST], "source": str(clip), "detect_fps": 5}
    lane = {**cams[LANE], "source": str(clip), "detect_fps": 5, "lat": None, "lon": None}
    cfg["cameras"] = [west, lane]
    cfg.pop("ptz", None)
    cfg["outputs"] = {**cfg.get("outputs", {}), "store": True, "media_dir": str(home / "media")}
    path = home / "cams.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    url = f"sqlite:///{home / 'safecity.db'}"
    env = {**os.environ, "SAFECITY_HOME": str(home)}
    env.pop("SAFECITY_DATABASE_URL", None)
    started = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "safecity.cli", "monitor", "--config", str(path), "--database-url", url,
         "--duration", "240"],
        capture_output=True, text=True, env=env, timeout=400, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    engine = connect(url)
    users = UserStore(engine)
    users.upsert_group("demo-parking", [WEST, LANE])
    for name, pw in PASSWORDS.items():
        users.add_user(name, pw, name)
    users.set_user_groups("operator", ["demo-parking"])
    names = {WEST: west["name"], LANE: lane["name"]}
    with engine.begin() as conn:  # the camera registry names the cameras (serve runs no monitor here)
        conn.execute(
            insert(cameras),
            [{"camera_key": k, "name": v, "count": 1, "ptz": False} for k, v in names.items()],
        )
    engine.dispose()
    with serve(home) as base:
        yield Demo(base, started, home / "media", names)


def _clip_span(demo: Demo, camera: str, event_uid: str) -> tuple[float, float]:
    """(start, end) of an event's clip, read from the file the recorder wrote."""
    from safecity.media import media_paths, read_clip_start

    start, duration = read_clip_start(media_paths(demo.media, camera, event_uid)[1])
    assert start is not None, "the recorder wrote no start time into the clip"
    return start, start + duration


def _synopsis_click(
    demo: Demo, page: Any, side: dict[str, Any]
) -> tuple[float, list[float], float, dict[str, float]]:
    """A synopsis time, a box drawn then (above the control bar) and the original moment it shows,
    which lies more than 1.5 s into (and 0.5 s before the end of) one of the object's event clips;
    with the moment's offset in each of the object's clips that hold it."""
    spans: dict[int, list[tuple[str, float, float]]] = {}
    for f, fr in enumerate(side["frames"]):
        t = (f + 0.5) / side["fps"]  # the middle of the frame the box was drawn in
        for i, x1, y1, x2, y2 in fr:
            if y2 + y1 >= 1.3:
                continue
            obj = side["objects"][int(i)]
            if int(i) not in spans:
                d = page.request.get(f"{demo.url}/api/search/tracks/{obj['uid']}").json()
                spans[int(i)] = [
                    (e["uid"], *_clip_span(demo, WEST, e["uid"])) for e in d["events"] if e["clip_url"]
                ]
            p = min(1.0, max(0.0, (t - obj["start_s"]) / max(obj["end_s"] - obj["start_s"], 1e-6)))
            moment = obj["first_s"] + p * (obj["last_s"] - obj["first_s"])
            if any(a + 1.5 <= moment <= b - 0.5 for _, a, b in spans[int(i)]):
                wants = {ev: moment - a for ev, a, b in spans[int(i)] if a <= moment <= b}
                return t, [x1, y1, x2, y2], moment, wants
    pytest.fail(f"no synopsis object at a moment inside one of its clips: {spans}")


def _pick(page: Any, demo: Demo) -> dict[str, Any]:
    """A recorded track of the west camera with an event clip (class and colours as recorded)."""
    q = page.request.get(f"{demo.url}/api/search/tracks", params={
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(demo.started - 60)),
        "until": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60)),
        "camera": WEST, "limit": 200})  # fmt: skip
    assert q.status == 200, q.text()
    records = q.json()["results"]
    assert records, "the runtime wrote no track record"
    for rec in records:
        detail = page.request.get(f"{demo.url}/api/search/tracks/{rec['uid']}").json()
        if any(e["clip_url"] for e in detail["events"]) and rec["colours"]:
            return dict(detail)
    pytest.fail(f"no record of {WEST} with an event clip among {len(records)}")


def test_demo_search_clip_where_else_and_synopsis(demo: Demo) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = login(browser, demo.url, "operator", PASSWORDS["operator"])
        rec = _pick(page, demo)
        colour = next(iter(rec["colours"].values()))[0]
        page.goto(f"{demo.url}/search")
        page.select_option("#s-class", rec["object_class"])
        page.select_option("#s-colour", colour)
        page.select_option("#s-camera", WEST)
        page.click("#s-go")
        card = page.locator(f"#s-results .track-card[data-uid='{rec['uid']}']")
        card.wait_for(timeout=20_000)
        # every card shown matches the class and colour asked for
        assert page.locator("#s-results .track-card").count() >= 1
        text = card.inner_text()
        assert demo.names[WEST] in text and WEST not in text  # the Hangul name, not the key
        card.click()
        page.wait_for_function(PLAYABLE % "#s-clip", timeout=20_000)
        # the clip stands at the second the track was first seen (clamped to the clip)
        ev = rec["clip_event"]
        a, b = _clip_span(demo, WEST, ev)
        first = datetime.fromisoformat(rec["first_at"]).timestamp()
        want = min(max(first - a, 0.0), b - a)
        try:
            page.wait_for_function(AT_SECOND, arg={ev: want}, timeout=10_000)
        except Exception:
            pytest.fail(
                f"the result's clip is not at {want:.2f} s: (event, time) = {page.evaluate(CLIP_STATE)}"
            )
        page.locator("#s-where-else").click()
        cand = page.locator("#s-candidates .track-card")
        cand.first.wait_for(timeout=20_000)
        assert demo.names[LANE] in cand.first.inner_text()  # the same footage on the other camera ranks first
        # synopsis of the west camera for the run (a synopsis covers at most 6 h: narrow the period)
        kst = ZoneInfo("Asia/Seoul")
        page.fill("#s-since", datetime.fromtimestamp(demo.started - 120, kst).strftime("%Y-%m-%d %H:%M"))
        page.fill("#s-until", datetime.fromtimestamp(time.time() + 120, kst).strftime("%Y-%m-%d %H:%M"))
        page.select_option("#syn-camera", WEST)
        page.click("#syn-go")
        try:
            page.wait_for_function(PLAYABLE % "#syn-video", timeout=120_000)
        except Exception:
            pytest.fail(f"no playable synopsis; the page says: {page.locator('#syn-out').inner_text()}")
        summary = page.locator("#syn-summary").inner_text()
        assert " objects in " in summary
        side = page.evaluate("async () => (await fetch(document.querySelector('#syn-video').src"
                             ".replace('/video', '/sidecar'))).json()")  # fmt: skip
        assert side["camera"] == WEST and len(side["objects"]) >= 1
        # a box above the player's control bar (it takes clicks along the bottom of the picture) whose
        # moment lies inside one of the object's clips, away from its start
        at, (x1, y1, x2, y2), moment, wants = _synopsis_click(demo, page, side)
        page.evaluate("() => document.querySelector('#s-detail').replaceChildren()")  # the result's clip goes
        page.evaluate(SEEK, at)
        page.wait_for_function(SOUGHT, arg=at)
        page.locator("#syn-video").scroll_into_view_if_needed()
        box = page.locator("#syn-video").bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + (x1 + x2) / 2 * box["width"], box["y"] + (y1 + y2) / 2 * box["height"])
        page.locator("#syn-picked").get_by_text("opened").wait_for(timeout=10_000)
        page.locator("#s-detail h2").get_by_text(demo.names[WEST]).wait_for(timeout=10_000)
        try:  # a clip that holds that moment, at that moment
            page.wait_for_function(AT_SECOND, arg=wants, timeout=20_000)
        except Exception:
            pytest.fail(f"no clip at the moment {wants}; (event, time) = {page.evaluate(CLIP_STATE)}")
        print(f"synopsis click {at:.2f} s: moment {moment:.2f}, {wants}; {page.evaluate(CLIP_STATE)}")
        page.evaluate("() => window.scrollTo(0, 0)")  # the sticky menu bar at the top, not mid-page
        page.screenshot(path=str(SHOTS / "search-demo.png"), full_page=True)
        page.context.close()
