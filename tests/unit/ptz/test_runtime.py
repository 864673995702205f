"""PtzRuntime: the driver's word reaches the camera's analytics (ArmAnalytics on change and again every
resend_s), a camera that does not return after a release raises a camera_moved health event (ended when
it is back), and one camera's problem is reported without touching another's state."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.runtime.messages import ArmAnalytics, EventMsg, HealthMsg
from safecity.ptz.control import PtzControl
from safecity.ptz.driver import DriverState
from safecity.ptz.runtime import PtzRuntime
from safecity.service import build_services
from safecity.settings import Settings

CONFIG = {
    "cameras": [
        {
            "id": f"ptz-{i}",
            "source": f"rtsp://10.0.0.{i}/s",
            "ptz": {
                "onvif": {"host": f"10.0.0.{i}", "user": "admin", "password_env": "PW"},
                "presets": [{"name": "a"}, {"name": "b"}],
                "return_after_release_s": 30,
            },
        }
        for i in (1, 2)
    ]
}


class Hub:
    """Records what the runtime sends (the hub's two entry points)."""

    def __init__(self) -> None:
        self.armed: list[ArmAnalytics] = []
        self.delivered: list[EventMsg | HealthMsg] = []

    def arm_analytics(self, msg: ArmAnalytics) -> None:
        self.armed.append(msg)

    def deliver(self, msg: EventMsg | HealthMsg) -> None:
        self.delivered.append(msg)


def _runtime() -> tuple[PtzRuntime, Hub]:
    control = PtzControl.from_config(MonitorConfig.model_validate(CONFIG), env={"PW": "x"})
    hub = Hub()
    return PtzRuntime(control, hub, "Asia/Seoul", resend_s=2.0), hub


def _st(t: float, preset: str | None, armed: bool, *, moving: bool | None = False, cam: str = "ptz-1",
        mode: str = "patrol", not_returned: bool = False, reason: str = "") -> DriverState:  # fmt: skip
    return DriverState(cam, t, mode, preset, moving, armed, not_returned=not_returned, reason=reason)  # type: ignore[arg-type]


def test_arming_follows_the_driver_and_is_resent() -> None:
    rt, hub = _runtime()
    assert sorted(rt.drivers) == ["ptz-1", "ptz-2"]
    rt.on_state(_st(0.0, "a", False, moving=True))
    rt.on_state(_st(0.5, "a", False, moving=True))  # same word within resend_s: not sent again
    rt.on_state(_st(1.0, "a", True))
    rt.on_state(_st(1.5, "a", True))
    rt.on_state(_st(3.1, "a", True))  # resent after resend_s (a restarted pipeline learns it)
    rt.on_state(_st(3.5, "b", False, moving=True))
    rt.on_state(_st(4.0, "b", True, moving=None))  # no move status: the picture must be still first
    assert [(m.camera, m.preset, m.wait_still) for m in hub.armed] == [
        ("ptz-1", None, False),
        ("ptz-1", "a", False),
        ("ptz-1", "a", False),
        ("ptz-1", None, False),
        ("ptz-1", "b", True),
    ]
    assert rt.states()["ptz-1"].preset == "b"


def test_not_returned_raises_a_health_event_until_the_camera_is_back() -> None:
    rt, hub = _runtime()
    rt.on_state(_st(10.0, "a", False, mode="unreachable", not_returned=True, reason="no answer within 5 s"))
    rt.on_state(_st(11.0, "a", False, mode="unreachable", not_returned=True))  # one event, not two
    starts = [m for m in hub.delivered if isinstance(m, EventMsg) and m.kind == "start"]
    assert len(starts) == 1
    ev = starts[0].event
    assert (ev.type, ev.camera, ev.detail["ptz"], ev.detail["preset"]) == (
        "camera_moved",
        "ptz-1",
        "not_returned",
        "a",
    )
    assert "did not return to a within 30 s" in str(ev.detail["reason"])
    assert HealthMsg("ptz-1", "moved") in hub.delivered
    rt.on_state(_st(20.0, "a", True))  # back at its preset
    ends = [m for m in hub.delivered if isinstance(m, EventMsg) and m.kind == "end"]
    assert [(m.event.uid, m.event.end_s) for m in ends] == [(ev.uid, 20.0)]
    assert hub.delivered[-1] == HealthMsg("ptz-1", "online")


def test_one_camera_s_problem_leaves_the_other_alone() -> None:
    rt, hub = _runtime()
    rt.on_state(_st(0.0, "a", False, mode="unreachable", reason="wrong password", cam="ptz-2"))
    rt.on_state(_st(0.0, "a", True, cam="ptz-1"))
    states = rt.states()
    assert states["ptz-2"].mode == "unreachable" and states["ptz-1"].armed
    assert [(m.camera, m.preset) for m in hub.armed] == [("ptz-2", None), ("ptz-1", "a")]


def test_stop_ends_a_live_not_returned_event() -> None:
    rt, hub = _runtime()
    rt.on_state(_st(5.0, "a", False, not_returned=True))
    rt.stop()
    assert [m.kind for m in hub.delivered if isinstance(m, EventMsg)] == ["start", "end"]


def test_build_services_attaches_the_ptz_runtime_and_the_handoff_sink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    monkeypatch.setenv("PW", "x")
    services = build_services(Settings(home=tmp_path / "home"), cfg)
    try:
        rt = services.ptz_runtime
        assert isinstance(rt, PtzRuntime) and sorted(rt.drivers) == ["ptz-1", "ptz-2"]
        assert rt.hub is services.monitor and rt.handoff is not None
        assert services.ptz is not None and rt.control is services.ptz
    finally:
        services.close()
