"""Track index benchmark: search latency over 1 million synthetic track records, and the engine cost
of summarising tracks.

- **Search**: ``--records`` seeded synthetic records (:func:`safecity.search.synthetic.synthetic_records`:
  200 cameras around Guro-gu, 30 days, people 60 %, cars 30 %) written through
  :meth:`TrackIndex.write` (the real writer; the insert rate is reported) into a fresh SQLite file,
  then three typical searches, each ``--repeats`` times with seeded random periods:

  1. *colour*: people with a red upper body in one hour, all cameras (page of 100 + count);
  2. *line*: cars that crossed line ``l1`` from a to b on 5 cameras in one day;
  3. *area*: anything that stayed at least 30 s in a map box holding a quarter of the cameras, 2 hours;
  4. *polygon*: the same as *area* with a polygon drawn on the map (a triangle over about an eighth of
     the cameras), run as the API runs it: the cameras inside the polygon (``cameras_in_polygon``;
     a record's position is its camera's), no map box;
  5. *group*: people with a red upper body in one hour on one camera group of 50 cameras (the API's
     ``group=``: a list of cameras; an operator's default scope is such a list too).

  p50/p95/max of the page and of the count (the API runs both) with the default index (the R*Tree
  for searches with a map box, B-tree indexes otherwise) and, as the baseline in the same process,
  with the B-tree indexes alone (``use_rtree=False``, what PostgreSQL uses). With
  ``SAFECITY_TEST_PG_URL`` set the same records and searches run on PostgreSQL too (into that
  database: use a throw-away one, e.g. through scripts/test-services.sh).
- **Engine cost**: the Intel person-bicycle-car clip through a real :class:`CameraPipeline`
  (NanoDet) with and without a :class:`TrackSummariser` fed every step; CPU seconds of each part.

Usage::

    .venv/bin/python bench/search_bench.py --out bench/results
    .venv/bin/python bench/search_bench.py --out /tmp/sb --records 100000 --repeats 10

Writes ``DIR/search_bench.json``. Target (issue 14): p95 < 1 s per search on 1 million records.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from safecity.search.area import cameras_in_polygon  # noqa: E402
from safecity.search.synthetic import camera_grid, synthetic_records  # noqa: E402
from safecity.store.db import connect  # noqa: E402
from safecity.store.tracks import TrackIndex, TrackQuery  # noqa: E402

T0 = 1_790_000_000.0
SPAN = 30 * 86400.0
CAMERAS = 200
CHUNK = 50_000
CLIP_CONFIG = REPO / "tests/data/labels/person-bicycle-car-detection.cameras.yaml"
KINDS = ("colour", "line", "area", "polygon", "group")


def _queries(kind: str, repeats: int, seed: int) -> list[TrackQuery]:
    rng = np.random.default_rng(seed)
    grid = camera_grid(CAMERAS)
    lats = sorted(v[0] for v in grid.values())
    lons = sorted(v[1] for v in grid.values())
    out = []
    for _ in range(repeats):
        if kind == "colour":
            t = T0 + float(rng.random()) * (SPAN - 3600)
            out.append(TrackQuery(t, t + 3600, classes=("person",), upper=("red",)))
        elif kind == "line":
            t = T0 + float(rng.random()) * (SPAN - 86400)
            cams = frozenset(rng.choice(sorted(grid), 5, replace=False).tolist())
            out.append(
                TrackQuery(t, t + 86400, cameras=cams, classes=("car",), line="l1", direction="a_to_b")
            )
        elif kind == "area":
            t = T0 + float(rng.random()) * (SPAN - 7200)
            area = (lats[0] - 1e-4, lons[0] - 1e-4, lats[len(lats) // 2], lons[len(lons) // 2])
            out.append(TrackQuery(t, t + 7200, area=area, min_dwell_s=30.0))
        elif kind == "polygon":
            t = T0 + float(rng.random()) * (SPAN - 7200)
            s, w, n, e = lats[0] - 1e-4, lons[0] - 1e-4, lats[len(lats) // 2], lons[len(lons) // 2]
            poly = [(s, w), (n, w), (s, e)]  # the south-west half of the area box
            inside = cameras_in_polygon(poly, grid)
            out.append(TrackQuery(t, t + 7200, cameras=inside, min_dwell_s=30.0))
        else:
            t = T0 + float(rng.random()) * (SPAN - 3600)
            group = frozenset(rng.choice(sorted(grid), 50, replace=False).tolist())
            out.append(TrackQuery(t, t + 3600, cameras=group, classes=("person",), upper=("red",)))
    return out


def _stats(ms: list[float]) -> dict[str, float]:
    s = sorted(ms)
    return {
        "p50_ms": round(statistics.median(s), 2),
        "p95_ms": round(s[min(len(s) - 1, round(0.95 * (len(s) - 1)))], 2),
        "max_ms": round(s[-1], 2),
    }


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000.0, out


def _fill(index: TrackIndex, n: int, seed: int) -> dict[str, float]:
    t0 = time.perf_counter()
    gen = 0.0
    for start in range(0, n, CHUNK):
        g = time.perf_counter()
        # one seeded chunk at a time (bounded memory); uids stay unique across chunks
        recs = synthetic_records(
            min(CHUNK, n - start), seed=seed + start, cameras=CAMERAS, start_s=T0, span_s=SPAN
        )
        recs = [dataclasses.replace(r, uid=f"{r.uid}-{start}") for r in recs]
        gen += time.perf_counter() - g
        index.write(recs)
        done = start + len(recs)
        rate = done / max(time.perf_counter() - t0 - gen, 1e-9)
        print(f"  {done:,}/{n:,} records written ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    write_s = time.perf_counter() - t0 - gen
    return {"records": n, "write_s": round(write_s, 1), "records_per_s": round(n / write_s)}


def _run_searches(index: TrackIndex, repeats: int, kinds: tuple[str, ...] = KINDS) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, kind in enumerate(KINDS):
        if kind not in kinds:
            continue
        page, count, total, hits = [], [], [], []
        for q in _queries(kind, repeats, seed=100 + i):
            a, _ = _timed(lambda q=q: index.search(q))
            b, n = _timed(lambda q=q: index.count(q))
            page.append(a)
            count.append(b)
            total.append(a + b)
            hits.append(n)
        out[kind] = {"page": _stats(page), "count": _stats(count), "page_plus_count": _stats(total),
                     "matches_median": int(statistics.median(hits))}  # fmt: skip
        print(f"  {kind:<7} page+count p50 {out[kind]['page_plus_count']['p50_ms']} ms, "
              f"p95 {out[kind]['page_plus_count']['p95_ms']} ms, matches ~{out[kind]['matches_median']}",
              file=sys.stderr, flush=True)  # fmt: skip
    return out


def _engine_cost() -> dict[str, Any]:
    from safecity.monitor.config.model import load_monitor_config
    from safecity.monitor.pipeline import CameraPipeline
    from safecity.monitor.sources.readers import open_source
    from safecity.monitor.vision.factory import build_detector
    from safecity.search.summary import TrackSummariser

    cfg = load_monitor_config(CLIP_CONFIG)
    cam = cfg.cameras[0]
    det = build_detector(cfg.detector_for(cam))
    runs = {}
    for with_summary in (False, True):
        pipe = CameraPipeline(cam, det, motion=cam.motion or cfg.motion, tracker=cfg.tracker_for(cam),
                              tz=cfg.timezone)  # fmt: skip
        summ = TrackSummariser.for_camera(cam) if with_summary else None
        src = open_source(cam.source, camera=cam.id, detect_fps=cam.detect_fps, loop=False, realtime=False,
                          max_height=cam.max_height)  # fmt: skip
        cpu_pipe = cpu_summ = 0.0
        frames = records = 0
        for item in src:
            c = time.process_time()
            res = pipe.step(item)
            cpu_pipe += time.process_time() - c
            frames += 1
            if summ is not None:
                c = time.process_time()
                records += len(summ.update(res.tracks, res.frame_wh, item.bgr))
                cpu_summ += time.process_time() - c
        if summ is not None:
            records += len(summ.finish())
        runs["on" if with_summary else "off"] = {
            "frames": frames,
            "pipeline_cpu_s": round(cpu_pipe, 3),
            "summariser_cpu_s": round(cpu_summ, 3),
            "records": records,
        }
    on = runs["on"]
    on["summariser_share_of_camera_cpu"] = round(
        on["summariser_cpu_s"] / (on["pipeline_cpu_s"] + on["summariser_cpu_s"]), 4
    )
    runs["clip"] = str(CLIP_CONFIG.relative_to(REPO))
    return runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for search_bench.json")
    ap.add_argument("--records", type=int, default=1_000_000, help="synthetic records (default 1,000,000)")
    ap.add_argument("--repeats", type=int, default=30, help="runs of each search (default 30)")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--db", type=Path, default=None, help="SQLite file to keep (default: a temporary one)")
    ap.add_argument("--no-engine", action="store_true", help="skip the engine cost part")
    ap.add_argument("--kinds", default=",".join(KINDS), help=f"searches to run (default {','.join(KINDS)})")
    ap.add_argument("--reuse", action="store_true", help="search the --db file as it is (no writing)")
    a = ap.parse_args(argv)
    kinds = tuple(k for k in a.kinds.split(",") if k)
    if not kinds or any(k not in KINDS for k in kinds):
        ap.error(f"--kinds: expected a comma-separated subset of {','.join(KINDS)}, got {a.kinds!r}")
    if a.reuse and (a.db is None or not a.db.is_file()):
        ap.error("--reuse needs an existing --db file (written by an earlier run with --db)")
    a.out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "bench": "search",
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "records": a.records,
        "repeats": a.repeats,
        "seed": a.seed,
        "kinds": list(kinds),
        "target_p95_ms": 1000,
        "load_before": list(os.getloadavg()),
    }
    with tempfile.TemporaryDirectory() as tmp:
        db = a.db or Path(tmp) / "tracks.db"
        engine = connect(f"sqlite:///{db}")
        index = TrackIndex(engine)
        if a.reuse:
            result["sqlite_write"] = "reused: " + str(db)
        else:
            print(f"sqlite: writing {a.records:,} records to {db}", file=sys.stderr, flush=True)
            result["sqlite_write"] = _fill(index, a.records, a.seed)
        result["load_sqlite_searches"] = list(os.getloadavg())
        result["sqlite_db_mb"] = round(db.stat().st_size / 1e6, 1)
        print("sqlite searches (default: R*Tree for map boxes):", file=sys.stderr, flush=True)
        result["sqlite_rtree"] = _run_searches(index, a.repeats, kinds)
        print("sqlite searches (B-tree only, baseline):", file=sys.stderr, flush=True)
        result["sqlite_btree"] = _run_searches(TrackIndex(engine, use_rtree=False), a.repeats, kinds)
        result["rtree_speedup_p95"] = {
            k: round(result["sqlite_btree"][k]["page_plus_count"]["p95_ms"]
                     / max(result["sqlite_rtree"][k]["page_plus_count"]["p95_ms"], 1e-6), 2)
            for k in kinds
        }  # fmt: skip
        engine.dispose()
    pg = os.environ.get("SAFECITY_TEST_PG_URL")
    if pg:
        engine = connect(pg)
        index = TrackIndex(engine)
        print(f"postgresql: writing {a.records:,} records", file=sys.stderr, flush=True)
        result["postgres_write"] = _fill(index, a.records, a.seed)
        with engine.begin() as c:
            c.exec_driver_sql("ANALYZE track_records")
            c.exec_driver_sql("ANALYZE track_passages")
        print("postgresql searches:", file=sys.stderr, flush=True)
        result["load_postgres_searches"] = list(os.getloadavg())
        result["postgres"] = _run_searches(index, a.repeats, kinds)
        engine.dispose()
    else:
        result["postgres"] = "skipped: SAFECITY_TEST_PG_URL not set"
    if not a.no_engine:
        print("engine cost (pipeline with and without the summariser):", file=sys.stderr, flush=True)
        result["engine"] = _engine_cost()
    worst = max(
        v["page_plus_count"]["p95_ms"]
        for key in ("sqlite_rtree", "postgres")
        if isinstance(result.get(key), dict)
        for v in result[key].values()
    )
    result["worst_p95_ms"] = worst
    result["load_after"] = list(os.getloadavg())
    result["target_met"] = worst < 1000
    path = a.out / "search_bench.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("worst_p95_ms", "target_met", "rtree_speedup_p95")}))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
