"""PTZ cameras on the Ray transport: ``MonitorHub.arm_analytics`` reaches the camera's actor and its
worker (``RayTransport.arm`` -> ``CameraGroupActor.arm`` -> ``CameraWorker.arm``), so an armed PTZ camera
runs its preset's rules there. A real local Ray (1 CPU), one camera group actor, the blob detector
(importable on the node) and a looping clip of a block walking left to right into the ``right`` zone.

While the camera rests at preset ``b`` (no rules) nothing fires although the block walks through the
zone loop after loop; armed at ``a`` (which lists ``in_right``) the intrusion fires and carries the
preset. Without the transport's ``arm`` the camera stays paused and the test fails."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.runtime.messages import ArmAnalytics
from safecity.monitor.runtime.ray_transport import RayTransport, ray_runtime
from safecity.monitor.runtime.worker import RuntimeOptions
from tests.integration.ray_helpers import BLOB, ListSink, wait_for, write_walking_clip

pytestmark = pytest.mark.integration

ZONE = {"name": "right", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}
CAM = "ptz-walk"


def _config(clip: Path) -> MonitorConfig:
    cam = {
        "id": CAM,
        "source": str(clip),
        "detect_fps": 5,
        "zones": [ZONE],
        "rules": [{"type": "intrusion", "zone": "right", "min_s": 0.2, "name": "in_right"}],
        "ptz": {
            "onvif": {"host": "127.0.0.1", "port": 1, "user": "u", "password_env": "UNUSED_PTZ_PW"},
            "presets": [{"name": "a", "rules": ["in_right"]}, {"name": "b"}],
        },
    }
    return MonitorConfig.model_validate(
        {"cameras": [cam], "tracker": {"high_thresh": 0.5, "new_track_thresh": 0.5, "lost_s": 1.0}}
    )


def _frames(hub: object) -> int:
    counters = hub.stats()["cameras"].get(CAM, {})  # type: ignore[attr-defined]
    return int(counters.get("frames", 0))


def test_an_armed_ptz_camera_on_ray_runs_its_preset_rules(tmp_path: Path) -> None:
    clip = write_walking_clip(tmp_path / "walk.mp4", seconds=4.0)
    sink = ListSink()
    hub = ray_runtime(_config(clip), sinks=[sink], num_cpus=1, loop=True,
                      options=RuntimeOptions(detector_factory=BLOB))  # fmt: skip
    assert isinstance(hub.transport, RayTransport)
    preset = {"now": "b"}
    stop = threading.Event()

    def patrol() -> None:  # what PtzRuntime does: the driver's word, again every half second
        while not stop.is_set():
            hub.arm_analytics(ArmAnalytics(CAM, preset["now"]))
            stop.wait(0.5)

    hub.start()
    sender = threading.Thread(target=patrol, daemon=True)
    sender.start()
    try:
        # armed at b (no rules): the block walks through the zone (a 4 s clip, 40 frames, looped) unseen
        wait_for(lambda: _frames(hub) >= 150, "the PTZ camera's actor to analyse 150 frames at preset b")
        assert sink.starts(CAM, "intrusion") == []
        preset["now"] = "a"
        wait_for(lambda: bool(sink.starts(CAM, "intrusion")), "an intrusion at preset a through Ray")
    finally:
        stop.set()
        sender.join(5)
        hub.stop()
    starts = sink.starts(CAM, "intrusion")
    assert {e.detail.get("preset") for e in starts} == {"a"}
