"""Hand-off geometry: bearings, the place a fixed camera sees, the pan that looks there, the PTZ chosen."""

from __future__ import annotations

import pytest

from safecity.monitor.config.ptz import PtzConfig
from safecity.ptz.geometry import PtzSite, bearing_distance, choose_ptz, pan_for_bearing, place_in_view

LAT, LON = 37.5000, 126.8800  # a point in Guro-gu
ONVIF = {"host": "10.0.0.1", "user": "u", "password_env": "P"}


def _cfg(**kw: object) -> PtzConfig:
    return PtzConfig.model_validate({"onvif": ONVIF} | kw)


@pytest.mark.parametrize(
    ("dlat", "dlon", "bearing"), [(0.0009, 0, 0), (0, 0.00113, 90), (-0.0009, 0, 180), (0, -0.00113, 270)]
)
def test_bearing_distance_in_the_four_directions(dlat: float, dlon: float, bearing: float) -> None:
    b, d = bearing_distance(LAT, LON, LAT + dlat, LON + dlon)
    assert abs((b - bearing + 180) % 360 - 180) < 1.0  # grid north is within 1 degree of true north here
    assert d == pytest.approx(100, abs=2)


def test_place_in_view_follows_heading_and_the_box_position() -> None:
    ahead = place_in_view(LAT, LON, heading_deg=90, fov_deg=60, x_frac=0.5, distance_m=50)
    b, d = bearing_distance(LAT, LON, *ahead)
    assert b == pytest.approx(90, abs=1e-6) and d == pytest.approx(50, abs=1e-6)
    right_edge = place_in_view(LAT, LON, heading_deg=90, fov_deg=60, x_frac=1.0, distance_m=50)
    assert bearing_distance(LAT, LON, *right_edge)[0] == pytest.approx(120, abs=1e-6)


def test_pan_for_bearing_with_a_full_and_a_limited_range() -> None:
    assert pan_for_bearing(45, pan_zero_heading_deg=0, pan_span_deg=360) == pytest.approx(0.25)
    assert pan_for_bearing(350, pan_zero_heading_deg=10, pan_span_deg=360) == pytest.approx(-20 / 180)
    assert abs(pan_for_bearing(190, pan_zero_heading_deg=10, pan_span_deg=360) or 0) == pytest.approx(1.0)
    assert pan_for_bearing(100, pan_zero_heading_deg=0, pan_span_deg=180) is None  # behind a 180° head
    assert pan_for_bearing(-80 % 360, pan_zero_heading_deg=0, pan_span_deg=180) == pytest.approx(-80 / 90)


def test_choose_ptz_prefers_the_nearest_in_range_and_a_covering_preset() -> None:
    place = place_in_view(LAT, LON, heading_deg=0, fov_deg=60, x_frac=0.5, distance_m=40)  # 40 m north
    near = PtzSite("near", LAT, LON + 0.00057, _cfg(pan_zero_heading_deg=0, range_m=150))  # ~50 m east
    far = PtzSite("far", LAT - 0.0018, LON, _cfg(pan_zero_heading_deg=0, range_m=500))  # ~240 m south
    short = PtzSite("short", LAT, LON, _cfg(pan_zero_heading_deg=0, range_m=20))  # too short a range
    t = choose_ptz(*place, [far, short, near])
    assert t is not None and t.camera == "near" and t.preset is None
    bearing, dist = bearing_distance(near.lat, near.lon, *place)
    assert t.distance_m == pytest.approx(dist)
    assert t.pan == pytest.approx(pan_for_bearing(bearing, pan_zero_heading_deg=0, pan_span_deg=360))
    assert t.zoom == pytest.approx(dist / 150)

    plat, plon = place
    presets = [
        {"name": "far_gate", "lat": plat + 0.01, "lon": plon},
        {"name": "plaza", "lat": plat + 0.0001, "lon": plon, "radius_m": 30},
    ]
    covered = _cfg(presets=presets)
    t2 = choose_ptz(*place, [PtzSite("p", LAT, LON + 0.00057, covered)])
    assert t2 is not None and (t2.preset, t2.pan) == ("plaza", None)


def test_no_ptz_can_look_there() -> None:
    no_heading = PtzSite("x", LAT, LON, _cfg())  # no preset covers it and no pan calibration
    assert choose_ptz(LAT + 0.0003, LON, [no_heading]) is None
    assert choose_ptz(LAT, LON, []) is None
