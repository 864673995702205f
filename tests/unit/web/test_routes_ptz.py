"""PTZ operator API against the virtual ONVIF camera (a real process speaking ONVIF SOAP; no video).

The console's ``Services.ptz`` holds a real :class:`PtzControl` whose WEST camera is the virtual PTZ;
EAST stays a fixed camera. Roles, camera groups, the lease (with the console's settable clock), the
audit trail and bounded inputs are checked through the HTTP API.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from safecity.monitor.config.ptz import PtzConfig
from safecity.ptz.camera import PtzCamera
from safecity.ptz.control import PtzControl, PtzUnit
from safecity.ptz.driver import DriverState
from safecity.ptz.runtime import PtzRuntime
from tests.ports import free_port
from tests.ptz_helpers import VirtualPtz
from tests.unit.web.conftest import EAST, WEST, Env

PRESETS = {"gate": (-0.5, 0.2, 0.0), "road": (0.6, -0.3, 0.5)}
OTHER_PW = "operator2-pass-1"


@pytest.fixture(scope="module")
def vcam() -> Iterator[VirtualPtz]:
    cam = VirtualPtz(presets=PRESETS, rtsp=False, speed=2.0).start()
    yield cam
    cam.stop()


def _config(**kw: object) -> PtzConfig:
    spec = {
        "onvif": {"host": "127.0.0.1", "user": "admin", "password_env": "UNUSED"},
        "presets": [{"name": "gate"}, {"name": "road"}],
        "home_preset": "gate",
        "lease_s": 30,
    }
    return PtzConfig.model_validate(spec | kw)


@pytest.fixture
def ptz(env: Env, vcam: VirtualPtz) -> Iterator[PtzControl]:
    cam = PtzCamera("127.0.0.1", vcam.port, vcam.user, vcam.password, name=WEST, timeout_s=3.0)
    control = PtzControl([PtzUnit(WEST, "West gate PTZ", _config(), cam)], clock=env.clock)
    env.services.ptz = control
    users = env.client.app.state.console.users  # type: ignore[attr-defined]
    users.add_user("operator2", OTHER_PW, "operator")
    users.set_user_groups("operator2", ["west"])
    users.add_user("east-op", "east-op-pass-1", "operator")
    users.set_user_groups("east-op", ["east"])
    yield control
    control.close()


def _wait_idle(env: Env, headers: dict[str, str]) -> dict[str, object]:
    for _ in range(200):
        r = env.client.get(f"/api/ptz/{WEST}/status", headers=headers)
        assert r.status_code == 200, r.text
        if r.json()["moving"] is False:
            return dict(r.json())
        time.sleep(0.05)
    raise AssertionError("still moving")


def test_list_shows_ptz_cameras_of_the_users_groups(env: Env, ptz: PtzControl) -> None:
    r = env.client.get("/api/ptz", headers=env.bearer("viewer"))
    assert r.status_code == 200
    (cam,) = r.json()["cameras"]
    assert cam["key"] == WEST and cam["presets"] == ["gate", "road"] and cam["lease"] is None
    assert env.client.get("/api/ptz", headers=env.bearer_of("east-op", "east-op-pass-1")).json() == {
        "cameras": []
    }


def test_list_shows_the_patrol_state(env: Env, ptz: PtzControl) -> None:
    assert env.client.get("/api/ptz", headers=env.bearer("viewer")).json()["cameras"][0]["patrol"] is None
    runtime = PtzRuntime(ptz, None, "Asia/Seoul")
    env.services.ptz_runtime = runtime
    runtime.on_state(DriverState(WEST, 1.0, "patrol", "road", False, True, reason="tour t: stop 2/2 (road)"))
    cam = env.client.get("/api/ptz", headers=env.bearer("viewer")).json()["cameras"][0]
    assert cam["patrol"] == {"mode": "patrol", "preset": "road", "armed": True, "moving": False,
                             "not_returned": False, "reason": "tour t: stop 2/2 (road)"}  # fmt: skip


def test_operator_moves_take_the_lease_and_are_audited(env: Env, ptz: PtzControl) -> None:
    op = env.bearer("operator")
    to = {"mode": "absolute", "pan": 0.4, "tilt": -0.2, "zoom": 0.3}
    r = env.client.post(f"/api/ptz/{WEST}/move", json=to, headers=op)
    assert r.status_code == 200, r.text
    assert r.json()["lease"]["holder"] == "operator"
    st = _wait_idle(env, op)
    assert st["position"] == pytest.approx({"pan": 0.4, "tilt": -0.2, "zoom": 0.3})
    assert st["lease"]["holder"] == "operator"  # type: ignore[index]

    r = env.client.post(f"/api/ptz/{WEST}/move", json={"mode": "relative", "pan": -0.1}, headers=op)
    assert r.status_code == 200, r.text
    st = _wait_idle(env, op)
    assert st["position"]["pan"] == pytest.approx(0.3)  # type: ignore[index]

    r = env.client.post(f"/api/ptz/{WEST}/move", json={"mode": "continuous", "pan": 1.0, "seconds": 5},
                        headers=op)  # fmt: skip
    assert r.status_code == 200
    moving = env.client.get(f"/api/ptz/{WEST}/status", headers=op).json()
    assert moving["moving"] is True
    assert env.client.post(f"/api/ptz/{WEST}/stop", json={}, headers=op).status_code == 200
    _wait_idle(env, op)

    assert env.client.post(f"/api/ptz/{WEST}/preset", json={"preset": "road"}, headers=op).status_code == 200
    st = _wait_idle(env, op)
    assert st["position"] == pytest.approx({"pan": 0.6, "tilt": -0.3, "zoom": 0.5})
    assert env.client.post(f"/api/ptz/{WEST}/home", json={}, headers=op).status_code == 200
    st = _wait_idle(env, op)
    assert st["position"] == pytest.approx({"pan": -0.5, "tilt": 0.2, "zoom": 0.0})

    rows = env.audit(action="ptz_move", target_id=WEST, username="operator")
    modes = sorted(json.loads(str(r["detail"]))["mode"] for r in rows)
    assert modes == ["absolute", "continuous", "home", "preset", "relative", "stop"]
    assert all(r["allowed"] for r in rows)


def test_viewer_cannot_move_and_the_refusal_is_audited(env: Env, ptz: PtzControl) -> None:
    r = env.client.post(f"/api/ptz/{WEST}/move", json={"mode": "relative", "pan": 0.1},
                        headers=env.bearer("viewer"))  # fmt: skip
    assert r.status_code == 403 and "needs role operator" in r.json()["detail"]
    rows = env.audit(username="viewer", allowed="false")
    assert any(r["target_id"] == f"/api/ptz/{WEST}/move" for r in rows)
    assert ptz.leases.holder(WEST) is None


def test_the_lease_refuses_a_second_operator_until_it_expires(env: Env, ptz: PtzControl) -> None:
    op, op2 = env.bearer("operator"), env.bearer_of("operator2", OTHER_PW)
    assert env.client.post(f"/api/ptz/{WEST}/lease", json={}, headers=op).status_code == 200
    r = env.client.post(f"/api/ptz/{WEST}/move", json={"mode": "relative", "tilt": 0.1}, headers=op2)
    assert r.status_code == 409
    detail = r.json()["detail"]
    assert detail["lease"]["holder"] == "operator" and "being steered by operator" in detail["message"]
    refused = env.audit(action="ptz_move", username="operator2", allowed="false")
    assert refused and "steered by operator" in str(refused[0]["detail"])
    # the holder is shown to everyone who may see the camera
    listed = env.client.get("/api/ptz", headers=env.bearer("viewer")).json()["cameras"][0]
    assert listed["lease"]["holder"] == "operator"
    env.clock.t += 31  # lease_s = 30
    r = env.client.post(f"/api/ptz/{WEST}/move", json={"mode": "relative", "tilt": 0.1}, headers=op2)
    assert r.status_code == 200 and r.json()["lease"]["holder"] == "operator2"
    released = ptz.leases.released_since(WEST)
    assert released is None  # held again


def test_release_and_admins_break_a_lease(env: Env, ptz: PtzControl) -> None:
    op, op2 = env.bearer("operator"), env.bearer_of("operator2", OTHER_PW)
    env.client.post(f"/api/ptz/{WEST}/lease", json={}, headers=op)
    assert env.client.post(f"/api/ptz/{WEST}/release", json={}, headers=op2).status_code == 409
    r = env.client.post(f"/api/ptz/{WEST}/release", json={"force": True}, headers=op2)
    assert r.status_code == 403 and "needs role admin" in r.json()["detail"]
    r = env.client.post(f"/api/ptz/{WEST}/release", json={"force": True}, headers=env.bearer("admin"))
    assert r.status_code == 200 and r.json()["released"]["holder"] == "operator"
    assert env.audit(action="ptz_lease_break", username="admin", allowed="true")
    assert env.audit(action="ptz_lease_break", username="operator2", allowed="false")
    assert ptz.leases.released_since(WEST) == env.clock.t
    env.client.post(f"/api/ptz/{WEST}/lease", json={}, headers=op2)
    r = env.client.post(f"/api/ptz/{WEST}/release", json={}, headers=op2)
    assert r.status_code == 200 and r.json()["released"]["holder"] == "operator2"
    assert env.audit(action="ptz_release", username="operator2", allowed="true")


def test_camera_groups_scope_every_route(env: Env, ptz: PtzControl) -> None:
    east = env.bearer_of("east-op", "east-op-pass-1")
    for method, path, body in (
        ("get", f"/api/ptz/{WEST}/status", None),
        ("post", f"/api/ptz/{WEST}/move", {"mode": "relative", "pan": 0.1}),
        ("post", f"/api/ptz/{WEST}/lease", {}),
    ):
        r = env.client.request(method, path, json=body, headers=east)
        assert r.status_code == 403 and "outside the user's camera groups" in r.json()["detail"], r.text
    assert {r["action"] for r in env.audit(username="east-op", allowed="false")} == {
        "view_camera", "ptz_move", "ptz_lease",
    }  # fmt: skip


def test_fixed_camera_unknown_preset_and_bounded_inputs(env: Env, ptz: PtzControl) -> None:
    op = env.bearer("operator")
    r = env.client.post(f"/api/ptz/{EAST}/move", json={"mode": "relative", "pan": 0.1}, headers=op)
    assert r.status_code == 404 and "fixed cameras cannot be moved" in r.json()["detail"]
    r = env.client.post(f"/api/ptz/{WEST}/preset", json={"preset": "pier"}, headers=op)
    assert r.status_code == 404 and "'pier' is not configured" in r.json()["detail"]
    assert "presets: gate, road" in r.json()["detail"]
    for body in (
        {"mode": "absolute", "pan": 5},
        {"mode": "absolute", "zoom": -0.1},
        {"mode": "continuous", "pan": 1, "seconds": 3600},
        {"mode": "spin"},
        {"mode": "relative", "pan": 0.1, "extra": 1},
    ):
        r = env.client.post(f"/api/ptz/{WEST}/move", json=body, headers=op)
        assert r.status_code == 422, (body, r.text)
    r = env.client.post(f"/api/ptz/{WEST}/preset", json={"preset": "<script>"}, headers=op)
    assert r.status_code == 422
    r = env.client.post("/api/ptz/" + "x" * 65 + "/stop", json={}, headers=op)
    assert r.status_code == 422


def test_an_unreachable_camera_is_a_clear_504(env: Env, ptz: PtzControl) -> None:
    dead = PtzCamera("127.0.0.1", free_port(), "admin", "x", name=WEST, timeout_s=1.0)
    env.services.ptz = PtzControl([PtzUnit(WEST, "dead", _config(), dead)], clock=env.clock)
    r = env.client.post(
        f"/api/ptz/{WEST}/move", json={"mode": "relative", "pan": 0.1}, headers=env.bearer("operator")
    )
    assert r.status_code == 504
    assert "cannot connect" in r.json()["detail"] and "Traceback" not in r.text
    row = env.audit(action="ptz_move", username="operator")[0]
    assert "cannot connect" in str(row["detail"])
    dead.close()


def test_no_ptz_configured_answers_404(env: Env) -> None:
    r = env.client.post(f"/api/ptz/{WEST}/stop", json={}, headers=env.bearer("operator"))
    assert r.status_code == 404 and "no PTZ cameras" in r.json()["detail"]
    assert env.client.get("/api/ptz", headers=env.bearer("viewer")).json() == {"cameras": []}
