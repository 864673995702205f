"""Read-only access to saved plans (``plans`` / ``plan_items``) for the console's plans map.

The planning engineer's ``safecity.plan.store_io.save_plan`` writes these tables; this module
only reads them, so the console does not import the planning stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from safecity.store.schema import plan_items, plans
from safecity.store.users import to_utc

__all__ = ["PlanItemView", "PlanView", "get_plan", "list_plans"]


@dataclass(frozen=True, slots=True)
class PlanItemView:
    rank: int
    kind: str
    lat: float
    lon: float
    camera_type: str | None
    n_cameras: int
    cost_krw: float
    priority: float
    ref: str | None
    props: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PlanView:
    """A saved plan; ``items`` is empty in listings and filled by :func:`get_plan`."""

    id: int
    kind: str
    area: str
    created_at: datetime
    budget_krw: float
    cost_krw: float
    status: str
    objective: float | None
    mip_gap: float | None
    params: dict[str, Any]
    summary: dict[str, Any]
    n_items: int
    items: tuple[PlanItemView, ...] = ()


def _plan(row: Any, n_items: int, items: tuple[PlanItemView, ...] = ()) -> PlanView:
    return PlanView(
        id=int(row["id"]),
        kind=str(row["kind"]),
        area=str(row["area"]),
        created_at=to_utc(row["created_at"]),
        budget_krw=float(row["budget_krw"]),
        cost_krw=float(row["cost_krw"]),
        status=str(row["status"]),
        objective=None if row["objective"] is None else float(row["objective"]),
        mip_gap=None if row["mip_gap"] is None else float(row["mip_gap"]),
        params=dict(row["params"] or {}),
        summary=dict(row["summary"] or {}),
        n_items=n_items,
        items=items,
    )


def list_plans(engine: Engine, *, kind: str | None = None, limit: int = 100) -> list[PlanView]:
    """Saved plans, newest first, with their item counts (no items)."""
    counts = select(plan_items.c.plan_id, func.count().label("n")).group_by(plan_items.c.plan_id).subquery()
    stmt = (
        select(plans, func.coalesce(counts.c.n, 0).label("n_items"))
        .outerjoin(counts, counts.c.plan_id == plans.c.id)
        .order_by(plans.c.created_at.desc(), plans.c.id.desc())
        .limit(limit)
    )
    if kind is not None:
        stmt = stmt.where(plans.c.kind == kind)
    with engine.connect() as c:
        rows = c.execute(stmt).mappings().all()
    return [_plan(r, int(r["n_items"])) for r in rows]


def get_plan(engine: Engine, plan_id: int) -> PlanView | None:
    """One plan with its items in rank order, or None."""
    with engine.connect() as c:
        row = c.execute(select(plans).where(plans.c.id == plan_id)).mappings().first()
        if row is None:
            return None
        items = c.execute(
            select(plan_items).where(plan_items.c.plan_id == plan_id).order_by(plan_items.c.rank)
        ).mappings()
        views = tuple(
            PlanItemView(
                rank=int(i["rank"]),
                kind=str(i["kind"]),
                lat=float(i["lat"]),
                lon=float(i["lon"]),
                camera_type=i["camera_type"],
                n_cameras=int(i["n_cameras"]),
                cost_krw=float(i["cost_krw"]),
                priority=float(i["priority"]),
                ref=i["ref"],
                props=dict(i["props"] or {}),
            )
            for i in items
        )
    return _plan(row, len(views), views)
