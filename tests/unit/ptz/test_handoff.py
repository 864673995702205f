"""HandoffSink against the virtual ONVIF camera (a real process, ONVIF only): an alert-level event on a
fixed camera swings the nearest PTZ to the preset that covers the place (or an absolute pan), takes the
`handoff` lease for handoff_hold_s, and pins the PTZ next to the fixed camera; an operator's lease, a
record-level event, a health event, a PTZ camera's own event and a camera that does not answer are
each left alone or reported."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.config.policy import BoundPolicy
from safecity.monitor.types import Event
from safecity.ptz.control import PtzControl
from safecity.ptz.geometry import bearing_distance, place_in_view
from safecity.ptz.handoff import HANDOFF_HOLDER, HandoffSink
from tests.ptz_helpers import VirtualPtz

FIXED = (37.5000, 126.8800)
PTZ = (37.5002, 126.8803)
# what the fixed camera (heading 90, fov 60) shows at the centre, 30 m away
PLACE = place_in_view(*FIXED, 90.0, 60.0, 0.5, 30.0)


def handoff_config(
    vcam: VirtualPtz, *, pan_zero: float | None = None, lane_radius: float = 15.0
) -> MonitorConfig:
    return MonitorConfig.model_validate(
        {
            "policy": {"rules": [{"types": ["line_crossing"], "action": "record"}]},
            "cameras": [
                {
                    "id": "fixed-1",
                    "source": "rtsp://127.0.0.1:1/x",
                    "lat": FIXED[0],
                    "lon": FIXED[1],
                    "heading_deg": 90,
                    "fov_deg": 60,
                },
                {
                    "id": "ptz-1",
                    "source": "rtsp://127.0.0.1:1/y",
                    "lat": PTZ[0],
                    "lon": PTZ[1],
                    "ptz": {
                        "onvif": {
                            "host": "127.0.0.1",
                            "port": vcam.port,
                            "user": vcam.user,
                            "password_env": "VPTZ_PW",
                            "timeout_s": 1.0,
                        },
                        "presets": [
                            {"name": "patrol"},
                            {"name": "lane", "lat": PLACE[0], "lon": PLACE[1], "radius_m": lane_radius},
                        ],
                        "pan_zero_heading_deg": pan_zero,
                        "handoff_hold_s": 30,
                    },
                },
            ],
        }
    )


@dataclass
class Pin:
    slot: int


class Wall:
    """Records pins like MonitorHub.pin (the fixed camera is in slot 2 of 4)."""

    max_tiles = 4

    def __init__(self) -> None:
        self.pins: dict[str, tuple[int, float | None, str]] = {}

    def pin(self, camera: str, slot: int | None = None, *, until_s: float | None = None, by: str = "") -> Pin:
        chosen = slot if slot is not None else 2
        self.pins[camera] = (chosen, until_s, by)
        return Pin(chosen)


def _sink(vcam: VirtualPtz, **kw: Any) -> tuple[HandoffSink, PtzControl, Wall]:
    cfg = handoff_config(vcam, **kw)
    control = PtzControl.from_config(cfg, env={"VPTZ_PW": vcam.password})
    policy = BoundPolicy(cfg.policy, {}, cfg.timezone)
    wall = Wall()
    return HandoffSink(cfg, control, policy, wall), control, wall


def fixed_event(camera: str = "fixed-1", type_: str = "intrusion", x: float = 0.5) -> Event:
    now = time.time()
    return Event(f"{camera}-{type_}-{now}", type_, camera, now, now, severity=4,  # type: ignore[arg-type]
                 box_frac=(x - 0.05, 0.4, x + 0.05, 0.8))  # fmt: skip


def _wait_at(control: PtzControl, pan: float, tilt: float, zoom: float) -> None:
    cam = control.units["ptz-1"].camera
    for _ in range(100):
        st = cam.status()
        p = st.position
        if (
            p is not None
            and not st.moving
            and abs(p.pan - pan) + abs(p.tilt - tilt) + abs(p.zoom - zoom) < 0.03
        ):
            return
        time.sleep(0.05)
    raise AssertionError(f"the PTZ did not reach {(pan, tilt, zoom)}: {cam.status()}")


def test_an_intrusion_on_the_fixed_camera_swings_the_ptz_to_the_covering_preset(vcam: VirtualPtz) -> None:
    sink, control, wall = _sink(vcam)
    try:
        sink.publish("start", fixed_event())
        (h,) = sink.log
        assert (h.outcome, h.ptz, h.target and h.target.preset) == ("swung", "ptz-1", "lane"), h.message
        lease = control.leases.holder("ptz-1")
        assert lease is not None and lease.holder == HANDOFF_HOLDER
        assert lease.expires_s == pytest.approx(h.t_s + 30, abs=1.0)
        _wait_at(control, 0.3, -0.1, 0.5)
        assert wall.pins["fixed-1"][0] == 2 and wall.pins["ptz-1"][0] == 3  # next to it
        assert wall.pins["ptz-1"][1] == h.until_s and wall.pins["ptz-1"][2] == "ptz-handoff"
        sink.publish("update", fixed_event())  # only starts hand off
        sink.publish("start", fixed_event("ptz-1"))  # a PTZ's own event does not
        sink.publish("start", fixed_event(type_="camera_covered"))  # nor a health event
        sink.publish("start", fixed_event(type_="line_crossing"))  # nor a record-level event
        assert len(sink.log) == 1
    finally:
        control.close()


def test_without_a_covering_preset_the_pan_comes_from_the_geometry(vcam: VirtualPtz) -> None:
    sink, control, _wall = _sink(vcam, pan_zero=0.0, lane_radius=1.0)
    try:
        before = control.units["ptz-1"].camera.status().position
        assert before is not None
        sink.publish("start", fixed_event(x=0.1))  # 24 degrees left of the centre: outside the lane preset
        (h,) = sink.log
        assert h.outcome == "swung" and h.target is not None and h.target.preset is None
        assert h.target.pan is not None and h.target.zoom is not None
        place = place_in_view(*FIXED, 90.0, 60.0, 0.1, 30.0)
        bearing, dist = bearing_distance(*PTZ, *place)
        assert 170 < bearing < 180  # the PTZ stands 22 m north of the fixed camera: the place is south
        assert h.target.pan == pytest.approx(bearing / 180.0)  # pan 0 = north, 360 degrees over -1..1
        assert h.target.zoom == pytest.approx(dist / 150.0)  # zoom grows with the distance (range_m 150)
        _wait_at(control, h.target.pan, before.tilt, h.target.zoom)  # tilt kept
    finally:
        control.close()


def test_an_operator_keeps_the_camera(vcam: VirtualPtz) -> None:
    sink, control, wall = _sink(vcam)
    try:
        control.leases.acquire("ptz-1", "kim", 60)
        sink.publish("start", fixed_event())
        (h,) = sink.log
        assert h.outcome == "held" and "steered by kim" in h.message
        assert control.leases.holder("ptz-1").holder == "kim"  # type: ignore[union-attr]
        assert wall.pins == {}
    finally:
        control.close()


def test_a_camera_that_does_not_answer_is_reported_and_released(vcam: VirtualPtz) -> None:
    sink, control, _wall = _sink(vcam)
    vcam.pause()
    try:
        sink.publish("start", fixed_event())
    finally:
        vcam.resume()
        control.close()
    (h,) = sink.log
    assert h.outcome == "camera_error" and "could not be swung" in h.message, h.message
    assert control.leases.holder("ptz-1") is None  # the patrol goes on
