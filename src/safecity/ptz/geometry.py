"""Hand-off geometry (pure): where a fixed camera's event is, which PTZ can look there, and how.

Positions are WGS84; distances and bearings are computed in EPSG:5179 metres (grid north differs from
true north by less than 0.5° in Seoul, far below a PTZ's field of view). A fixed camera sees along
``heading_deg`` with a horizontal field of view ``fov_deg``; an event whose box centre is at ``x_frac``
of the frame width lies on the bearing ``heading + (x_frac - 0.5) * fov``. Its distance is not known
without the camera's mounting height and tilt, so callers give one (``distance_m``, e.g. half the
camera's useful range). A PTZ looks at the place through a preset whose ``lat``/``lon``/``radius_m``
covers it, else through an absolute pan from ``pan_zero_heading_deg`` and ``pan_span_deg`` (tilt kept),
zoomed in proportion to the distance.

Example:
    >>> b, d = bearing_distance(37.5000, 126.8800, 37.5009, 126.8800)   # 100 m north
    >>> round(b) % 360, round(d)
    (0, 100)
    >>> pan_for_bearing(90.0, pan_zero_heading_deg=0.0, pan_span_deg=360.0)
    0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from safecity.geo import lonlat_to_xy, xy_to_lonlat
from safecity.monitor.config.ptz import PtzConfig

__all__ = [
    "HandoffTarget",
    "PtzSite",
    "bearing_distance",
    "choose_ptz",
    "pan_for_bearing",
    "place_in_view",
]


@dataclass(frozen=True, slots=True)
class PtzSite:
    """A PTZ camera that may take a hand-off: its id, position and ``ptz`` config."""

    key: str
    lat: float
    lon: float
    config: PtzConfig


@dataclass(frozen=True, slots=True)
class HandoffTarget:
    """How ``camera`` should look at the place: a preset, or an absolute pan (and zoom)."""

    camera: str
    distance_m: float
    preset: str | None = None
    pan: float | None = None
    zoom: float | None = None


def bearing_distance(lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float]:
    """Compass bearing (degrees, 0 = north, clockwise) and distance (m) from point 1 to point 2."""
    x, y = lonlat_to_xy([lon1, lon2], [lat1, lat2])
    dx, dy = float(x[1] - x[0]), float(y[1] - y[0])
    return math.degrees(math.atan2(dx, dy)) % 360.0, math.hypot(dx, dy)


def place_in_view(
    lat: float, lon: float, heading_deg: float, fov_deg: float, x_frac: float, distance_m: float
) -> tuple[float, float]:
    """(lat, lon) of a point seen at ``x_frac`` (0 left .. 1 right) of a fixed camera's frame."""
    bearing = math.radians(heading_deg + (min(max(x_frac, 0.0), 1.0) - 0.5) * fov_deg)
    x, y = lonlat_to_xy([lon], [lat])
    lon2, lat2 = xy_to_lonlat(
        [float(x[0]) + distance_m * math.sin(bearing)], [float(y[0]) + distance_m * math.cos(bearing)]
    )
    return float(lat2[0]), float(lon2[0])


def pan_for_bearing(bearing_deg: float, *, pan_zero_heading_deg: float, pan_span_deg: float) -> float | None:
    """The ONVIF generic pan (-1..1) that points at ``bearing_deg``, or None if out of the pan range.

    Pan -1..1 covers ``pan_span_deg`` centred on ``pan_zero_heading_deg`` (360: all round).
    """
    delta = (bearing_deg - pan_zero_heading_deg + 180.0) % 360.0 - 180.0  # -180 .. 180
    pan = delta / (pan_span_deg / 2.0)  # straight behind a 360° head is -1 (the same as +1)
    return pan if -1.0 - 1e-9 <= pan <= 1.0 + 1e-9 else None


def choose_ptz(lat: float, lon: float, sites: Sequence[PtzSite]) -> HandoffTarget | None:
    """The nearest PTZ within its ``range_m`` that can look at (lat, lon), and how; None if none can.

    A PTZ whose configured preset covers the place (within the preset's ``radius_m``) uses that
    preset; otherwise it needs ``pan_zero_heading_deg`` to compute a pan, and the place within its pan
    range; its zoom grows with the distance (0 at the camera, 1 at ``range_m``).
    """
    options: list[tuple[float, HandoffTarget]] = []
    for s in sites:
        bearing, dist = bearing_distance(s.lat, s.lon, lat, lon)
        cfg = s.config
        if dist > cfg.range_m:
            continue
        covering = [
            (bearing_distance(p.lat, p.lon, lat, lon)[1], p.name)
            for p in cfg.presets
            if p.lat is not None and p.lon is not None
        ]
        inside = sorted((d, name) for d, name in covering if d <= cfg.preset(name).radius_m)
        if inside:
            options.append((dist, HandoffTarget(s.key, dist, preset=inside[0][1])))
            continue
        if cfg.pan_zero_heading_deg is None:
            continue
        pan = pan_for_bearing(
            bearing, pan_zero_heading_deg=cfg.pan_zero_heading_deg, pan_span_deg=cfg.pan_span_deg
        )
        if pan is None:
            continue
        zoom = min(1.0, dist / cfg.range_m)
        options.append((dist, HandoffTarget(s.key, dist, pan=max(-1.0, min(1.0, pan)), zoom=zoom)))
    if not options:
        return None
    options.sort(key=lambda o: (o[0], o[1].camera))
    return options[0][1]
