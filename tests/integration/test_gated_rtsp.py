"""GatedSource on a live RTSP camera (GStreamer's RTSP server on loopback, as test_rtsp_sources.py).

The server loops a clip made from the bundled room clip: the empty room held still for 12 s, then
the first person walks in. Over RTSP the gate must learn the floor, go to watch mode on the still
part, wake up on the entry and hand on Unix-time frames; when the server dies it reports gaps (the
readers' reconnect loop) and comes back.
"""

from __future__ import annotations

import itertools
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from safecity.monitor.sources.gated import GatedSource
from safecity.monitor.sources.readers import DecodedFrame, SourceGap
from tests.ports import free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SERVER = REPO / "scripts" / "gst_rtsp_loop.py"
ROOM = REPO / "data" / "video" / "intel-sample-videos" / "one-by-one-person-detection.mp4"
STILL_S = 12.0


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gated_rtsp") / "room.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-ss", "2", "-t", "10", "-i", str(ROOM), "-an", "-vf",
         f"scale=480:270,fps=10,tpad=start_mode=clone:start_duration={STILL_S:g}", "-c:v", "libx264",
         "-preset", "veryfast", "-bf", "0", "-g", "10", "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


@pytest.fixture
def server(clip: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    proc = subprocess.Popen(
        ["/usr/bin/python3", str(SERVER), "--port", str(port), f"cam={clip}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    pump = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
    pump.start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if lines.get(timeout=0.2).startswith("READY"):
                break
        except queue.Empty:
            if proc.poll() is not None:
                break
    else:
        proc.kill()
        pytest.fail("gst_rtsp_loop.py did not print READY; is GStreamer's rtsp-server installed?")
    yield f"rtsp://127.0.0.1:{port}/cam", proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=10)
    pump.join(timeout=5)
    proc.stdout.close()


def test_gate_watches_a_still_rtsp_camera_and_wakes_on_the_entry(
    server: tuple[str, subprocess.Popen[str]],
) -> None:
    url, proc = server
    src = GatedSource(
        url,
        camera="cam",
        detect_fps=5.0,
        rtsp={"open_timeout_s": 3.0, "read_timeout_s": 2.0, "backoff_s": (0.3,)},
    )
    t0 = time.time()
    items: list[tuple[DecodedFrame | SourceGap, bool]] = []
    states: list[str] = []
    killed_at: float | None = None
    for item, watch in src.marked():
        items.append((item, watch))
        states.append(src.gate.state)
        now = time.time()
        if killed_at is None and now - t0 > STILL_S + 8:  # the entry has been seen: kill the server
            proc.kill()
            proc.wait(timeout=10)
            killed_at = now
        if isinstance(item, SourceGap) or now - t0 > 40:
            break
    src.close()
    frames = [(f, w) for f, w in items if isinstance(f, DecodedFrame)]
    status = src.status()
    assert status.gate_mode == "compressed" and status.fallback_reason is None
    assert status.watch_s > 4.0  # the still room (12 s, less the 4 s learning) was watched
    assert any(w for _, w in frames)  # health keyframes in watch mode
    assert status.activations >= 1  # the entry woke it (or the loop's restart did)
    active_after_watch = [f.t_s for f, w in frames if not w and f.t_s > t0 + 6.0]
    assert active_after_watch, "no decoded frames after the watch period"
    times = [f.t_s for f, _ in frames]
    assert all(b > a for a, b in itertools.pairwise(times))
    assert all(t0 - 1 <= t <= time.time() for t in times)  # Unix time at receipt
    assert isinstance(items[-1][0], SourceGap)  # the dead server is reported, not a crash
