"""Planning inputs in EPSG:5179: demand grid, dong statistics, existing cameras, streetlights, requests.

Everything here reads files (bundled under ``data/seoul`` unless a path is given) and returns plain numpy
arrays in frozen dataclasses; scoring, coverage and optimisation never touch files.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from safecity.errors import InputError
from safecity.geo import check_lonlat, lonlat_to_xy, xy_to_lonlat
from safecity.paths import seoul_data_dir
from safecity.plan.areas import Area
from safecity.registry.model import CameraRecord

__all__ = [
    "DemandGrid",
    "DongStats",
    "REQUEST_KINDS",
    "Requests",
    "bundled_cameras",
    "camera_sites",
    "crime_per_km2",
    "demand_grid",
    "dong_stats",
    "read_requests",
    "streetlights",
]

F64 = npt.NDArray[np.float64]
REQUEST_KINDS = ("police", "resident")


@dataclass(frozen=True, slots=True)
class DemandGrid:
    """Centres of the demand cells (``xy`` metres, shape (n, 2)) and the dong/gu each lies in."""

    xy: F64
    dong_code: npt.NDArray[np.str_]
    gu: npt.NDArray[np.str_]
    cell_size_m: float

    def __post_init__(self) -> None:
        n = len(self.xy)
        if self.xy.ndim != 2 or self.xy.shape[1] != 2 or len(self.dong_code) != n or len(self.gu) != n:
            raise ValueError(f"DemandGrid arrays must be (n, 2), (n,), (n,); got {self.xy.shape}")

    def __len__(self) -> int:
        return len(self.xy)


@dataclass(frozen=True, slots=True)
class DongStats:
    """Per-dong totals keyed by KOSTAT dong code."""

    population: dict[str, float]
    households: dict[str, float]
    one_person: dict[str, float]
    names: dict[str, str]


@dataclass(frozen=True, slots=True)
class Requests:
    """Police/resident installation requests (points in metres and degrees)."""

    xy: F64
    lat: F64
    lon: F64
    kind: tuple[str, ...]
    note: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.kind)

    @staticmethod
    def empty() -> Requests:
        z = np.zeros(0)
        return Requests(np.zeros((0, 2)), z, z, (), ())


def demand_grid(area: Area, cell_size_m: float = 100.0) -> DemandGrid:
    """Cells of ``cell_size_m`` aligned to the national grid whose centre lies inside the area."""
    import geopandas as gpd
    import shapely

    poly = area.polygon
    minx, miny, maxx, maxy = poly.bounds
    half = cell_size_m / 2
    xs = np.arange(math.floor(minx / cell_size_m) * cell_size_m + half, maxx, cell_size_m)
    ys = np.arange(math.floor(miny / cell_size_m) * cell_size_m + half, maxy, cell_size_m)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    shapely.prepare(poly)
    inside = shapely.contains_xy(poly, gx, gy)
    xy = np.column_stack([gx[inside], gy[inside]]).astype(np.float64)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=area.dongs.crs)
    joined = gpd.sjoin_nearest(pts, area.dongs[["code", "gu", "geometry"]], how="left")
    joined = joined[~joined.index.duplicated()]
    return DemandGrid(
        xy=xy,
        dong_code=joined["code"].astype(str).to_numpy(dtype=np.str_),
        gu=joined["gu"].astype(str).to_numpy(dtype=np.str_),
        cell_size_m=cell_size_m,
    )


def _read_csv_rows(path: Path, required: Sequence[str]) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in required if c not in header]
            if missing:
                raise InputError(
                    f"{path}: missing column(s) {missing}; expected a header with {list(required)}, "
                    f"got {header}; rename the columns or export the file again"
                )
            return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    except FileNotFoundError as exc:
        raise InputError(f"file {path} does not exist; check the path") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text ({exc}); save it as UTF-8 CSV") from exc


def dong_stats(data_dir: Path | None = None) -> DongStats:
    """Population (2016), households and one-person households by dong code from the bundled CSVs."""
    base = (data_dir or seoul_data_dir()) / "population"
    hh = _read_csv_rows(
        base / "households_1person_by_dong.csv", ["행정동", "자치구", "전체세대수", "X1인세대", "code"]
    )
    households, one, names, by_name = {}, {}, {}, {}
    for r in hh:
        code = r["code"]
        households[code] = float(r["전체세대수"] or "nan")  # empty: missing, refused by the layer check
        one[code] = float(r["X1인세대"] or "nan")
        names[code] = r["행정동"]
        by_name[(r["자치구"], r["행정동"])] = code
    pop: dict[str, float] = {}
    for r in _read_csv_rows(base / "population_by_dong_2016.csv", ["자치구", "동", "계"]):
        found = by_name.get((r["자치구"], r["동"]))
        if found is not None:
            pop[found] = float(r["계"].replace(",", "") or "nan")
    return DongStats(population=pop, households=households, one_person=one, names=names)


def crime_per_km2(area: Area, data_dir: Path | None = None) -> dict[str, float]:
    """Five major crimes (2021) per km² of each gu in the area, keyed by Korean gu name."""
    path = (data_dir or seoul_data_dir()) / "crime" / "crime_by_gu_2021.csv"
    rows = _read_csv_rows(path, ["살인", "강도", "절도", "폭력"])
    areas = {str(n): float(g.area) / 1e6 for n, g in zip(area.gus["name"], area.gus.geometry, strict=True)}
    out: dict[str, float] = {}
    for r in rows:
        gu = r.get("") or next(iter(r.values()))
        if gu in areas:
            total = sum(float(v.replace(",", "") or 0) for k, v in r.items() if k)
            out[gu] = total / areas[gu]
    return out


def streetlights(area: Area, path: Path | None = None) -> tuple[F64, list[str]]:
    """Streetlight poles inside the area: (xy metres (k, 2), pole ids)."""
    import shapely

    p = path or seoul_data_dir() / "lights" / "seoul_streetlights.csv"
    rows = _read_csv_rows(p, ["관리번호", "위도", "경도"])
    lat = np.array([float(r["위도"] or "nan") for r in rows])
    lon = np.array([float(r["경도"] or "nan") for r in rows])
    ok = np.isfinite(lat) & np.isfinite(lon) & (lat > 33) & (lat < 39) & (lon > 124) & (lon < 132)
    x, y = lonlat_to_xy(lon[ok], lat[ok])
    inside = shapely.contains_xy(area.polygon, x, y)
    ids = [r["관리번호"] for r, k in zip(rows, ok, strict=True) if k]
    return np.column_stack([x[inside], y[inside]]), [i for i, k in zip(ids, inside, strict=True) if k]


def bundled_cameras(path: Path | None = None, *, area: Area | None = None) -> list[CameraRecord]:
    """Existing cameras from a standard CSV (default: the bundled 2018 Seoul file).

    Rows the registry reader rejects are skipped here (``safecity registry import`` reports them).
    With ``area``, only rows within 1 km of the area's bounding box are parsed (the same records for
    the area, a fraction of the parsing for one district of the city-wide file).
    """
    from safecity.registry.stdcsv import read_standard_csv

    p = path or seoul_data_dir() / "cctv" / "seoul_cctv_points_2018.csv"
    near = None
    if area is not None:
        x0, y0, x1, y1 = area.polygon.bounds
        xs, ys = [x0 - 1000.0, x1 + 1000.0], [y0 - 1000.0, y1 + 1000.0]
        lon, lat = xy_to_lonlat([x for x in xs for _ in ys], [y for _ in xs for y in ys])  # four corners
        near = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    return list(read_standard_csv(p, near=near).records)


def camera_sites(records: Sequence[CameraRecord], area: Area) -> tuple[F64, list[CameraRecord]]:
    """Records with plausible coordinates inside the area, and their site positions (rounded to 1 m)."""
    import shapely

    keep = [
        r
        for r in records
        if r.lat is not None and r.lon is not None and 33 < r.lat < 39 and 124 < r.lon < 132
    ]
    if not keep:
        return np.zeros((0, 2)), []
    x, y = lonlat_to_xy([float(r.lon or 0.0) for r in keep], [float(r.lat or 0.0) for r in keep])
    inside = shapely.contains_xy(area.polygon, x, y)
    xy = np.round(np.column_stack([x[inside], y[inside]]), 0)
    return xy, [r for r, k in zip(keep, inside, strict=True) if k]


def _describe_json(doc: object) -> str:
    if isinstance(doc, dict):
        return f"an object of type {doc.get('type')!r}" if "type" in doc else "an object without 'type'"
    return {list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(doc), f"a {type(doc).__name__}"
    )


def _requests_from_geojson(path: Path) -> list[dict[str, Any]]:
    """Rows ``{lat, lon, kind, note, where}`` of a FeatureCollection of Points; InputError naming the
    feature index (``features[i]``) and what was expected for anything else."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid GeoJSON ({exc}); expected a FeatureCollection of Points"
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text ({exc}); save the GeoJSON as UTF-8") from exc
    if not (
        isinstance(doc, dict)
        and doc.get("type") == "FeatureCollection"
        and isinstance(doc.get("features"), list)
    ):
        raise InputError(
            f"{path}: expected a GeoJSON FeatureCollection "
            '({"type": "FeatureCollection", "features": [...]}) of Point features, but the file holds '
            f"{_describe_json(doc)}"
        )
    out = []
    for i, f in enumerate(doc["features"]):
        where = f"features[{i}]"
        geom = f.get("geometry") if isinstance(f, dict) else None
        if not isinstance(geom, dict) or geom.get("type") != "Point":
            got = f"a {geom.get('type')!r} geometry" if isinstance(geom, dict) else "no geometry"
            raise InputError(f"{path}: {where} has {got}; expected a Point feature")
        coords = geom.get("coordinates")
        if (
            not isinstance(coords, list)
            or len(coords) < 2
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords[:2])
        ):
            raise InputError(
                f"{path}: {where}: Point coordinates {json.dumps(coords)[:80]}; expected "
                "[longitude, latitude] in WGS84 degrees, e.g. [126.8875, 37.4954]"
            )
        props = f.get("properties") or {}
        if not isinstance(props, dict):
            raise InputError(f"{path}: {where}: properties must be an object with 'kind' (and 'note')")
        out.append(
            {
                "lat": coords[1],
                "lon": coords[0],
                "kind": props.get("kind", ""),
                "note": props.get("note", ""),
                "where": where,
            }
        )
    return out


