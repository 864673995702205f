"""Synthetic but realistic Guro plans for the plans-page tests and the docs screenshots.

Sites lie inside Guro's real dong polygons (``data/seoul/boundaries``), carry the props the planner
stores (``explain``, ``cameras`` with headings, ``cost_lines``, ``site_kind``, ``lights_added``) with the
default unit costs of ``configs/plan.yaml``, and the mix follows Guro's 2024 purchase (about 2.3 cameras
per pole, one PTZ at two of three poles). They are saved through :func:`safecity.plan.store_io.save_plan`,
the planner's own writer, so the console reads them exactly as it reads a CLI plan. Seeded.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shapely.geometry import Point, shape
from sqlalchemy import Engine

from safecity.paths import seoul_data_dir
from safecity.plan.store_io import save_plan
from safecity.plan.types import Plan, PlanItem

GURO_CODE = "11170"
SITE_COST = {"new_pole": 13.0e6, "streetlight": 6.0e6, "utility_pole": 7.0e6, "existing_site": 1.5e6}
CAMERA_COST = {"ptz": 6.5e6, "fixed": 3.0e6}
LIGHT_COST = 1.2e6
WEIGHTS = {
    "coverage_gap": 3.0,
    "population": 1.0,
    "one_person_households": 1.0,
    "crime": 1.0,
    "lighting": 0.8,
    "requests": 3.0,
    "event_history": 1.5,
}
GURO_2024 = {"cameras": 126, "sites": 54, "ptz": 35, "fixed": 91}


@dataclass(frozen=True)
class Site:
    lat: float
    lon: float
    dong: str
    props: dict[str, Any]
    cost: float
    value: float
    points: int


def guro_dongs() -> list[tuple[str, Any]]:
    path = seoul_data_dir() / "boundaries" / "seoul_submunicipalities_geo_simple.json"
    feats = json.loads(path.read_text(encoding="utf-8"))["features"]
    return [
        (str(f["properties"]["name"]), shape(f["geometry"]))
        for f in feats
        if str(f["properties"]["code"]).startswith(GURO_CODE)
    ]


def _site(rng: random.Random, dongs: list[tuple[str, Any]]) -> Site:
    name, poly = rng.choice(dongs)
    x0, y0, x1, y1 = poly.bounds
    while True:
        pt = Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if poly.contains(pt):
            break
    kind = rng.choices(list(SITE_COST), weights=[0.45, 0.3, 0.1, 0.15])[0]
    cams: list[dict[str, Any]] = []
    if rng.random() < 35 / 54:
        cams.append({"type": "ptz", "heading_deg": None, "range_m": 100.0, "fov_deg": None})
    n_fixed = rng.choices([1, 2, 3], weights=[0.35, 0.45, 0.2])[0] if cams else rng.choice([2, 3])
    base = rng.randrange(0, 360, 5)
    for k in range(n_fixed):
        heading = (base + k * 360 / n_fixed + rng.uniform(-20, 20)) % 360
        cams.append({"type": "fixed", "heading_deg": round(heading), "range_m": 50.0, "fov_deg": 90.0})
    lights = 1 if kind in ("new_pole", "utility_pole") and rng.random() < 0.5 else 0
    points = rng.randint(18, 85)
    layers = {
        "coverage_gap": WEIGHTS["coverage_gap"] * rng.choice([0.0, 0.4, 1.0, 1.0]),
        "population": WEIGHTS["population"] * rng.uniform(0.2, 0.9),
        "one_person_households": WEIGHTS["one_person_households"] * rng.uniform(0.1, 0.8),
        "crime": WEIGHTS["crime"] * 0.62,
        "lighting": WEIGHTS["lighting"] * rng.uniform(0.0, 1.0),
        "requests": WEIGHTS["requests"] * (1.0 if rng.random() < 0.12 else 0.0),
        "event_history": WEIGHTS["event_history"] * rng.uniform(0.0, 0.7),
    }
    scale = points / 10.0
    layers = {k: round(v * scale, 3) for k, v in layers.items()}
    value = round(sum(layers.values()), 3)
    lines = [{"item": kind, "krw": SITE_COST[kind]}]
    for t in ("ptz", "fixed"):
        n = sum(1 for c in cams if c["type"] == t)
        if n:
            lines.append({"item": t, "krw": n * CAMERA_COST[t]})
    if lights:
        lines.append({"item": "light", "krw": LIGHT_COST})
    props = {
        "explain": {"layers": layers, "dong": name, "value": value, "points_covered": points},
        "cameras": cams,
        "cost_lines": lines,
        "site_kind": kind,
        "lights_added": lights,
    }
    return Site(pt.y, pt.x, name, props, sum(float(x["krw"]) for x in lines), value, points)


def site_pool(seed: int = 12, n: int = 80) -> list[Site]:
    rng = random.Random(seed)
    dongs = guro_dongs()
    return [_site(rng, dongs) for _ in range(n)]


def site_plan(sites: list[Site], *, budget_krw: float, proven: bool, gap: float, created: datetime) -> Plan:
    ranked = sorted(sites, key=lambda s: -s.value)
    items = tuple(
        PlanItem(
            rank=i + 1,
            kind=s.props["site_kind"],
            lat=s.lat,
            lon=s.lon,
            camera_type="ptz" if any(c["type"] == "ptz" for c in s.props["cameras"]) else "fixed",
            n_cameras=len(s.props["cameras"]),
            cost_krw=s.cost,
            priority=s.value,
            ref=f"site-{i + 1}",
            props=s.props,
        )
        for i, s in enumerate(ranked)
    )
    cams = [c for s in sites for c in s.props["cameras"]]
    ptz = sum(1 for c in cams if c["type"] == "ptz")
    covered = sum(s.value for s in sites)
    total = covered * 3.4
    return Plan(
        kind="sites",
        area="guro",
        area_name="구로구",
        created_at=created,
        budget_krw=budget_krw,
        cost_krw=sum(s.cost for s in sites),
        status="optimal" if proven else "time_limit",
        objective=covered,
        mip_gap=gap,
        params={"budget_krw": budget_krw, "time_limit_s": 60.0},
        summary={
            "sites": len(sites),
            "cameras": len(cams),
            "cameras_by_type": {"fixed": len(cams) - ptz, "ptz": ptz},
            "covered_priority": covered,
            "total_priority": total,
            "covered_share": covered / total,
            "points_covered": sum(s.points for s in sites),
            "cells": 1982,
            "candidates": 3292,
            "existing_cameras": 2444,
            "existing_source": "store",
            "proven_optimal": proven,
            "gap": gap,
            "bound": covered * (1 + gap),
            "incumbent": covered,
            "mix": {
                "ptz": ptz,
                "fixed": len(cams) - ptz,
                "sites": len(sites),
                "cameras_per_site": round(len(cams) / len(sites), 2),
            },
            "guro_2024": GURO_2024,
            "wall_s": 7.9,
        },
        items=items,
    )


def replacement_plan(seed: int, created: datetime, n: int = 30) -> Plan:
    rng = random.Random(seed)
    dongs = guro_dongs()
    items = []
    for i in range(n):
        s = _site(rng, dongs)
        year = rng.randint(2008, 2017)
        mp = rng.choice([0.4, 0.4, 1.3, 2.0])
        reason = "age+resolution" if mp < 2 else "age"
        ptz = rng.random() < 0.3
        n_cams = rng.randint(1, 4)
        items.append(
            PlanItem(
                rank=i + 1,
                kind="replacement",
                lat=s.lat,
                lon=s.lon,
                camera_type="ptz" if ptz else "fixed",
                n_cameras=n_cams,
                cost_krw=n_cams * (3.1e6 if ptz else 1.9e6),
                priority=round(1.5 - i * 0.03, 3),
                ref=f"guro-{1000 + i}",
                props={
                    "install_year": year,
                    "resolution": f"{mp} MP",
                    "reason": reason,
                    "address": f"서울특별시 구로구 {s.dong} {rng.randint(1, 300)}",
                    "dong": s.dong,
                },
            )
        )
    cost = sum(it.cost_krw for it in items)
    return Plan(
        kind="replace",
        area="guro",
        area_name="구로구",
        created_at=created,
        budget_krw=cost * 1.02,
        cost_krw=cost,
        status="optimal",
        objective=sum(it.priority * it.n_cameras for it in items),
        mip_gap=0.0,
        params={"as_of": "2026-11-25"},
        summary={"cameras": sum(it.n_cameras for it in items), "cameras_due": 2444, "cost_due_krw": 4.6e9},
        items=tuple(items),
    )


def save_guro_plans(engine: Engine) -> dict[str, int]:
    """Save A (12억 2,000만 원, proven), B (9억 5,000만 원, unproven, gap 3.2 %), a replacement plan.

    B keeps A's 40 best pool sites, drops 14 of A's and adds 8 of its own.
    """
    pool = site_pool()
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    a_sites = pool[:54]
    b_sites = pool[:40] + pool[54:62]
    ids = {"replace": save_plan(engine, replacement_plan(7, t0))}
    ids["a"] = save_plan(
        engine,
        site_plan(a_sites, budget_krw=1.22e9, proven=True, gap=0.0006, created=t0 + timedelta(hours=1)),
    )
    ids["b"] = save_plan(
        engine,
        site_plan(b_sites, budget_krw=0.95e9, proven=False, gap=0.032, created=t0 + timedelta(hours=2)),
    )
    return ids
