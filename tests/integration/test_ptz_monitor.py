"""`safecity monitor` (no console) runs the PTZ patrol drivers too (service.build_ptz, as `safecity serve`):
a PTZ camera of the config, steered over real ONVIF (the virtual camera, ONVIF only), is sent to its home
preset by its driver, and the driver's ``ArmAnalytics`` reaches the camera's worker process, so its
motion gate and detector run. The picture is a looping clip of a block walking through the view: while
the camera stays paused (no driver, the state before) the gate never runs and ``motion_frames`` and
``detector_calls`` stay 0. The command exits 0 and stops the drivers (the camera sees no more commands)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.ptz_helpers import VirtualPtz
from tests.unit.monitor.runtime.test_ray_actor import write_walking_clip

pytestmark = pytest.mark.integration

CAM = "ptz-mon"


@pytest.fixture(scope="module")
def vcam() -> Iterator[VirtualPtz]:
    cam = VirtualPtz(presets={"a": (0.3, -0.1, 0.5), "b": (-0.5, 0.0, 0.0)}, rtsp=False, speed=4.0)
    cam.start()
    yield cam
    cam.stop()


def _config(folder: Path, vcam: VirtualPtz) -> Path:
    clip = write_walking_clip(folder / "walk.mp4", seconds=4.0)
    doc = {
        "cameras": [
            {
                "id": CAM,
                "source": str(clip),
                "detect_fps": 5,
                "zones": [{"name": "right", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}],
                "rules": [{"type": "intrusion", "zone": "right", "min_s": 0.2, "name": "in_right"}],
                "ptz": {
                    "onvif": {
                        "host": "127.0.0.1",
                        "port": vcam.port,
                        "user": vcam.user,
                        "password_env": "VPTZ_MONITOR_PW",
                        "timeout_s": 3,
                    },
                    "presets": [{"name": "a", "rules": ["in_right"], "settle_s": 0.5}, {"name": "b"}],
                    "home_preset": "a",
                },
            }
        ]
    }
    path = folder / "cams.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_monitor_runs_the_ptz_driver_and_arms_the_camera(tmp_path: Path, vcam: VirtualPtz) -> None:
    cfg = _config(tmp_path, vcam)
    env = {**os.environ, "SAFECITY_HOME": str(tmp_path / "home"), "VPTZ_MONITOR_PW": vcam.password}
    proc = subprocess.run(
        [sys.executable, "-m", "safecity.cli", "monitor", "--config", str(cfg), "--no-store",
         "--workers", "1", "--loop", "--realtime", "--duration", "40", "--json"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    counters = out["cameras"][CAM]
    assert counters["frames"] > 0, out
    # armed at preset a by the driver: the gate saw the walking block and the detector ran
    assert counters["motion_frames"] > 0 and counters["detector_calls"] > 0, counters
    # the driver really steered the camera: it rests at preset a's position
    from safecity.ptz.camera import PtzCamera

    client = PtzCamera("127.0.0.1", vcam.port, vcam.user, vcam.password, name="check", timeout_s=3)
    try:
        pos = client.status().position
        assert pos is not None and (pos.pan, pos.tilt, pos.zoom) == pytest.approx((0.3, -0.1, 0.5), abs=0.02)
    finally:
        client.close()
