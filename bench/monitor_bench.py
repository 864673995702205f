"""Benchmark selective monitoring: substreams per core (decode-only vs full engine) and onset-to-wall latency.

Writes ``monitor.json`` into ``--out``:

* ``headline``: the mix at the issue's default analysis rate (5 fps per camera, all 10 fps
  decoded) and at 10 fps, for each detector: substreams per core, engine / decode-only, and CPU
  ms per analysed busy frame.
* ``substreams`` (NanoDet, every frame analysed), ``substreams_detect_5fps`` (NanoDet, 5 fps),
  ``substreams_cascade`` / ``substreams_cascade_detect_5fps`` (``CascadeDetector``: SSD uint8 first
  pass at 0.3, NanoDet confirmation), ``substreams_cascade_02*`` (first pass at 0.2): CPU cost of
  one 640x360 @ 10 fps substream, decode only (PyAV, Y plane) vs the full engine (decode + motion
  gate + detector on motion regions + tracker + rules), each clip run alone in this process on one
  core (``time.process_time``), one onnxruntime thread. Clips:
  *quiet* = a still frame of a real clip plus light temporal noise (``noise=alls=4:allf=t``),
  *busy* = the Intel clips scaled to 640x360 @ 10 fps. The mix is 90 % quiet, 10 % busy (a city at
  most hours): substreams per core = 1 / (CPU seconds per second of video, mix-weighted).
  Detector calls on the quiet clips are counted (the first frame is always scanned once).
* ``latency``: :class:`~safecity.monitor.runtime.local.MonitorRuntime` with real worker processes on
  real-time looping file cameras; time from a rule's ``start`` message leaving the worker to the
  selector putting that camera on the wall (``MonitorRuntime.latencies_s``).

Targets (issue): engine >= 0.6 x decode-only throughput on the quiet mix, i.e. >= 40 substreams
of 640x360 @ 10 fps per core; zero detector calls on a camera without motion.

Usage::

    .venv/bin/python bench/monitor_bench.py --out bench/results [--seconds 30] [--latency-s 60]
        [--detectors nanodet,cascade]

Clips are made with ffmpeg into ``--out/monitor_clips`` (kept for reruns). The machine is shared
with other work: CPU times are less noisy than wall times, but still noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.pipeline import CameraPipeline
from safecity.monitor.runtime.local import MonitorRuntime
from safecity.monitor.sources.readers import FileSource
from safecity.monitor.types import SourceGap
from safecity.monitor.vision.base import Detector
from safecity.monitor.vision.factory import build_detector
from safecity.paths import video_dir

INTEL = video_dir() / "intel-sample-videos"
# (name, source clip, time of a frame with nobody in it)
QUIET = (
    ("quiet-lot", "car-detection.mp4", 11.0),
    ("quiet-room", "one-by-one-person-detection.mp4", 2.0),
    ("quiet-lane", "person-bicycle-car-detection.mp4", 18.0),
)
BUSY = (
    ("busy-lot", "car-detection.mp4"),
    ("busy-room", "one-by-one-person-detection.mp4"),
    ("busy-lane", "person-bicycle-car-detection.mp4"),
)
ENC = [
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-profile:v",
    "main",
    "-bf",
    "0",
    "-g",
    "20",
    "-pix_fmt",
    "yuv420p",
]
DETECT = {"type": "nanodet", "conf": 0.25, "threads": 1}
DETECTORS: dict[str, dict[str, Any]] = {
    "nanodet": DETECT,
    "cascade": {
        "type": "cascade",
        "conf": 0.25,
        "threads": 1,
        "first_pass": {"type": "ssd", "conf": 0.3},
        "confirm": {"type": "nanodet", "conf": 0.25},
    },
    # a lower first-pass threshold: more crops confirmed, the recall of NanoDet on the labelled clips
    "cascade-0.2": {
        "type": "cascade",
        "conf": 0.25,
        "threads": 1,
        "first_pass": {"type": "ssd", "conf": 0.2},
        "confirm": {"type": "nanodet", "conf": 0.25},
    },
}
TRACKER = {"high_thresh": 0.3, "new_track_thresh": 0.3, "lost_s": 2.0}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def make_clips(folder: Path, seconds: float, busy_seconds: float) -> dict[str, Path]:
    """The quiet and busy 640x360 @ 10 fps clips (made once, reused)."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for name, src, t in QUIET:
        path = folder / f"{name}-{seconds:.0f}s.mp4"
        if not path.exists():
            log(f"making {path.name}")
            subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-ss", str(t), "-i", str(INTEL / src), "-frames:v", "1",
                 str(folder / f"{name}.png")], check=True,
            )  # fmt: skip
            subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-loop", "1", "-framerate", "10",
                 "-i", str(folder / f"{name}.png"), "-t", str(seconds),
                 "-vf", "scale=640:360,noise=alls=4:allf=t", *ENC, str(path)], check=True,
            )  # fmt: skip
        out[name] = path
    for name, src in BUSY:
        path = folder / f"{name}-{busy_seconds:.0f}s.mp4"
        if not path.exists():
            log(f"making {path.name}")
            subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-i", str(INTEL / src), "-t", str(busy_seconds), "-an",
                 "-vf", "scale=640:360,fps=10",
                 *ENC, str(path)], check=True,
            )  # fmt: skip
        out[name] = path
    return out


