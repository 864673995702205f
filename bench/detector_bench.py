"""Benchmark the monitor I/O stage: detector calls and video decoding on CPU.

Writes ``detector.json`` into ``--out``:

* ``detectors``: per model (NanoDet-m 416, its int8 model at the frame's aspect, SSD MobileNetV2
  uint8, MoveNet MultiPose, the SSD -> NanoDet ``CascadeDetector`` on a frame where it confirms
  and on an empty frame where it does not) and per onnxruntime thread count (1, 2): median / p90
  milliseconds of one full call (pre-processing, inference, decoding, NMS) on a real 768x432
  frame, over ``--repeats`` calls after ``--warmup``.
* ``decode``: frames per second (best of 3) and CPU ms per frame decoding each bundled Intel
  clip with PyAV, Y plane only vs Y plane + BGR conversion of every frame.
* ``motion``: milliseconds per :meth:`MotionGate.update` on the same clip's Y planes.

Usage::

    .venv/bin/python bench/detector_bench.py --out bench/results [--repeats 20] [--warmup 3]

The machine is shared: numbers are medians, and still noisy. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from safecity.monitor.sources.readers import DecodedFrame, FileSource
from safecity.monitor.vision.detect import (
    CascadeDetector,
    NanoDetDetector,
    PoseEstimator,
    SsdMobileNetDetector,
)
from safecity.monitor.vision.motion import MotionGate
from safecity.paths import video_dir

CLIPS = ("car-detection.mp4", "one-by-one-person-detection.mp4", "person-bicycle-car-detection.mp4")


def _timed_ms(fn: Callable[[], object], repeats: int, warmup: int) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    samples = []
    cpu = []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p90_ms": round(samples[min(len(samples) - 1, int(0.9 * len(samples)))], 2),
        "min_ms": round(samples[0], 2),
        "median_cpu_ms": round(statistics.median(cpu), 2),  # all threads of this process
        "n": repeats,
    }


def _frame(clip: Path, t_s: float) -> np.ndarray:
    for f in FileSource(clip, camera="bench", detect_fps=None):
        if isinstance(f, DecodedFrame) and f.t_s >= t_s:
            return f.bgr()
    raise SystemExit(f"{clip} is shorter than {t_s} s")


def bench_detectors(repeats: int, warmup: int) -> dict[str, dict[str, dict[str, float]]]:
    bgr = _frame(video_dir() / "intel-sample-videos" / "person-bicycle-car-detection.mp4", 27.8)
    h, w = bgr.shape[:2]
    empty = np.full_like(bgr, 120)
    person = np.array([[0.45 * w, 0.3 * h, 0.55 * w, 0.7 * h]], np.float32)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for threads in (1, 2):
        nano = NanoDetDetector(threads=threads)
        int8 = NanoDetDetector(threads=threads, precision="int8")
        ssd = SsdMobileNetDetector(threads=threads)
        pose = PoseEstimator(threads=threads)
        sure = CascadeDetector(SsdMobileNetDetector(conf=0.3, threads=threads), nano, accept=1.0)
        cases: dict[str, Callable[[], object]] = {
            "nanodet-m-416": partial(nano.detect_batch, [bgr]),
            "nanodet-m int8 at the frame's aspect (416x256)": partial(int8.detect_batch, [bgr]),
            "ssd-mobilenet-v2-uint8-300": partial(ssd.detect_batch, [bgr]),
            "movenet-multipose-256 (1 person)": partial(pose.estimate, bgr, person),
            "cascade ssd->nanodet (confirmed)": partial(sure.detect_batch, [bgr]),
            "cascade ssd->nanodet (empty frame, first pass only)": partial(sure.detect_batch, [empty]),
        }
        for name, fn in cases.items():
            print(f"detector {name}, {threads} thread(s)", file=sys.stderr, flush=True)
            out.setdefault(name, {})[f"threads_{threads}"] = _timed_ms(fn, repeats, warmup)
    return out


def _decode_once(clip: Path, with_bgr: bool) -> tuple[int, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    for f in FileSource(clip, camera="bench", detect_fps=None):
        if isinstance(f, DecodedFrame):
            n += 1
            if with_bgr:
                f.bgr()
    return n, time.perf_counter() - t0, time.process_time() - c0


def bench_decode(rounds: int = 3) -> dict[str, dict[str, float]]:
    """Best of ``rounds`` (modes interleaved, so both see the same machine load)."""
    out: dict[str, dict[str, float]] = {}
    for name in CLIPS:
        clip = video_dir() / "intel-sample-videos" / name
        row: dict[str, float] = {}
        for _ in range(rounds):
            for mode, with_bgr in (("gray_only", False), ("gray_and_bgr", True)):
                print(f"decode {name} {mode}", file=sys.stderr, flush=True)
                n, wall, cpu = _decode_once(clip, with_bgr)
                row["frames"] = n
                row[f"{mode}_fps"] = max(row.get(f"{mode}_fps", 0.0), round(n / wall, 1))
                row[f"{mode}_cpu_ms_per_frame"] = min(
                    row.get(f"{mode}_cpu_ms_per_frame", 1e9), round(cpu * 1e3 / n, 3)
                )
        out[name] = row
    return out


def bench_motion() -> dict[str, float]:
    clip = video_dir() / "intel-sample-videos" / "one-by-one-person-detection.mp4"
    grays = [
        (f.t_s, f.gray)
        for f in FileSource(clip, camera="bench", detect_fps=5.0)
        if isinstance(f, DecodedFrame)
    ]
    gate = MotionGate()
    t0 = time.perf_counter()
    moving = sum(gate.update(g, t).has_motion for t, g in grays)
    ms = (time.perf_counter() - t0) * 1e3 / len(grays)
    return {"ms_per_update_768x432": round(ms, 3), "frames": len(grays), "frames_with_motion": moving}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for detector.json")
    ap.add_argument("--repeats", type=int, default=20, help="timed calls per case (default 20)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed calls first (default 3)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    result = {
        "bench": "detector",
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count()},
        "detectors": bench_detectors(args.repeats, args.warmup),
        "decode": bench_decode(),
        "motion": bench_motion(),
    }
    path = args.out / "detector.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
