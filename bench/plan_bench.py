"""Planning benchmark: our sparse HiGHS MCLP against PySAL spopt, and at Seoul scale.

Writes into ``--out``:

- ``plan_guro.json``: the Guro instance of the shared baseline (``shared/bench/spopt_baseline.py``: 1,982
  cells of 100 m, 2,000 candidates, R = 75 m, p = 54, household weights x0.25 where a 2018 CCTV site is
  within R), solved in the SAME process by spopt ``MCLP.from_cost_matrix`` + PuLP HiGHS and by
  ``safecity.plan.optimize.SitingModel``; wall times of each (distance/coverage build + model build +
  solve), their ratio, and whether the objectives are identical (both solved to gap 0).
- ``plan_commands.json``: the user-facing commands end to end (child processes, wall time incl. start-up,
  load average before each): ``safecity plan sites --area seoul --budget-krw 30e9`` and ``safecity plan
  sites --area guro --budget-krw 1.22e9``, each first with an empty prepared-area cache (cold) and then
  with the cache it filled (warm), and the shared spopt baseline script (``../shared/bench/
  spopt_baseline.py --area guro``, or ``$SPOPT_BASELINE``) in the same run, between two warm Guro runs;
  ratio = baseline wall / mean of the two warm Guro runs (target >= 10), the cold ratio next to it.
- ``plan_seoul.json``: the Seoul-scale instance (60,684 cells x 50,000 candidates, p = 1,350), our solver
  only (spopt cannot allocate its dense matrix), run in a child process so that its peak RSS
  (``resource.getrusage``) is its own: wall time, solve time, status, MIP gap, peak RSS.

Usage::

    .venv/bin/python bench/plan_bench.py --out bench/results
    .venv/bin/python bench/plan_bench.py --out /tmp/pb --only seoul
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data" / "seoul"
RADIUS_M = 75.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def build_instance(
    area: str, n_cand: int, radius: float, seed: int = 0
) -> tuple[Any, Any, Any, dict[str, Any]]:
    """The baseline's instance, step for step (shared/bench/spopt_baseline.py ``build_instance``)."""
    import geopandas as gpd
    import pandas as pd
    import shapely
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    gu = gpd.read_file(DATA / "boundaries/seoul_municipalities_geo.json").to_crs(5179)
    dong = gpd.read_file(DATA / "boundaries/seoul_submunicipalities_geo_simple.json").to_crs(5179)
    if area == "guro":
        gu = gu[gu["code"].astype(str) == "11170"]
        dong = dong[dong["code"].astype(str).str.startswith("11170")]
    poly = shapely.union_all(gu.geometry.values)
    minx, miny, maxx, maxy = poly.bounds
    xs = np.arange(np.floor(minx / 100) * 100 + 50, maxx, 100.0)
    ys = np.arange(np.floor(miny / 100) * 100 + 50, maxy, 100.0)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    shapely.prepare(poly)
    inside = shapely.contains_xy(poly, gx, gy)
    dem_xy = np.column_stack([gx[inside], gy[inside]])
    hh = pd.read_csv(DATA / "population/households_1person_by_dong.csv")
    hh["code"] = hh["code"].astype(str)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(dem_xy[:, 0], dem_xy[:, 1]), crs=5179)
    j = gpd.sjoin_nearest(pts, dong[["code", "geometry"]], how="left")
    j = j[~j.index.duplicated()]
    codes = j["code"].astype(str).to_numpy()
    hh_map = hh.set_index("code")
    tot = hh_map["전체세대수"].reindex(codes).fillna(0).to_numpy(float)
    one = hh_map["X1인세대"].reindex(codes).fillna(0).to_numpy(float)
    ncell = pd.Series(codes).map(pd.Series(codes).value_counts()).to_numpy(float)
    w = (tot + one) / ncell
    cc = pd.read_csv(DATA / "cctv/seoul_cctv_points_2018.csv")
    cc = cc[(cc.lat.between(37.3, 37.8)) & (cc.lng.between(126.7, 127.3))]
    lp = pd.read_csv(DATA / "lights/seoul_streetlights.csv")
    lp = lp[(lp["위도"].between(37.3, 37.8)) & (lp["경도"].between(126.7, 127.3))]
    tr = Transformer.from_crs(4326, 5179, always_xy=True)
    cx, cy = tr.transform(cc.lng.to_numpy(), cc.lat.to_numpy())
    lx, ly = tr.transform(lp["경도"].to_numpy(), lp["위도"].to_numpy())
    cc_xy = np.unique(np.round(np.column_stack([cx, cy]), 0), axis=0)
    lp_xy = np.column_stack([lx, ly])
    cc_xy = cc_xy[shapely.contains_xy(poly, cc_xy[:, 0], cc_xy[:, 1])]
    lp_xy = lp_xy[shapely.contains_xy(poly, lp_xy[:, 0], lp_xy[:, 1])]
    covered_now = np.zeros(len(dem_xy), bool)
    if len(cc_xy):
        d, _ = cKDTree(cc_xy).query(dem_xy, k=1, distance_upper_bound=radius)
        covered_now = np.isfinite(d)
    w = np.where(covered_now, 0.25 * w, w)
    rng = np.random.default_rng(seed)
    cand = np.vstack([lp_xy, cc_xy]) if len(lp_xy) + len(cc_xy) else np.empty((0, 2))
    if len(cand) > n_cand:
        cand = cand[rng.choice(len(cand), n_cand, replace=False)]
    need = n_cand - len(cand)
    if need > 0:
        off = dem_xy + 50.0
        off = off[shapely.contains_xy(poly, off[:, 0], off[:, 1])]
        cand = np.vstack([cand, off[rng.choice(len(off), min(need, len(off)), replace=False)]])
    info = {
        "area": area,
        "area_km2": round(poly.area / 1e6, 2),
        "n_demand": len(dem_xy),
        "n_cand": len(cand),
        "radius_m": radius,
        "total_weight": round(float(w.sum()), 1),
    }
    return dem_xy, w, cand, info


