"""Bad input while patrolling, each against real virtual ONVIF cameras (ONVIF only): wrong credentials,
a preset the camera does not have, a camera that stops answering mid-move. Each gives a clear reason
(and the runtime logs it once), and the patrol of the good camera goes on meanwhile. A tour with zero
dwell never gets this far: the config refuses it (tests/unit/monitor/config/test_ptz.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.runtime.messages import ArmAnalytics, EventMsg, HealthMsg
from safecity.ptz.control import PtzControl
from safecity.ptz.runtime import PtzRuntime
from tests.ptz_helpers import VirtualPtz

PRESETS = {"a": (-0.5, 0.0, 0.0), "b": (0.5, 0.0, 0.0)}


@pytest.fixture(scope="module")
def cams() -> Iterator[tuple[VirtualPtz, VirtualPtz]]:
    good = VirtualPtz(presets=PRESETS, rtsp=False, speed=4.0).start()
    bad = VirtualPtz(presets=PRESETS, rtsp=False, speed=0.3).start()
    yield good, bad
    good.stop()
    bad.stop()


class Hub:
    def __init__(self) -> None:
        self.armed: list[ArmAnalytics] = []

    def arm_analytics(self, msg: ArmAnalytics) -> None:
        self.armed.append(msg)

    def deliver(self, msg: EventMsg | HealthMsg) -> None:
        pass


def _camera(key: str, cam: VirtualPtz, password_env: str, presets: list[str]) -> dict[str, object]:
    return {
        "id": key,
        "source": f"rtsp://127.0.0.1:1/{key}",
        "ptz": {
            "onvif": {
                "host": "127.0.0.1",
                "port": cam.port,
                "user": cam.user,
                "password_env": password_env,
                "timeout_s": 1.0,
            },
            "presets": [{"name": p, "settle_s": 0.2} for p in presets],
            "tours": [{"name": "t", "stops": [{"preset": p, "dwell_s": 0.5} for p in presets]}],
        },
    }


def _run(good: VirtualPtz, bad: VirtualPtz, bad_env: dict[str, str], bad_presets: list[str],
         seconds: float, during: object = None) -> tuple[PtzRuntime, Hub]:  # fmt: skip
    config = MonitorConfig.model_validate(
        {
            "cameras": [
                _camera("good", good, "GOOD_PW", ["a", "b"]),
                _camera("bad", bad, "BAD_PW", bad_presets),
            ]
        }
    )
    control = PtzControl.from_config(config, env={"GOOD_PW": good.password, **bad_env})
    hub = Hub()
    rt = PtzRuntime(control, hub, "Asia/Seoul", poll_s=0.1)
    rt.start()
    try:
        if callable(during):
            during()
        time.sleep(seconds)
    finally:
        rt.stop()
        control.close()
    return rt, hub


def _good_visits(hub: Hub) -> list[str]:
    out: list[str] = []
    for m in hub.armed:
        if m.camera == "good" and m.preset is not None and (not out or out[-1] != m.preset):
            out.append(m.preset)
    return out


def test_wrong_credentials(cams: tuple[VirtualPtz, VirtualPtz], caplog: pytest.LogCaptureFixture) -> None:
    good, bad = cams
    with caplog.at_level(logging.WARNING, logger="safecity.ptz.runtime"):
        rt, hub = _run(good, bad, {"BAD_PW": "not-the-password"}, ["a", "b"], 6.0)
    st = rt.states()["bad"]
    assert st.mode == "unreachable" and not st.armed
    assert "password" in st.reason.lower() or "not authorized" in st.reason.lower(), st.reason
    assert [m.preset for m in hub.armed if m.camera == "bad"] == [None] * len(
        [m for m in hub.armed if m.camera == "bad"]
    )
    assert len(_good_visits(hub)) >= 3, _good_visits(hub)  # the good camera patrolled on
    warnings = [r.getMessage() for r in caplog.records if "bad" in r.getMessage()]
    assert len(warnings) == 1, warnings  # reported once, not at every poll


def test_a_preset_the_camera_does_not_have(cams: tuple[VirtualPtz, VirtualPtz]) -> None:
    good, bad = cams
    rt, hub = _run(good, bad, {"BAD_PW": bad.password}, ["a", "pier"], 6.0)
    reasons = {s.reason for s in [rt.states()["bad"]]}
    assert any("pier" in r for r in reasons), reasons
    assert len(_good_visits(hub)) >= 3, _good_visits(hub)


def test_a_camera_that_stops_answering_mid_move(cams: tuple[VirtualPtz, VirtualPtz]) -> None:
    good, bad = cams

    def freeze() -> None:
        time.sleep(1.0)  # the slow head is on its way to a or b
        bad.pause()

    try:
        rt, hub = _run(good, bad, {"BAD_PW": bad.password}, ["a", "b"], 6.0, during=freeze)
    finally:
        bad.resume()
    st = rt.states()["bad"]
    assert st.mode == "unreachable" and "no answer" in st.reason, st.reason
    assert not st.armed
    assert len(_good_visits(hub)) >= 3, _good_visits(hub)
