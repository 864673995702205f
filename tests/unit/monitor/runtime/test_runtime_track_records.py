"""The track index filled by the runtimes (issue 14): local worker processes and the Ray actor class
with ``RuntimeOptions.record_tracks`` send ``TracksMsg``; the hub hands them to its track sinks;
``build_runtime`` with a ``TrackWriter`` wires the writer. Real worker processes, files and SQLite;
the detector is the blob fake (one bright block walking left to right = one person)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.runtime.local import MonitorRuntime, RuntimeOptions
from safecity.monitor.runtime.messages import EndedMsg, TracksMsg
from safecity.monitor.runtime.ray_actor import CameraGroupActor, PollReply
from safecity.search.retention import track_writer
from safecity.service import RuntimeChoice, build_runtime
from safecity.store.db import connect
from safecity.store.tracks import TrackIndex, TrackQuery
from tests.unit.monitor.runtime.test_ray_actor import BLOB, write_walking_clip

WAIT_S = 90.0
ZONE = {"name": "right", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}


def _config(clip: Path) -> MonitorConfig:
    cam = {"id": "walk", "source": str(clip), "detect_fps": 5, "zones": [ZONE],
           "rules": [{"type": "intrusion", "zone": "right", "min_s": 0.2}]}  # fmt: skip
    return MonitorConfig.model_validate(
        {"cameras": [cam], "tracker": {"high_thresh": 0.5, "new_track_thresh": 0.5, "lost_s": 1.0}}
    )


def _wait(cond: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {WAIT_S:.0f} s")
        time.sleep(0.1)


def test_local_runtime_built_by_the_service_fills_the_index(tmp_path: Path) -> None:
    cfg = _config(write_walking_clip(tmp_path / "walk.mp4"))
    engine = connect(f"sqlite:///{tmp_path / 'safecity.db'}")
    writer = track_writer(engine)
    rt = build_runtime(cfg, [], media_root=None, choice=RuntimeChoice(workers=1), tracks=writer)
    assert isinstance(rt, MonitorRuntime) and rt.opts.record_tracks
    rt.local.options = RuntimeOptions(detector_factory=BLOB, record_tracks=True)  # the blob fake
    t0 = time.time()
    rt.start()
    try:
        _wait(lambda: "walk" in rt.stats()["ended"], "the end of the file")
    finally:
        rt.stop()
    assert writer.close()
    got = TrackIndex(engine).search(TrackQuery(t0 - 60, time.time() + 60))
    assert len(got) == 1, got  # the one walker, written by the worker process through the hub
    r = got[0]
    assert r["camera"] == "walk" and r["object_class"] == "person" and r["zones"] == ["right"]
    assert r["first_at"].timestamp() >= t0 - 1  # on the worker's (Unix) clock, not file seconds
    assert TrackIndex(engine).thumbnail(r["uid"]) is not None


def test_runtime_without_record_tracks_sends_no_records(tmp_path: Path) -> None:
    cfg = _config(write_walking_clip(tmp_path / "walk.mp4", seconds=4.0))
    got: list[Any] = []
    rt = MonitorRuntime(cfg, workers=1, options=RuntimeOptions(detector_factory=BLOB))
    rt.add_track_sink(got.extend)
    rt.start()
    try:
        _wait(lambda: "walk" in rt.stats()["ended"], "the end of the file")
    finally:
        rt.stop()
    assert got == [] and rt.stats()["events_received"] > 0


def test_ray_actor_sends_tracks_msg(tmp_path: Path) -> None:
    cfg = _config(write_walking_clip(tmp_path / "walk.mp4", seconds=6.0))
    actor = CameraGroupActor(cfg, cfg.cameras, RuntimeOptions(detector_factory=BLOB, record_tracks=True))
    replies: list[PollReply] = []
    try:
        _wait(
            lambda: (
                replies.append(actor.poll(actor.incarnation, 0, (), 0.2, 1000)) is None
                and any(isinstance(m, EndedMsg) for _, m in replies[-1].messages)
            ),
            "the end of the file",
        )
    finally:
        actor.worker.stop(1.0)
    tracks = [m for _, m in replies[-1].messages if isinstance(m, TracksMsg)]
    assert len(tracks) == 1 and tracks[0].camera == "walk"
    assert [r.object_class for r in tracks[0].records] == ["person"]
