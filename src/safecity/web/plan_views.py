"""What the console's plan routes return: plan JSON, the comparison of two plans, the priority grid.

Pure functions of stored plans (:mod:`safecity.store.plans_read`); nothing here imports the planning
stack (numpy, geopandas, HiGHS). Plans saved before sites carried ``explain`` / ``cameras`` /
``cost_lines`` still compare: a site is a position, its value the items' ``explain.value`` or their
priority.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from safecity.plan.types import Plan, PlanItem
from safecity.store.plans_read import PlanItemView, PlanView

__all__ = [
    "MAX_DIFF_SITES",
    "SiteSummary",
    "compare_plans",
    "plan_json",
    "plan_metrics",
    "priority_geojson",
    "site_key",
    "sites_of",
    "to_plan",
]

MAX_DIFF_SITES = 2000  # sites listed per side of a comparison (counts are always complete)
_KIND_TO_SITE = {"grid": "new_pole", "request": "new_pole"}


def _num(v: Any) -> float | None:
    """A finite float from a JSON value, else None (bools are not numbers here)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def plan_json(p: PlanView) -> dict[str, Any]:
    """A plan as JSON (``created_at`` as ISO 8601)."""
    d = asdict(p)
    d["created_at"] = p.created_at.isoformat()
    return d


def site_key(it: PlanItemView) -> str:
    """Where a site is: its position to ~1 m (5 decimals); replacement items by their record ref."""
    if it.kind == "replacement" and it.ref:
        return f"ref:{it.ref}"
    return f"{it.lat:.5f},{it.lon:.5f}"


@dataclass(frozen=True, slots=True)
class SiteSummary:
    """One site of a plan: all its items together."""

    key: str
    lat: float
    lon: float
    site_kind: str
    dong: str | None
    cameras: int
    ptz: int
    fixed: int
    cost_krw: float
    value: float
    points_covered: int | None
    ranks: tuple[int, ...]


def _camera_counts(items: Sequence[PlanItemView]) -> tuple[int, int, int]:
    """(cameras, ptz, fixed): from ``props.cameras`` where stored, else ``n_cameras`` × ``camera_type``."""
    n = ptz = fixed = 0
    for it in items:
        cams = it.props.get("cameras")
        if isinstance(cams, list) and cams:
            for c in cams:
                kind = c.get("type") if isinstance(c, Mapping) else None
                n += 1
                ptz += kind == "ptz"
                fixed += kind == "fixed"
        else:
            n += it.n_cameras
            ptz += it.n_cameras if it.camera_type == "ptz" else 0
            fixed += it.n_cameras if it.camera_type == "fixed" else 0
    return n, ptz, fixed


def _site(key: str, items: Sequence[PlanItemView]) -> SiteSummary:
    first = items[0]
    explains = [it.props.get("explain") for it in items]
    ex = [e for e in explains if isinstance(e, Mapping)]
    values = [_num(e.get("value")) for e in ex]
    value = (
        sum(v for v in values if v is not None)
        if ex and any(v is not None for v in values)
        else sum(it.priority for it in items)
    )
    pts = [_num(e.get("points_covered")) for e in ex]
    points = int(sum(p for p in pts if p is not None)) if any(p is not None for p in pts) else None
    dong = next((str(e["dong"]) for e in ex if e.get("dong")), None) or (
        str(first.props["dong"]) if first.props.get("dong") else None
    )
    kind = str(first.props.get("site_kind") or _KIND_TO_SITE.get(first.kind, first.kind))
    n, ptz, fixed = _camera_counts(items)
    return SiteSummary(
        key=key,
        lat=first.lat,
        lon=first.lon,
        site_kind=kind,
        dong=dong,
        cameras=n,
        ptz=ptz,
        fixed=fixed,
        cost_krw=sum(it.cost_krw for it in items),
        value=round(value, 4),
        points_covered=points,
        ranks=tuple(it.rank for it in items),
    )


def sites_of(items: Iterable[PlanItemView]) -> dict[str, SiteSummary]:
    """The plan's sites by :func:`site_key`, in rank order of their first item."""
    groups: dict[str, list[PlanItemView]] = {}
    for it in sorted(items, key=lambda i: i.rank):
        groups.setdefault(site_key(it), []).append(it)
    return {k: _site(k, v) for k, v in groups.items()}


def plan_metrics(p: PlanView, sites: Mapping[str, SiteSummary] | None = None) -> dict[str, Any]:
    """Headline figures of one plan for the comparison (None where the plan does not say)."""
    s = sites if sites is not None else sites_of(p.items)
    summ = p.summary
    value = _num(summ.get("covered_priority"))
    if value is None:
        value = p.objective if p.objective is not None else sum(x.value for x in s.values())
    pts = [x.points_covered for x in s.values() if x.points_covered is not None]
    points = _num(summ.get("points_covered"))
    if points is None:
        points = _num(summ.get("covered_cells"))  # before finer demand points, a point was a cell
    if points is None and pts:
        points = float(sum(pts))
    return {
        "id": p.id,
        "kind": p.kind,
        "area": p.area,
        "area_name": summ.get("area_name", p.area),
        "created_at": p.created_at.isoformat(),
        "status": p.status,
        "proven_optimal": _proven(p),
        "gap": p.mip_gap if _num(summ.get("gap")) is None else _num(summ.get("gap")),
        "budget_krw": p.budget_krw,
        "cost_krw": p.cost_krw,
        "sites": len(s),
        "cameras": sum(x.cameras for x in s.values()),
        "ptz": sum(x.ptz for x in s.values()),
        "fixed": sum(x.fixed for x in s.values()),
        "value": value,
        "covered_share": _num(summ.get("covered_share")),
        "points_covered": None if points is None else int(points),
        "lights_added": sum(int(_num(it.props.get("lights_added")) or 0) for it in p.items),
    }


