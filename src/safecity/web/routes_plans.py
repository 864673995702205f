"""Plan routes of the console: saved plans, downloads, the comparison of two plans, the priority layer.

Every logged-in user (viewer and up) may read plans; every route audits what was read (``view_plan``,
``download_plan``, ``compare_plans``, ``view_plan_priority``) and refusals are audited by the
dependencies. Plan ids are bounded to 1..2^63-1 (422 outside, 404 for an id with no plan).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from safecity.plan.report import plan_csv, plan_geojson, plan_html
from safecity.plan.types import MapLayers
from safecity.store.plans_read import PlanView, get_plan, list_plans
from safecity.store.users import Session
from safecity.web.deps import Console, ConsoleDep, SessionDep, audit_action
from safecity.web.plan_layers import LayersUnavailable, stored_layers
from safecity.web.plan_views import compare_plans, plan_json, priority_geojson, to_plan

__all__ = ["MAX_PLAN_ID", "router"]

router = APIRouter(tags=["plans"])

MAX_PLAN_ID = 2**63 - 1
PlanId = Annotated[int, Path(ge=1, le=MAX_PLAN_ID, description="plan id (GET /api/plans lists them)")]
_MEDIA = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


def _audit(
    console: Console, session: Session, request: Request, action: str, target: str, detail: str | None = None
) -> None:
    audit_action(console, request, session, action, target_type="plan", target_id=target, detail=detail)


def _load(console: Console, plan_id: int) -> PlanView:
    p = get_plan(console.services.engine, plan_id)
    if p is None:
        raise HTTPException(
            status_code=404, detail=f"no plan with id {plan_id}; GET /api/plans lists the saved plans"
        )
    return p


def _empty_layers() -> MapLayers:
    empty: dict[str, Any] = {"type": "FeatureCollection", "features": []}
    return MapLayers(area_geojson=empty, dong_geojson=empty, cells=(), cell_size_m=100.0, existing=())


@router.get("/api/plans")
def plans(
    request: Request,
    console: ConsoleDep,
    session: SessionDep,
    kind: Annotated[str | None, Query(pattern="^(sites|replace)$")] = None,
) -> dict[str, Any]:
    """Saved site-selection and replacement plans with their cost summaries (no items), newest first."""
    out = []
    for p in list_plans(console.services.engine, kind=kind):
        d = plan_json(p)
        d.pop("items")
        out.append(d)
    _audit(console, session, request, "list_plans", "*", detail=f"{len(out)} plans")
    return {"plans": out}


@router.get("/api/plans/compare")
def compare(
    request: Request,
    console: ConsoleDep,
    session: SessionDep,
    a: Annotated[int, Query(ge=1, le=MAX_PLAN_ID, description="the base plan")],
    b: Annotated[int, Query(ge=1, le=MAX_PLAN_ID, description="the plan compared with it")],
) -> dict[str, Any]:
    """Sites added (in ``b`` only) and removed (in ``a`` only), kept, and both plans' cost and coverage."""
    if a == b:
        raise HTTPException(status_code=422, detail=f"compare two different plans (a and b are both {a})")
    pa, pb = _load(console, a), _load(console, b)
    diff = compare_plans(pa, pb)
    _audit(
        console,
        session,
        request,
        "compare_plans",
        f"{a}..{b}",
        detail=f"+{diff['n_added']} -{diff['n_removed']} ={diff['n_kept']}",
    )
    return diff


@router.get("/api/plans/{plan_id}")
def plan(plan_id: PlanId, request: Request, console: ConsoleDep, session: SessionDep) -> dict[str, Any]:
    """One plan with its ranked items (position, cameras, cost, explanation)."""
    p = _load(console, plan_id)
    _audit(console, session, request, "view_plan", str(plan_id))
    return plan_json(p)


@router.get("/api/plans/{plan_id}/download/{fmt}")
def download(
    plan_id: PlanId,
    fmt: Literal["geojson", "csv", "html"],
    request: Request,
    console: ConsoleDep,
    session: SessionDep,
) -> Response:
    """The plan as a file: GeoJSON (points + plan head), CSV (one row per item) or the offline HTML map."""
    p = _load(console, plan_id)
    plan_obj = to_plan(p)
    if fmt == "geojson":
        body = json.dumps(plan_geojson(plan_obj), ensure_ascii=False)
    elif fmt == "csv":
        body = "\ufeff" + plan_csv(plan_obj)  # BOM: spreadsheet programs then read Hangul as UTF-8
    else:
        try:
            layers, notes = stored_layers(console.services.engine, p)
        except LayersUnavailable as exc:
            layers, notes = _empty_layers(), [f"no priority cells or outlines: {exc}"]
        body = plan_html(plan_obj, layers, notes=notes)
    safe_area = re.sub(r"[^A-Za-z0-9_-]+", "_", p.area)[:40] or "area"
    name = f"safecity-plan-{p.id}-{p.kind}-{safe_area}.{fmt}"
    _audit(console, session, request, "download_plan", str(plan_id), detail=fmt)
    return Response(
        body.encode("utf-8"),
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/api/plans/{plan_id}/priority")
def priority(
    plan_id: PlanId,
    request: Request,
    console: ConsoleDep,
    session: SessionDep,
    max_cells: Annotated[int, Query(ge=100, le=100_000, description="merge cells above this count")] = 20_000,
) -> dict[str, Any]:
    """The plan area's priority score per demand cell as one GeoJSON MultiPoint with a ``scores`` list.

    Rebuilt from the plan's area and saved config (the store keeps no grid); 503 when the planning
    stack cannot rebuild it. Cells scoring 0 are left out; above ``max_cells`` cells merge into blocks.
    """
    p = _load(console, plan_id)
    try:
        layers, notes = stored_layers(console.services.engine, p)
    except LayersUnavailable as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from exc
    out = priority_geojson(layers.cells, layers.cell_size_m, max_cells=max_cells)
    out["plan_id"] = p.id
    out["area"] = p.area
    out["notes"] = notes
    _audit(console, session, request, "view_plan_priority", str(plan_id), detail=f"{len(layers.cells)} cells")
    return out
