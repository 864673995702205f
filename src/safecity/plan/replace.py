"""``plan replace``: which aged or low-resolution cameras to swap first within a budget.

A record is due when it is older than the service life (내용연수, default 7 years) or below the minimum
resolution (default 2 MP). Its urgency is ``w_p·site priority + w_age·age/life + w_res·missing MP share``;
the plan maximises Σ cameras × urgency under the budget (a 0-1 knapsack, solved exactly with HiGHS).

Example:
    >>> age_years("2010-07", date(2024, 7, 1))
    14.0
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from safecity.errors import PlanningError
from safecity.plan.config import PlanConfig
from safecity.plan.types import MapLayers, Plan, PlanItem
from safecity.registry.model import CameraRecord

__all__ = ["Replacement", "age_years", "choose_replacements", "due_reason", "plan_replace"]

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Replacement:
    """One due record with its urgency, cost and whether the plan replaces it."""

    record: CameraRecord
    reason: str
    age_years: float | None
    site_priority: float
    urgency: float
    cost_krw: float
    chosen: bool


def age_years(installed_ym: str | None, today: date) -> float | None:
    """Years between ``YYYY-MM`` (first of the month) and ``today``; None when unknown."""
    if not installed_ym:
        return None
    try:
        y, m = (int(p) for p in installed_ym.split("-")[:2])
    except ValueError:
        return None
    return round((today.year - y) + (today.month - m) / 12.0, 3)


def due_reason(rec: CameraRecord, today: date, cfg: PlanConfig) -> str | None:
    """``age``, ``resolution``, ``age+resolution`` or None when the record is not due."""
    r = cfg.replacement
    age = age_years(rec.installed_ym, today)
    old = age is not None and age >= r.service_life_years
    low = rec.megapixels is not None and rec.megapixels < r.min_megapixels
    if old and low:
        return "age+resolution"
    return "age" if old else ("resolution" if low else None)


def _knapsack(value: F64, cost: F64, budget: float, time_limit_s: float) -> npt.NDArray[np.bool_]:
    import highspy

    from safecity.plan.optimize import new_highs

    n = len(value)
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = 1
    lp.col_cost_ = value
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    lp.row_lower_ = np.array([-highspy.kHighsInf])
    lp.row_upper_ = np.array([budget])
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(n + 1)
    lp.a_matrix_.index_ = np.zeros(n, dtype=np.int64)
    lp.a_matrix_.value_ = cost
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", 1e-6)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal or h.getInfo().primal_solution_status != 2:
        raise PlanningError(
            f"HiGHS found no replacement plan ({h.modelStatusToString(h.getModelStatus())}); "
            "raise --time-limit-s"
        )
    return np.asarray(h.getSolution().col_value) > 0.5


def choose_replacements(
    records: Sequence[CameraRecord],
    site_priority: Sequence[float],
    *,
    budget_krw: float,
    cfg: PlanConfig,
    today: date,
    time_limit_s: float = 30.0,
) -> list[Replacement]:
    """Due records ranked by urgency, with ``chosen`` set for the best set within ``budget_krw``.

    Args:
        records: cameras of the area.
        site_priority: priority of each record's site, scaled 0..1 (same order as ``records``).

    Raises:
        PlanningError: nothing is due, or the budget does not pay for one replacement.
    """
    if len(site_priority) != len(records):
        raise ValueError(f"site_priority has {len(site_priority)} values for {len(records)} records")
    r = cfg.replacement
    fixed, ptz = _unit_costs(cfg)
    due: list[tuple[CameraRecord, str, float | None, float, float, float]] = []
    for rec, pri in zip(records, site_priority, strict=True):
        reason = due_reason(rec, today, cfg)
        if reason is None:
            continue
        age = age_years(rec.installed_ym, today)
        age_term = (age or 0.0) / r.service_life_years
        mp = rec.megapixels
        res_term = max(0.0, (r.min_megapixels - mp) / r.min_megapixels) if mp is not None else 0.0
        urgency = r.weight_site_priority * pri + r.weight_age * age_term + r.weight_resolution * res_term
        cost = rec.count * (ptz if rec.ptz else fixed)
        due.append((rec, reason, age, pri, urgency, cost))
    if not due:
        raise PlanningError(
            f"no camera is due: none is older than {r.service_life_years:g} years or below "
            f"{r.min_megapixels:g} MP; nothing to replace"
        )
    costs = np.array([d[5] for d in due])
    if budget_krw < costs.min():
        raise PlanningError(
            f"budget {budget_krw:,.0f} KRW is too small for one replacement: the cheapest due record "
            f"costs {costs.min():,.0f} KRW; raise --budget-krw"
        )
    value = np.array([d[0].count * d[4] for d in due])
    chosen = _knapsack(value, costs, budget_krw, time_limit_s)
    out = [
        Replacement(
            record=d[0],
            reason=d[1],
            age_years=d[2],
            site_priority=d[3],
            urgency=d[4],
            cost_krw=d[5],
            chosen=bool(c),
        )
        for d, c in zip(due, chosen, strict=True)
    ]
    out.sort(key=lambda x: (-x.urgency, x.record.camera_key))
    return out


def _unit_costs(cfg: PlanConfig) -> tuple[float, float]:
    types = cfg.camera_types
    fixed = (
        types["fixed"].replacement_cost_krw
        if "fixed" in types
        else min(t.replacement_cost_krw for t in types.values())
    )
    ptz = (
        types["ptz"].replacement_cost_krw
        if "ptz" in types
        else max(t.replacement_cost_krw for t in types.values())
    )
    return fixed, ptz


def plan_replace(
    *,
    area: str,
    budget_krw: float,
    cfg: PlanConfig,
    cameras: Sequence[CameraRecord],
    camera_source: str,
    today: date | None = None,
    time_limit_s: float | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> tuple[Plan, MapLayers]:
    """Replacement plan for the cameras of ``area`` (from the store) within ``budget_krw``.

    Raises:
        InputError: unknown area.
        PlanningError: no cameras in the area, nothing due, budget below one replacement.
    """
    from scipy.spatial import cKDTree

    from safecity.geo import lonlat_to_xy
    from safecity.plan import data
    from safecity.plan.areas import load_area
    from safecity.plan.sites import build_inputs, map_layers

    t0 = time.perf_counter()
    day = today or datetime.now(UTC).date()
    the_area = load_area(area)
    inputs = build_inputs(the_area, cfg, cameras=cameras, requests=data.Requests.empty(), progress=progress)
    _, recs = data.camera_sites(cameras, the_area)
    if not recs:
        raise PlanningError(
            f"no cameras of {the_area.name_ko} in the store ({camera_source}); import the registry first: "
            "safecity registry import data/seoul/cctv/guro_cctv_points_2018.csv"
        )
    x, y = lonlat_to_xy([float(r.lon or 0.0) for r in recs], [float(r.lat or 0.0) for r in recs])
    near = np.asarray(cKDTree(inputs.grid.xy).query(np.column_stack([x, y]), k=1)[1], dtype=np.int64)
    sc = inputs.scores.score
    top = float(sc.max()) if len(sc) and sc.max() > 0 else 1.0
    pri = [float(sc[i]) / top for i in near]
    limit = time_limit_s if time_limit_s is not None else cfg.time_limit_s
    reps = choose_replacements(recs, pri, budget_krw=budget_krw, cfg=cfg, today=day, time_limit_s=limit)
    chosen = [r for r in reps if r.chosen]
    progress(f"{len(reps):,} due records, {len(chosen):,} chosen within the budget")
    items = tuple(
        PlanItem(
            rank=i + 1,
            kind="replacement",
            lat=float(r.record.lat or 0.0),
            lon=float(r.record.lon or 0.0),
            camera_type="ptz" if r.record.ptz else "fixed",
            n_cameras=r.record.count,
            cost_krw=r.cost_krw,
            priority=round(r.urgency, 4),
            ref=r.record.camera_key,
            props={
                "reason": r.reason,
                "install_year": int(r.record.installed_ym[:4]) if r.record.installed_ym else None,
                "resolution": r.record.megapixels,
                "age_years": r.age_years,
                "megapixels": r.record.megapixels,
                "installed_ym": r.record.installed_ym,
                "site_priority": round(r.site_priority, 4),
                "purpose": r.record.purpose,
                "address": r.record.address,
            },
        )
        for i, r in enumerate(chosen)
    )
    cost = float(sum(r.cost_krw for r in chosen))
    value = float(sum(r.urgency * r.record.count for r in chosen))
    by_reason: dict[str, int] = {}
    for r in chosen:
        by_reason[r.reason] = by_reason.get(r.reason, 0) + r.record.count
    summary: dict[str, Any] = {
        "records_total": len(recs),
        "cameras_total": sum(r.count for r in recs),
        "records_due": len(reps),
        "cameras_due": sum(r.record.count for r in reps),
        "records_chosen": len(chosen),
        "cameras": sum(r.record.count for r in chosen),
        "cameras_by_type": {
            "fixed": sum(r.record.count for r in chosen if not r.record.ptz),
            "ptz": sum(r.record.count for r in chosen if r.record.ptz),
        },
        "cameras_by_reason": dict(sorted(by_reason.items())),
        "cost_krw": cost,
        "cost_due_krw": float(sum(r.cost_krw for r in reps)),
        "urgency_covered": value,
        "as_of": day.isoformat(),
        "existing_source": camera_source,
        "status": "optimal",
        "proven_optimal": True,  # a 0-1 knapsack solved by HiGHS to a 1e-6 gap (it raises otherwise)
        "gap": 0.0,
        "wall_s": round(time.perf_counter() - t0, 3),
    }
    plan = Plan(
        kind="replace",
        area=the_area.key,
        area_name=the_area.name_ko,
        created_at=datetime.now(UTC),
        budget_krw=float(budget_krw),
        cost_krw=cost,
        status="optimal",
        objective=value,
        mip_gap=0.0,
        params={
            "budget_krw": float(budget_krw),
            "as_of": day.isoformat(),
            "service_life_years": cfg.replacement.service_life_years,
            "min_megapixels": cfg.replacement.min_megapixels,
            "config": cfg.model_dump(mode="json"),
        },
        summary=summary,
        items=items,
    )
    return plan, map_layers(the_area, inputs.grid, sc, cameras)
