"""Coordinates: WGS84 (lat/lon degrees) <-> EPSG:5179 (Korea 2000 / Unified CS, metres).

pyproj is imported lazily (planning extra). Helpers check that coordinates are plausible so that
degrees passed where metres are needed (or the reverse) fail with a clear message.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from safecity.errors import InputError

__all__ = [
    "KOREA_CRS",
    "SEOUL_BOUNDS",
    "check_lonlat",
    "check_metres",
    "lonlat_to_xy",
    "xy_to_lonlat",
]

KOREA_CRS = "EPSG:5179"
#: generous lat/lon box around Seoul (the national standard data has 99.99/999.99 placeholders)
SEOUL_BOUNDS = (37.40, 126.76, 37.72, 127.19)  # lat_min, lon_min, lat_max, lon_max

FloatArray = npt.NDArray[np.float64]


@lru_cache(maxsize=4)
def _transformer(src: str, dst: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def lonlat_to_xy(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 degrees -> EPSG:5179 metres.

    >>> x, y = lonlat_to_xy([126.8875], [37.4954])   # Guro-gu office
    >>> 940_000 < float(x[0]) < 950_000 and 1_940_000 < float(y[0]) < 1_945_000
    True
    """
    x, y = _transformer("EPSG:4326", KOREA_CRS).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def xy_to_lonlat(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """EPSG:5179 metres -> WGS84 (lon, lat) degrees."""
    lon, lat = _transformer(KOREA_CRS, "EPSG:4326").transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


def check_lonlat(lon: npt.ArrayLike, lat: npt.ArrayLike, what: str) -> None:
    """Raise InputError unless every point looks like WGS84 degrees in Korea."""
    lo, la = np.asarray(lon, float), np.asarray(lat, float)
    if lo.size == 0:
        return
    bad = ~((la >= 33.0) & (la <= 39.0) & (lo >= 124.0) & (lo <= 132.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        hint = (
            " (these look like metres: give WGS84 degrees)" if abs(lo[i]) > 1000 or abs(la[i]) > 1000 else ""
        )
        raise InputError(
            f"{what}: expected WGS84 lat/lon degrees in Korea (lat 33..39, lon 124..132), "
            f"but {int(bad.sum())} point(s) are outside, first lat={la[i]}, lon={lo[i]}{hint}"
        )


def check_metres(x: npt.ArrayLike, y: npt.ArrayLike, what: str) -> None:
    """Raise InputError unless points look like EPSG:5179 metres (not degrees)."""
    xs, ys = np.asarray(x, float), np.asarray(y, float)
    if xs.size == 0:
        return
    if (np.abs(xs) < 1000).any() or (np.abs(ys) < 1000).any():
        raise InputError(
            f"{what}: expected projected coordinates in metres ({KOREA_CRS}, x about 900,000-1,100,000, "
            f"y about 1,700,000-2,100,000) but got values like x={xs.flat[0]}, y={ys.flat[0]}, which look "
            "like degrees; convert with safecity.geo.lonlat_to_xy"
        )