def run_ours(dem_xy: Any, w: Any, cand: Any, p: int, gap: float, time_limit_s: float) -> dict[str, Any]:
    from safecity.plan.optimize import CameraOption, SitingModel

    t0, c0 = time.perf_counter(), time.process_time()
    model = SitingModel.from_arrays(
        demand_xy=dem_xy,
        weights=w,
        site_xy=cand,
        site_cost_krw=np.zeros(len(cand)),
        options=[CameraOption("camera", RADIUS_M, 0.0)],
        max_sites=p,
    )
    t_cov = time.perf_counter() - t0
    res = model.solve(time_limit_s=time_limit_s, mip_rel_gap=gap)
    total = time.perf_counter() - t0
    return {
        "cpu_s": round(time.process_time() - c0, 3),
        "coverage_s": round(t_cov, 3),
        "build_s": round(res.build_s, 3),
        "solve_s": round(res.solve_s, 3),
        "total_s": round(total, 3),
        "status": res.status,
        "objective": res.objective,
        "bound": res.bound,
        "mip_gap": res.mip_gap,
        "n_chosen": len(res.open_sites),
        "covered_weight_share": round(res.objective / float(w.sum()), 4),
        "model_rows": res.n_rows,
        "model_cols": res.n_cols,
        "model_nonzeros": res.n_nonzeros,
    }


def run_spopt(dem_xy: Any, w: Any, cand: Any, p: int, time_limit_s: float) -> dict[str, Any]:
    import pulp
    from scipy.spatial.distance import cdist
    from spopt.locate import MCLP

    t0, c0 = time.perf_counter(), time.process_time()
    cost = cdist(dem_xy, cand)
    t_cdist = time.perf_counter() - t0
    t1 = time.perf_counter()
    m = MCLP.from_cost_matrix(cost, w, service_radius=RADIUS_M, p_facilities=p)
    t_build = time.perf_counter() - t1
    del cost
    t2 = time.perf_counter()
    m = m.solve(pulp.HiGHS(msg=False, timeLimit=time_limit_s, gapRel=0.0))
    t_solve = time.perf_counter() - t2
    return {
        "cpu_s": round(time.process_time() - c0, 3),
        "cdist_s": round(t_cdist, 3),
        "build_s": round(t_build, 3),
        "solve_s": round(t_solve, 3),
        "total_s": round(time.perf_counter() - t0, 3),
        "status": pulp.LpStatus[m.problem.status],
        "objective": float(pulp.value(m.problem.objective)),
        "n_chosen": sum(1 for v in m.fac_vars if (v.value() or 0) > 0.5),
    }


