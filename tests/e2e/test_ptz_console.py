"""End to end: the PTZ bar on a wall tile steers the virtual ONVIF camera through ``safecity serve``.

``safecity serve`` runs with a config whose camera ``ptz-1`` has a ``ptz`` block pointing at the virtual
PTZ camera (ONVIF only; the tile's picture is a replayed Intel clip so that an intrusion puts it on the
wall). In headless chromium an operator holds the ▶ button and the ↑ key (the camera moves, and stops
when released), sends it to a preset; a second operator is refused while the first holds the lease; a
viewer sees who steers but gets no buttons. The camera's position is read back with the real ONVIF
client; the moves are in the audit log. The patrol driver that ``safecity serve`` runs sends the camera to
its home preset at the start and again after the release. Screenshot: ``var/screenshots/wall-ptz.png``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from safecity.ptz.camera import PtzCamera
from tests.e2e.harness import REPO, SHOTS, chromium, login, serve
from tests.ptz_helpers import VirtualPtz

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORDS = {
    "admin": "admin-e2e-pass",
    "operator": "operator-e2e-pass",
    "operator2": "operator2-e2e-pass",
    "viewer": "viewer-e2e-pass",
}
CLIP = REPO / "data" / "video" / "intel-sample-videos" / "person-bicycle-car-detection.mp4"
ROAD = (0.6, -0.3, 0.5)
GATE = (-0.5, 0.2, 0.0)


@dataclass
class Server:
    url: str
    cam: VirtualPtz


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from safecity.store.db import connect
    from safecity.store.users import UserStore

    vcam = VirtualPtz(presets={"gate": GATE, "road": ROAD}, rtsp=False, speed=0.5).start()
    home = tmp_path_factory.mktemp("e2e-ptz")
    cfg = home / "cameras.yaml"
    cfg.write_text(
        f"""
detector: {{type: nanodet, threads: 1}}
selection: {{max_tiles: 4, hold_s: 5}}
cameras:
  - id: ptz-1
    name: "구로역 PTZ"
    source: {CLIP}
    detect_fps: 4
    zones:
      - {{name: yard, polygon: [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]}}
    rules:
      - {{type: intrusion, zone: yard, classes: [person, bicycle, car], min_s: 0.5, severity: 4,
          name: yard_in}}
    ptz:
      onvif: {{host: 127.0.0.1, port: {vcam.port}, user: {vcam.user}, password_env: E2E_PTZ_PASSWORD}}
      presets: [{{name: gate, rules: [yard_in]}}, {{name: road}}]
      home_preset: gate
      lease_s: 60
""",
        encoding="utf-8",
    )
    engine = connect(f"sqlite:///{home / 'safecity.db'}")
    users = UserStore(engine)
    users.upsert_group("station", ["ptz-1"])
    for name, pw in PASSWORDS.items():
        users.add_user(name, pw, "operator" if name == "operator2" else name)
        if name != "admin":
            users.set_user_groups(name, ["station"])
    engine.dispose()
    try:
        with serve(
            home, "--monitor-config", str(cfg), "--replay", env={"E2E_PTZ_PASSWORD": vcam.password}
        ) as url:
            yield Server(url, vcam)
    finally:
        vcam.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


def _login(browser: object, server: Server, user: str) -> object:
    return login(browser, server.url, user, PASSWORDS[user])


def _idle_position(cam: PtzCamera) -> tuple[float, float, float]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        st = cam.status()
        if st.moving is False and st.position is not None:
            return (st.position.pan, st.position.tilt, st.position.zoom)
        time.sleep(0.1)
    raise AssertionError("the camera kept moving")


def _wait_at(cam: PtzCamera, where: tuple[float, float, float]) -> tuple[float, float, float]:
    """The idle position once the camera rests at ``where`` (or the last one after 30 s)."""
    deadline = time.monotonic() + 30
    pos = _idle_position(cam)
    while pos != pytest.approx(where) and time.monotonic() < deadline:
        time.sleep(0.2)
        pos = _idle_position(cam)
    return pos


def _wait_moved(cam: PtzCamera, start: tuple[float, float, float]) -> tuple[float, float, float]:
    """The idle position once it differs from ``start`` (or ``start`` after 30 s)."""
    deadline = time.monotonic() + 30
    pos = _idle_position(cam)
    while pos == pytest.approx(start) and time.monotonic() < deadline:
        time.sleep(0.2)
        pos = _idle_position(cam)
    return pos


def _held_until(cam: PtzCamera, axis: int, beyond: float) -> None:
    """Wait (while the caller holds a control) until the camera's ``axis`` passes ``beyond``, at most
    20 s: how far a 900 ms hold moves depends on how loaded the machine is, so hold until it moved."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        st = cam.status()
        if st.position is not None and (st.position.pan, st.position.tilt)[axis] > beyond:
            return
        time.sleep(0.05)


