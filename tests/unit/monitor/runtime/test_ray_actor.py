"""The Ray actor's acknowledged outbox and the actor class itself, in this process (no Ray needed)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.runtime.messages import EndedMsg, EventMsg, FailureMsg, HealthMsg, StatsMsg
from safecity.monitor.runtime.ray_actor import (
    MEDIA_CHECK_NAME,
    AckBuffer,
    CameraGroupActor,
    PollReply,
    media_check_problem,
)
from safecity.monitor.runtime.worker import RuntimeOptions
from tests.unit.monitor.test_pipeline import BlobDetector

WAIT_S = 90.0
ZONE = {"name": "right", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}
BLOB = f"{__name__}:make_blob_detector"


def make_blob_detector(_cfg: Any) -> BlobDetector:
    """Detector factory for the workers (``RuntimeOptions.detector_factory``)."""
    return BlobDetector()


def write_walking_clip(path: Path, *, seconds: float = 8.0, fps: float = 10.0) -> Path:
    """A 320x180 clip: still grey picture, then a bright 40x60 block walking left to right.

    The blob detector sees the block as one person; it moves ~11 px per analysed frame at 5 fps.
    """
    import cv2
    import numpy as np

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


def test_ack_buffer_keeps_messages_until_acknowledged() -> None:
    buf = AckBuffer()
    seqs = [buf.push(EndedMsg(f"c{i}", "x")) for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    # an answer that was lost on the way is answered again: nothing leaves before an ack
    first = buf.take(ack=0, wait_s=0.0, max_messages=3)
    assert [s for s, _ in first] == [1, 2, 3]
    assert [s for s, _ in buf.take(ack=0, wait_s=0.0, max_messages=3)] == [1, 2, 3]
    assert [s for s, _ in buf.take(ack=3, wait_s=0.0, max_messages=10)] == [4, 5]
    assert [m.camera for _, m in buf.take(ack=3, wait_s=0.0, max_messages=10)] == ["c3", "c4"]
    assert buf.take(ack=5, wait_s=0.0, max_messages=10) == [] and len(buf) == 0
    assert buf.last_seq == 5


def test_ack_buffer_waits_for_the_first_message() -> None:
    buf = AckBuffer()
    threading.Timer(0.2, lambda: buf.push(FailureMsg("c", "down"))).start()
    got = buf.take(ack=0, wait_s=WAIT_S, max_messages=10)  # returns when the message comes
    assert [(s, type(m).__name__) for s, m in got] == [(1, "FailureMsg")]
    assert buf.take(ack=1, wait_s=0.05, max_messages=10) == []  # nothing new: returns after the wait


def test_ack_buffer_full_drops_only_counters() -> None:
    buf = AckBuffer(max_unacked=2)
    assert buf.push(StatsMsg("c")) == 1 and buf.push(StatsMsg("c")) == 2
    assert buf.push(StatsMsg("c")) == 0  # counters are replaced each second anyway
    assert buf.push(HealthMsg("c", "offline")) == 3  # everything else is kept, numbered without a gap
    assert buf.stats_dropped == 1
    assert [s for s, _ in buf.take(0, 0.0, 10)] == [1, 2, 3]


def test_media_check_problem(tmp_path: Path) -> None:
    assert "cannot be read" in str(media_check_problem(tmp_path, "t1"))
    (tmp_path / MEDIA_CHECK_NAME).write_text("t0\n", encoding="utf-8")
    assert "another token" in str(media_check_problem(tmp_path, "t1"))
    assert media_check_problem(tmp_path, "t0") is None


def _config(tmp_path: Path, *sources: tuple[str, Path]) -> MonitorConfig:
    cams = [
        {"id": cid, "source": str(src), "detect_fps": 5, "zones": [ZONE],
         "rules": [{"type": "intrusion", "zone": "right", "min_s": 0.2}]}
        for cid, src in sources
    ]  # fmt: skip
    return MonitorConfig.model_validate(
        {"cameras": cams, "tracker": {"high_thresh": 0.5, "new_track_thresh": 0.5, "lost_s": 1.0}}
    )


def _poll_until(actor: CameraGroupActor, cond: Any, ack: int = 0) -> list[PollReply]:
    replies: list[PollReply] = []
    deadline = time.monotonic() + WAIT_S
    while not cond(replies):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up polling after {WAIT_S:.0f} s; got {replies[-1:] or 'nothing'}")
        replies.append(actor.poll(actor.incarnation, ack, (), 0.2, 1000))
    return replies


def test_actor_runs_its_cameras_and_resends_what_was_not_acknowledged(tmp_path: Path) -> None:
    clip = write_walking_clip(tmp_path / "walk.mp4", seconds=4.0)
    cfg = _config(tmp_path, ("a", clip))
    actor = CameraGroupActor(cfg, cfg.cameras, RuntimeOptions(detector_factory=BLOB))
    try:

        def ended(replies: list[PollReply]) -> bool:
            return bool(replies) and any(isinstance(m, EndedMsg) for _, m in replies[-1].messages)

        replies = _poll_until(actor, ended)  # ack stays 0: every poll answers everything again
        last = replies[-1]
        assert [s for s, _ in last.messages] == list(range(1, last.last_seq + 1))
        assert last.incarnation == actor.incarnation and last.node_id == ""  # not in Ray
        kinds = [(m.kind, m.event.type) for _, m in last.messages if isinstance(m, EventMsg)]
        assert ("start", "intrusion") in kinds and ("end", "intrusion") in kinds
        # shutdown hands over what is not acknowledged; acknowledged messages are gone for good
        # an ack of another incarnation (a poll sent while Ray restarted the actor) drops nothing
        assert [s for s, _ in actor.poll("an-earlier-process", last.last_seq, (), 0.0, 1000).messages][
            :1
        ] == [1]
        final = actor.shutdown(actor.incarnation, last.last_seq - 2, 2.0)
        assert [s for s, _ in final.messages] == list(range(last.last_seq - 1, final.last_seq + 1))
        assert actor.poll(actor.incarnation, final.last_seq, (), 0.0, 1000).messages == []
        assert actor.poll(actor.incarnation, 0, (), 0.0, 1000).messages == []  # an ack never goes back
    finally:
        actor.worker.stop(1.0)


def test_actor_refuses_a_media_root_that_is_not_the_drivers(tmp_path: Path) -> None:
    clip = write_walking_clip(tmp_path / "walk.mp4", seconds=2.0)
    cfg = _config(tmp_path, ("a", clip), ("b", clip))
    media = tmp_path / "media"
    media.mkdir()
    (media / MEDIA_CHECK_NAME).write_text("driver-token\n", encoding="utf-8")
    opts = RuntimeOptions(detector_factory=BLOB, media_root=media)
    actor = CameraGroupActor(cfg, cfg.cameras, opts, media_token="another-token")

    def both_failed(replies: list[PollReply]) -> bool:
        return bool(replies) and len([m for _, m in replies[-1].messages if isinstance(m, FailureMsg)]) == 2

    msgs = [m for _, m in _poll_until(actor, both_failed)[-1].messages]
    actor.shutdown(None, 0, 1.0)
    assert all("not the driver's" in m.reason for m in msgs if isinstance(m, FailureMsg))
    assert {(m.camera, m.state) for m in msgs if isinstance(m, HealthMsg)} == {
        ("a", "offline"),
        ("b", "offline"),
    }
    assert not any(isinstance(m, EventMsg) and m.event.type == "intrusion" for m in msgs)  # never started


def broken_detector_factory(_cfg: Any) -> Any:
    """Detector factory that fails with a bug, not a SafecityError (``RuntimeOptions.detector_factory``)."""
    raise RuntimeError("detector bug")


def test_actor_reports_a_detector_that_crashes_with_a_bug(tmp_path: Path) -> None:
    clip = write_walking_clip(tmp_path / "walk.mp4", seconds=2.0)
    cfg = _config(tmp_path, ("a", clip))
    opts = RuntimeOptions(detector_factory=f"{__name__}:broken_detector_factory", restart_backoff_s=(5.0,))
    actor = CameraGroupActor(cfg, cfg.cameras, opts)

    def failed(replies: list[PollReply]) -> bool:
        return bool(replies) and any(isinstance(m, FailureMsg) for _, m in replies[-1].messages)

    msgs = [m for _, m in _poll_until(actor, failed)[-1].messages]
    actor.shutdown(None, 0, 1.0)
    assert any(isinstance(m, FailureMsg) and "detector bug" in m.reason for m in msgs)
    assert HealthMsg("a", "offline") in msgs
    assert any(isinstance(m, EventMsg) and m.event.type == "camera_offline" for m in msgs)
