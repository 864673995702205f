"""Map areas of a search: a polygon drawn on the map, parsed and checked, and the cameras inside it.

A record's map position is its camera's (:mod:`safecity.store.tracks`), so "tracks in this area" is
"tracks of the cameras whose position lies in the polygon": the index is asked for those cameras and
for the polygon's bounding box (the box keeps records that carry a position inside it on SQLite's
R*Tree). Shapely tests the points (``covers``: a camera on the edge is inside).

Example:
    >>> poly = parse_polygon("37.49,126.85;37.49,126.87;37.51,126.87;37.51,126.85")
    >>> bounding_box(poly)
    (37.49, 126.85, 37.51, 126.87)
    >>> sorted(cameras_in_polygon(poly, {"a": (37.50, 126.86), "b": (37.60, 126.86), "c": None}))
    ['a']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from safecity.errors import InputError

__all__ = ["DISTRICT", "MAX_POINTS", "bounding_box", "cameras_in_polygon", "parse_polygon"]

DISTRICT = (33.0, 124.0, 39.0, 132.0)
"""(south, west, north, east) of the area positions may lie in (South Korea)."""
MAX_POINTS = 200
"""Most corners of one polygon."""

LatLon = tuple[float, float]


def parse_polygon(text: str) -> list[LatLon]:
    """``"lat,lon;lat,lon;..."`` (at least three corners, all inside :data:`DISTRICT`, a real area).

    Raises:
        InputError: what was wrong and what is expected.
    """
    from shapely.geometry import Polygon

    parts = [p.strip() for p in text.split(";") if p.strip()]
    if len(parts) > MAX_POINTS:
        raise InputError(f"polygon has {len(parts)} corners; at most {MAX_POINTS} are allowed")
    points: list[LatLon] = []
    for p in parts:
        try:
            lat, lon = (float(v) for v in p.split(","))
        except ValueError:
            msg = f"polygon corner {p[:40]!r} is not 'latitude,longitude'; send 'lat,lon;lat,lon;lat,lon'"
            raise InputError(msg) from None
        points.append((lat, lon))
    if len(points) >= 2 and points[0] == points[-1]:
        points.pop()  # a closed ring: the last corner repeats the first
    if len(points) < 3:
        raise InputError(
            f"a polygon needs at least 3 corners, but got {len(points)}; draw three or more points on the map"
        )
    s, w, n, e = DISTRICT
    for lat, lon in points:
        if not (math.isfinite(lat) and math.isfinite(lon) and s <= lat <= n and w <= lon <= e):
            raise InputError(
                f"polygon corner ({lat}, {lon}) is outside the district (latitude {s}..{n}, "
                f"longitude {w}..{e}); draw the area on the map of the monitored district"
            )
    shape = Polygon([(lon, lat) for lat, lon in points])
    if not shape.is_valid:
        raise InputError(
            "the polygon crosses itself or has no area; draw its corners in order around the area"
        )
    if shape.area < 1e-10:  # square degrees: about a square metre
        raise InputError("the polygon's corners lie on one line (no area); draw an area on the map")
    return points


def bounding_box(points: Sequence[LatLon]) -> tuple[float, float, float, float]:
    """(south, west, north, east) of the corners."""
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    return min(lats), min(lons), max(lats), max(lons)


def cameras_in_polygon(points: Sequence[LatLon], positions: Mapping[str, LatLon | None]) -> frozenset[str]:
    """The cameras whose position lies in (or on the edge of) the polygon; no position = outside."""
    from shapely.geometry import Point, Polygon

    shape = Polygon([(lon, lat) for lat, lon in points])
    return frozenset(
        cam for cam, pos in positions.items() if pos is not None and shape.covers(Point(pos[1], pos[0]))
    )
