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

Engine v2 (issue 9, ``engine_v2`` in ``monitor.json``; ``--skip-legacy`` runs only these and ``city``):

* ``idle``: the quiet clips through the real worker path (``replay_clip``: ``CameraWorker.step`` with
  the hub, ``gate=True``: the camera's ``GatedSource``, watch keyframes to ``watch_step``, the gate
  held while busy) vs decode-only of the same clip, CPU seconds in this process.
* ``busy``: CPU per second of video of the busy clips before (gate off, ``detection: motion``, the
  float NanoDet at 416x416: the path before issue 9), each change alone, and ``defaults`` (what a
  camera runs with no engine settings: gate on, ``detection: motion``, the int8 NanoDet at the
  picture's aspect) and ``defaults_on_demand`` (the same with ``detection: on_demand``).
* ``mix``: 90 % quiet / 10 % busy substreams per core, the engine with its defaults vs decode-only
  (``mix_by_variant``: the same with each busy variant).
* ``city`` (``--city``, default 100,140,170,200; ``--city ''`` skips it): ``MonitorRuntime``
  (what ``safecity monitor --loop --realtime`` runs: 2 worker processes) with N looping real-time
  cameras (90 % quiet with sensor noise, 10 % busy, 640x360 @ 10 fps, 5 fps analysis); after
  ``--city-warm-s`` the share of real time each
  camera keeps over ``--city-run-s`` (gated cameras: packets read / 10 per second; others: frames
  analysed / 5 per second). A count passes when the busy and the quiet cameras both keep >= 95 %
  on average. The machine's load (``os.getloadavg``) is recorded with every run.
  ``city_most_cameras_kept``: the largest count kept below the first count that was not: the
  figure a city cares about (the defaults: gate auto, motion regions, int8 NanoDet;
  ``--city-baseline`` adds each count the way before issue 9: gate off, float NanoDet).

Targets (issue): engine >= 0.6 x decode-only throughput on the quiet mix, i.e. >= 40 substreams
of 640x360 @ 10 fps per core; zero detector calls on a camera without motion.

Usage::

    .venv/bin/python bench/monitor_bench.py --out bench/results [--seconds 30] [--latency-s 60]
        [--detectors nanodet,cascade] [--skip-legacy] [--city 100,140,170,200] [--city-baseline]

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

from safecity.monitor.config.model import CameraConfig, MonitorConfig
from safecity.monitor.pipeline import CameraPipeline
from safecity.monitor.runtime.local import MonitorRuntime
from safecity.monitor.runtime.replay import replay_clip
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
DETECT = {"type": "nanodet", "conf": 0.25, "threads": 1, "precision": "fp32"}  # before issue 9
DETECT_INT8 = {**DETECT, "precision": "int8"}  # the default since issue 9
DETECTORS: dict[str, dict[str, Any]] = {
    "nanodet": DETECT,
    "nanodet-int8": DETECT_INT8,
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


def _v2_camera(name: str, path: Path, *, gate: bool, detection: str) -> tuple[MonitorConfig, CameraConfig]:
    doc = _camera(name, path).model_dump(mode="json")
    cam = doc["cameras"][0]
    cam.update(detect_fps=5, gate={"mode": "auto" if gate else "decode"}, detection={"mode": detection})
    cfg = MonitorConfig.model_validate(doc)
    return cfg, cfg.cameras[0]


def replay_cpu(
    path: Path, name: str, detector: Detector, *, gate: bool, detection: str, video_s: float
) -> dict[str, Any]:
    """CPU seconds of one clip (``video_s`` long) through the worker path (``replay_clip``)."""
    cfg, cam = _v2_camera(name, path, gate=gate, detection=detection)
    c0 = time.process_time()
    run = replay_clip(cam, path, detector, detect_fps=5.0, config=cfg, gate=gate)
    cpu = time.process_time() - c0
    return {"cpu_s": round(cpu, 3), "video_s": round(video_s, 2), "cpu_per_video_s": round(cpu / video_s, 5),
            "frames": run.counters.get("frames", 0), "watch_frames": run.counters.get("watch_frames", 0),
            "detector_calls": run.counters.get("detector_calls", 0),
            "events": sum(1 for e in run.events if e.type in ("intrusion", "line_crossing")),
            "gate_mode": run.gate.get("gate_mode"), "gate_state": run.gate.get("state")}  # fmt: skip


def engine_v2(clips: dict[str, Path], repeat: int) -> dict[str, Any]:
    """Idle ratio through the worker, busy CPU before/after detection on demand, the 90/10 mix."""

    def make(det: dict[str, Any]) -> Detector:
        return build_detector(MonitorConfig.model_validate({"cameras": [{"id": "x", "source": "x"}],
                                                            "detector": det}).detector)  # fmt: skip

    fp32, int8 = make(DETECT), make(DETECT_INT8)
    detector = fp32

    def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return sorted(rows, key=lambda r: float(r["cpu_s"]))[len(rows) // 2]

    decode_only(clips[BUSY[0][0]], 5.0)  # warm-up: the first detector calls and imports are not counted
    replay_cpu(clips[BUSY[0][0]], "warm", detector, gate=True, detection="on_demand", video_s=1.0)
    replay_cpu(clips[BUSY[0][0]], "warm", int8, gate=True, detection="motion", video_s=1.0)
    idle: dict[str, Any] = {}
    for name, *_ in QUIET:
        log(f"engine v2 idle {name}")
        dec = median_row([decode_only(clips[name], 5.0) for _ in range(repeat)])
        eng = median_row([replay_cpu(clips[name], name, int8, gate=True, detection="motion",
                                     video_s=dec["video_s"]) for _ in range(repeat)])  # fmt: skip
        ratio = round(eng["cpu_per_video_s"] / dec["cpu_per_video_s"], 3)
        idle[name] = {"decode_only": dec, "engine": eng, "engine_vs_decode": ratio}
    busy: dict[str, Any] = {}
    variants = {"before": (False, "motion", fp32), "gate_only": (True, "motion", fp32),
                "on_demand_only": (False, "on_demand", fp32), "gate_on_demand": (True, "on_demand", fp32),
                "int8_only": (False, "motion", int8), "defaults": (True, "motion", int8),
                "defaults_on_demand": (True, "on_demand", int8)}  # fmt: skip
    for name, _ in BUSY:
        busy[name] = {"decode_only": decode_only(clips[name], 5.0)}
        vs = busy[name]["decode_only"]["video_s"]
        for key, (gate, det, model) in variants.items():
            log(f"engine v2 busy {name} {key}")
            busy[name][key] = median_row([replay_cpu(clips[name], name, model, gate=gate, detection=det,
                                                     video_s=vs) for _ in range(repeat)])  # fmt: skip

    def mean(rows: list[float]) -> float:
        return float(statistics.mean(rows))

    q_dec = mean([idle[n]["decode_only"]["cpu_per_video_s"] for n, *_ in QUIET])
    q_eng = mean([idle[n]["engine"]["cpu_per_video_s"] for n, *_ in QUIET])
    b_dec = mean([busy[n]["decode_only"]["cpu_per_video_s"] for n, _ in BUSY])
    b = {k: mean([busy[n][k]["cpu_per_video_s"] for n, _ in BUSY]) for k in variants}
    mix_dec = 0.9 * q_dec + 0.1 * b_dec
    mix_eng = 0.9 * q_eng + 0.1 * b["defaults"]
    return {
        "detector": {"before": DETECT, "defaults": DETECT_INT8},
        "detect_fps": 5.0,
        "repeat": repeat,
        "idle": idle,
        "idle_engine_vs_decode_pooled": round(q_eng / q_dec, 3),
        "busy": busy,
        "busy_core_per_camera": {k: round(v, 4) for k, v in b.items()},
        "busy_decode_only_core_per_camera": round(b_dec, 4),
        "mix": {
            "decode_only_substreams_per_core": round(1 / mix_dec, 1),
            "engine_substreams_per_core": round(1 / mix_eng, 1),
            "engine_vs_decode": round(mix_dec / mix_eng, 3),
        },
        "mix_by_variant": {k: round(mix_dec / (0.9 * q_eng + 0.1 * v), 3) for k, v in b.items()},
    }


def city(clips: dict[str, Path], n: int, *, warm_s: float, run_s: float, detection: str, gate: bool = True,
         workers: int = 2, detector: dict[str, Any] = DETECT_INT8) -> dict[str, Any]:  # fmt: skip
    """N looping real-time cameras in ``MonitorRuntime``: the share of real time each keeps."""
    quiet = [clips[q] for q, *_ in QUIET]
    busy = [clips[b] for b, _ in BUSY]
    cams = []
    for i in range(n):
        is_busy = i % 10 == 0
        path = busy[(i // 10) % len(busy)] if is_busy else quiet[i % len(quiet)]
        cam = _v2_camera(f"{'busy' if is_busy else 'quiet'}-{i:03d}", path, gate=gate, detection=detection)[1]
        cams.append(cam.model_dump(mode="json"))
    cfg = MonitorConfig.model_validate({"detector": detector, "tracker": TRACKER, "cameras": cams})
    load0 = os.getloadavg()
    rt = MonitorRuntime(cfg, workers=workers, loop=True, realtime=True)
    rt.start()

    def snap() -> tuple[float, dict[str, dict[str, int]], dict[str, dict[str, object]]]:
        return time.monotonic(), rt.stats()["cameras"], rt.gate_status()

    try:
        time.sleep(warm_s)
        t0, c0, g0 = snap()
        time.sleep(run_s)
        t1, c1, g1 = snap()
    finally:
        rt.stop()
    dt = t1 - t0
    shares: dict[str, float] = {}
    for cam in cfg.cameras:
        cid = cam.id
        s0, s1 = g0.get(cid, {}).get("stream_s"), g1.get(cid, {}).get("stream_s")
        if gate and isinstance(s0, float) and isinstance(s1, float):
            shares[cid] = (s1 - s0) / dt  # stream seconds read per wall second (stats lag <= health_every_s)
        else:
            f0 = c0.get(cid, {}).get("frames", 0)
            f1 = c1.get(cid, {}).get("frames", 0)
            shares[cid] = (f1 - f0) / (5.0 * dt)
    b = [v for k, v in shares.items() if k.startswith("busy")]
    q = [v for k, v in shares.items() if k.startswith("quiet")]
    out = {
        "cameras": n, "busy": len(b), "quiet": len(q), "workers": workers, "gate": gate,
        "detection": detection, "precision": detector.get("precision"),
        "warm_s": warm_s, "run_s": round(dt, 1), "load_before": [round(x, 1) for x in load0],
        "load_after": [round(x, 1) for x in os.getloadavg()],
        "busy_realtime_share": round(statistics.mean(b), 3) if b else None,
        "quiet_realtime_share": round(statistics.mean(q), 3) if q else None,
        "busy_min": round(min(b), 3) if b else None, "quiet_min": round(min(q), 3) if q else None,
        "gate_modes": sorted({str(g.get("gate_mode")) for g in g1.values()}),
    }  # fmt: skip
    out["keeps_95"] = bool(b and q and statistics.mean(b) >= 0.95 and statistics.mean(q) >= 0.95)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for monitor.json")
    ap.add_argument("--seconds", type=float, default=30.0, help="length of the quiet clips")
    ap.add_argument("--busy-seconds", type=float, default=40.0, help="busy clips are cut to this length")
    ap.add_argument("--latency-s", type=float, default=60.0, help="how long the runtime latency run lasts")
    ap.add_argument("--skip-latency", action="store_true", help="only the substream benchmark")
    ap.add_argument(
        "--skip-legacy", action="store_true", help="only engine v2 (and --city): no substreams/latency"
    )
    ap.add_argument("--repeat", type=int, default=1, help="engine v2: runs per clip (the median is kept)")
    ap.add_argument(
        "--city",
        default="100,140,170,200",
        help="engine v2: camera counts for the real-time capacity runs ('' = none; default 100,140,170,200)",
    )
    ap.add_argument("--city-baseline", action="store_true", help="city: also each count with the gate off")
    ap.add_argument("--city-only", action="store_true", help="only the city runs (into monitor_city.json)")
    ap.add_argument("--city-warm-s", type=float, default=20.0, help="city: seconds before measuring")
    ap.add_argument("--city-run-s", type=float, default=30.0, help="city: seconds measured")
    ap.add_argument(
        "--city-detection", default="motion", choices=["motion", "on_demand"], help="city: detection mode"
    )
    ap.add_argument(
        "--detectors",
        default="nanodet,nanodet-int8,cascade,cascade-0.2",
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
    if not a.city_only:
        log(f"engine v2 (load {os.getloadavg()[0]:.1f})")
        result["engine_v2"] = engine_v2(clips, a.repeat)
        result["engine_v2"]["load"] = [round(x, 1) for x in os.getloadavg()]
    cities = [int(x) for x in a.city.split(",") if x.strip()]
    if cities:
        result["city"] = []
        for n in cities:
            log(f"city: {n} cameras (load {os.getloadavg()[0]:.1f})")
            row = city(clips, n, warm_s=a.city_warm_s, run_s=a.city_run_s, detection=a.city_detection)
            log(f"  {row}")
            result["city"].append(row)
            if a.city_baseline:  # the same count as before issue 9 (every frame decoded, float NanoDet)
                log(f"city baseline: {n} cameras, gate off, fp32 (load {os.getloadavg()[0]:.1f})")
                row = city(clips, n, warm_s=a.city_warm_s, run_s=a.city_run_s, detection="motion", gate=False,
                           detector=DETECT)  # fmt: skip
                log(f"  {row}")
                result["city"].append(row)
    if cities:
        passing = [r["cameras"] for r in result["city"] if r["gate"] and r["keeps_95"]]
        failing = [r["cameras"] for r in result["city"] if r["gate"] and not r["keeps_95"]]
        # the city figure: the most cameras kept in real time below the first count that was not
        kept = [n for n in passing if not failing or n < min(failing)]
        result["city_most_cameras_kept"] = max(kept) if kept else None
        log(f"city: most looping real-time cameras kept at >= 95 %: {result['city_most_cameras_kept']}")
    if a.city_only:
        (a.out / "monitor_city.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
        return 0
    v2 = result["engine_v2"]
    log(f"engine v2: idle engine/decode {v2['idle_engine_vs_decode_pooled']}, busy core/camera "
        f"{v2['busy_core_per_camera']}, mix {v2['mix']}")  # fmt: skip
    if a.skip_legacy:
        (a.out / "monitor.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
        return 0
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