def _float_cell(path: Path, row: dict[str, Any], column: str) -> float:
    value = row[column]
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = math.nan
    if not math.isfinite(out):
        raise InputError(
            f"{path}: {row['where']}: column {column!r} is {value!r}, not a number; expected WGS84 "
            "degrees, e.g. lat 37.4954, lon 126.8875"
        )
    return out


def _listed(labels: Sequence[str], limit: int = 10) -> str:
    more = f" and {len(labels) - limit} more" if len(labels) > limit else ""
    return ", ".join(labels[:limit]) + more


def read_requests(path: Path, area: Area | None = None) -> Requests:
    """Read police/resident requests from CSV (``lat, lon, kind, note``) or GeoJSON Point features.

    Every problem names the row (CSV: ``row N (line M)``) or feature (GeoJSON: ``features[i]``).
    With ``area``, a request outside it is an error (listing them): a plan for the area could only
    place a camera for it outside the area, or ignore it silently.

    Raises:
        InputError: missing columns, not a FeatureCollection of Points, a coordinate that is not a
            number, unknown kind, points outside Korea or outside ``area``.
    """
    if not path.is_file():
        raise InputError(f"requests file {path} does not exist; pass a CSV or GeoJSON file")
    if path.suffix.lower() in {".geojson", ".json"}:
        rows: list[dict[str, Any]] = _requests_from_geojson(path)
    else:
        rows = [
            {**r, "where": f"row {i} (line {i + 1})"}
            for i, r in enumerate(_read_csv_rows(path, ["lat", "lon", "kind"]), start=1)
        ]
    if not rows:
        return Requests.empty()
    lat = np.array([_float_cell(path, r, "lat") for r in rows])
    lon = np.array([_float_cell(path, r, "lon") for r in rows])
    korea = (lat >= 33.0) & (lat <= 39.0) & (lon >= 124.0) & (lon <= 132.0)
    if not korea.all():
        bad = [f"{rows[i]['where']} (lat {lat[i]}, lon {lon[i]})" for i in np.flatnonzero(~korea)]
        check_lonlat(lon, lat, f"requests file {path} ({_listed(bad)})")
    kinds = tuple(str(r["kind"]).strip().lower() for r in rows)
    bad_kinds = [f"{r['where']} {k!r}" for r, k in zip(rows, kinds, strict=True) if k not in REQUEST_KINDS]
    if bad_kinds:
        raise InputError(
            f"{path}: kind must be one of {list(REQUEST_KINDS)}, got {_listed(bad_kinds)}; "
            "fix the kind column"
        )
    if area is not None:
        import shapely

        x, y = lonlat_to_xy(lon, lat)
        inside = shapely.contains_xy(area.polygon, x, y)
        if not inside.all():
            out = [
                f"{rows[i]['where']} (lat {lat[i]:.5f}, lon {lon[i]:.5f})" for i in np.flatnonzero(~inside)
            ]
            raise InputError(
                f"{path}: {len(out)} of {len(rows)} request(s) lie outside {area.name_ko}: {_listed(out)}; "
                "a plan for this area cannot serve them: remove them, or plan an area that contains them"
            )
    x, y = lonlat_to_xy(lon, lat)
    return Requests(
        xy=np.column_stack([x, y]),
        lat=lat,
        lon=lon,
        kind=kinds,
        note=tuple(str(r.get("note") or "") for r in rows),
    )
