"""The moves safecity makes by itself are in the audit chain (a real AuditLog on SQLite, the virtual ONVIF
camera): a hand-off's swing is a ``ptz_move`` row by ``system:handoff`` (preset or absolute command, the
fixed camera and its event), a refusal because an operator holds the camera an ``allowed=False`` row, a
camera error a row with the error, and the patrol taking the camera back when the hold ends a
``ptz_release`` row; an operator's own release is left to the console. The chain stays valid."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.config.policy import BoundPolicy
from safecity.ptz.audit import SYSTEM_HANDOFF, record_system
from safecity.ptz.control import PtzControl
from safecity.ptz.driver import DriverState
from safecity.ptz.handoff import HANDOFF_HOLDER, HandoffSink
from safecity.ptz.runtime import PtzRuntime
from safecity.store.audit import AuditFilter, AuditLog
from safecity.store.db import connect
from tests.ptz_helpers import VirtualPtz
from tests.unit.ptz.test_handoff import Wall, fixed_event, handoff_config

HOLD_S = 30.0


@pytest.fixture()
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(connect(f"sqlite:///{tmp_path / 'audit.sqlite'}"))


class Clock:
    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


def _parts(vcam: VirtualPtz, audit: AuditLog, clock: Clock, **kw: Any) -> tuple[HandoffSink, PtzRuntime]:
    doc = handoff_config(vcam, **kw).model_dump(mode="json", exclude_none=True)
    doc["cameras"][1]["ptz"]["home_preset"] = "patrol"
    cfg = MonitorConfig.model_validate(doc)
    control = PtzControl.from_config(cfg, env={"VPTZ_PW": vcam.password}, clock=clock)
    policy = BoundPolicy(cfg.policy, {}, cfg.timezone)
    sink = HandoffSink(cfg, control, policy, Wall(), audit=audit, clock=clock)
    return sink, PtzRuntime(control, None, cfg.timezone, clock=clock, audit=audit)


def _rows(audit: AuditLog, action: str) -> list[tuple[str | None, str | None, bool, dict[str, Any]]]:
    found = audit.query(AuditFilter(action=action))
    return [(e.username, e.target_id, e.allowed, json.loads(e.detail or "{}")) for e in reversed(found)]


def test_a_handoff_swing_and_the_patrol_s_return_are_audited(vcam: VirtualPtz, audit: AuditLog) -> None:
    clock = Clock()
    sink, runtime = _parts(vcam, audit, clock)
    driver = runtime.drivers["ptz-1"]
    try:
        event = fixed_event()
        sink.publish("start", event)
        (h,) = sink.log
        assert h.outcome == "swung", h.message
        ((who, cam, allowed, detail),) = _rows(audit, "ptz_move")
        assert (who, cam, allowed) == (SYSTEM_HANDOFF, "ptz-1", True)
        assert detail["mode"] == "preset" and detail["preset"] == "lane"
        assert detail["handoff"] == event.uid and detail["fixed"] == "fixed-1"
        assert detail["event_type"] == "intrusion" and "until" in detail
        assert driver.poll().holder == HANDOFF_HOLDER
        assert _rows(audit, "ptz_release") == []  # still held
        clock.t += HOLD_S + 1  # the hold ends: the patrol takes the camera back
        state = driver.poll()
        assert state.mode == "home" and state.preset == "patrol"
        ((who, cam, allowed, detail),) = _rows(audit, "ptz_release")
        assert (who, cam, allowed) == (SYSTEM_HANDOFF, "ptz-1", True)
        assert detail == {"reason": "hand-off hold ended", "resume": "patrol", "mode": "home"}
        driver.poll()
        assert len(_rows(audit, "ptz_release")) == 1  # once per hold
        assert audit.verify().ok
    finally:
        runtime.control.close()


def test_an_absolute_swing_records_the_position(vcam: VirtualPtz, audit: AuditLog) -> None:
    sink, runtime = _parts(vcam, audit, Clock(), pan_zero=0.0, lane_radius=1.0)
    try:
        sink.publish("start", fixed_event(x=0.1))
        (h,) = sink.log
        assert h.outcome == "swung" and h.target is not None and h.target.pan is not None
        ((_who, _cam, _allowed, detail),) = _rows(audit, "ptz_move")
        assert detail["mode"] == "absolute" and detail["pan"] == pytest.approx(h.target.pan)
        assert detail["zoom"] == pytest.approx(h.target.zoom)
    finally:
        runtime.control.close()


def test_an_operator_s_lease_is_a_refused_row_and_their_release_is_not_the_system_s(
    vcam: VirtualPtz, audit: AuditLog
) -> None:
    clock = Clock()
    sink, runtime = _parts(vcam, audit, clock)
    try:
        runtime.control.leases.acquire("ptz-1", "kim", 60)
        sink.publish("start", fixed_event())
        ((who, cam, allowed, detail),) = _rows(audit, "ptz_move")
        assert (who, cam, allowed) == (SYSTEM_HANDOFF, "ptz-1", False)
        assert detail["refused"] == "held by kim"
        runtime.on_state(DriverState("ptz-1", clock.t, "held", None, None, False, "kim"))
        runtime.on_state(DriverState("ptz-1", clock.t + 1, "home", "patrol", False, False))
        assert _rows(audit, "ptz_release") == []  # the console audits the operator's release
    finally:
        runtime.control.close()


def test_a_camera_error_is_a_row_with_the_error(vcam: VirtualPtz, audit: AuditLog) -> None:
    sink, runtime = _parts(vcam, audit, Clock())
    vcam.pause()
    try:
        sink.publish("start", fixed_event())
    finally:
        vcam.resume()
        runtime.control.close()
    assert [h.outcome for h in sink.log] == ["camera_error"], [h.message for h in sink.log]
    rows = _rows(audit, "ptz_move")
    assert len(rows) == 1, rows
    ((who, _cam, allowed, detail),) = rows
    assert who == SYSTEM_HANDOFF and allowed and "error" in detail and detail["preset"] == "lane"


def test_a_store_that_fails_does_not_stop_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def record(self, action: str, **kw: Any) -> int:
            raise OSError("disk full")

    record_system(Broken(), "ptz_move", "ptz-1", {"mode": "home"})
    assert "could not be written" in caplog.text
