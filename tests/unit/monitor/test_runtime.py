"""MonitorRuntime with real worker processes and file cameras (the detector is the blob fake).

One camera is a corrupt file: it must be reported (error, offline health, camera_offline event)
while the other keeps producing events. Waiting loops poll with a generous limit; nothing here
asserts a duration.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from safecity.monitor.config import MonitorConfig
from safecity.monitor.runtime import MonitorRuntime, RuntimeOptions, health_from_events
from safecity.monitor.types import Event, EventKind
from tests.factories import make_event
from tests.unit.monitor.test_pipeline import BlobDetector

WAIT_S = 90.0


def make_blob_detector(_cfg: Any) -> BlobDetector:
    """Detector factory for the workers (``RuntimeOptions.detector_factory``)."""
    return BlobDetector()


def _write_clip(path: Path, *, seconds: float = 8.0, fps: float = 10.0) -> Path:
    """A 320x180 clip: still grey picture, then a bright 40x60 block walking left to right.

    It moves ~11 px per analysed frame (5 fps), slow enough for IoU association.
    """
    w, h = 320, 180
    out = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    rng = np.random.default_rng(0)
    n = int(seconds * fps)
    for i in range(n):
        img = np.full((h, w, 3), 90, np.uint8) + rng.integers(0, 3, (h, w, 3), dtype=np.uint8)
        if i >= n // 3:
            x = int(10 + (i - n // 3) * (w - 60) / (n - n // 3))
            img[60:120, x : x + 40] = 250
        out.write(img)
    out.release()
    return path


class ListSink:
    def __init__(self) -> None:
        self.items: list[tuple[EventKind, Event]] = []
        self.lock = threading.Lock()

    def publish(self, kind: EventKind, event: Event) -> None:
        with self.lock:
            self.items.append((kind, event))

    def starts(self, camera: str, type_: str) -> list[Event]:
        with self.lock:
            return [e for k, e in self.items if k == "start" and e.camera == camera and e.type == type_]


class BlockedSink:
    """A sink stuck until released (a database that hangs)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.got = 0

    def publish(self, kind: EventKind, event: Event) -> None:
        self.release.wait()
        self.got += 1


def _config(tmp_path: Path, good: Path, bad: Path) -> MonitorConfig:
    zone = {"name": "right", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}
    cams = [
        {"id": cid, "source": str(src), "detect_fps": 5, "zones": [zone],
         "rules": [{"type": "intrusion", "zone": "right", "min_s": 0.2}]}
        for cid, src in (("good", good), ("bad", bad))
    ]  # fmt: skip
    return MonitorConfig.model_validate(
        {"cameras": cams, "tracker": {"high_thresh": 0.5, "new_track_thresh": 0.5, "lost_s": 1.0}}
    )


def _wait(cond: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {WAIT_S:.0f} s")
        time.sleep(0.1)


@pytest.fixture
def runtime_parts(tmp_path: Path) -> Iterator[tuple[MonitorRuntime, ListSink, BlockedSink]]:
    good = _write_clip(tmp_path / "good.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(np.random.default_rng(1).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    sink, blocked = ListSink(), BlockedSink()
    opts = RuntimeOptions(
        detector_factory=f"{__name__}:make_blob_detector", restart_backoff_s=(0.5, 1.0), tile_fps=5.0
    )
    rt = MonitorRuntime(
        _config(tmp_path, good, bad), sinks=[sink, blocked], workers=2, loop=True, realtime=True, options=opts
    )
    rt.start()
    yield rt, sink, blocked
    blocked.release.set()
    rt.stop()


def test_runtime_corrupt_camera_does_not_stop_the_other(
    runtime_parts: tuple[MonitorRuntime, ListSink, BlockedSink],
) -> None:
    rt, sink, blocked = runtime_parts
    # the good camera raises intrusions although one sink is stuck and the other camera is broken
    _wait(lambda: len(sink.starts("good", "intrusion")) >= 2, "two intrusions from the good camera (2 loops)")
    _wait(lambda: rt.health()["bad"] == "offline", "offline health of the corrupt camera")
    assert blocked.got == 0  # the stuck sink received nothing, yet nothing else waited for it
    assert "bad" in rt.errors() and "cannot read" in rt.errors()["bad"]
    offline = sink.starts("bad", "camera_offline")
    assert len(offline) == 1  # reported once, however often the restart fails
    assert rt.health()["good"] == "online"
    assert rt.stats()["cameras"]["good"]["frames"] > 0


def test_runtime_wall_and_tiles(runtime_parts: tuple[MonitorRuntime, ListSink, BlockedSink]) -> None:
    rt, _, _ = runtime_parts
    _wait(lambda: "good" in {t.camera for t in rt.wall().tiles}, "the good camera on the wall")
    _wait(lambda: rt.latest_frame("good") is not None, "a tile of the good camera")
    img = rt.latest_frame("good")
    assert img is not None and img.shape == (180, 320, 3)
    _wait(lambda: bool(rt.latencies_s), "an onset-to-wall latency sample")
    assert set(rt.cameras()) == {"good", "bad"}


def test_runtime_stop_without_start_is_harmless(tmp_path: Path) -> None:
    rt = MonitorRuntime(_config(tmp_path, tmp_path / "a.mp4", tmp_path / "b.mp4"))
    rt.stop()
    assert rt.wall().tiles == ()


# (live health events, expected state)
HEALTH_CASES = [
    ([], "online"),  # nothing live
    (["camera_blurred"], "blurred"),  # one problem
    (["camera_blurred", "camera_offline"], "offline"),  # the worst wins
    (["intrusion"], "online"),  # object events do not change health
]


@pytest.mark.parametrize(("types", "state"), HEALTH_CASES)
def test_health_from_events(types: list[str], state: str) -> None:
    evs = [make_event(uid=f"u{i}", type=t) for i, t in enumerate(types)]  # type: ignore[arg-type]
    assert health_from_events(evs) == state


_ORPHAN_SCRIPT = """
import sys, time
from pathlib import Path
from tests.unit.monitor.test_runtime import _config, _write_clip
from safecity.monitor.runtime import MonitorRuntime, RuntimeOptions
if __name__ == "__main__":
    tmp = Path(sys.argv[1])
    clip = _write_clip(tmp / "c.mp4")
    opts = RuntimeOptions(detector_factory="tests.unit.monitor.test_runtime:make_blob_detector")
    rt = MonitorRuntime(_config(tmp, clip, clip), workers=2, loop=True, realtime=True, options=opts)
    rt.start()
    print(" ".join(str(p.pid) for p in rt._procs), flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.split(")")[-1].split()[0] != "Z"  # a zombie has exited


def test_workers_exit_when_the_runtime_process_is_killed(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    script = tmp_path / "parent.py"
    script.write_text(_ORPHAN_SCRIPT)
    repo = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    parent = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert parent.stdout is not None
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    os.kill(parent.pid, signal.SIGKILL)  # no stop(): the workers are orphaned
    parent.wait()
    parent.stdout.close()
    _wait(lambda: not any(_alive(p) for p in pids), "orphaned workers to exit")
