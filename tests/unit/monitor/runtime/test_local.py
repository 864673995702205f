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

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.runtime.local import (
    MonitorRuntime,
    RuntimeOptions,
    build_detector,
    health_from_events,
    make_selector,
)
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
from tests.unit.monitor.runtime.test_local import _config, _write_clip
from safecity.monitor.runtime.local import MonitorRuntime, RuntimeOptions
if __name__ == "__main__":
    tmp = Path(sys.argv[1])
    clip = _write_clip(tmp / "c.mp4")
    opts = RuntimeOptions(detector_factory="tests.unit.monitor.runtime.test_local:make_blob_detector")
    rt = MonitorRuntime(_config(tmp, clip, clip), workers=2, loop=True, realtime=True, options=opts)
    rt.start()
    print(" ".join(str(p) for p in rt.local.worker_pids()), flush=True)
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
    repo = Path(__file__).resolve().parents[4]
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


# --------------------------------------------------------------------------------------------
# Wall selection with camera importance

# (importance of camera a, importance of camera b, camera that gets the one tile)
IMPORTANCE_CASES = [
    (1.0, 3.0, "b"),  # b matters more
    (3.0, 1.0, "a"),  # a matters more
]


@pytest.mark.parametrize(("imp_a", "imp_b", "winner"), IMPORTANCE_CASES)
def test_make_selector_weighs_camera_importance(imp_a: float, imp_b: float, winner: str) -> None:
    cfg = MonitorConfig.model_validate(
        {
            "cameras": [
                {"id": "a", "source": "a.mp4", "importance": imp_a},
                {"id": "b", "source": "b.mp4", "importance": imp_b},
            ],
            "selection": {"max_tiles": 1},
        }
    )
    selector = make_selector(cfg.selection, cfg.cameras)
    # the same event on both cameras: only the camera importance tells them apart
    events = [make_event(uid=f"{c}-1", camera=c, start_s=100.0) for c in ("a", "b")]
    wall = selector.select(events, {"a": "online", "b": "online"}, 101.0)
    assert [t.camera for t in wall.tiles] == [winner]


# (config detector, the built cascade's passes and mode)
CASCADE_CASES = [
    ({"type": "cascade"}, ("ssd", 0.4, "nanodet", 0.35, "any")),  # the defaults
    (  # both stages and the mode given
        {"type": "cascade", "confirm_when": "in_zones", "first_pass": {"type": "nanodet", "conf": 0.2},
         "confirm": {"type": "ssd", "conf": 0.5}},
        ("nanodet", 0.2, "ssd", 0.5, "in_zones"),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("det", "want"), CASCADE_CASES)
def test_build_detector_makes_the_configured_cascade(det: dict[str, Any], want: tuple[Any, ...]) -> None:
    from safecity.monitor.vision.detect import CascadeDetector

    cfg = MonitorConfig.model_validate({"cameras": [{"id": "c", "source": "x.mp4"}], "detector": det})
    built = build_detector(cfg.detector)  # the bundled SSD and NanoDet models
    assert isinstance(built, CascadeDetector)
    fp, cf = built.first_pass, built.confirm
    assert (fp.name, fp.conf, cf.name, cf.conf, built.confirm_when) == want  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# Snapshots and clips written by the workers from the frames they analyse

INTEL = Path(__file__).resolve().parents[4] / "data" / "video" / "intel-sample-videos"


def test_worker_media_snapshot_and_clip_at_the_analysed_rate(tmp_path: Path) -> None:
    import av

    from safecity.store.db import connect
    from safecity.store.events import EventStore

    root = tmp_path / "media"
    # a 12 fps street clip analysed at 6 fps; people and cars are in the whole-frame zone at once
    cam = {
        "id": "street", "source": str(INTEL / "person-bicycle-car-detection.mp4"), "detect_fps": 6,
        "zones": [{"name": "all", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
        "rules": [{"type": "intrusion", "zone": "all", "classes": ["person", "car"], "min_s": 0.2}],
        "privacy_masks": [[[0.0, 0.0], [0.2, 0.0], [0.2, 0.2], [0.0, 0.2]]],
        "detector": {"type": "ssd", "conf": 0.3},
    }  # fmt: skip
    cfg = MonitorConfig.model_validate(
        {"cameras": [cam], "tracker": {"high_thresh": 0.3, "new_track_thresh": 0.3},
         "outputs": {"clip_pre_s": 1.0, "clip_post_s": 1.0}}
    )  # fmt: skip
    store = EventStore(
        connect(f"sqlite:///{tmp_path / 'ev.db'}"), spool_dir=tmp_path / "spool", media_root=root
    )
    rt = MonitorRuntime(cfg, sinks=[store], workers=1, options=RuntimeOptions(media_root=root))
    rt.start()
    try:
        _wait(lambda: any(root.glob("street/*.mp4")), "the first clip")
    finally:
        rt.stop()
        store.flush()
    clip = sorted(root.glob("street/*.mp4"))[0]
    row = store.get_event(clip.stem)
    store.close()
    assert row is not None and row["type"] == "intrusion"
    assert (row["snapshot_path"], row["clip_path"]) == (f"street/{clip.stem}.jpg", f"street/{clip.stem}.mp4")
    snap = cv2.imread(str(root / row["snapshot_path"]))
    assert snap is not None and snap.shape == (432, 768, 3)  # the analysed frame, full size
    masked = snap[4:82, 4:150].max(axis=2)  # inside the mask (154 x 86 px)
    assert (masked < 30).mean() > 0.95  # black (but for JPEG noise and an event box drawn over it)
    with av.open(str(clip)) as container:
        times = [float(f.time) for f in container.decode(video=0) if f.time is not None]
    assert len(times) >= 8  # 1 s before and 1 s after the start at 6 fps
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate == pytest.approx(6.0, rel=0.05)  # every analysed frame, none of the 2 fps tiles


# --------------------------------------------------------------------------------------------
# A config that changes while running


def test_runtime_update_config_restarts_changed_camera_and_adds_new(tmp_path: Path) -> None:
    clip = _write_clip(tmp_path / "c.mp4")
    cfg = _config(tmp_path, clip, clip)
    sink = ListSink()
    opts = RuntimeOptions(detector_factory=f"{__name__}:make_blob_detector")
    rt = MonitorRuntime(cfg, sinks=[sink], workers=2, loop=True, realtime=True, options=opts)
    rt.start()
    try:
        _wait(lambda: bool(sink.starts("bad", "intrusion")), "an intrusion of camera 'bad' (same clip)")
        doc = cfg.model_dump(mode="json")
        doc["cameras"][1]["rules"][0]["min_s"] = 0.4  # camera "bad" changes
        doc["cameras"].append({**doc["cameras"][0], "id": "third"})  # a new camera
        new = MonitorConfig.model_validate(doc)
        rt.update_config(new)
        assert rt.cameras() == ["good", "bad", "third"]
        assert set(rt.placement()) == {"good", "bad", "third"}
        _wait(lambda: bool(sink.starts("third", "intrusion")), "an intrusion of the new camera")
        with sink.lock:
            ended = {e.uid for k, e in sink.items if k == "end" and e.camera == "bad"}
            started = [e.uid for k, e in sink.items if k == "start" and e.camera == "bad"]
        assert started[0] in ended  # the old pipeline's live intrusion was ended by the restart
    finally:
        rt.stop()
