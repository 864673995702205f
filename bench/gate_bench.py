"""Benchmark the compressed-domain gate: CPU of watch mode vs decode-only, CBR fallback, added latency.

Writes ``gate.json`` into ``--out``:

* ``idle``: CPU seconds (``time.process_time``, one process, clips one after another) to go through
  an idle 640x360 @ 10 fps clip (GOP 2 s, 60 s) with :class:`~safecity.monitor.sources.readers.FileSource`
  (decode-only: every frame decoded, the Y plane of the 5 fps kept) and with
  :class:`~safecity.monitor.sources.gated.GatedSource` (watch mode after the 4 s learning period,
  a health keyframe every 5 s), median of ``--repeat`` runs, and gate / decode per clip. Clips: a
  still frame of each Intel clip, *clean* (no noise) and *noisy* (``noise=alls=4:allf=t``, the
  sensor noise of the issue), so the sizes are a camera's idle sizes.
* ``cbr``: the noisy idle clips encoded with x264 ``nal-hrd=cbr`` (800 kb/s): the gate falls back
  (``constant_bitrate``) and decodes every frame; its CPU against decode-only of the same clip.
* ``latency``: for each labelled intrusion onset of ``one-by-one-person-detection.mp4``
  (tests/data/labels), a clip of 30 s of the still empty room, then the clip from 3 s before the
  onset (onset at 33 s), clean and noisy. ``delay_s`` = trigger time - labelled onset in stream
  time (negative: the gate fired before the feet were inside, as the walk-in starts earlier);
  ``added_s`` = max(0, delay) + ``catchup_s``, the CPU seconds of decoding the kept packets from
  the keyframe up to the trigger (what a live camera waits for the first decoded frame beyond real
  time). p50 / p95 over the onsets.
* ``coverage``: the whole bundled room clip as shipped and night-like (darkened, noisy, 640x360,
  GOP 1 s): share of the labelled intrusion time (tests/data/labels) during which the gate alone
  (no ``hold_active`` from a pipeline) decoded frames, i.e. the pipeline saw the person; and the
  share of the clip decoded at all.
* ``events``: the labelled events of that clip (intrusion, loitering, line crossing; KISA window)
  found by the real ``CameraPipeline`` (the label file's config: SSD, its tracker and rules) fed by
  ``GatedSource`` with the gate off (``mode="decode"``: every frame, today's path) and on, in the
  same process; with the gate on the pipeline skips the watch-mode keyframes and calls
  ``hold_active(t + 5 s)`` while it has live tracks, which is how the worker is to wire it. Recall,
  precision and CPU seconds per run.

Usage::

    .venv/bin/python bench/gate_bench.py --out bench/results [--seconds 60] [--repeat 3]

Clips are made once with ffmpeg into ``--out/gate_clips``. The machine is shared: CPU times are less
noisy than wall times, but still noisy; the ratios come from the same process.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from safecity.monitor.evaluation.labels import load_labels
from safecity.monitor.sources.gated import GatedSource
from safecity.monitor.sources.readers import FileSource
from safecity.paths import video_dir

REPO = Path(__file__).resolve().parents[1]
INTEL = video_dir() / "intel-sample-videos"
ROOM = INTEL / "one-by-one-person-detection.mp4"
LABELS = REPO / "tests" / "data" / "labels" / "one-by-one-person-detection.yaml"
IDLE = (
    ("lot", "car-detection.mp4", 11.0),
    ("room", "one-by-one-person-detection.mp4", 2.0),
    ("lane", "person-bicycle-car-detection.mp4", 18.0),
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
CBR = [
    "-b:v",
    "800k",
    "-maxrate",
    "800k",
    "-minrate",
    "800k",
    "-bufsize",
    "400k",
    "-x264-params",
    "nal-hrd=cbr",
]
NOISE = "noise=alls=4:allf=t"
STILL_S = 30.0
LEAD_S = 3.0
DETECT_FPS = 5.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def make_idle(folder: Path, seconds: float) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for name, src, t in IDLE:
        png = folder / f"{name}.png"
        if not png.exists():
            _ffmpeg("-ss", str(t), "-i", str(INTEL / src), "-frames:v", "1", str(png))
        for variant, vf, extra in (
            ("clean", "scale=640:360", []),
            ("noisy", f"scale=640:360,{NOISE}", []),
            ("cbr", f"scale=640:360,{NOISE}", CBR),
        ):
            path = folder / f"idle-{name}-{variant}-{seconds:.0f}s.mp4"
            if not path.exists():
                log(f"making {path.name}")
                _ffmpeg(
                    "-loop",
                    "1",
                    "-framerate",
                    "10",
                    "-i",
                    str(png),
                    "-t",
                    str(seconds),
                    "-vf",
                    vf,
                    *ENC,
                    *extra,
                    str(path),
                )
            out[f"{name}-{variant}"] = path
    return out


def make_entries(folder: Path) -> list[tuple[str, Path, float]]:
    """(name, clip, onset in clip time) per labelled intrusion onset, clean and noisy."""
    onsets = sorted(e.start_s for e in load_labels(LABELS).doc.events if e.type == "intrusion")
    out = []
    for k, onset in enumerate(onsets, 1):
        for variant, extra in (("clean", ""), ("noisy", f",{NOISE}")):
            path = folder / f"entry-{k}-{variant}.mp4"
            if not path.exists():
                log(f"making {path.name}")
                _ffmpeg(
                    "-ss",
                    f"{onset - LEAD_S:.2f}",
                    "-t",
                    str(LEAD_S + 10.0),
                    "-i",
                    str(ROOM),
                    "-an",
                    "-vf",
                    f"scale=640:360,fps=10,tpad=start_mode=clone:start_duration={STILL_S:g}{extra}",
                    *ENC,
                    str(path),
                )
            out.append((f"person{k}-{variant}", path, STILL_S + LEAD_S))
    return out


def cpu_decode(path: Path) -> float:
    c0 = time.process_time()
    src = FileSource(path, camera="bench", detect_fps=DETECT_FPS)
    for item in src:
        _ = item.t_s
    return time.process_time() - c0


def cpu_gate(path: Path) -> tuple[float, dict[str, Any]]:
    c0 = time.process_time()
    src = GatedSource(path, camera="bench", detect_fps=DETECT_FPS)
    for item in src:
        _ = item.t_s
    return time.process_time() - c0, src.status().as_dict()


def idle(clips: dict[str, Path], repeat: int, seconds: float) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for name, path in clips.items():
        dec, gate = [], []
        status: dict[str, Any] = {}
        for _ in range(repeat):
            dec.append(cpu_decode(path))
            g, status = cpu_gate(path)
            gate.append(g)
        d, g = statistics.median(dec), statistics.median(gate)
        rows[name] = {
            "decode_cpu_s": round(d, 4),
            "gate_cpu_s": round(g, 4),
            "gate_vs_decode": round(g / d, 4),
            "decode_substreams_per_core": round(seconds / d, 1),
            "gate_substreams_per_core": round(seconds / g, 1),
            "gate": {
                k: status[k]
                for k in (
                    "gate_mode",
                    "fallback_reason",
                    "state",
                    "frames_decoded",
                    "health_keyframes",
                    "activations",
                    "watch_s",
                    "floor_bps",
                )
            },
        }
        log(
            f"{name:12} decode {d:.3f} s  gate {g:.3f} s  ratio {g / d:.3f}  ({status['gate_mode']}, "
            f"{status['frames_decoded']} frames decoded, {status['activations']} activations)"
        )
    return rows


def latency(entries: list[tuple[str, Path, float]]) -> dict[str, Any]:
    rows = []
    for name, path, onset in entries:
        src = GatedSource(path, camera="bench", detect_fps=DETECT_FPS)
        it = src.marked()
        trigger: float | None = None
        catchup = 0.0
        first_active: float | None = None
        started: float | None = None
        while True:
            c0 = time.process_time()
            try:
                frame, watch = next(it)
            except StopIteration:
                break
            since = src.gate.active_since
            if trigger is None and since is not None and since > STILL_S - 5:
                trigger = since
                started = c0  # the call that saw the trigger decodes the kept packets
                first_active = frame.t_s
            if trigger is not None and started is not None and frame.t_s >= trigger - 1e-6:
                catchup = time.process_time() - started
                started = None
            if trigger is not None and started is None and frame.t_s > trigger + 1:
                break
            _ = watch
        src.close()
        delay = None if trigger is None else trigger - onset
        added = None if delay is None else max(0.0, delay) + catchup
        rows.append(
            {
                "clip": name,
                "onset_s": onset,
                "trigger_s": trigger,
                "first_decoded_s": first_active,
                "delay_s": None if delay is None else round(delay, 3),
                "catchup_s": round(catchup, 4),
                "added_s": None if added is None else round(added, 4),
            }
        )
        log(f"{name:16} onset {onset:.1f}  trigger {trigger}  first frame {first_active}  added {added}")
    found = [r for r in rows if r["added_s"] is not None]
    added_all = sorted(r["added_s"] for r in found)

    def pct(q: float) -> float | None:
        if not added_all:
            return None
        return float(added_all[min(len(added_all) - 1, round(q * (len(added_all) - 1)))])

    return {
        "onsets": len(rows),
        "found": len(found),
        "added_p50_s": pct(0.5),
        "added_p95_s": pct(0.95),
        "added_max_s": added_all[-1] if added_all else None,
        "delay_max_s": max((r["delay_s"] for r in found), default=None),
        "rows": rows,
    }


def coverage(folder: Path) -> dict[str, Any]:
    events = load_labels(LABELS).doc.events
    spans = [(e.start_s, e.end_s or e.start_s) for e in events if e.type == "intrusion"]
    night = folder / "room-night.mp4"
    if not night.exists():
        log(f"making {night.name}")
        vf = f"scale=640:360,eq=brightness=-0.25,{NOISE}"
        _ffmpeg("-i", str(ROOM), "-an", "-vf", vf, "-c:v", "libx264", "-preset", "veryfast", "-g", "10",
                "-pix_fmt", "yuv420p", str(night))  # fmt: skip
    out: dict[str, Any] = {}
    for name, path in (("shipped", ROOM), ("night", night)):
        src = GatedSource(path, camera="bench", detect_fps=DETECT_FPS)
        decoded = [f.t_s for f, watch in src.marked() if not watch]
        status = src.status()
        duration = max(decoded) if decoded else 0.0
        inside = sum(1 for t in decoded if any(a <= t <= b for a, b in spans))
        want = sum((b - a) * DETECT_FPS for a, b in spans)
        out[name] = {
            "labelled_intrusion_time_decoded": round(min(1.0, inside / want), 3) if want else None,
            "clip_share_decoded": round(len(decoded) / (duration * DETECT_FPS), 3) if duration else None,
            "activations": status.activations,
            "watch_s": status.watch_s,
        }
        log(f"coverage {name}: {out[name]}")
    return out


def events_on_off(folder: Path) -> dict[str, Any]:
    from safecity.monitor.config.model import load_monitor_config
    from safecity.monitor.evaluation.suite import score_events
    from safecity.monitor.pipeline import CameraPipeline
    from safecity.monitor.vision.factory import build_detector

    lab = load_labels(LABELS)
    cfg = load_monitor_config(lab.config_path)
    cam = cfg.camera(lab.doc.camera or cfg.cameras[0].id)
    det = build_detector(cfg.detector_for(cam))
    truth = lab.truth_events(cam.id)
    types = sorted({e.type for e in truth})
    out: dict[str, Any] = {}
    for clip_name, path in (("shipped", ROOM), ("night", folder / "room-night.mp4")):
        for mode in ("off", "on"):
            pipe = CameraPipeline(
                cam, det, motion=cam.motion or cfg.motion, tracker=cfg.tracker_for(cam), tz=cfg.timezone
            )
            src = GatedSource(path, camera=cam.id, detect_fps=cam.detect_fps, max_height=cam.max_height,
                              mode="decode" if mode == "off" else "auto")  # fmt: skip
            events: dict[str, Any] = {}
            frames = 0
            last_t = 0.0
            c0 = time.process_time()
            for item, watch in src.marked():
                if watch:
                    continue  # the worker runs only the health checks on these
                res = pipe.step(item)
                frames += 1
                last_t = item.t_s
                for _kind, ev in res.events:
                    events[ev.uid] = ev
                if len(res.tracks):
                    src.hold_active(item.t_s + 5.0)
            for _kind, ev in pipe.finish(last_t):
                events[ev.uid] = ev
            cpu = time.process_time() - c0
            pred = [e for e in events.values() if e.type in types]
            scores = score_events(pred, truth, types=types)
            out[f"{clip_name}_gate_{mode}"] = {
                "cpu_s": round(cpu, 2),
                "frames_analysed": frames,
                "detector_calls": pipe.counters.detector_calls,
                "recall": {t: v.recall for t, v in scores.items()},
                "precision": {t: v.precision for t, v in scores.items()},
                "tp_fp_fn": {t: [v.tp, v.fp, v.fn] for t, v in scores.items()},
                "gate": {k: src.status().as_dict()[k] for k in ("gate_mode", "activations", "watch_s")},
            }
            log(f"events {clip_name} gate {mode}: {out[f'{clip_name}_gate_{mode}']}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for gate.json")
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the idle clips")
    ap.add_argument("--repeat", type=int, default=3, help="runs per clip (the median is kept)")
    a = ap.parse_args(argv)
    logging.getLogger("safecity.monitor.sources.gated").setLevel(logging.ERROR)  # the CBR fallback note
    folder = a.out / "gate_clips"
    folder.mkdir(parents=True, exist_ok=True)
    clips = make_idle(folder, a.seconds)
    entries = make_entries(folder)
    rows = idle(clips, a.repeat, a.seconds)

    def summary(variant: str) -> dict[str, float]:
        sel = [r for n, r in rows.items() if n.endswith(f"-{variant}")]
        d = sum(r["decode_cpu_s"] for r in sel)
        g = sum(r["gate_cpu_s"] for r in sel)
        return {"decode_cpu_s": round(d, 4), "gate_cpu_s": round(g, 4), "gate_vs_decode": round(g / d, 4)}

    result: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "detect_fps": DETECT_FPS,
            "idle_seconds": a.seconds,
            "repeat": a.repeat,
            "encode": " ".join(ENC),
            "cbr": " ".join(CBR),
        },
        "idle": {
            "clean": summary("clean"),
            "noisy": summary("noisy"),
            "clips": {n: r for n, r in rows.items() if not n.endswith("-cbr")},
        },
        "cbr": {**summary("cbr"), "clips": {n: r for n, r in rows.items() if n.endswith("-cbr")}},
        "latency": latency(entries),
        "coverage": coverage(folder),
        "events": events_on_off(folder),
    }
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "gate.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    lat = result["latency"]
    log(
        f"idle clean: gate/decode {result['idle']['clean']['gate_vs_decode']}, noisy "
        f"{result['idle']['noisy']['gate_vs_decode']}; CBR fallback {result['cbr']['gate_vs_decode']}; "
        f"latency found {lat['found']}/{lat['onsets']}, added p50 {lat['added_p50_s']} s, "
        f"p95 {lat['added_p95_s']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
