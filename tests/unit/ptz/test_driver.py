"""PatrolDriver against the virtual ONVIF camera (a real process; ONVIF only): a tour runs, analytics
are armed only at rest after settling, a lease pauses the patrol and a release resumes it, and a camera
that does not come back after a release is reported."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from safecity.monitor.config.ptz import PtzConfig
from safecity.monitor.runtime.messages import ArmAnalytics
from safecity.ptz.camera import PtzCamera
from safecity.ptz.control import PtzControl, PtzUnit
from safecity.ptz.driver import DriverState, PatrolDriver
from safecity.ptz.lease import LeaseBook
from safecity.ptz.runtime import PtzRuntime
from tests.ptz_helpers import VirtualPtz

PRESETS = {"a": (-0.6, 0.0, 0.0), "b": (0.6, 0.2, 0.4)}


@pytest.fixture(scope="module")
def vcam() -> Iterator[VirtualPtz]:
    cam = VirtualPtz(presets=PRESETS, rtsp=False, speed=2.0).start()
    yield cam
    cam.stop()


@pytest.fixture
def unit(vcam: VirtualPtz) -> Iterator[PtzUnit]:
    cfg = PtzConfig.model_validate(
        {
            "onvif": {"host": "127.0.0.1", "user": "admin", "password_env": "X"},
            "presets": [{"name": "a", "settle_s": 0.3}, {"name": "b", "settle_s": 0.3}],
            "tours": [
                {"name": "t", "stops": [{"preset": "a", "dwell_s": 0.8}, {"preset": "b", "dwell_s": 0.8}]}
            ],
            "return_after_release_s": 1.0,
        }
    )
    cam = PtzCamera("127.0.0.1", vcam.port, vcam.user, vcam.password, name="ptz-t", timeout_s=3.0)
    yield PtzUnit("ptz-t", "t", cfg, cam)
    cam.close()


def _run(driver: PatrolDriver, seconds: float, until_visits: int = 0) -> list[DriverState]:
    """Poll for ``seconds``, or with ``until_visits`` until that many armed visits (at most 60 s)."""
    out: list[DriverState] = []
    end = time.monotonic() + (60.0 if until_visits else seconds)
    while time.monotonic() < end:
        out.append(driver.poll())
        if until_visits and len(_armed_visits(out)) >= until_visits:
            break
        time.sleep(0.05)
    return out


def _armed_visits(states: list[DriverState]) -> list[str]:
    visits: list[str] = []
    for s in states:
        if s.armed and s.preset is not None and (not visits or visits[-1] != s.preset):
            visits.append(s.preset)
    return visits


def test_a_tour_runs_and_analytics_are_armed_only_at_rest(unit: PtzUnit) -> None:
    driver = PatrolDriver(unit, LeaseBook(), "Asia/Seoul")
    states = _run(driver, 0, until_visits=3)
    visits = _armed_visits(states)
    assert visits[:3] == ["a", "b", "a"], visits
    assert all(s.mode == "patrol" for s in states)
    assert not any(s.armed and s.moving for s in states)  # never armed while moving
    assert any(s.moving for s in states)  # it did travel between the stops
    st = unit.camera.status()
    assert st.position is not None


def test_a_lease_pauses_the_patrol_and_a_release_resumes_it(unit: PtzUnit, vcam: VirtualPtz) -> None:
    leases = LeaseBook()
    driver = PatrolDriver(unit, leases, "Asia/Seoul")
    _run(driver, 1.5)
    leases.acquire("ptz-t", "kim", 60)
    held = driver.poll()
    assert (held.mode, held.holder, held.armed) == ("held", "kim", False)
    unit.camera.absolute_move(0.0, -0.8, 1.0)  # the operator looks elsewhere
    states = _run(driver, 1.0)
    assert all(s.mode == "held" for s in states)
    st = unit.camera.status()
    assert st.position is not None and st.position.tilt == pytest.approx(-0.8)  # the patrol kept off
    leases.release("ptz-t", "kim")
    after = _run(driver, 0, until_visits=1)
    assert after[0].mode == "patrol" and not after[0].armed
    assert _armed_visits(after), "the patrol did not resume"
    assert not any(s.not_returned for s in after)


def test_a_camera_that_does_not_come_back_after_a_release_is_reported(
    unit: PtzUnit, vcam: VirtualPtz
) -> None:
    leases = LeaseBook()
    driver = PatrolDriver(unit, leases, "Asia/Seoul")
    _run(driver, 1.0)
    leases.acquire("ptz-t", "kim", 60)
    driver.poll()
    leases.release("ptz-t", "kim")
    vcam.pause()  # stops answering: it cannot be sent back
    states: list[DriverState] = []
    try:
        for _ in range(8):  # each poll waits out the 3 s timeout; return_after_release_s is 1 s
            states.append(driver.poll())
            if states[-1].not_returned:
                break
    finally:
        vcam.resume()
    reasons = [(s.mode, s.reason) for s in states]
    assert all(s.mode == "unreachable" for s in states), reasons
    assert all("no answer" in s.reason for s in states), reasons
    assert states[-1].not_returned, reasons


def test_a_camera_without_status_is_armed_after_settle_s_and_the_picture_must_be_still(
    unit: PtzUnit,
) -> None:
    blind = VirtualPtz(presets=PRESETS, rtsp=False, speed=2.0, status=False).start()
    cam = PtzCamera("127.0.0.1", blind.port, blind.user, blind.password, name="ptz-t", timeout_s=3.0)
    try:
        st = cam.status()
        assert (st.position, st.moving) == (None, None)  # the camera tells nothing
        hub = _ArmHub()
        runtime = PtzRuntime(PtzControl([]), hub, "Asia/Seoul")
        driver = PatrolDriver(PtzUnit("ptz-t", "t", unit.config, cam), LeaseBook(), "Asia/Seoul",
                              on_state=runtime.on_state)  # fmt: skip
        states = _run(driver, 0, until_visits=2)
        assert _armed_visits(states)[:2] == ["a", "b"]
        assert all(s.moving is None for s in states)
        first_armed = next(s for s in states if s.armed)
        assert first_armed.t_s - states[0].t_s >= 0.3  # settle_s after the command
        # the worker is told to wait for a still picture before the rules run
        assert [(m.preset, m.wait_still) for m in hub.armed if m.preset][:1] == [("a", True)]
    finally:
        cam.close()
        blind.stop()


class _ArmHub:
    def __init__(self) -> None:
        self.armed: list[ArmAnalytics] = []

    def arm_analytics(self, msg: ArmAnalytics) -> None:
        self.armed.append(msg)

    def deliver(self, msg: object) -> None:
        pass