def bench_guro(out: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    dem_xy, w, cand, info = build_instance("guro", 2000, RADIUS_M)
    info["prep_s"] = round(time.perf_counter() - t0, 2)
    p = 54
    print(f"plan_bench: guro {info['n_demand']} cells x {info['n_cand']} candidates, p={p}", file=sys.stderr)
    ours = run_ours(dem_xy, w, cand, p, gap=0.0, time_limit_s=600)
    print(f"plan_bench: ours {ours['total_s']} s, objective {ours['objective']:.3f}", file=sys.stderr)
    ref = run_spopt(dem_xy, w, cand, p, time_limit_s=600)
    print(f"plan_bench: spopt {ref['total_s']} s, objective {ref['objective']:.3f}", file=sys.stderr)
    same = abs(ours["objective"] - ref["objective"]) <= 1e-6 * max(1.0, abs(ref["objective"]))
    result = {
        "instance": info | {"p": p},
        "ours": ours,
        "spopt_pulp_highs": ref,
        "speedup_x": round(ref["total_s"] / ours["total_s"], 1),
        "speedup_cpu_x": round(ref["cpu_s"] / ours["cpu_s"], 1),
        "objective_equal": same,
        "target": "speedup >= 30x with identical objective",
        "target_met": bool(same and ref["total_s"] / ours["total_s"] >= 30),
    }
    return result


def bench_seoul() -> dict[str, Any]:
    t0 = time.perf_counter()
    dem_xy, w, cand, info = build_instance("seoul", 50000, RADIUS_M)
    info["prep_s"] = round(time.perf_counter() - t0, 2)
    rss_prep = peak_rss_mb()
    p = 1350
    print(f"plan_bench: seoul {info['n_demand']} cells x {info['n_cand']} candidates, p={p}", file=sys.stderr)
    ours = run_ours(dem_xy, w, cand, p, gap=1e-3, time_limit_s=120)
    peak = peak_rss_mb()
    return {
        "instance": info | {"p": p},
        "ours": ours,
        "peak_rss_mb": round(peak, 1),
        "peak_rss_after_instance_build_mb": round(rss_prep, 1),
        "target": "proven optimal within 0.1 % gap in < 15 s and < 1 GB",
        "target_met": bool(ours["mip_gap"] <= 1e-3 and ours["total_s"] < 15 and peak < 1024),
    }


def _run_cli(args: list[str], out: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    import os

    exe = Path(sys.executable).with_name("safecity")
    cmd = [str(exe), "plan", "sites", *args, "--no-save", "--json", "--out", str(out)]
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    res: dict[str, Any] = {
        "command": " ".join(["safecity", "plan", "sites", *args]),
        "exit_code": proc.returncode,
    }
    res |= {"wall_s": round(wall, 2), "load_avg_1m_before": round(load, 2)}
    if proc.returncode != 0:
        res["stderr_tail"] = proc.stderr[-2000:]
        return res
    doc = json.loads(proc.stdout)
    sm = doc["summary"]
    res |= {
        "status": doc["status"],
        "proven_optimal": sm["proven_optimal"],
        "gap": sm["gap"],
        "bound": sm["bound"],
        "incumbent": sm["incumbent"],
        "cost_krw": doc["cost_krw"],
        "mix": sm["mix"],
        "guro_2024": sm["guro_2024"],
        "sites_by_kind": sm["sites_by_kind"],
        "lights_added": sm["lights_added"],
        "demand_points": sm["demand_points"],
        "cells": sm["cells"],
        "candidates": sm["candidates"],
        "camera_options": sm["camera_options"],
        "reductions": sm["reductions"],
        "phases_s": sm["phases_s"],
        "plan_wall_s": sm["wall_s"],
    }
    return res


def bench_commands(out: Path) -> dict[str, Any]:
    """The commands as a user runs them, each a fresh process, with the prepared-instance cache.

    The cache (``safecity.plan.cache``) starts empty in a temporary folder: the first run of each command
    prepares the area from the data files and fills it ("cold"), the next ones read it ("warm"). The
    Guro command runs warm right before and right after the baseline script; the ratio uses their mean
    (the machine is shared and its load moves), the cold ratio the cold run.
    """
    import os
    import tempfile

    shared = Path(os.environ.get("SPOPT_BASELINE", REPO.parent / "shared" / "bench" / "spopt_baseline.py"))
    seoul_args = ["--area", "seoul", "--budget-krw", "30e9"]
    guro_args = ["--area", "guro", "--budget-krw", "1.22e9"]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, SAFECITY_PLAN_CACHE_DIR=str(Path(tmp) / "cache"))
        print("plan_bench: safecity plan sites --area seoul --budget-krw 30e9 (cold)", file=sys.stderr)
        seoul_cold = _run_cli(seoul_args, Path(tmp) / "seoul0", env)
        seoul = _run_cli(seoul_args, Path(tmp) / "seoul", env)
        print(
            f"plan_bench: seoul {seoul_cold.get('wall_s')} s cold, {seoul.get('wall_s')} s warm, "
            f"gap {seoul.get('gap')}",
            file=sys.stderr,
        )
        guro_cold = _run_cli(guro_args, Path(tmp) / "guro0", env)
        guro = _run_cli(guro_args, Path(tmp) / "guro1", env)
        print(
            f"plan_bench: guro command {guro_cold.get('wall_s')} s cold, {guro.get('wall_s')} s warm",
            file=sys.stderr,
        )
        base: dict[str, Any] = {"script": str(shared)}
        if shared.is_file():
            benv = dict(os.environ, SEOUL_DATA=str(DATA))
            base["load_avg_1m_before"] = round(os.getloadavg()[0], 2)
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, str(shared), "--area", "guro"], capture_output=True, text=True, env=benv
            )
            base |= {"wall_s": round(time.perf_counter() - t0, 2), "exit_code": proc.returncode}
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            if lines:
                base["result"] = json.loads(lines[-1])
            print(f"plan_bench: spopt baseline script {base['wall_s']} s", file=sys.stderr)
        else:
            base["missing"] = "baseline script not found; set SPOPT_BASELINE"
        guro_after = _run_cli(guro_args, Path(tmp) / "guro2", env)
    warm = [g for g in (guro, guro_after) if g.get("exit_code") == 0]
    warm_s = round(sum(g["wall_s"] for g in warm) / len(warm), 2) if warm else None
    ok = base.get("exit_code") == 0 and warm_s is not None
    ratio = round(base["wall_s"] / warm_s, 2) if ok and warm_s else None
    ratio_cold = (
        round(base["wall_s"] / guro_cold["wall_s"], 2)
        if base.get("exit_code") == 0 and guro_cold.get("exit_code") == 0
        else None
    )
    return {
        "seoul": seoul
        | {
            "cache": "warm (the run before filled it)",
            "target": "proven optimal (gap <= 0.1 %) within 60 s",
            "target_met": bool(seoul.get("proven_optimal") and seoul["wall_s"] <= 60),
        },
        "seoul_cold": seoul_cold | {"cache": "cold (empty cache: prepares from the data files)"},
        "guro_command": guro | {"cache": "warm", "run": "before the baseline"},
        "guro_command_after_baseline": guro_after | {"cache": "warm", "run": "after the baseline"},
        "guro_command_cold": guro_cold | {"cache": "cold"},
        "guro_warm_mean_s": warm_s,
        "spopt_baseline_script": base,
        "guro_ratio_x": ratio,
        "guro_ratio_cold_x": ratio_cold,
        "guro_target": "whole Guro command >= 10x faster than the baseline script in the same run "
        "(warm cache; the cold ratio is reported next to it)",
        "guro_target_met": bool(ratio is not None and ratio >= 10),
    }