def _hold(page: object, selector: str, cam: PtzCamera, axis: int, beyond: float) -> None:
    box = page.locator(selector).bounding_box()  # type: ignore[attr-defined]
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # type: ignore[attr-defined]
    page.mouse.down()  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    _held_until(cam, axis, beyond)
    page.mouse.up()  # type: ignore[attr-defined]


def test_operator_steers_the_ptz_from_the_wall_second_operator_and_viewer_cannot(
    server: Server, browser: object
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    cam = PtzCamera("127.0.0.1", server.cam.port, server.cam.user, server.cam.password, timeout_s=3.0)
    try:
        _steer_and_check(server, browser, cam)
    finally:
        cam.close()


def _steer_and_check(server: Server, browser: object, cam: PtzCamera) -> None:
    # the patrol driver of safecity serve sends the camera to its home preset (no tour is configured)
    assert _wait_at(cam, GATE) == pytest.approx(GATE)
    page = _login(browser, server, "operator")
    bar = page.locator('.tile[data-camera="ptz-1"] .ptz-bar')  # type: ignore[attr-defined]
    bar.wait_for(timeout=90_000)
    assert bar.locator(".ptz-lease").inner_text() == "PTZ · free"
    page.wait_for_function(  # the patrol driver's word: resting at the home preset, analytics armed
        "() => document.querySelector('.tile[data-camera=\"ptz-1\"] .ptz-patrol').textContent"
        " === 'home at gate'"
    )

    # a preset first (the console connects to the camera meanwhile)
    bar.locator("select.ptz-preset").select_option("gate")
    bar.locator('[data-ptz="goto"]').click()
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('.tile[data-camera=\"ptz-1\"] .ptz-lease').textContent"
        ".startsWith('PTZ · you')"
    )
    assert _wait_at(cam, GATE) == pytest.approx(GATE)
    # hold ▶: the camera pans right while held and stops when released
    _hold(page, '.tile[data-camera="ptz-1"] [data-ptz="right"]', cam, 0, GATE[0] + 0.06)
    pan, tilt, _ = _wait_moved(cam, GATE)
    assert pan > GATE[0] + 0.05 and tilt == pytest.approx(GATE[1])
    # the ↑ key on the focused bar tilts up until released
    bar.focus()
    page.keyboard.down("ArrowUp")  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    _held_until(cam, 1, tilt + 0.06)
    page.keyboard.up("ArrowUp")  # type: ignore[attr-defined]
    pan2, tilt2, _ = _wait_moved(cam, (pan, tilt, GATE[2]))
    assert tilt2 > tilt + 0.05 and pan2 == pytest.approx(pan)
    # a preset
    bar.locator("select.ptz-preset").select_option("road")
    bar.locator('[data-ptz="goto"]').click()
    assert _wait_at(cam, ROAD) == pytest.approx(ROAD)
    assert page.url.endswith("/wall")  # clicks on the bar do not open the events page
    page.screenshot(path=str(SHOTS / "wall-ptz.png"))  # type: ignore[attr-defined]

    # a second operator is refused while the first holds the lease, and is told who
    other = _login(browser, server, "operator2")
    obar = other.locator('.tile[data-camera="ptz-1"] .ptz-bar')  # type: ignore[attr-defined]
    obar.wait_for(timeout=90_000)
    other.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('.tile[data-camera=\"ptz-1\"] .ptz-lease').textContent"
        ".includes('operator steering')",
        timeout=10_000,
    )
    obar.locator('[data-ptz="home"]').click()
    other.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('.tile[data-camera=\"ptz-1\"] .ptz-msg').textContent"
        ".includes('being steered by operator')",
        timeout=10_000,
    )
    assert _idle_position(cam) == pytest.approx(ROAD)  # not moved
    other.context.close()

    # the first operator releases; a viewer sees the bar without buttons
    bar.locator('[data-ptz="release"]').click()
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('.tile[data-camera=\"ptz-1\"] .ptz-lease').textContent === 'PTZ · free'"
    )
    assert _wait_at(cam, GATE) == pytest.approx(GATE)  # released: the driver takes it back home
    page.context.close()
    viewer = _login(browser, server, "viewer")
    vbar = viewer.locator('.tile[data-camera="ptz-1"] .ptz-bar')  # type: ignore[attr-defined]
    vbar.wait_for(timeout=90_000)
    assert vbar.locator(".ptz-btn").count() == 0
    viewer.context.close()

    # every move is in the audit log; the refused one too
    token = httpx.post(
        f"{server.url}/api/auth/login", json={"username": "admin", "password": PASSWORDS["admin"]}
    ).json()["token"]
    entries = httpx.get(
        f"{server.url}/api/audit",
        params={"action": "ptz_move", "target_id": "ptz-1"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["entries"]
    by = {(e["username"], e["allowed"]) for e in entries}
    assert ("operator", True) in by and ("operator2", False) in by
    modes = {e["detail"].split('"mode": "')[1].split('"')[0] for e in entries if e["username"] == "operator"}
    assert {"continuous", "stop", "preset"} <= modes
