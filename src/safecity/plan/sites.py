"""``plan sites``: from an area and a budget to a :class:`~safecity.plan.types.Plan` of new poles.

Steps: area -> 100 m score grid -> priority layers -> demand points (``demand_step_m`` apart, each with its
cell's score) -> candidate poles (streetlights, existing sites, grid points, requests) -> what each
camera could see (PTZ disc, fixed sector per heading) -> the exact pole model (:mod:`safecity.plan.poles`)
-> one plan item per pole with its cameras, headings, cost lines, lights and explanation. Files and the
store are written elsewhere (``report``, ``store_io``).
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

from safecity.errors import PlanningError
from safecity.geo import xy_to_lonlat
from safecity.plan import data, score
from safecity.plan.areas import Area, load_area
from safecity.plan.cache import PlanCache, default_cache, instance_key
from safecity.plan.config import PlanConfig
from safecity.plan.geometry import CameraKind, OptionSet, option_coverage
from safecity.plan.history import PastEvent, event_layer
from safecity.plan.poles import PoleProblem, PoleResult, Progress, solve_poles
from safecity.plan.types import MapLayers, Plan, PlanItem
from safecity.registry.model import CameraRecord

__all__ = [
    "Candidates",
    "GURO_2024",
    "SITE_KIND",
    "SiteInputs",
    "build_candidates",
    "build_inputs",
    "camera_kinds",
    "demand_points",
    "map_layers",
    "plan_sites",
]

#: what Guro-gu built in 2024 (planning-domain notes): 126 cameras at 54 sites, 35 PTZ + 91 fixed
GURO_2024 = {"cameras": 126, "sites": 54, "ptz": 35, "fixed": 91}
#: candidate source -> kind of site in the plan
SITE_KIND = {
    "grid": "new_pole",
    "request": "new_pole",
    "streetlight": "streetlight",
    "utility_pole": "utility_pole",
    "existing_site": "existing_site",
}

F64 = npt.NDArray[np.float64]
Say = Callable[[str], None]


def _quiet(_msg: str) -> None:
    return None


def _no_progress(_p: Progress) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Candidates:
    """Candidate sites: position (metres), source kind, reference, preparation cost, dong and cell."""

    xy: F64
    kind: tuple[str, ...]  # grid | request | streetlight | existing_site
    ref: tuple[str, ...]
    site_cost_krw: F64
    dong: tuple[str, ...]
    cell: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.kind)


@dataclass(frozen=True, slots=True)
class SiteInputs:
    """Everything the optimiser and the report need for one area."""

    area: Area
    grid: data.DemandGrid
    scores: score.CellScores
    existing_xy: F64
    existing: dict[str, Any]
    candidates: Candidates
    requests: data.Requests
    n_events: int


def build_candidates(
    grid: data.DemandGrid,
    lights_xy: F64,
    light_ids: Sequence[str],
    existing_xy: F64,
    requests: data.Requests,
    cfg: PlanConfig,
) -> Candidates:
    """Streetlights (reuse), unique existing sites (add cameras), grid points (new pole) and requests."""
    sc = cfg.site_costs
    step = cfg.grid_candidate_step
    cell = grid.cell_size_m
    gi = np.floor(grid.xy / cell).astype(np.int64)
    on_step = (gi[:, 0] % step == 0) & (gi[:, 1] % step == 0)
    grid_xy = grid.xy[on_step]
    sites = np.unique(existing_xy, axis=0) if len(existing_xy) else np.zeros((0, 2))
    parts: list[tuple[F64, str, list[str], float]] = [
        (lights_xy, "streetlight", [f"light:{i}" for i in light_ids], sc.reuse_streetlight),
        (sites, "existing_site", [f"site:{x:.0f}:{y:.0f}" for x, y in sites], sc.existing_site),
        (grid_xy, "grid", [f"cell:{x:.0f}:{y:.0f}" for x, y in grid_xy], sc.new_pole),
        (requests.xy, "request", [f"request:{k}:{i + 1}" for i, k in enumerate(requests.kind)], sc.new_pole),
    ]
    xy = np.vstack([p[0].reshape(-1, 2) for p in parts])
    kinds = tuple(k for p in parts for k in [p[1]] * len(p[0]))
    refs = tuple(r for p in parts for r in p[2])
    cost = np.concatenate([np.full(len(p[0]), p[3]) for p in parts])
    if len(xy) and len(grid):
        from scipy.spatial import cKDTree  # lazy: a cached plan needs no KD-tree

        near = np.asarray(cKDTree(grid.xy).query(xy, k=1)[1], dtype=np.int64)
        dong = tuple(str(grid.dong_code[i]) for i in near)
    else:
        near = np.zeros(len(xy), dtype=np.int64)
        dong = ("",) * len(xy)
    return Candidates(xy=xy, kind=kinds, ref=refs, site_cost_krw=cost, dong=dong, cell=near)


def demand_points(grid: data.DemandGrid, step_m: float) -> tuple[F64, npt.NDArray[np.int64]]:
    """Points ``step_m`` apart inside every cell (centred), and the cell each belongs to.

    >>> g = data.DemandGrid(np.array([[950.0, 1950.0]]) * 1000, np.array(["1"]), np.array(["g"]), 100.0)
    >>> pts, cell = demand_points(g, 50.0)
    >>> (pts - g.xy[0]).tolist(), cell.tolist()
    ([[-25.0, -25.0], [25.0, -25.0], [-25.0, 25.0], [25.0, 25.0]], [0, 0, 0, 0])
    """
    k = round(grid.cell_size_m / step_m)
    offs = (np.arange(k) + 0.5) * step_m - grid.cell_size_m / 2
    ox, oy = np.meshgrid(offs, offs)
    off = np.column_stack([ox.ravel(), oy.ravel()])
    pts = (grid.xy[:, None, :] + off[None, :, :]).reshape(-1, 2)
    return pts, np.repeat(np.arange(len(grid), dtype=np.int64), len(off))


def _check_layers(layers: dict[str, F64], grid: data.DemandGrid) -> None:
    for name, arr in layers.items():
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise PlanningError(
                f"layer {name!r} has {int(bad.sum())} cell(s) without a value (first: dong "
                f"{grid.dong_code[i]}); fix the data file behind this layer or set weights.{name}: 0"
            )


def build_inputs(
    area: Area,
    cfg: PlanConfig,
    *,
    cameras: Sequence[CameraRecord],
    requests: data.Requests,
    past_events: Sequence[PastEvent] | None = None,
    progress: Say = _quiet,
) -> SiteInputs:
    """Score grid with every priority layer, and the candidates, for ``area``.

    Raises:
        PlanningError: a layer with missing values, or ``past_events`` given but empty.
    """
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
    req = 1.5 * score.request_counts(grid.xy, req_xy[police], cfg.cell_size_m) + score.request_counts(
        grid.xy, req_xy[~police], cfg.cell_size_m
    )
    raw = {
        "population": score.per_cell_share(grid.dong_code, stats.population),
        "one_person_households": score.per_cell_share(grid.dong_code, stats.one_person),
        "crime": np.array([crime.get(str(g), np.nan) for g in grid.gu], dtype=np.float64),
    }
    _check_layers(raw, grid)  # before scaling, which would hide a missing value
    population = score.scaled(raw["population"])
    lights_near = score.count_within(grid.xy, lights_xy, cfg.lighting.radius_m)
    layers = {
        "coverage_gap": score.coverage_gap(grid.xy, existing_xy, cfg.gap_radius_m),
        "population": population,
        "one_person_households": score.scaled(raw["one_person_households"]),
        "crime": score.scaled(raw["crime"]),
        "lighting": score.dark_and_active(population, lights_near, cfg.lighting.lights_enough),
        "requests": score.scaled(req),
        "event_history": (
            np.zeros(len(grid))
            if past_events is None
            else event_layer(grid.xy, past_events, cfg.event_history)
        ),
    }
    _check_layers(layers, grid)
    scores = score.combine(layers, cfg.weights)
    cands = build_candidates(grid, lights_xy, light_ids, existing_xy, requests, cfg)
    n_sites = len(np.unique(existing_xy, axis=0)) if len(existing_xy) else 0
    existing = {
        "rows_in_area": len(used),
        "cameras_in_area": sum(r.count for r in used),
        "sites_in_area": n_sites,
        "rows_total": len(cameras),
    }
    progress(
        f"{len(cands):,} candidate poles ({len(lights_xy):,} streetlights, {n_sites:,} existing sites, "
        f"{int(np.sum(np.array(cands.kind) == 'grid')):,} grid points, {len(requests)} requests); "
        f"existing: {existing['cameras_in_area']:,} cameras in {existing['rows_in_area']:,} registry rows "
        f"at {n_sites:,} sites in the area"
        + (f"; {len(past_events):,} past events" if past_events is not None else "")
    )
    return SiteInputs(
        area=area,
        grid=grid,
        scores=scores,
        existing_xy=existing_xy,
        existing=existing,
        candidates=cands,
        requests=requests,
        n_events=0 if past_events is None else len(past_events),
    )


def camera_kinds(cfg: PlanConfig) -> tuple[CameraKind, ...]:
    """The config's camera types as the optimiser sees them (sorted by name: fixed, ptz)."""
    return tuple(
        CameraKind(
            name=n,
            range_m=t.radius_m,
            fov_deg=t.fov_deg,
            headings_deg=t.headings_deg,
            cost_krw=t.cost_krw,
            max_per_site=t.max_per_site,
        )
        for n, t in sorted(cfg.camera_types.items())
    )