def _env() -> dict[str, Any]:
    import os

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for plan_guro.json and plan_seoul.json")
    ap.add_argument("--only", choices=["guro", "seoul", "commands"], help="run one case")
    ap.add_argument("--child-seoul", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child_seoul:
        print(json.dumps(bench_seoul()))
        return 0
    a.out.mkdir(parents=True, exist_ok=True)
    ok = True
    if a.only in (None, "guro"):
        g = bench_guro(a.out) | {"env": _env()}
        (a.out / "plan_guro.json").write_text(json.dumps(g, indent=2), encoding="utf-8")
        print(f"plan_guro: speedup {g['speedup_x']}x, objective equal {g['objective_equal']}")
        ok &= g["objective_equal"]
    if a.only in (None, "commands"):
        c = bench_commands(a.out) | {"env": _env()}
        (a.out / "plan_commands.json").write_text(
            json.dumps(c, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        sc = c["seoul"]
        print(
            f"plan_commands: seoul {sc.get('wall_s')} s, proven {sc.get('proven_optimal')}, "
            f"gap {sc.get('gap')}; "
            f"guro command {c['guro_warm_mean_s']} s warm vs baseline script "
            f"{c['spopt_baseline_script'].get('wall_s')} s = {c['guro_ratio_x']}x"
        )
    if a.only in (None, "seoul"):
        proc = subprocess.run(
            [sys.executable, __file__, "--out", str(a.out), "--child-seoul"], capture_output=True, text=True
        )
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            print(f"plan_seoul: child failed with exit code {proc.returncode}", file=sys.stderr)
            return 1
        s = json.loads(proc.stdout.strip().splitlines()[-1]) | {"env": _env()}
        (a.out / "plan_seoul.json").write_text(json.dumps(s, indent=2), encoding="utf-8")
        o = s["ours"]
        print(
            f"plan_seoul: {o['status']} gap {o['mip_gap']:.4%}, {o['total_s']} s "
            f"(solve {o['solve_s']} s), peak RSS {s['peak_rss_mb']} MB"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
