"""`safecity monitor` with a live RTSP camera (GStreamer loopback server) and a dead camera URL.

The live camera loops the Intel person-bicycle-car clip; its events must reach the JSON-lines
output. The dead camera (a port nobody listens on) must be reported offline, and must not stop the
live one.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.ports import free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SERVER = REPO / "scripts" / "gst_rtsp_loop.py"
CLIP = REPO / "data" / "video" / "intel-sample-videos" / "person-bicycle-car-detection.mp4"


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


@pytest.fixture
def rtsp_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        ["/usr/bin/python3", str(SERVER), "--port", str(port), f"cam={CLIP}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + 20
    ready = False
    while time.monotonic() < deadline and not ready:
        try:
            ready = lines.get(timeout=0.2).startswith("READY")
        except queue.Empty:
            if proc.poll() is not None:
                break
    if not ready:
        proc.kill()
        proc.wait(5)
        proc.stdout.close()
        pytest.fail("gst_rtsp_loop.py did not print READY; is GStreamer rtsp-server installed?")
    yield f"rtsp://127.0.0.1:{port}/cam"
    proc.terminate()
    proc.wait(5)
    proc.stdout.close()


def test_monitor_live_camera_events_and_dead_camera_offline(tmp_path: Path, rtsp_url: str) -> None:
    dead = f"rtsp://127.0.0.1:{free_port()}/nothing"
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(
        f"""
detector: {{type: nanodet, conf: 0.25}}
tracker: {{high_thresh: 0.3, new_track_thresh: 0.3, lost_s: 2.0}}
outputs: {{store: false}}
cameras:
  - id: live
    source: {rtsp_url}
    detect_fps: 5
    zones:
      - {{name: all, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]}}
    rules:
      - {{type: intrusion, zone: all, classes: [person, bicycle, car], min_s: 0.5}}
      - {{type: camera_health, offline_s: 2}}
  - id: dead
    source: {dead}
    rules:
      - {{type: camera_health, offline_s: 2}}
"""
    )
    out = tmp_path / "events.jsonl"
    env = {**os.environ, "SAFECITY_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-m", "safecity.cli", "monitor", "--config", str(cfg), "--events-jsonl", str(out),
         "--duration", "45", "--json"],
        capture_output=True, text=True, env=env, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    messages = [json.loads(x) for x in out.read_text().splitlines()]
    live = [
        m for m in messages if m["camera"] == "live" and m["kind"] == "start" and m["type"] == "intrusion"
    ]
    assert live, f"no intrusion from the live camera; summary: {summary}"
    assert isinstance(live[0]["start_s"], str) and "T" in live[0]["start_s"]  # live times are ISO-8601
    offline = [m for m in messages if m["camera"] == "dead" and m["type"] == "camera_offline"]
    assert offline and offline[0]["kind"] == "start"
    assert summary["health"]["dead"] == "offline"
    assert summary["health"]["live"] == "online"
    assert summary["cameras"]["live"]["frames"] > 50
