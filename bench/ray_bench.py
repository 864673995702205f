"""Benchmark the Ray transport's cost at the driver against the local transport, same cameras, same process.

Writes ``ray.json`` into ``--out``: for each transport (``local``: worker processes; ``ray``: a local
Ray with ``--per-actor`` cameras per actor) the driver process's CPU per second of wall time, per
camera, event and tile messages per second, and for Ray the polls per second and what the
acknowledged delivery saw (delivered / produced / duplicates / gaps per actor process); then
``ray_vs_local_driver_cpu``. Cameras are the quiet 640x360 @ 10 fps clips of ``monitor_bench.py``
(motion-gated: the detector hardly runs, so the workers leave the driver its share of the 2 cores),
looped in real time at 5 fps, every camera's tiles asked for (as if all were on the wall).
Measured over the second half of each run (after start-up). The machine is shared: CPU times are
less noisy than wall times, but still noisy.

Usage::

    .venv/bin/python bench/ray_bench.py --out bench/results [--cameras 8] [--per-actor 4] [--seconds 40]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitor_bench import DETECT_INT8, QUIET, TRACKER, make_clips

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.runtime.local import MonitorRuntime
from safecity.monitor.runtime.ray_transport import ray_runtime


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def config(clips: dict[str, Path], n: int) -> MonitorConfig:
    names = [name for name, *_ in QUIET]
    cams = [
        {"id": f"cam{i:02d}", "source": str(clips[names[i % len(names)]]), "detect_fps": 5,
         "zones": [{"name": "all", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
         "rules": [{"type": "intrusion", "zone": "all", "classes": ["person", "car"]}]}
        for i in range(n)
    ]  # fmt: skip
    return MonitorConfig.model_validate({"detector": DETECT_INT8, "tracker": TRACKER, "cameras": cams})


def measure(
    make: Callable[[], Any], seconds: float, extra: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    """Run a hub for ``seconds``; figures over the second half."""
    hub = make()
    t0 = time.monotonic()
    hub.start()
    mark: tuple[float, float, int, dict[str, Any]] | None = None
    try:
        while time.monotonic() - t0 < seconds:
            for cam in hub.cameras():
                hub.latest_jpeg(cam)
            time.sleep(1.0)
            if mark is None and time.monotonic() - t0 >= seconds / 2:
                mark = (time.monotonic(), time.process_time(), hub.events_received, extra(hub))
        assert mark is not None
        t1, c1, e1, x1 = mark
        t2, c2, e2, x2 = time.monotonic(), time.process_time(), hub.events_received, extra(hub)
        stats = hub.stats()
    finally:
        hub.stop()
    w = t2 - t1
    n = len(hub.cameras())
    frames = sum(c.get("frames", 0) for c in stats["cameras"].values())
    out: dict[str, Any] = {
        "cameras": n,
        "window_s": round(w, 1),
        "driver_cpu_per_s": round((c2 - c1) / w, 4),
        "driver_cpu_per_camera_per_s": round((c2 - c1) / w / n, 5),
        "event_messages_per_s": round((e2 - e1) / w, 2),
        "frames_analysed": frames,
    }
    for k in x2:
        if isinstance(x2[k], int | float) and isinstance(x1.get(k), int | float):
            out[f"{k}_per_s"] = round((x2[k] - x1[k]) / w, 2)
    return out


def ray_extra(hub: Any) -> dict[str, Any]:
    s = hub.transport.stats()
    return {k: s[k] for k in ("polls", "poll_messages", "tiles", "tile_bytes")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for ray.json")
    ap.add_argument("--cameras", type=int, default=8, help="cameras (quiet clips, looped)")
    ap.add_argument("--per-actor", type=int, default=4, help="cameras per Ray actor")
    ap.add_argument("--seconds", type=float, default=40.0, help="length of each run")
    a = ap.parse_args(argv)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    a.out.mkdir(parents=True, exist_ok=True)
    clips = make_clips(a.out / "monitor_clips", 30.0, 40.0)
    cfg = config(clips, a.cameras)
    log(f"local transport: {a.cameras} cameras, 2 worker processes, {a.seconds:.0f} s")
    local = measure(
        lambda: MonitorRuntime(cfg, workers=2, loop=True, realtime=True), a.seconds, lambda _h: {}
    )
    log(
        f"ray transport: {a.cameras} cameras, {a.per_actor} per actor, local Ray of 2 CPUs, {a.seconds:.0f} s"
    )
    holder: dict[str, Any] = {}

    def make_ray() -> Any:
        holder["hub"] = ray_runtime(cfg, num_cpus=2, cameras_per_actor=a.per_actor, loop=True, realtime=True)
        return holder["hub"]

    ray = measure(make_ray, a.seconds, ray_extra)
    tstats = holder["hub"].transport.stats()
    ray["init_s"] = tstats["init_s"]
    ray["actor_ready_s"] = tstats["actor_ready_s"]
    ray["delivery"] = [
        {k: i[k] for k in ("delivered", "produced", "duplicates", "gaps")}
        for g in tstats["incarnations"]
        for i in g
    ]
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()},
        "local": local,
        "ray": ray,
        "ray_vs_local_driver_cpu": round(ray["driver_cpu_per_s"] / max(local["driver_cpu_per_s"], 1e-9), 2),
    }
    (a.out / "ray.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    log(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
