"""Benchmark the pure monitoring logic: tracker, rules, camera health and wall selection on CPU.

Writes ``logic.json`` into ``--out`` (milliseconds, median over ``--repeats`` runs, seeded input):

* ``tracker_update_ms``: one :meth:`ByteTracker.update` with 5 / 20 / 50 moving detections (half of
  them low confidence), 300 frames at 5 fps.
* ``rules_update_ms``: one :meth:`RuleSet.update` of the example config's first camera (6 rules)
  with 20 tracks (15 people, 3 cars, 2 suitcases).
* ``health_update_frame_ms``: one analysed frame of :class:`CameraHealthMonitor` at 360p / 720p /
  1080p (the monitor analyses at most one frame per 0.5 s per camera).
* ``select_ms``: one :meth:`Selector.select` with 100 / 1,000 / 5,449 cameras (Guro-gu's count)
  and 300 live events.

Usage::

    .venv/bin/python bench/logic_bench.py --out bench/results [--repeats 5]

The machine is shared: numbers are medians and still noisy. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from safecity.monitor.config.model import load_monitor_config
from safecity.monitor.rules.build import CameraHealthMonitor, build_rules
from safecity.monitor.selection.wall import SelectionWeights, Selector
from safecity.monitor.types import Detections, Event, HealthState
from safecity.monitor.vision.track import ByteTracker

REPO = Path(__file__).resolve().parents[1]


def _median_ms(fn: Callable[[], int], repeats: int) -> float:
    """Median over ``repeats`` of (seconds of one ``fn()`` call / the number of steps it reports)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = fn()
        times.append((time.perf_counter() - t0) / n * 1e3)
    return round(statistics.median(times), 4)


def _moving_detections(n: int, frames: int, rng: np.random.Generator, classes: list[str]) -> list[Detections]:
    pos = rng.uniform([50, 50], [1230, 670], size=(n, 2))
    vel = rng.normal(0, 20, size=(n, 2))
    conf = np.where(np.arange(n) % 2 == 0, 0.8, 0.3).astype(np.float32)
    out = []
    for k in range(frames):
        c = pos + vel * k * 0.2
        half = np.array([20.0, 50.0])
        boxes = np.concatenate([c - half, c + half], axis=1).astype(np.float32)
        out.append(Detections(boxes, conf, np.array(classes, dtype="<U16")))
    return out


def bench_tracker(repeats: int, rng: np.random.Generator) -> dict[str, float]:
    out = {}
    for n in (5, 20, 50):
        dets = _moving_detections(n, 300, rng, ["person"] * n)

        def run(dets: list[Detections] = dets) -> int:
            tr = ByteTracker()
            for k, d in enumerate(dets):
                tr.update(d, k * 0.2)
            return len(dets)

        out[f"{n}_detections"] = _median_ms(run, repeats)
    return out


def bench_rules(repeats: int, rng: np.random.Generator) -> dict[str, float]:
    cam = load_monitor_config(REPO / "configs" / "example-cameras.yaml").cameras[0]
    dets = _moving_detections(20, 300, rng, ["person"] * 15 + ["car"] * 3 + ["suitcase"] * 2)
    tr = ByteTracker(min_hits=1)
    tracks = [tr.update(d, k * 0.2) for k, d in enumerate(dets)]

    def run() -> int:
        rs = build_rules(cam)
        for k, t in enumerate(tracks):
            rs.update(t, k * 0.2, (1280, 720))
        return len(tracks)

    return {"20_tracks_6_rules": _median_ms(run, repeats)}


def bench_health(repeats: int, rng: np.random.Generator) -> dict[str, float]:
    out = {}
    for name, (h, w) in {"360p": (360, 640), "720p": (720, 1280), "1080p": (1080, 1920)}.items():
        imgs = [rng.integers(0, 255, (h, w), dtype=np.uint8) for _ in range(4)]

        def run(imgs: list[np.ndarray] = imgs) -> int:
            mon = CameraHealthMonitor("c", check_every_s=0.0)
            for k in range(40):
                mon.update_frame(imgs[k % 4], k * 0.5)
            return 40

        out[name] = _median_ms(run, repeats)
    return out


def bench_select(repeats: int, rng: np.random.Generator) -> dict[str, float]:
    out = {}
    for n in (100, 1000, 5449):
        cams = [f"cam{i:05d}" for i in range(n)]
        health: dict[str, HealthState] = {c: "online" for c in cams}
        events = [
            Event(
                uid=f"e{i}",
                type="intrusion",
                camera=cams[int(rng.integers(0, n))],
                start_s=float(rng.uniform(0, 50)),
                last_s=60.0,
                severity=int(rng.integers(1, 6)),
                zone="gate",
                track_ids=(1,),
                count=1,
            )
            for i in range(300)
        ]

        def run(events: list[Event] = events, health: dict[str, HealthState] = health) -> int:
            sel = Selector(max_tiles=16, hold_s=10, weights=SelectionWeights())
            for k in range(10):
                sel.select(events, health, 60.0 + k)
            return 10

        out[f"{n}_cameras_300_events"] = _median_ms(run, repeats)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="folder for logic.json")
    ap.add_argument("--repeats", type=int, default=5, help="runs per measurement (median)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the synthetic input")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    result: dict[str, object] = {"machine": platform.platform(), "python": platform.python_version()}
    for name, fn in (
        ("tracker_update_ms", bench_tracker),
        ("rules_update_ms", bench_rules),
        ("health_update_frame_ms", bench_health),
        ("select_ms", bench_select),
    ):
        print(f"logic_bench: {name}", file=sys.stderr)
        result[name] = fn(args.repeats, rng)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "logic.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
