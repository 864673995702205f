"""PtzRuntime.update_config: a changed monitoring config (ConfigWatcher -> Services.apply_config) changes
the PTZ drivers (changed camera: new driver, connection kept; new camera: driver; removed: none) and the
hand-off's positions and headings; a running runtime's new driver patrols the new tour at once."""

from __future__ import annotations

import copy
import logging
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.config.policy import BoundPolicy
from safecity.ptz.control import PtzControl
from safecity.ptz.handoff import HandoffSink
from safecity.ptz.runtime import PtzRuntime
from safecity.service import build_services
from safecity.settings import Settings
from tests.ptz_helpers import VirtualPtz
from tests.unit.ptz.test_handoff import Wall, fixed_event, handoff_config


def _cam(i: int, presets: tuple[str, ...] = ("a", "b")) -> dict[str, Any]:
    return {
        "id": f"ptz-{i}",
        "source": f"rtsp://10.0.0.{i}/s",
        "ptz": {
            "onvif": {"host": f"10.0.0.{i}", "user": "admin", "password_env": "PW"},
            "presets": [{"name": p} for p in presets],
        },
    }


def _cfg(*cams: dict[str, Any], **top: Any) -> MonitorConfig:
    return MonitorConfig.model_validate({"cameras": list(cams), **top})


def test_changed_new_and_removed_ptz_cameras() -> None:
    env = {"PW": "x"}
    control = PtzControl.from_config(_cfg(_cam(1), _cam(2)), env=env)
    rt = PtzRuntime(control, None, "Asia/Seoul")
    d1, d2 = rt.drivers["ptz-1"], rt.drivers["ptz-2"]
    client1 = control.units["ptz-1"].camera
    rt.update_config(_cfg(_cam(1), _cam(2)), env=env)  # nothing changed: nothing restarts
    assert rt.drivers["ptz-1"] is d1 and rt.drivers["ptz-2"] is d2
    rt.update_config(_cfg(_cam(1, ("a", "b", "c")), _cam(3)), env=env)
    assert sorted(rt.drivers) == sorted(control.units) == ["ptz-1", "ptz-3"]
    assert rt.drivers["ptz-1"] is not d1
    assert [p.name for p in control.units["ptz-1"].config.presets] == ["a", "b", "c"]
    assert rt.drivers["ptz-1"].unit is control.units["ptz-1"]
    assert control.units["ptz-1"].camera is client1  # same ONVIF settings: the connection is kept
    moved = _cam(1, ("a", "b", "c"))
    moved["ptz"]["onvif"]["host"] = "10.0.9.1"
    rt.update_config(_cfg(moved, _cam(3)), env=env)
    assert control.units["ptz-1"].camera is not client1
    d3 = rt.drivers["ptz-3"]
    rt.update_config(_cfg(moved, _cam(3), timezone="UTC"), env=env)  # the tours' clock: every driver anew
    assert rt.drivers["ptz-3"] is not d3 and rt.timezone == "UTC"
    control.close()


def test_a_new_camera_without_its_password_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    control = PtzControl.from_config(_cfg(_cam(1)), env={"PW": "x"})
    rt = PtzRuntime(control, None, "Asia/Seoul")
    other = _cam(2)
    other["ptz"]["onvif"]["password_env"] = "NOT_SET_PW"
    with caplog.at_level(logging.ERROR):
        rt.update_config(_cfg(_cam(1, ("a",)), other), env={"PW": "x"})
    assert sorted(rt.drivers) == ["ptz-1"] and "NOT_SET_PW" in caplog.text
    assert [p.name for p in control.units["ptz-1"].config.presets] == ["a"]
    control.close()


def test_the_handoff_follows_headings_and_positions(vcam: VirtualPtz) -> None:
    doc = handoff_config(vcam).model_dump(mode="json", exclude_none=True)
    away = copy.deepcopy(doc)
    away["cameras"][0]["heading_deg"] = 270  # looking west: the lane preset (east) does not cover it
    cfg = MonitorConfig.model_validate(away)
    control = PtzControl.from_config(cfg, env={"VPTZ_PW": vcam.password})
    rt = PtzRuntime(control, None, cfg.timezone)
    rt.handoff = HandoffSink(cfg, control, BoundPolicy(cfg.policy, {}, cfg.timezone), Wall())
    try:
        rt.handoff.publish("start", fixed_event())
        assert [h.outcome for h in rt.handoff.log] == ["no_ptz"]
        rt.update_config(MonitorConfig.model_validate(doc), env={"VPTZ_PW": vcam.password})  # heading 90
        rt.handoff.publish("start", fixed_event())
        assert [h.outcome for h in rt.handoff.log][-1] == "swung"
        far = copy.deepcopy(doc)
        far["cameras"][1]["lat"] = 37.6  # the PTZ moved 11 km north: out of its range_m
        rt.update_config(MonitorConfig.model_validate(far), env={"VPTZ_PW": vcam.password})
        control.leases.release("ptz-1", "handoff", force=True)
        rt.handoff.publish("start", fixed_event())
        assert [h.outcome for h in rt.handoff.log][-1] == "no_ptz"
    finally:
        control.close()


def test_a_running_driver_takes_the_new_tour(vcam: VirtualPtz) -> None:
    doc = handoff_config(vcam).model_dump(mode="json", exclude_none=True)
    doc["cameras"][1]["ptz"]["home_preset"] = "patrol"
    cfg = MonitorConfig.model_validate(doc)
    env = {"VPTZ_PW": vcam.password}
    control = PtzControl.from_config(cfg, env=env)
    rt = PtzRuntime(control, None, cfg.timezone, poll_s=0.1)
    rt.start()
    try:
        _wait(lambda: _state_preset(rt) == "patrol", "the driver to rest at patrol")
        doc["cameras"][1]["ptz"]["home_preset"] = "lane"
        rt.update_config(MonitorConfig.model_validate(doc), env=env)
        _wait(lambda: _state_preset(rt) == "lane" and rt.states()["ptz-1"].armed, "the new home")
    finally:
        rt.stop()
        control.close()


def _state_preset(rt: PtzRuntime) -> str | None:
    st = rt.states().get("ptz-1")
    return st.preset if st is not None else None


def _wait(cond: Any, what: str, limit_s: float = 30.0) -> None:
    deadline = time.monotonic() + limit_s
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_services_apply_config_updates_the_ptz_drivers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(yaml.safe_dump({"cameras": [_cam(1), _cam(2)]}), encoding="utf-8")
    monkeypatch.setenv("PW", "x")
    services = build_services(Settings(home=tmp_path / "home"), cfg)
    try:
        rt = services.ptz_runtime
        assert isinstance(rt, PtzRuntime)
        services.apply_config(_cfg(_cam(1, ("a", "b", "c"))))
        assert sorted(rt.drivers) == ["ptz-1"] and services.ptz is rt.control
        assert [p.name for p in rt.control.units["ptz-1"].config.presets] == ["a", "b", "c"]
    finally:
        services.close()