def plan_sites(
    *,
    area: str,
    budget_krw: float,
    cfg: PlanConfig,
    cameras: Sequence[CameraRecord] | None = None,
    camera_source: str = "bundled CSV",
    requests_path: Path | None = None,
    past_events: Sequence[PastEvent] | None = None,
    max_sites: int | None = None,
    min_per_dong: int = 0,
    time_limit_s: float | None = None,
    progress: Say = _quiet,
    solver_progress: Callable[[Progress], None] = _no_progress,
    use_cache: bool = False,
) -> tuple[Plan, MapLayers]:
    """Choose poles, cameras and headings for ``area`` within ``budget_krw``.

    The time limit counts from the start of this call (loading, coverage and solving). With
    ``use_cache`` the prepared instance (everything before the solver) comes from
    :func:`safecity.plan.cache.default_cache` when an entry for exactly these data files, code, config
    and inputs exists (see :mod:`safecity.plan.cache`), and is stored there otherwise.

    Raises:
        InputError: unknown area or a bad requests file.
        PlanningError: budget below one pole, no candidates, missing layer values, an empty events
            layer, infeasible constraints, solver failure.
    """
    t0 = time.perf_counter()
    limit = time_limit_s if time_limit_s is not None else cfg.time_limit_s
    kinds = camera_kinds(cfg)
    cheapest = min(cfg.site_costs.model_dump().values()) + min(k.cost_krw for k in kinds)
    if budget_krw < cheapest:
        raise PlanningError(
            f"--budget-krw {budget_krw:,.0f} is below one pole with one camera ({cheapest:,.0f} KRW: the "
            "cheapest site_costs entry plus the cheapest camera_types cost_krw); raise the budget"
        )
    prep = _prepare_cached(
        area, cfg, cameras, requests_path, past_events, progress, default_cache() if use_cache else None
    )
    cands, options, bonus = prep.candidates, prep.options, prep.bonus
    w_pts = prep.scores.score[prep.pt_cell] / prep.per_cell
    prob = PoleProblem(
        weights=w_pts,
        options=options,
        kinds=kinds,
        site_cost_krw=cands.site_cost_krw,
        site_xy=cands.xy,
        budget_krw=float(budget_krw),
        max_cameras_per_site=cfg.max_cameras_per_site,
        max_sites=max_sites,
        site_group=np.asarray(cands.dong, dtype=np.str_) if min_per_dong > 0 else None,
        min_per_group=min_per_dong,
        site_value=bonus,
    )
    # keep time for the items, the summary and the files the CLI writes after the solve: 5 % of the limit
    # plus about 0.15 ms per score cell (the map layers come prepared; measured under load 18: Seoul's
    # 60,684 cells took 9.4 s after the solve)
    reserve = 0.05 * limit + 1.5e-4 * len(prep.grid)
    left = max(1.0, limit - reserve - (time.perf_counter() - t0))
    progress(f"solving (time limit {limit:g} s in all, {left:.0f} s left for the solver)")
    res = solve_poles(prob, time_limit_s=left, mip_rel_gap=cfg.mip_rel_gap, report=solver_progress)
    items = _items(prep, prob, res, cfg)
    summary = _summary(prep, prob, res, items, time.perf_counter() - t0, camera_source, cfg)
    plan = Plan(
        kind="sites",
        area=prep.area_key,
        area_name=prep.area_name_ko,
        created_at=datetime.now(UTC),
        budget_krw=float(budget_krw),
        cost_krw=res.cost_krw,
        status=res.status,
        objective=res.objective,
        mip_gap=res.gap,
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
    return plan, prep.layers


@dataclass(frozen=True, slots=True)
class _Prepared:
    """Everything before the solver, free of GeoDataFrames (so that it pickles without geopandas)."""

    area_key: str
    area_name_ko: str
    dong_names: dict[str, str]
    grid: data.DemandGrid
    scores: score.CellScores
    existing: dict[str, Any]
    candidates: Candidates
    n_requests: int
    n_events: int
    pts: F64
    pt_cell: npt.NDArray[np.int64]
    per_cell: int
    options: OptionSet
    bonus: F64
    layers: MapLayers
    messages: tuple[str, ...]


def _prepare(
    area: str,
    cfg: PlanConfig,
    cameras: Sequence[CameraRecord] | None,
    requests_path: Path | None,
    past_events: Sequence[PastEvent] | None,
    progress: Say,
) -> _Prepared:
    said: list[str] = []

    def say(msg: str) -> None:
        said.append(msg)
        progress(msg)

    the_area = load_area(area)
    reqs = data.read_requests(requests_path, the_area) if requests_path is not None else data.Requests.empty()
    cams = list(cameras) if cameras is not None else data.bundled_cameras(area=the_area)
    inputs = build_inputs(the_area, cfg, cameras=cams, requests=reqs, past_events=past_events, progress=say)
    cands = inputs.candidates
    if len(cands) == 0:
        raise PlanningError(
            f"no candidate sites in {the_area.name_ko}: no streetlights, existing sites or grid points; "
            "check the area and the data files"
        )
    kinds = camera_kinds(cfg)
    pts, pt_cell = demand_points(inputs.grid, cfg.demand_step_m)
    per_cell = round((cfg.cell_size_m / cfg.demand_step_m) ** 2)
    options = option_coverage(pts, cands.xy, kinds)
    new_pole = np.array([SITE_KIND[k] == "new_pole" for k in cands.kind], dtype=bool)
    bonus = np.where(new_pole, cfg.weights.lighting * inputs.scores.layers["lighting"][cands.cell], 0.0)
    say(
        f"{len(pts):,} demand points ({cfg.demand_step_m:g} m); {len(options):,} camera options "
        f"({len(kinds)} types, headings included) on {len(cands):,} poles"
    )
    return _Prepared(
        area_key=the_area.key,
        area_name_ko=the_area.name_ko,
        dong_names=_dong_names(the_area),
        grid=inputs.grid,
        scores=inputs.scores,
        existing=inputs.existing,
        candidates=cands,
        n_requests=len(reqs),
        n_events=inputs.n_events,
        pts=pts,
        pt_cell=pt_cell,
        per_cell=per_cell,
        options=options,
        bonus=bonus,
        layers=map_layers(the_area, inputs.grid, inputs.scores.score, cams),
        messages=tuple(said),
    )


def _prepare_cached(
    area: str,
    cfg: PlanConfig,
    cameras: Sequence[CameraRecord] | None,
    requests_path: Path | None,
    past_events: Sequence[PastEvent] | None,
    progress: Say,
    cache: PlanCache | None,
) -> _Prepared:
    """:func:`_prepare`, through the cache when one is given (key: see :mod:`safecity.plan.cache`)."""
    if cache is None:
        return _prepare(area, cfg, cameras, requests_path, past_events, progress)
    from safecity.paths import seoul_data_dir

    parts: dict[str, Any] = {
        "area": area,
        "config": cfg.model_dump_json(),
        "cameras": "bundled" if cameras is None else list(cameras),
        "requests": None if requests_path is None else (str(requests_path), _file_bytes(requests_path)),
        "events": None if past_events is None else list(past_events),
    }
    key = instance_key(data_dir=seoul_data_dir(), parts=parts)
    hit = cache.get(key)
    if isinstance(hit, _Prepared):
        for msg in hit.messages:
            progress(msg)
        progress(f"prepared instance read from the cache ({cache.folder}/{key[:12]}…)")
        return hit
    prep = _prepare(area, cfg, cameras, requests_path, past_events, progress)
    cache.put(key, prep)
    return prep


def _file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""  # the reader reports the problem with the file (data.read_requests)


def _dong_names(area: Area) -> dict[str, str]:
    return {str(c): str(n) for c, n in zip(area.dongs["code"], area.dongs["name"], strict=True)}


def _items(prep: _Prepared, prob: PoleProblem, res: PoleResult, cfg: PlanConfig) -> list[PlanItem]:
    cands, o = prep.candidates, prob.options
    pt_cell, per_cell, bonus = prep.pt_cell, prep.per_cell, prep.bonus
    lon, lat = xy_to_lonlat(cands.xy[:, 0], cands.xy[:, 1]) if len(cands) else (np.zeros(0), np.zeros(0))
    names = prep.dong_names
    layers = prep.scores.layers
    weights = cfg.weights
    chosen = np.flatnonzero(res.chosen)
    by_site: dict[int, list[int]] = {}
    for oi in chosen:
        by_site.setdefault(int(o.site[oi]), []).append(int(oi))
    raw: list[tuple[float, PlanItem]] = []
    for j, opts in by_site.items():
        seen = np.unique(
            np.concatenate([o.matrix.indices[o.matrix.indptr[x] : o.matrix.indptr[x + 1]] for x in opts])
        )
        cells = pt_cell[seen]
        contrib = {
            name: round(float(getattr(weights, name) * layers[name][cells].sum() / per_cell), 4)
            for name in score.CELL_LAYERS
        }
        contrib["lighting"] = round(float(bonus[j]), 4)
        value = float(prob.weights[seen].sum() + bonus[j])
        cams: list[dict[str, Any]] = []
        site_line = {"item": f"site: {SITE_KIND[cands.kind[j]]}", "krw": float(cands.site_cost_krw[j])}
        cost_lines: list[dict[str, Any]] = [site_line]
        for x in sorted(
            opts,
            key=lambda v: (prob.kinds[int(o.kind[v])].name != "ptz", float(np.nan_to_num(o.heading_deg[v]))),
        ):
            k = prob.kinds[int(o.kind[x])]
            head = None if k.is_disc else float(o.heading_deg[x])
            cams.append(
                {
                    "type": k.name,
                    "heading_deg": head,
                    "range_m": k.range_m,
                    "fov_deg": None if k.is_disc else k.fov_deg,
                }
            )
            cost_lines.append(
                {"item": f"camera: {k.name}" + ("" if head is None else f" {head:g}°"), "krw": k.cost_krw}
            )
        types = sorted({str(c["type"]) for c in cams}, key=lambda t: t != "ptz")
        site_kind = SITE_KIND[cands.kind[j]]
        cost = float(sum(float(c["krw"]) for c in cost_lines))
        dong = cands.dong[j]
        raw.append(
            (
                value,
                PlanItem(
                    rank=0,
                    kind=cands.kind[j],
                    lat=float(lat[j]),
                    lon=float(lon[j]),
                    camera_type="+".join(types),
                    n_cameras=len(cams),
                    cost_krw=cost,
                    priority=round(value, 4),
                    ref=cands.ref[j],
                    props={
                        "explain": {
                            "layers": contrib,
                            "dong": names.get(dong, dong),
                            "value": round(value, 4),
                            "points_covered": len(seen),
                        },
                        "cameras": cams,
                        "cost_lines": cost_lines,
                        "site_kind": site_kind,
                        "lights_added": 1 if site_kind == "new_pole" else 0,
                        "dong_code": dong,
                        "x_m": round(float(cands.xy[j, 0]), 1),
                        "y_m": round(float(cands.xy[j, 1]), 1),
                    },
                ),
            )
        )
    raw.sort(key=lambda p: -p[0])
    return [dataclasses.replace(it, rank=i + 1) for i, (_, it) in enumerate(raw)]


def _summary(
    prep: _Prepared,
    prob: PoleProblem,
    res: PoleResult,
    items: Sequence[PlanItem],
    wall_s: float,
    camera_source: str,
    cfg: PlanConfig,
) -> dict[str, Any]:
    bonus = prep.bonus
    o = prob.options
    by_type: dict[str, int] = {}
    for it in items:
        for c in it.props["cameras"]:
            by_type[c["type"]] = by_type.get(c["type"], 0) + 1
    kinds = [it.props["site_kind"] for it in items]
    n_sites = len(items)
    n_cams = sum(by_type.values())
    total = float(prob.weights.sum())
    covered_value = float(prob.weights[res.covered].sum())
    cost_by_kind: dict[str, float] = {}
    for j in res.open_sites:
        k = SITE_KIND[prep.candidates.kind[int(j)]]
        cost_by_kind[k] = cost_by_kind.get(k, 0.0) + float(prep.candidates.site_cost_krw[int(j)])
    st = res.stats
    return {
        "sites": n_sites,
        "sites_by_kind": {k: kinds.count(k) for k in sorted(set(kinds))},
        "cameras": n_cams,
        "cameras_by_type": dict(sorted(by_type.items())),
        "mix": {
            "ptz": by_type.get("ptz", 0),
            "fixed": by_type.get("fixed", 0),
            "sites": n_sites,
            "cameras_per_site": round(n_cams / n_sites, 2) if n_sites else 0.0,
        },
        "guro_2024": dict(GURO_2024),
        "lights_added": int(sum(int(it.props["lights_added"]) for it in items)),
        "cost_krw": res.cost_krw,
        "cost_sites_krw": res.site_cost_krw,
        "cost_cameras_krw": res.camera_cost_krw,
        "cost_sites_by_kind_krw": cost_by_kind,
        "covered_priority": covered_value,
        "light_value": float(bonus[res.open_sites].sum()),
        "total_priority": total,
        "covered_share": covered_value / total if total > 0 else 0.0,
        "covered_points": int(res.covered.sum()),
        "demand_points": len(prob.weights),
        "demand_step_m": cfg.demand_step_m,
        "cells": len(prep.grid),
        "candidates": len(prep.candidates),
        "camera_options": len(o),
        "existing": {
            **prep.existing,
            "source": camera_source,
            "note": "rows = registry records (one record may hold several cameras); cameras = sum of their "
            "counts; sites = distinct positions; in_area = inside the plan's area polygon",
        },
        "existing_cameras": prep.existing["cameras_in_area"],
        "existing_source": camera_source,
        "events_used": prep.n_events,
        "requests": prep.n_requests,
        "status": res.status,
        "proven_optimal": res.proven_optimal,
        "gap": res.gap,
        "mip_gap": res.gap,
        "bound": res.bound,
        "incumbent": res.objective,
        "objective": res.objective,
        "layer_weights": {n: float(getattr(cfg.weights, n)) for n in score.LAYERS},
        "layer_labels_ko": dict(score.LAYER_LABELS_KO),
        "reductions": dataclasses.asdict(st),
        "phases_s": dict(res.phases_s),
        "model_rows": res.n_rows,
        "model_cols": res.n_cols,
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
