"""Console benchmark: API latency under concurrent clients, and wall latency from event to tile.

Starts a real ``safecity serve`` (uvicorn) in a subprocess on a temporary SQLite store seeded with
events, optionally with the real monitoring runtime replaying an Intel sample clip whose zone fires
within seconds. Then:

- **API load**: for each N in ``--clients``, N concurrent ``httpx.AsyncClient`` clients (each its
  own session) request ``/api/events?limit=50`` and ``/api/wall`` in turn for ``--seconds``;
  p50/p95/max latency and requests per second per endpoint.
- **Wall latency** (with the runtime): a WebSocket client on ``/ws/live`` notes when an event's
  ``start`` message arrives and when the first wall push naming that event arrives; also the age of
  the event (from its start time in the video) at that moment, and the server's own
  publish-to-tile figure from ``/api/stats``.

Usage::

    .venv/bin/python bench/web_bench.py --out bench/results
    .venv/bin/python bench/web_bench.py --out /tmp/wb --clients 1 4 16 --seconds 10 --no-runtime

Writes ``DIR/web_bench.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
CLIP = REPO / "data" / "video" / "intel-sample-videos" / "person-bicycle-car-detection.mp4"
PASSWORD = "bench-password-1"

CONFIG = f"""
detector: {{type: nanodet, threads: 1}}
selection: {{max_tiles: 4, hold_s: 2}}
cameras:
  - id: lot-1
    source: {CLIP}
    detect_fps: 4
    zones:
      - name: yard
        polygon: [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    rules:
      - type: intrusion
        zone: yard
        classes: [person, bicycle, car]
        min_s: 0.5
        end_after_s: 1.0
        severity: 4
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _quantiles(xs: list[float]) -> dict[str, float | int | None]:
    if not xs:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    s = sorted(xs)
    return {
        "n": len(s),
        "p50": round(s[len(s) // 2], 4),
        "p95": round(s[min(len(s) - 1, int(0.95 * len(s)))], 4),
        "max": round(s[-1], 4),
        "mean": round(statistics.fmean(s), 4),
    }


def _seed(home: Path, n_users: int, n_events: int) -> None:
    from argon2 import PasswordHasher

    from safecity.monitor.types import Event
    from safecity.store.db import connect
    from safecity.store.events import EventStore
    from safecity.store.users import UserStore

    engine = connect(f"sqlite:///{home / 'safecity.db'}")
    users = UserStore(engine, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    users.upsert_group("all", ["lot-1", *[f"cam-{i}" for i in range(20)]])
    for i in range(n_users):
        users.add_user(f"op{i}", PASSWORD, "operator")
        users.set_user_groups(f"op{i}", ["all"])
    users.add_user("admin", PASSWORD, "admin")
    store = EventStore(engine, spool_dir=home / "spool-seed")
    t0 = time.time() - 86400
    for i in range(n_events):
        store.publish(
            "start",
            Event(
                f"seed-{i}",
                "intrusion",
                f"cam-{i % 20}",
                t0 + i * 10,
                t0 + i * 10 + 3,
                severity=2 + i % 4,
                zone="z",
            ),
        )
    store.close(60)
    engine.dispose()


def _login(url: str, user: str) -> str:
    r = httpx.post(f"{url}/api/auth/login", json={"username": user, "password": PASSWORD}, timeout=30)
    r.raise_for_status()
    return str(r.json()["token"])


async def _load(url: str, tokens: list[str], seconds: float) -> dict[str, Any]:
    lat: dict[str, list[float]] = {"/api/events?limit=50": [], "/api/wall": []}
    errors = 0
    stop = time.perf_counter() + seconds

    async def one(token: str) -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as c:
            paths = list(lat)
            i = 0
            while time.perf_counter() < stop:
                path = paths[i % 2]
                i += 1
                t = time.perf_counter()
                r = await c.get(path)
                dt = time.perf_counter() - t
                if r.status_code != 200:
                    errors += 1
                lat[path].append(dt)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(tok) for tok in tokens))
    wall = time.perf_counter() - t0
    return {
        "clients": len(tokens),
        "seconds": round(wall, 2),
        "errors": errors,
        "endpoints": {p: {**_quantiles(v), "rps": round(len(v) / wall, 1)} for p, v in lat.items()},
    }


def _wall_latency(url: str, token: str, seconds: float) -> dict[str, Any]:
    from websockets.sync.client import connect

    started: dict[str, tuple[float, float]] = {}  # uid -> (receipt time, event start_s)
    to_tile: list[float] = []
    age_at_tile: list[float] = []
    ws_url = url.replace("http://", "ws://") + "/ws/live"
    stop = time.time() + seconds
    with connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=30) as ws:
        while time.time() < stop:
            try:
                msg = json.loads(ws.recv(timeout=max(0.1, stop - time.time())))
            except TimeoutError:
                break
            now = time.time()
            if msg["type"] == "event" and msg["kind"] == "start":
                started.setdefault(msg["event"]["uid"], (now, float(msg["event"]["start_s"])))
            elif msg["type"] == "wall":
                for tile in msg["wall"]["tiles"]:
                    for uid in tile["event_uids"]:
                        if uid in started and started[uid][0] > 0:
                            to_tile.append(now - started[uid][0])
                            age_at_tile.append(now - started[uid][1])
                            started[uid] = (-1.0, 0.0)
    return {
        "events_seen": len(started),
        "event_message_to_tile_push_s": _quantiles(to_tile),
        "event_start_to_tile_push_s": _quantiles(age_at_tile),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="folder for web_bench.json")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32], help="concurrent clients per round")
    ap.add_argument("--seconds", type=float, default=10.0, help="load duration per round")
    ap.add_argument("--events", type=int, default=2000, help="events seeded into the store")
    ap.add_argument("--no-runtime", action="store_true", help="no monitoring runtime (API only)")
    ap.add_argument("--wall-seconds", type=float, default=60.0, help="how long to watch the wall")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "bench": "web_bench",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    with tempfile.TemporaryDirectory(prefix="safecity-webbench-") as tmp:
        home = Path(tmp)
        print(f"web_bench: seeding {args.events} events in {home}", file=sys.stderr)
        _seed(home, max(args.clients), args.events)
        port = _free_port()
        cmd = [sys.executable, "-m", "safecity", "-q", "serve", "--port", str(port)]
        if not args.no_runtime:
            (home / "cams.yaml").write_text(CONFIG, encoding="utf-8")
            cmd += ["--monitor-config", str(home / "cams.yaml"), "--replay", "--workers", "1"]
        env = {**os.environ, "SAFECITY_HOME": str(home), "SAFECITY_SECRET_KEY": secrets.token_urlsafe(32)}
        env.pop("SAFECITY_DATABASE_URL", None)
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 60
            while True:
                try:
                    if httpx.get(f"{url}/login", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.time() > deadline:
                    raise SystemExit(
                        f"server did not start: {proc.stderr.read().decode() if proc.stderr else ''}"
                    )
                time.sleep(0.3)
            wall_result: dict[str, Any] = {}
            watcher = None
            if not args.no_runtime:
                admin = _login(url, "admin")

                def watch() -> None:
                    wall_result.update(_wall_latency(url, admin, args.wall_seconds))

                watcher = threading.Thread(target=watch, daemon=True)
                watcher.start()
            rounds = []
            for n in args.clients:
                print(f"web_bench: {n} concurrent clients for {args.seconds} s", file=sys.stderr)
                tokens = [_login(url, f"op{i}") for i in range(n)]
                rounds.append(asyncio.run(_load(url, tokens, args.seconds)))
            result["api_load"] = rounds
            if watcher is not None:
                watcher.join(args.wall_seconds + 30)
                result["wall_latency"] = wall_result
                admin = _login(url, "admin")
                result["server_stats"] = httpx.get(
                    f"{url}/api/stats", headers={"Authorization": f"Bearer {admin}"}, timeout=30
                ).json()
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    path = args.out / "web_bench.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
