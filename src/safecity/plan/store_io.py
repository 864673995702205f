"""Save a plan into the store's ``plans`` / ``plan_items`` tables in one transaction.

Either the plan row and all its items are committed, or nothing is (the transaction rolls back and
:class:`~safecity.errors.StoreError` is raised).
"""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from safecity.errors import StoreError
from safecity.plan.types import Plan
from safecity.store.schema import plan_items, plans

__all__ = ["save_plan"]


def _clean(v: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, tuples -> lists (JSON columns reject NaN on PostgreSQL)."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def save_plan(engine: Engine, plan: Plan) -> int:
    """Insert ``plan`` and its items; return the new plan id.

    Raises:
        StoreError: the database refused the write; nothing of the plan was kept.
    """
    head = {
        "kind": plan.kind,
        "area": plan.area,
        "created_at": plan.created_at,
        "budget_krw": float(plan.budget_krw),
        "cost_krw": float(plan.cost_krw),
        "status": plan.status,
        "objective": plan.objective,
        "mip_gap": plan.mip_gap,
        "params": _clean(json.loads(json.dumps(_clean(dict(plan.params)), default=str))),
        "summary": _clean(json.loads(json.dumps(_clean(dict(plan.summary)), default=str)))
        | {"area_name": plan.area_name},
    }
    try:
        with engine.begin() as conn:
            plan_id = int(conn.execute(insert(plans).values(**head).returning(plans.c.id)).scalar_one())
            rows = [
                {
                    "plan_id": plan_id,
                    "rank": it.rank,
                    "kind": it.kind,
                    "lat": it.lat,
                    "lon": it.lon,
                    "camera_type": it.camera_type,
                    "n_cameras": it.n_cameras,
                    "cost_krw": float(it.cost_krw),
                    "priority": float(it.priority),
                    "ref": it.ref,
                    "props": _clean(dict(it.props)),
                }
                for it in plan.items
            ]
            if rows:
                conn.execute(insert(plan_items), rows)
    except SQLAlchemyError as exc:
        url = engine.url.render_as_string(hide_password=True)
        raise StoreError(
            f"could not save the {plan.kind} plan for {plan.area} to {url}: {exc.__class__.__name__}: "
            f"{getattr(exc, 'orig', exc)}; nothing was saved. Check the database (safecity db upgrade) "
            "and retry"
        ) from exc
    return plan_id
