"""Planning areas: a gu of Seoul (by English or Korean name or KOSTAT code) or all of Seoul.

Boundaries are the bundled KOSTAT 2013 polygons (``data/seoul/boundaries``), projected to EPSG:5179.

Example:
    >>> normalise_area_name(" Guro-gu ")
    'guro'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from safecity.errors import InputError
from safecity.geo import KOREA_CRS
from safecity.paths import seoul_data_dir

__all__ = ["Area", "SEOUL", "area_label", "area_names", "load_area", "normalise_area_name"]

SEOUL = "seoul"
_SEOUL_ALIASES = frozenset({"seoul", "서울", "서울시", "서울특별시", "11"})


@dataclass(frozen=True, slots=True)
class Area:
    """A planning area in EPSG:5179.

    Attributes:
        key: short English key (``guro`` or ``seoul``), used in file names.
        name_ko: Korean name (``구로구``; ``서울특별시`` for Seoul).
        code: KOSTAT code (``11170``; ``11`` for Seoul).
        polygon: shapely (Multi)Polygon in metres.
        districts: Korean gu names inside the area.
        dongs: GeoDataFrame of dong polygons (columns ``code``, ``name``, ``gu``, ``geometry``).
        gus: GeoDataFrame of gu polygons in the area (``code``, ``name``, ``name_eng``, ``geometry``).
    """

    key: str
    name_ko: str
    code: str
    polygon: Any
    districts: tuple[str, ...]
    dongs: Any
    gus: Any

    @property
    def area_km2(self) -> float:
        return float(self.polygon.area) / 1e6


def normalise_area_name(name: str) -> str:
    """Lower-case key without spaces and the ``-gu`` suffix (Korean names are kept)."""
    s = name.strip().lower().replace(" ", "").replace("_", "-")
    return s.removesuffix("-gu").removesuffix("gu") if s.isascii() and s not in {"gu"} else s


@lru_cache(maxsize=2)
def _gu_frame(path: Path) -> Any:
    import geopandas as gpd

    gu = gpd.read_file(path).to_crs(KOREA_CRS)
    gu["code"] = gu["code"].astype(str)
    gu["key"] = [normalise_area_name(str(n)) for n in gu["name_eng"]]
    return gu


@lru_cache(maxsize=2)
def _dong_frame(path: Path) -> Any:
    import geopandas as gpd

    dong = gpd.read_file(path).to_crs(KOREA_CRS)
    dong["code"] = dong["code"].astype(str)
    return dong


def _boundary_paths(data_dir: Path | None) -> tuple[Path, Path]:
    base = (data_dir or seoul_data_dir()) / "boundaries"
    gu, dong = base / "seoul_municipalities_geo.json", base / "seoul_submunicipalities_geo_simple.json"
    for p in (gu, dong):
        if not p.is_file():
            raise InputError(
                f"boundary file {p} is missing; expected the bundled KOSTAT boundaries under "
                "data/seoul/boundaries (set SAFECITY_DATA_DIR to a copy)"
            )
    return gu, dong


def area_names(data_dir: Path | None = None) -> list[str]:
    """Every accepted area key: ``seoul`` and each gu's English key (``guro``, ``gangnam``, ...)."""
    gu_path, _ = _boundary_paths(data_dir)
    return [SEOUL, *sorted(_gu_frame(gu_path)["key"])]


def load_area(name: str, data_dir: Path | None = None) -> Area:
    """Resolve ``name`` (``guro``, ``Guro-gu``, ``구로구``, ``11170`` or ``seoul``) to an :class:`Area`.

    Raises:
        InputError: unknown name; the message lists the valid ones.
    """
    import shapely

    gu_path, dong_path = _boundary_paths(data_dir)
    gus = _gu_frame(gu_path)
    dongs = _dong_frame(dong_path)
    key = normalise_area_name(name)
    gu_codes = gus["code"].str.slice(0, 5)
    if key in _SEOUL_ALIASES:
        sel = gus
        out_key, name_ko, code = SEOUL, "서울특별시", "11"
    else:
        ko = gus["name"].astype(str)
        mask = (gus["key"] == key) | (ko == name.strip()) | (ko == name.strip() + "구") | (gu_codes == key)
        sel = gus[mask]
        if len(sel) != 1:
            valid = ", ".join(area_names(data_dir))
            raise InputError(
                f"unknown planning area {name!r}: expected 'seoul', a gu's English name, Korean name or "
                f"KOSTAT code (e.g. guro, 구로구, 11170); valid names: {valid}"
            )
        row = sel.iloc[0]
        out_key, name_ko, code = str(row["key"]), str(row["name"]), str(row["code"])
    sel_codes = set(sel["code"].str.slice(0, 5))
    d = dongs[dongs["code"].str.slice(0, 5).isin(sel_codes)].copy()
    code_to_gu = dict(zip(sel["code"].str.slice(0, 5), sel["name"].astype(str), strict=True))
    d["gu"] = [code_to_gu[c[:5]] for c in d["code"]]
    polygon = shapely.union_all(sel.geometry.values)
    return Area(
        key=out_key,
        name_ko=name_ko,
        code=code,
        polygon=polygon,
        districts=tuple(sorted(code_to_gu.values())),
        dongs=d[["code", "name", "gu", "geometry"]].reset_index(drop=True),
        gus=sel[["code", "name", "name_eng", "geometry"]].reset_index(drop=True),
    )


@lru_cache(maxsize=2)
def _gu_properties(path: Path) -> tuple[dict[str, str], ...]:
    import json

    doc = json.loads(path.read_text(encoding="utf-8"))
    return tuple({k: str(v) for k, v in f["properties"].items()} for f in doc["features"])


def area_label(name: str, data_dir: Path | None = None) -> tuple[str, str]:
    """(key, Korean name) of an area, matched as :func:`load_area` matches, from the gu file's
    properties only (no geometry, no geopandas: the CLI needs just the name to query the store).

    >>> area_label("Guro-gu"), area_label("11170"), area_label("서울")
    (('guro', '구로구'), ('guro', '구로구'), ('seoul', '서울특별시'))

    Raises:
        InputError: unknown name (from :func:`load_area`, which lists the valid ones).
    """
    key = normalise_area_name(name)
    if key in _SEOUL_ALIASES:
        return SEOUL, "서울특별시"
    gu_path, _ = _boundary_paths(data_dir)
    n = name.strip()
    hits = [
        p
        for p in _gu_properties(gu_path)
        if normalise_area_name(p["name_eng"]) == key or p["name"] in (n, n + "구") or p["code"][:5] == key
    ]
    if len(hits) != 1:
        a = load_area(name, data_dir)  # raises the InputError that lists the names
        return a.key, a.name_ko
    return normalise_area_name(hits[0]["name_eng"]), hits[0]["name"]
