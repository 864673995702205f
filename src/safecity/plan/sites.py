"""``plan sites``: from an area and a budget to a :class:`~safecity.plan.types.Plan` of new camera sites.

Steps: area -> demand grid -> score layers -> candidates (streetlights, existing sites, grid points,
requests) -> budgeted MCLP (HiGHS) -> plan items with costs. Files and the store are written elsewhere
(``report``, ``store_io``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from safecity.errors import PlanningError
from safecity.geo import xy_to_lonlat
from safecity.plan import data, score
from safecity.plan.areas import Area, load_area
from safecity.plan.config import PlanConfig
from safecity.plan.optimize import CameraOption, PlanResult, SitingModel
from safecity.plan.types import MapLayers, Plan, PlanItem
from safecity.registry.model import CameraRecord

__all__ = ["Candidates", "SiteInputs", "build_candidates", "build_inputs", "map_layers", "plan_sites"]

F64 = npt.NDArray[np.float64]
Progress = Callable[[str], None]


def _quiet(_msg: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Candidates:
    """Candidate sites: position (metres), kind, reference, preparation cost and dong."""

    xy: F64
    kind: tuple[str, ...]
    ref: tuple[str, ...]
    site_cost_krw: F64
    dong: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.kind)


@dataclass(frozen=True, slots=True)
class SiteInputs:
    """Everything the optimiser and the report need for one area."""

    area: Area
    grid: data.DemandGrid
    scores: score.CellScores
    existing_xy: F64
    n_existing_cameras: int
    candidates: Candidates
    requests: data.Requests


def build_candidates(
    grid: data.DemandGrid,
    lights_xy: F64,
    light_ids: Sequence[str],
    existing_xy: F64,
    requests: data.Requests,
    cfg: PlanConfig,
) -> Candidates:
    """Streetlights (reuse), unique existing sites (add a camera), grid points and request points."""
    sc = cfg.site_costs
    step = cfg.grid_candidate_step
    cell = grid.cell_size_m
    gi = np.round(grid.xy / cell).astype(np.int64)
    on_step = (gi[:, 0] % step == 0) & (gi[:, 1] % step == 0)
    grid_xy = grid.xy[on_step]
    sites = np.unique(existing_xy, axis=0) if len(existing_xy) else np.zeros((0, 2))
    parts: list[tuple[F64, str, list[str], float]] = [
        (lights_xy, "streetlight", list(light_ids), sc.reuse_streetlight),
        (sites, "existing_site", [f"site:{x:.0f}:{y:.0f}" for x, y in sites], sc.existing_site),
        (grid_xy, "grid", [f"cell:{x:.0f}:{y:.0f}" for x, y in grid_xy], sc.new_pole),
        (requests.xy, "request", [f"request:{k}:{i + 1}" for i, k in enumerate(requests.kind)], sc.new_pole),
    ]
    xy = np.vstack([p[0].reshape(-1, 2) for p in parts])
    kinds = tuple(k for p in parts for k in [p[1]] * len(p[0]))
    refs = tuple(r for p in parts for r in p[2])
    cost = np.concatenate([np.full(len(p[0]), p[3]) for p in parts])
    if len(xy) and len(grid):
        near = np.asarray(cKDTree(grid.xy).query(xy, k=1)[1], dtype=np.int64)
        dong = tuple(str(grid.dong_code[i]) for i in near)
    else:
        dong = ("",) * len(xy)
    return Candidates(xy=xy, kind=kinds, ref=refs, site_cost_krw=cost, dong=dong)


def build_inputs(
    area: Area,
    cfg: PlanConfig,
    *,
    cameras: Sequence[CameraRecord],
    requests: data.Requests,
    progress: Progress = _quiet,
) -> SiteInputs:
    """Demand grid, priority score and candidates for ``area``."""
    grid = data.demand_grid(area, cfg.cell_size_m)
    progress(
        f"{len(grid):,} demand cells of {cfg.cell_size_m:g} m in {area.name_ko} ({area.area_km2:.1f} km²)"
    )
    existing_xy, used = data.camera_sites(cameras, area)
    lights_xy, light_ids = data.streetlights(area)
    stats = data.dong_stats()
    crime = data.crime_per_km2(area)
    police = np.array([k == "police" for k in requests.kind], dtype=bool)
    req_xy = requests.xy.reshape(-1, 2)
    layers = {
        "coverage_gap": score.coverage_gap(grid.xy, existing_xy, cfg.gap_radius_m),
        "population": score.scaled(score.per_cell_share(grid.dong_code, stats.population)),
        "households": score.scaled(score.per_cell_share(grid.dong_code, stats.households)),
        "one_person_households": score.scaled(score.per_cell_share(grid.dong_code, stats.one_person)),
        "crime": score.scaled([crime.get(str(g), 0.0) for g in grid.gu]),
        "streetlight_density": score.scaled(score.count_within(grid.xy, lights_xy, cfg.streetlight_radius_m)),
        "police_request": score.scaled(score.request_counts(grid.xy, req_xy[police], cfg.cell_size_m)),
        "resident_request": score.scaled(score.request_counts(grid.xy, req_xy[~police], cfg.cell_size_m)),
    }
    scores = score.combine(layers, cfg.weights)
    cands = build_candidates(grid, lights_xy, light_ids, existing_xy, requests, cfg)
    progress(
        f"{len(cands):,} candidate sites ({len(lights_xy):,} streetlights, "
        f"{len(np.unique(existing_xy, axis=0)) if len(existing_xy) else 0:,} existing sites, "
        f"{len(requests)} requests); {sum(r.count for r in used):,} existing cameras"
    )
    return SiteInputs(
        area=area,
        grid=grid,
        scores=scores,
        existing_xy=existing_xy,
        n_existing_cameras=sum(r.count for r in used),
        candidates=cands,
        requests=requests,
    )


def _options(cfg: PlanConfig) -> list[CameraOption]:
    return [
        CameraOption(name=n, radius_m=t.radius_m, cost_krw=t.cost_krw, cameras=t.cameras_per_option)
        for n, t in sorted(cfg.camera_types.items())
    ]


def _items(inputs: SiteInputs, model: SitingModel, res: PlanResult) -> list[PlanItem]:
    cands, w = inputs.candidates, inputs.scores.score
    lon, lat = xy_to_lonlat(cands.xy[:, 0], cands.xy[:, 1]) if len(cands) else (np.zeros(0), np.zeros(0))
    raw: list[tuple[float, PlanItem]] = []
    for j in res.open_sites:
        first = True
        for t, opt in enumerate(model.options):
            if not res.chosen[j, t]:
                continue
            cov = model.coverage[t]
            cells = cov.indices[cov.indptr[j] : cov.indptr[j + 1]]
            site_cost = float(cands.site_cost_krw[j]) if first else 0.0
            pri = float(w[cells].sum())
            raw.append(
                (
                    pri,
                    PlanItem(
                        rank=0,
                        kind=cands.kind[j],
                        lat=float(lat[j]),
                        lon=float(lon[j]),
                        camera_type=opt.name,
                        n_cameras=opt.cameras,
                        cost_krw=site_cost + opt.option_cost_krw,
                        priority=round(pri, 4),
                        ref=cands.ref[j],
                        props={
                            "site_cost_krw": site_cost,
                            "camera_cost_krw": opt.option_cost_krw,
                            "radius_m": opt.radius_m,
                            "cells_in_view": len(cells),
                            "dong": cands.dong[j],
                            "x_m": round(float(cands.xy[j, 0]), 1),
                            "y_m": round(float(cands.xy[j, 1]), 1),
                        },
                    ),
                )
            )
            first = False
    raw.sort(key=lambda p: -p[0])
    return [dataclasses.replace(it, rank=i + 1) for i, (_, it) in enumerate(raw)]


def plan_sites(
    *,
    area: str,
    budget_krw: float,
    cfg: PlanConfig,
    cameras: Sequence[CameraRecord] | None = None,
    camera_source: str = "bundled CSV",
    requests_path: Path | None = None,
    max_sites: int | None = None,
    min_per_dong: int = 0,
    time_limit_s: float | None = None,
    progress: Progress = _quiet,
) -> tuple[Plan, MapLayers]:
    """Choose new sites and camera types for ``area`` within ``budget_krw``.

    Raises:
        InputError: unknown area or a bad requests file.
        PlanningError: budget below one camera, no candidates, infeasible constraints, solver failure.
    """
    t0 = time.perf_counter()
    the_area = load_area(area)
    reqs = data.read_requests(requests_path, the_area) if requests_path is not None else data.Requests.empty()
    cams = list(cameras) if cameras is not None else data.bundled_cameras()
    inputs = build_inputs(the_area, cfg, cameras=cams, requests=reqs, progress=progress)
    if len(inputs.candidates) == 0:
        raise PlanningError(
            f"no candidate sites in {the_area.name_ko}: no streetlights, existing sites or grid points; "
            "check the area and the data files"
        )
    model = SitingModel.from_arrays(
        demand_xy=inputs.grid.xy,
        weights=inputs.scores.score,
        site_xy=inputs.candidates.xy,
        site_cost_krw=inputs.candidates.site_cost_krw,
        options=_options(cfg),
        budget_krw=budget_krw,
        max_sites=max_sites,
        max_cameras_per_site=cfg.max_cameras_per_site,
        site_group=inputs.candidates.dong if min_per_dong > 0 else None,
        min_sites_per_group=min_per_dong,
    )
    limit = time_limit_s if time_limit_s is not None else cfg.time_limit_s
    progress(f"solving with HiGHS (time limit {limit:g} s)")
    res = model.solve(time_limit_s=limit, mip_rel_gap=cfg.mip_rel_gap)
    progress(f"HiGHS: {res.status}, gap {res.mip_gap:.4%}, {res.solve_s:.1f} s")
    items = _items(inputs, model, res)
    summary = _summary(inputs, model, res, items, time.perf_counter() - t0, camera_source)
    plan = Plan(
        kind="sites",
        area=the_area.key,
        area_name=the_area.name_ko,
        created_at=datetime.now(UTC),
        budget_krw=float(budget_krw),
        cost_krw=res.cost_krw,
        status=res.status,
        objective=res.objective,
        mip_gap=res.mip_gap,
        params={
            "budget_krw": float(budget_krw),
            "max_sites": max_sites,
            "min_per_dong": min_per_dong,
            "time_limit_s": limit,
            "requests": str(requests_path) if requests_path else None,
            "config": cfg.model_dump(mode="json"),
        },
        summary=summary,
        items=tuple(items),
    )
    return plan, map_layers(inputs.area, inputs.grid, inputs.scores.score, cams)


def _summary(
    inputs: SiteInputs,
    model: SitingModel,
    res: PlanResult,
    items: Sequence[PlanItem],
    wall_s: float,
    camera_source: str,
) -> dict[str, Any]:
    w = inputs.scores.score
    cams_by_type: dict[str, int] = {}
    for it in items:
        cams_by_type[str(it.camera_type)] = cams_by_type.get(str(it.camera_type), 0) + it.n_cameras
    open_ = res.open_sites
    kinds = [inputs.candidates.kind[j] for j in open_]
    site_cost_by_kind: dict[str, float] = {}
    for j in open_:
        k = inputs.candidates.kind[j]
        site_cost_by_kind[k] = site_cost_by_kind.get(k, 0.0) + float(inputs.candidates.site_cost_krw[j])
    cam_cost_by_type = {
        o.name: float(res.chosen[:, t].sum()) * o.option_cost_krw for t, o in enumerate(model.options)
    }
    total = float(w.sum())
    return {
        "sites": len(open_),
        "sites_by_kind": {k: kinds.count(k) for k in sorted(set(kinds))},
        "cameras": sum(cams_by_type.values()),
        "cameras_by_type": dict(sorted(cams_by_type.items())),
        "cost_krw": res.cost_krw,
        "cost_sites_krw": res.site_cost_krw,
        "cost_cameras_krw": res.camera_cost_krw,
        "cost_sites_by_kind_krw": site_cost_by_kind,
        "cost_cameras_by_type_krw": cam_cost_by_type,
        "covered_priority": res.objective,
        "total_priority": total,
        "covered_share": res.objective / total if total > 0 else 0.0,
        "covered_cells": int(res.covered.sum()),
        "cells": len(inputs.grid),
        "candidates": len(inputs.candidates),
        "existing_cameras": inputs.n_existing_cameras,
        "existing_source": camera_source,
        "requests": len(inputs.requests),
        "status": res.status,
        "mip_gap": res.mip_gap,
        "bound": res.bound,
        "model_rows": res.n_rows,
        "model_cols": res.n_cols,
        "build_s": round(res.build_s, 3),
        "solve_s": round(res.solve_s, 3),
        "wall_s": round(wall_s, 3),
    }


def map_layers(
    area: Area, grid: data.DemandGrid, cell_score: F64, cameras: Sequence[CameraRecord]
) -> MapLayers:
    """WGS84 layers for the HTML map: area and dong outlines, scored cells, existing cameras."""
    import json

    import geopandas as gpd

    outline = gpd.GeoDataFrame({"name": [area.name_ko]}, geometry=[area.polygon], crs=area.dongs.crs)
    area_gj = json.loads(outline.to_crs(4326).to_json())
    dong_gj = json.loads(area.dongs[["code", "name", "geometry"]].to_crs(4326).to_json())
    lon, lat = xy_to_lonlat(grid.xy[:, 0], grid.xy[:, 1]) if len(grid) else (np.zeros(0), np.zeros(0))
    cells = tuple(
        (round(float(a), 6), round(float(o), 6), round(float(s), 3))
        for a, o, s in zip(lat, lon, cell_score, strict=True)
    )
    _, used = data.camera_sites(cameras, area)
    existing = tuple((float(r.lat or 0.0), float(r.lon or 0.0), r.count) for r in used)
    return MapLayers(
        area_geojson=area_gj,
        dong_geojson=dong_gj,
        cells=cells,
        cell_size_m=grid.cell_size_m,
        existing=existing,
    )
