"""Synopsis render time per hour of video (issue 14): a busy camera's hour into at most two minutes.

A seeded hour of a busy street camera: ``--tracks`` people and cars (default 600, ten a minute)
with real crops (the best crops of the tracks the bundled detector finds on the Intel car and
person clips, reused in turn), paths across the picture, 5..90 s each, over the median background
of the car clip (640x360). The same :func:`safecity.search.synopsis.render_synopsis` the console
calls renders it (8 fps, H.264 via PyAV); the time is wall and process CPU of the whole call
(schedule, drawing, encoding). Also one at four times the load (2,400 tracks) to show how it scales.

Usage::

    .venv/bin/python bench/synopsis_bench.py --out bench/results

Writes ``DIR/synopsis_bench.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

INTEL = REPO / "data/video/intel-sample-videos"


def _background_and_crops() -> tuple[Any, list[Any]]:
    import cv2

    from safecity.search.synopsis import median_background

    cap = cv2.VideoCapture(str(INTEL / "car-detection.mp4"))
    frames = []
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    for k in range(15):
        cap.set(cv2.CAP_PROP_POS_FRAMES, int((k + 0.5) * n / 15))
        ok, f = cap.read()
        if ok:
            frames.append(f)
    cap.release()
    bg = median_background(frames, (640, 360))
    crops = []  # boxes labelled by eye in tests/unit/search/conftest.py (a red car, a white car, a person)
    for clip, t_s, box in (("car-detection.mp4", 17.4, (0.41, 0.06, 0.60, 0.59)),
                           ("car-detection.mp4", 6.8, (0.37, 0.05, 0.55, 0.58)),
                           ("one-by-one-person-detection.mp4", 8.0, (0.49, 0.04, 0.68, 0.88))):  # fmt: skip
        cap = cv2.VideoCapture(str(INTEL / clip))
        cap.set(cv2.CAP_PROP_POS_MSEC, t_s * 1000)
        ok, f = cap.read()
        cap.release()
        h, w = f.shape[:2]
        crop = f[int(box[1] * h) : int(box[3] * h), int(box[0] * w) : int(box[2] * w)]
        crops.append(cv2.resize(crop, (max(8, int(crop.shape[1] * 96 / crop.shape[0])), 96)))
    return bg, crops


def _hour(n: int, crops: list[Any], seed: int) -> list[Any]:
    from safecity.search.synopsis import SynopsisObject

    rng = np.random.default_rng(seed)
    t0 = 1_790_000_000.0
    out = []
    for i in range(n):
        first = t0 + float(rng.uniform(0, 3600))
        dwell = float(rng.uniform(5, 90))
        y0, y1 = (float(v) for v in rng.uniform(0.4, 0.98, 2))
        x0, x1 = (0.02, 0.98) if rng.random() < 0.5 else (0.98, 0.02)
        crop = crops[i % len(crops)]
        person = crop.shape[1] < crop.shape[0] * 0.7
        out.append(SynopsisObject(f"c-{i}", "person" if person else "car", first, first + dwell,
                                  ((first, x0, y0), (first + dwell, x1, y1)), 0.2 if person else 0.25,
                                  crop.shape[1] / crop.shape[0], crop))  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for synopsis_bench.json")
    ap.add_argument("--tracks", type=int, default=600, help="tracks in the busy hour (default 600)")
    ap.add_argument("--seed", type=int, default=14)
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    from safecity.search.synopsis import render_synopsis

    bg, crops = _background_and_crops()
    result: dict[str, Any] = {"bench": "synopsis", "platform": platform.platform(), "cpus": os.cpu_count(),
                              "load_before": os.getloadavg()[0], "runs": []}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for n in (a.tracks, 4 * a.tracks):
            objs = _hour(n, crops, a.seed)
            w0, c0 = time.perf_counter(), time.process_time()
            res = render_synopsis(objs, bg, Path(tmp) / f"s{n}.mp4", Path(tmp) / f"s{n}.json")
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            run = {"tracks_per_hour": n, "video_s": round(res.duration_s, 1), "objects_drawn": res.drawn,
                   "objects": res.objects, "lanes": res.lanes, "frames": res.frames,
                   "render_wall_s": round(wall, 2), "render_cpu_s": round(cpu, 2),
                   "mp4_mb": round((Path(tmp) / f"s{n}.mp4").stat().st_size / 1e6, 2),
                   "load": os.getloadavg()[0]}  # fmt: skip
            print(json.dumps(run), file=sys.stderr, flush=True)
            result["runs"].append(run)
    path = a.out / "synopsis_bench.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
