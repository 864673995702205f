"""Plain values that leave the planner: a plan with its items, and the layers its map draws."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["MapLayers", "Plan", "PlanItem"]


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One line of a plan: cameras of one type at one site (new site or replacement).

    ``cost_krw`` includes the site's preparation cost on the first item of a site.
    """

    rank: int
    kind: str  # streetlight | existing_site | grid | request | replacement
    lat: float
    lon: float
    camera_type: str | None
    n_cameras: int
    cost_krw: float
    priority: float
    ref: str | None = None
    props: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Plan:
    """A finished plan: what to build (or replace), what it costs and how good it is."""

    kind: str  # sites | replace
    area: str
    area_name: str
    created_at: datetime
    budget_krw: float
    cost_krw: float
    status: str
    objective: float | None
    mip_gap: float | None
    params: Mapping[str, Any]
    summary: Mapping[str, Any]
    items: tuple[PlanItem, ...]


@dataclass(frozen=True, slots=True)
class MapLayers:
    """What the HTML map draws, in WGS84: boundaries as GeoJSON, cells and cameras as [lat, lon, ...]."""

    area_geojson: Mapping[str, Any]
    dong_geojson: Mapping[str, Any]
    cells: tuple[tuple[float, float, float], ...]  # lat, lon, score
    cell_size_m: float
    existing: tuple[tuple[float, float, int], ...]  # lat, lon, cameras
