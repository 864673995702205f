"""The compressed-domain gate wired into the worker and replay, on real clips.

* Replay (the worker's ``step`` path, as ``safecity eval`` runs it) of the bundled room clip after 20 s
  of a still, empty room, with the label file's config (SSD, its tracker and rules): the gate on
  raises the same labelled events as the gate off, and it really watched (keyframes seen in watch
  mode, fewer frames analysed).
* Worker threads (``open_camera_source``) on a constant-bitrate clip: the camera's stats message
  carries the gate's fallback (``decode`` / ``constant_bitrate``) and the hub shows it; on an idle
  clip the gate is in watch mode and the detector is not called after the start.

Clips are made with ffmpeg from ``data/video/intel-sample-videos`` (labels:
tests/data/labels/one-by-one-person-detection.yaml).
"""

from __future__ import annotations

import dataclasses
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from safecity.monitor.config.model import MonitorConfig, load_monitor_config
from safecity.monitor.evaluation.labels import load_labels
from safecity.monitor.evaluation.suite import score_events
from safecity.monitor.runtime.hub import MonitorHub
from safecity.monitor.runtime.messages import EndedMsg, StatsMsg, WorkerMessage
from safecity.monitor.runtime.replay import replay_clip
from safecity.monitor.runtime.worker import CameraWorker, RuntimeOptions
from safecity.monitor.sources.camera import gate_status, marked_items, open_camera_source
from safecity.monitor.sources.gated import GatedSource
from safecity.monitor.sources.readers import FileSource
from safecity.monitor.vision.factory import build_detector
from tests.unit.monitor.test_pipeline import BlobDetector

REPO = Path(__file__).resolve().parents[4]
ROOM = REPO / "data" / "video" / "intel-sample-videos" / "one-by-one-person-detection.mp4"
LOT = REPO / "data" / "video" / "intel-sample-videos" / "car-detection.mp4"
LABELS = REPO / "tests" / "data" / "labels" / "one-by-one-person-detection.yaml"
CUT_S, LENGTH_S, STILL_S = 2.0, 46.0, 20.0  # room clip 2-48 s (two people), after 20 s of still room
ENC = ["-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-pix_fmt", "yuv420p", "-an", "-threads", "1"]
WAIT_S = 120.0


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=180)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("worker_gate")
    out = {k: d / f"{k}.mp4" for k in ("room", "cbr", "idle")}
    vf = f"scale=640:360,fps=10,tpad=start_mode=clone:start_duration={STILL_S:g}"
    _ffmpeg(
        "-ss", str(CUT_S), "-t", str(LENGTH_S), "-i", str(ROOM), "-vf", vf, *ENC, "-g", "10", str(out["room"])
    )
    _ffmpeg(
        "-ss", str(CUT_S), "-t", "8", "-i", str(ROOM), "-vf", "scale=320:180,fps=10", *ENC, "-g", "10",
        "-b:v", "300k", "-maxrate", "300k", "-minrate", "300k", "-bufsize", "150k",
        "-x264-params", "nal-hrd=cbr", str(out["cbr"]),
    )  # fmt: skip
    still = d / "lot.png"
    _ffmpeg("-ss", "11", "-i", str(LOT), "-frames:v", "1", str(still))
    # darkened: nothing in it reaches the blob detector's brightness (200), so nothing is tracked
    _ffmpeg("-loop", "1", "-framerate", "10", "-i", str(still), "-t", "15",
            "-vf", "scale=320:180,eq=brightness=-0.35", *ENC, "-g", "10", str(out["idle"]))  # fmt: skip
    return out


def test_replay_with_the_gate_on_raises_the_same_labelled_events(clips: dict[str, Path]) -> None:
    lab = load_labels(LABELS)
    cfg = load_monitor_config(lab.config_path)
    cam = cfg.cameras[0]
    shift = STILL_S - CUT_S
    truth = [
        dataclasses.replace(e, start_s=e.start_s + shift, last_s=e.last_s + shift,
                            end_s=None if e.end_s is None else e.end_s + shift)
        for e in lab.truth_events(cam.id)
        if CUT_S + 1.0 <= e.start_s <= CUT_S + LENGTH_S - 1.0
    ]  # fmt: skip
    types = ["intrusion", "line_crossing", "loitering"]
    assert {e.type for e in truth} == set(types)  # the cut holds every rule's case
    det = build_detector(cfg.detector_for(cam))
    off = replay_clip(cam, clips["room"], det, detect_fps=cam.detect_fps, config=cfg, gate=False)
    on = replay_clip(cam, clips["room"], det, detect_fps=cam.detect_fps, config=cfg, gate=True)
    s_off = score_events([e for e in off.events if e.type in types], truth, types=types)
    s_on = score_events([e for e in on.events if e.type in types], truth, types=types)
    for t in types:
        assert s_on[t].tp == s_off[t].tp == len([e for e in truth if e.type == t]), (t, s_on[t], s_off[t])
        assert s_on[t].fp == s_off[t].fp, (t, s_on[t], s_off[t])
    # the gate watched the still room (keyframes only) and decoded the people
    assert on.gate["gate_mode"] == "compressed" and on.gate["activations"] >= 1
    assert on.counters["watch_frames"] >= 2
    assert on.counters["frames"] < off.counters["frames"] - 40
    assert off.gate["gate_mode"] == "decode"


