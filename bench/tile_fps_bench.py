"""Live tile rate: frames per second a wall client really receives per camera, and where they are lost.

Starts a real ``safecity serve`` (uvicorn, the real monitoring runtime replaying looped Intel sample
clips as live cameras at ``--detect-fps``) on a temporary SQLite store, signs in, and opens the
console's ``/ws/tiles`` WebSocket for every camera at ``--fps`` (the wall asks for 3). Counts, per
camera, the binary tile messages received during ``--seconds`` after a warm-up, and the gaps between
them. Reads the server's hub figures (tiles produced by the workers) from ``/api/stats`` when exposed.

Usage::

    .venv/bin/python bench/tile_fps_bench.py --out bench/results [--seconds 30] [--cameras 2]

Writes ``DIR/tile_fps.json``: per camera fps received, gap p50/p95/max, and the settings.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))
VIDEO = REPO / "data" / "video" / "intel-sample-videos"
CLIPS = ["person-bicycle-car-detection.mp4", "one-by-one-person-detection.mp4", "car-detection.mp4"]
PASSWORD = "bench-password-1"


def _config(n: int, detect_fps: float) -> str:
    cams = "".join(
        f"""
  - id: cam-{i}
    name: "카메라 {i}"
    source: {VIDEO / CLIPS[i % len(CLIPS)]}
    detect_fps: {detect_fps}
"""
        for i in range(n)
    )
    return f"detector: {{type: nanodet, threads: 1}}\nselection: {{max_tiles: 4, hold_s: 2}}\ncameras:{cams}"


def _seed(home: Path) -> None:
    from argon2 import PasswordHasher

    from safecity.store.db import connect
    from safecity.store.users import UserStore

    engine = connect(f"sqlite:///{home / 'safecity.db'}")
    users = UserStore(engine, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    users.add_user("admin", PASSWORD, "admin")
    engine.dispose()


def _gaps(times: list[float]) -> dict[str, float | None]:
    gaps = [b - a for a, b in itertools.pairwise(times)]
    if not gaps:
        return {"p50": None, "p95": None, "max": None}
    gaps.sort()
    return {
        "p50": round(statistics.median(gaps), 3),
        "p95": round(gaps[min(len(gaps) - 1, int(0.95 * len(gaps)))], 3),
        "max": round(gaps[-1], 3),
    }


def _measure(
    url: str, token: str, cameras: list[str], fps: float, warm_s: float, seconds: float
) -> dict[str, Any]:
    from websockets.sync.client import connect

    ws_url = url.replace("http://", "ws://") + "/ws/tiles"
    seen: dict[str, list[float]] = {c: [] for c in cameras}
    with connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=30) as ws:
        ws.send(json.dumps({"cameras": cameras, "fps": fps}))
        t0 = time.monotonic()
        end = t0 + warm_s + seconds
        while (now := time.monotonic()) < end:
            try:
                msg = ws.recv(timeout=max(0.01, end - now))
            except TimeoutError:
                break
            if isinstance(msg, str):
                continue
            n = int.from_bytes(msg[:2], "big")
            cam = msg[2 : 2 + n].decode()
            if time.monotonic() - t0 >= warm_s and cam in seen:
                seen[cam].append(time.monotonic())
    return {
        cam: {"frames": len(ts), "fps": round(len(ts) / seconds, 2), "gap_s": _gaps(ts)}
        for cam, ts in seen.items()
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="folder for tile_fps.json")
    ap.add_argument("--cameras", type=int, default=2, help="looped sample cameras (1-6)")
    ap.add_argument("--detect-fps", type=float, default=3.0, help="analysed frames per second (the demo: 3)")
    ap.add_argument("--fps", type=float, default=3.0, help="tiles per second asked for (the wall: 3)")
    ap.add_argument("--seconds", type=float, default=30.0, help="measured seconds after the warm-up")
    ap.add_argument("--warm", type=float, default=20.0, help="warm-up seconds (model load, first frames)")
    args = ap.parse_args()
    from tests.ports import free_port

    with tempfile.TemporaryDirectory(prefix="tilefps-") as tmp:
        home = Path(tmp)
        cfg = home / "cameras.yaml"
        cfg.write_text(_config(args.cameras, args.detect_fps), encoding="utf-8")
        _seed(home)
        port = free_port()
        env = {**os.environ, "SAFECITY_HOME": str(home), "SAFECITY_SECRET_KEY": secrets.token_urlsafe(32),
               "SAFECITY_DEMO": "false"}  # fmt: skip
        env.pop("SAFECITY_DATABASE_URL", None)
        log = (home / "serve.log").open("wb")
        cmd = [sys.executable, "-m", "safecity", "serve", "--port", str(port), "--monitor-config", str(cfg),
               "--replay"]  # fmt: skip
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if httpx.get(f"{url}/login", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    print((home / "serve.log").read_text(errors="replace")[-3000:], file=sys.stderr)
                    return 1
                time.sleep(0.3)
            r = httpx.post(f"{url}/api/auth/login", json={"username": "admin", "password": PASSWORD})
            token = r.json()["token"]
            cams = [f"cam-{i}" for i in range(args.cameras)]
            print(
                f"measuring {len(cams)} camera(s) for {args.seconds:.0f} s after {args.warm:.0f} s warm-up …"
            )
            per_camera = _measure(url, token, cams, args.fps, args.warm, args.seconds)
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    result = {
        "bench": "tile_fps",
        "asked_fps": args.fps,
        "detect_fps": args.detect_fps,
        "seconds": args.seconds,
        "cameras": per_camera,
        "mean_fps": round(statistics.mean(c["fps"] for c in per_camera.values()), 2),
        "load_1min": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tile_fps.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