def _proven(p: PlanView) -> bool:
    flag = p.summary.get("proven_optimal")
    if isinstance(flag, bool):
        return flag
    return p.status == "optimal"


def _delta(a: Any, b: Any) -> float | None:
    x, y = _num(a), _num(b)
    return None if x is None or y is None else y - x


def compare_plans(a: PlanView, b: PlanView, *, limit: int = MAX_DIFF_SITES) -> dict[str, Any]:
    """Sites added (in ``b`` only), removed (in ``a`` only) and kept, and both plans' figures.

    Lists hold at most ``limit`` sites each (highest value first); the ``n_*`` counts are complete.
    """
    sa, sb = sites_of(a.items), sites_of(b.items)
    added = sorted((sb[k] for k in sb.keys() - sa.keys()), key=lambda s: -s.value)
    removed = sorted((sa[k] for k in sa.keys() - sb.keys()), key=lambda s: -s.value)
    ma, mb = plan_metrics(a, sa), plan_metrics(b, sb)
    keys = ("budget_krw", "cost_krw", "sites", "cameras", "ptz", "fixed", "value", "points_covered")
    return {
        "a": ma,
        "b": mb,
        "same_area": a.area == b.area,
        "n_added": len(added),
        "n_removed": len(removed),
        "n_kept": len(sa.keys() & sb.keys()),
        "added": [asdict(s) for s in added[:limit]],
        "removed": [asdict(s) for s in removed[:limit]],
        "truncated": len(added) > limit or len(removed) > limit,
        "delta": {k: _delta(ma[k], mb[k]) for k in keys},
    }


def priority_geojson(
    cells: Sequence[tuple[float, float, float]], cell_m: float, *, max_cells: int
) -> dict[str, Any]:
    """Scored cells as one GeoJSON MultiPoint (cell centres) with a parallel ``scores`` list.

    More than ``max_cells`` cells are merged into square blocks of ``k × cell_m`` (the block keeps its
    highest score), so the answer stays bounded for all of Seoul. Cells scoring 0 are left out.
    """
    pos = [(la, lo, s) for la, lo, s in cells if s > 0]
    factor = 1
    if len(pos) > max_cells:
        factor = math.ceil(math.sqrt(len(pos) / max_cells))
        while True:
            merged = _merge(pos, cell_m * factor)
            if len(merged) <= max_cells:
                break
            factor += 1
        pos = merged
    top = max((s for _, _, s in pos), default=0.0)
    return {
        "type": "FeatureCollection",
        "cell_m": cell_m * factor,
        "merged_factor": factor,
        "n_cells": len(cells),
        "max_score": round(top, 4),
        "features": [
            {
                "type": "Feature",
                "geometry": {
                    "type": "MultiPoint",
                    "coordinates": [[round(lo, 6), round(la, 6)] for la, lo, _ in pos],
                },
                "properties": {"scores": [round(s, 3) for _, _, s in pos]},
            }
        ],
    }


def _merge(cells: Sequence[tuple[float, float, float]], block_m: float) -> list[tuple[float, float, float]]:
    lat0 = sum(c[0] for c in cells) / len(cells)
    dlat = block_m / 111_320.0
    dlon = dlat / math.cos(math.radians(lat0))
    best: dict[tuple[int, int], float] = {}
    for la, lo, s in cells:
        k = (math.floor(la / dlat), math.floor(lo / dlon))
        if s > best.get(k, -1.0):
            best[k] = s
    return [((i + 0.5) * dlat, (j + 0.5) * dlon, s) for (i, j), s in best.items()]


def to_plan(p: PlanView) -> Plan:
    """The stored plan as the planner's :class:`~safecity.plan.types.Plan` (for the report writers)."""
    return Plan(
        kind=p.kind,
        area=p.area,
        area_name=str(p.summary.get("area_name") or p.area),
        created_at=p.created_at,
        budget_krw=p.budget_krw,
        cost_krw=p.cost_krw,
        status=p.status,
        objective=p.objective,
        mip_gap=p.mip_gap,
        params=p.params,
        summary=p.summary,
        items=tuple(
            PlanItem(
                rank=i.rank,
                kind=i.kind,
                lat=i.lat,
                lon=i.lon,
                camera_type=i.camera_type,
                n_cameras=i.n_cameras,
                cost_krw=i.cost_krw,
                priority=i.priority,
                ref=i.ref,
                props=i.props,
            )
            for i in p.items
        ),
    )