def _camera(name: str, path: Path) -> MonitorConfig:
    cfg = MonitorConfig.model_validate(
        {
            "detector": DETECT,
            "tracker": TRACKER,
            "cameras": [
                {
                    "id": name,
                    "source": str(path),
                    "detect_fps": 10,
                    "zones": [{"name": "all", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
                    "lines": [
                        {"name": "mid", "a": [0.5, 1.0], "b": [0.5, 0.0], "classes": ["person", "car"]}
                    ],
                    "rules": [
                        {"type": "intrusion", "zone": "all", "classes": ["person", "bicycle", "car"]},
                        {"type": "line_crossing", "line": "mid"},
                    ],
                }
            ],
        }
    )
    return cfg


def decode_only(path: Path, detect_fps: float | None) -> dict[str, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    frames = 0
    last_t = 0.0
    src = FileSource(path, camera="bench", detect_fps=detect_fps)
    for item in src:
        frames += 1
        last_t = item.t_s
        if not isinstance(item, SourceGap):
            _ = item.gray
    cpu = time.process_time() - c0
    video_s = last_t + 0.1
    return {"frames": frames, "video_s": round(video_s, 2), "cpu_s": round(cpu, 3),
            "wall_s": round(time.perf_counter() - t0, 3), "cpu_per_video_s": cpu / video_s}  # fmt: skip


def engine(path: Path, name: str, detector: Detector, detect_fps: float | None) -> dict[str, float]:
    cfg = _camera(name, path)
    cam = cfg.cameras[0]
    pipe = CameraPipeline(cam, detector, motion=cfg.motion, tracker=cfg.tracker)
    c0, t0 = time.process_time(), time.perf_counter()
    last_t = 0.0
    calls_after_first = 0
    src = FileSource(path, camera=name, detect_fps=detect_fps)
    events = 0
    first_cpu = 0.0
    for i, item in enumerate(src):
        res = pipe.step(item)
        last_t = res.t_s
        calls_after_first += int(res.detector_called and i > 0)
        events += sum(1 for k, _ in res.events if k == "start")
        if i == 0:  # the start-up scan: one whole-frame detector call, paid once per camera start
            first_cpu = time.process_time() - c0
    cpu = time.process_time() - c0
    video_s = last_t + 0.1
    c = pipe.counters
    return {"frames": c.frames, "video_s": round(video_s, 2), "cpu_s": round(cpu, 3),
            "first_frame_cpu_s": round(first_cpu, 3), "wall_s": round(time.perf_counter() - t0, 3),
            "cpu_per_video_s": cpu / video_s, "steady_cpu_per_video_s": (cpu - first_cpu) / video_s,
            "detector_calls": c.detector_calls, "detector_calls_after_first_frame": calls_after_first,
            "motion_frames": c.motion_frames, "events_started": events}  # fmt: skip


def substreams(
    clips: dict[str, Path],
    detect_fps: float | None,
    quiet_share: float,
    detector_cfg: dict[str, Any] = DETECT,
    decoded: dict[str, dict[str, float]] | None = None,
) -> dict[str, Any]:
    """One detector at one analysis rate; ``decoded`` reuses decode-only rows of the same rate."""
    detector = build_detector(MonitorConfig.model_validate({"cameras": [{"id": "x", "source": "x"}],
                                                            "detector": detector_cfg}).detector)  # fmt: skip
    rows: dict[str, Any] = {}
    for name, path in clips.items():
        if decoded is not None and name in decoded:
            d = {k: v for k, v in decoded[name].items() if k != "substreams_per_core"}
            d["cpu_per_video_s"] = d["cpu_s"] / d["video_s"]
        else:
            log(f"decode-only {name}")
            d = decode_only(path, detect_fps)
        log(f"engine      {name} ({detector_cfg['type']}, {detect_fps or 'all'} fps)")
        e = engine(path, name, detector, detect_fps)
        rows[name] = {"decode_only": d, "engine": e}

    def mix(kind: str) -> float:
        q = statistics.mean(rows[n][kind]["cpu_per_video_s"] for n, *_ in QUIET)
        b = statistics.mean(rows[n][kind]["cpu_per_video_s"] for n, *_ in BUSY)
        return float(quiet_share * q + (1 - quiet_share) * b)

    def quiet_only(kind: str) -> float:
        return float(statistics.mean(rows[n][kind]["cpu_per_video_s"] for n, *_ in QUIET))

    dec_mix, eng_mix = mix("decode_only"), mix("engine")
    # long-running cameras pay the start-up scan once per start, not once per 30 s clip
    eng_mix_steady = float(
        quiet_share * statistics.mean(rows[n]["engine"]["steady_cpu_per_video_s"] for n, *_ in QUIET)
        + (1 - quiet_share) * statistics.mean(rows[n]["engine"]["cpu_per_video_s"] for n, *_ in BUSY)
    )
    dec_q, eng_q = quiet_only("decode_only"), quiet_only("engine")
    eng_q_steady = statistics.mean(rows[n]["engine"]["steady_cpu_per_video_s"] for n, *_ in QUIET)
    busy_ms = {
        n: round(1000 * rows[n]["engine"]["cpu_s"] / max(rows[n]["engine"]["frames"], 1), 1) for n, _ in BUSY
    }
    for r in rows.values():
        for k in ("decode_only", "engine"):
            r[k]["substreams_per_core"] = round(1.0 / r[k].pop("cpu_per_video_s"), 1)
        r["engine"]["steady_substreams_per_core"] = round(1.0 / r["engine"].pop("steady_cpu_per_video_s"), 1)
    return {
        "detector": detector_cfg,
        "detect_fps": detect_fps or "every frame (10 fps)",
        "quiet_share": quiet_share,
        # whole engine CPU (decode included) per analysed frame of the busy clips
        "busy_cpu_ms_per_analysed_frame": busy_ms,
        "clips": rows,
        "mix": {
            "decode_only_substreams_per_core": round(1 / dec_mix, 1),
            "engine_substreams_per_core": round(1 / eng_mix, 1),
            "engine_vs_decode": round(dec_mix / eng_mix, 3),
            "engine_steady_substreams_per_core": round(1 / eng_mix_steady, 1),
            "engine_steady_vs_decode": round(dec_mix / eng_mix_steady, 3),
        },
        "quiet_only": {
            "decode_only_substreams_per_core": round(1 / dec_q, 1),
            "engine_substreams_per_core": round(1 / eng_q, 1),
            "engine_vs_decode": round(dec_q / eng_q, 3),
            # without the one start-up scan per clip (a camera pays it once, not every 30 s)
            "engine_steady_substreams_per_core": round(1 / eng_q_steady, 1),
            "engine_steady_vs_decode": round(dec_q / eng_q_steady, 3),
        },
        "quiet_detector_calls_after_first_frame": {
            n: rows[n]["engine"]["detector_calls_after_first_frame"] for n, *_ in QUIET
        },
    }


def latency(clips: dict[str, Path], run_s: float) -> dict[str, Any]:
    """Onset-to-wall latency in the runtime: 3 busy + 3 quiet cameras, real time, looping."""
    cams = []
    for name, path in clips.items():
        cams.append(_camera(name, path).cameras[0].model_dump())
        cams[-1]["detect_fps"] = 5
    cfg = MonitorConfig.model_validate(
        {"detector": DETECT, "tracker": TRACKER, "cameras": cams, "selection": {"max_tiles": 4, "hold_s": 5}}
    )
    rt = MonitorRuntime(cfg, workers=2, loop=True, realtime=True)
    rt.start()
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < run_s:
            time.sleep(1.0)
    finally:
        rt.stop()
    lat = sorted(rt.latencies_s)  # the hub's onset-to-wall bookkeeping
    stats = rt.stats()
    out: dict[str, Any] = {"run_s": run_s, "cameras": len(cams), "workers": 2, "samples": len(lat),
                           "events_received": stats["events_received"],
                           "tiles_dropped": stats["tiles_dropped"]}  # fmt: skip
    if lat:
        out.update(
            median_s=round(statistics.median(lat), 3),
            p90_s=round(lat[min(len(lat) - 1, int(0.9 * len(lat)))], 3),
            max_s=round(lat[-1], 3),
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for monitor.json")
    ap.add_argument("--seconds", type=float, default=30.0, help="length of the quiet clips")
    ap.add_argument("--busy-seconds", type=float, default=40.0, help="busy clips are cut to this length")
    ap.add_argument("--latency-s", type=float, default=60.0, help="how long the runtime latency run lasts")
    ap.add_argument("--skip-latency", action="store_true", help="only the substream benchmark")
    ap.add_argument(
        "--detectors",
        default="nanodet,cascade,cascade-0.2",
        help=f"comma-separated, from {sorted(DETECTORS)}",
    )
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    clips = make_clips(a.out / "monitor_clips", a.seconds, a.busy_seconds)
    result: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    names = [n.strip() for n in a.detectors.split(",") if n.strip()]
    unknown = sorted(set(names) - set(DETECTORS))
    if unknown:
        ap.error(f"unknown detectors {unknown}; choose from {sorted(DETECTORS)}")
    decoded: dict[float | None, dict[str, dict[str, float]]] = {}
    headline: dict[str, Any] = {}
    for det_name in names:
        suffix = "" if det_name == "nanodet" else f"_{det_name.replace('-', '_').replace('.', '')}"
        for fps, key in ((5.0, f"substreams{suffix}_detect_5fps"), (None, f"substreams{suffix}")):
            res = substreams(clips, fps, 0.9, DETECTORS[det_name], decoded.get(fps))
            decoded.setdefault(fps, {n: r["decode_only"] for n, r in res["clips"].items()})
            result[key] = res
            headline[f"{det_name}_{'5fps' if fps else '10fps'}"] = {
                **res["mix"],
                "busy_cpu_ms_per_analysed_frame": res["busy_cpu_ms_per_analysed_frame"],
                "quiet_detector_calls_after_first_frame": res["quiet_detector_calls_after_first_frame"],
            }
    result["headline"] = headline
    if not a.skip_latency:
        log("runtime latency run")
        result["latency"] = latency(clips, a.latency_s)
    (a.out / "monitor.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    for key, m in headline.items():
        log(f"mix (90 % quiet), {key}: decode-only {m['decode_only_substreams_per_core']} / engine "
            f"{m['engine_substreams_per_core']} substreams per core (ratio {m['engine_vs_decode']}), "
            f"busy ms/analysed frame {m['busy_cpu_ms_per_analysed_frame']}")  # fmt: skip
    if "latency" in result:
        log(f"onset-to-wall latency: {result['latency']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