class _Inbox:
    def __init__(self) -> None:
        self.msgs: list[WorkerMessage] = []
        self.lock = threading.Lock()

    def emit(self, msg: WorkerMessage) -> None:
        with self.lock:
            self.msgs.append(msg)

    def of(self, kind: type[Any]) -> list[Any]:
        with self.lock:
            return [m for m in self.msgs if isinstance(m, kind)]


def _run_worker(clip: Path, **cam: Any) -> tuple[_Inbox, BlobDetector]:
    cfg = MonitorConfig.model_validate(
        {"cameras": [{"id": "cam", "source": str(clip), "detect_fps": 5, **cam}]}
    )
    inbox, det = _Inbox(), BlobDetector()
    worker = CameraWorker(cfg, cfg.cameras, RuntimeOptions(), inbox.emit, detector=det)
    worker.start()
    deadline = time.monotonic() + WAIT_S
    try:
        while not inbox.of(EndedMsg):
            assert time.monotonic() < deadline, "the file camera did not end"
            time.sleep(0.05)
    finally:
        worker.stop()
    return inbox, det


def test_worker_shows_the_constant_bitrate_fallback_in_the_camera_status(clips: dict[str, Path]) -> None:
    inbox, _ = _run_worker(clips["cbr"])
    gate = inbox.of(StatsMsg)[-1].gate
    assert gate is not None
    assert gate["gate_mode"] == "decode" and gate["fallback_reason"] == "constant_bitrate"
    assert "constant-bitrate" in str(gate["fallback_text"])
    # ... and the hub (what the console's camera list reads) shows it
    cfg = MonitorConfig.model_validate({"cameras": [{"id": "cam", "source": str(clips["cbr"])}]})
    hub = MonitorHub(cfg, _NoTransport(), select_every_s=None)
    hub.deliver(inbox.of(StatsMsg)[-1])
    assert hub.gate_status()["cam"]["fallback_reason"] == "constant_bitrate"


def test_worker_watches_an_idle_camera_without_decoding_it(clips: dict[str, Path]) -> None:
    inbox, det = _run_worker(clips["idle"])
    last = inbox.of(StatsMsg)[-1]
    assert last.gate is not None and last.gate["gate_mode"] == "compressed"
    assert last.gate["state"] == "watch"
    assert last.counters["watch_frames"] >= 1
    # learning (4 s at 5 fps) decodes about 20 frames; the 11 s after it only health keyframes
    assert last.counters["frames"] <= 25
    assert det.calls == 1 and last.counters["detections"] == 0  # the start-up scan only


def test_gate_decode_mode_opens_the_plain_reader(clips: dict[str, Path]) -> None:
    cfg = MonitorConfig.model_validate(
        {"cameras": [{"id": "cam", "source": str(clips["idle"]), "gate": {"mode": "decode"}}]}
    )
    cam = cfg.cameras[0]
    src = open_camera_source(cam)
    try:
        assert isinstance(src, FileSource)
        assert all(not watch for _, watch in marked_items(src))
    finally:
        src.close()
    assert gate_status(src, cam) == {
        "gate_mode": "decode",
        "fallback_reason": "configured",
        "fallback_text": "the camera's config asks to decode every frame",
        "state": "active",
    }
    gated = open_camera_source(cam.model_copy(update={"gate": cam.gate.model_copy(update={"mode": "auto"})}))
    assert isinstance(gated, GatedSource)
    gated.close()


class _NoTransport:
    name = "none"

    def start(self, inbox: Any) -> None: ...

    def want_tiles(self, cameras: frozenset[str]) -> None: ...

    def placement(self) -> dict[str, str]:
        return {}

    def stop(self, timeout_s: float) -> None: ...
