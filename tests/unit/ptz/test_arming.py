"""PresetArming inside a real CameraPipeline (fake blob detector, synthetic frames): no gate, detector or
rules while the PTZ moves; per-preset rules after re-calibration (rules on preset A do not fire on preset
B); events carry the preset; live events end when the camera leaves; the picture decides when the camera
reports no move status; fixed cameras are untouched."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from safecity.monitor.config.model import CameraConfig, TrackerConfig
from safecity.monitor.pipeline import CameraPipeline
from safecity.monitor.sources.readers import DecodedFrame
from safecity.monitor.types import Event, EventKind
from safecity.ptz.arming import PresetArming
from tests.unit.monitor.test_pipeline import BlobDetector, H, W

ZONES = [
    {"name": "left", "polygon": [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]},
    {"name": "right", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]},
]


def _ptz_camera(**ptz: Any) -> CameraConfig:
    doc: dict[str, Any] = {
        "id": "ptz1",
        "source": "rtsp://127.0.0.1/x",
        "zones": ZONES,
        "rules": [
            {"type": "intrusion", "zone": "left", "min_s": 0.4, "name": "in_left"},
            {"type": "intrusion", "zone": "right", "min_s": 0.4, "name": "in_right"},
        ],
        "ptz": {
            "onvif": {"host": "127.0.0.1", "user": "u", "password_env": "P"},
            "presets": [{"name": "a", "rules": ["in_left"]}, {"name": "b", "rules": ["in_right"]}],
            **ptz,
        },
    }
    return CameraConfig.model_validate(doc)


def _frame(t_s: float, index: int, block_x: int | None = None, shift: int = 0) -> DecodedFrame:
    rng = np.random.default_rng(index)
    gray = np.full((H, W), 90, np.uint8) + rng.integers(0, 3, (H, W), dtype=np.uint8)
    gray[:, (np.arange(W) + shift) % 40 < 4] = 140  # a textured scene: stripes that a pan moves
    if block_x is not None:
        gray[70:130, block_x : block_x + 20] = 250
    return DecodedFrame("ptz1", t_s, index, W, H, gray)


class Clip:
    """Feeds frames at 5 fps and collects events."""

    def __init__(self, pipe: CameraPipeline) -> None:
        self.pipe, self.i = pipe, 0
        self.events: list[tuple[EventKind, Event]] = []
        self.detector_calls = 0

    def run(self, n: int, block_x: int | None = None, *, pan: int = 0) -> None:
        for _ in range(n):
            self.i += 1
            shift = pan * self.i
            res = self.pipe.step(_frame(self.i / 5, self.i, block_x, shift))
            self.events += list(res.events)
            self.detector_calls += int(res.detector_called)

    def starts(self) -> list[Event]:
        return [e for k, e in self.events if k == "start" and e.type == "intrusion"]


def _pipe(cam: CameraConfig) -> CameraPipeline:
    cfg = TrackerConfig(high_thresh=0.5, new_track_thresh=0.5, min_hits=2, lost_s=1.0)
    return CameraPipeline(cam, BlobDetector(), tracker=cfg)


def test_a_fixed_camera_has_no_arming() -> None:
    cam = CameraConfig.model_validate({"id": "f", "source": "x.mp4"})
    assert PresetArming.for_camera(cam) is None
    assert _pipe(cam).ptz is None


def test_nothing_runs_before_the_driver_arms_a_preset() -> None:
    pipe = _pipe(_ptz_camera())
    clip = Clip(pipe)
    clip.run(10)
    clip.run(20, block_x=40)  # someone in the left zone: no preset, so no rule and no detector
    assert clip.detector_calls == 0 and clip.starts() == []
    assert pipe.ptz is not None and not pipe.ptz.armed


def test_rules_of_preset_a_do_not_fire_on_preset_b_and_events_carry_the_preset() -> None:
    pipe = _pipe(_ptz_camera())
    assert pipe.ptz is not None
    clip = Clip(pipe)
    pipe.ptz.request("b")
    clip.run(10)
    assert pipe.ptz.armed and pipe.ptz.preset == "b"
    clip.run(20, block_x=40)  # left zone at preset b: in_left is not armed there
    assert clip.starts() == []
    assert clip.detector_calls > 0  # the gate and detector did run
    clip.run(10)
    clip.run(20, block_x=240)  # right zone at preset b: in_right fires
    starts = clip.starts()
    assert [(e.zone, e.detail.get("preset")) for e in starts] == [("right", "b")]

    pipe.ptz.request(None)  # the patrol swings to a: the live event ends, tagged b
    clip.run(3, block_x=240)
    ends = [e for k, e in clip.events if k == "end" and e.type == "intrusion"]
    assert [(e.zone, e.detail.get("preset")) for e in ends] == [("right", "b")]
    calls = clip.detector_calls
    clip.run(10, block_x=240, pan=7)  # travelling: nothing runs
    assert clip.detector_calls == calls and not pipe.ptz.armed

    pipe.ptz.request("a")
    clip.events.clear()
    clip.run(10)
    clip.run(20, block_x=240)  # right zone at preset a: nothing
    assert clip.starts() == []
    clip.run(10)
    clip.run(20, block_x=40)
    assert [(e.zone, e.detail.get("preset")) for e in clip.starts()] == [("left", "a")]


def test_arming_relearns_the_gate_and_the_health_reference() -> None:
    pipe = _pipe(_ptz_camera())
    assert pipe.ptz is not None
    clip = Clip(pipe)
    pipe.ptz.request("a")
    clip.run(5)
    pipe.ptz.request(None)
    clip.run(5, pan=9)
    pipe.ptz.request("b")
    clip.run(1, pan=0)
    # a fresh gate calibrates on the new view: the first armed frame is scanned whole
    assert clip.detector_calls >= 2
    # no camera_moved for a PTZ that went to another preset
    clip.run(80)
    assert not [e for _, e in clip.events if e.type == "camera_moved"]


def test_an_unknown_preset_arms_nothing() -> None:
    pipe = _pipe(_ptz_camera())
    assert pipe.ptz is not None
    pipe.ptz.request("nowhere")
    clip = Clip(pipe)
    clip.run(10)
    clip.run(20, block_x=40)
    assert not pipe.ptz.armed and clip.starts() == []


@pytest.mark.parametrize("pan", [0, 9])
def test_without_move_status_the_picture_decides(pan: int) -> None:
    pipe = _pipe(_ptz_camera())
    assert pipe.ptz is not None
    clip = Clip(pipe)
    pipe.ptz.request("a", wait_still=True)
    clip.run(15, pan=pan)
    assert pipe.ptz.armed is (pan == 0)  # still picture: armed after still_s; panning: never
    if pan == 0:
        clip.run(3, pan=9)  # it starts moving on its own: paused at once
        assert not pipe.ptz.armed
        clip.run(10, pan=0)
        assert pipe.ptz.armed and pipe.ptz.preset == "a"


def test_a_ptz_held_elsewhere_for_long_is_not_a_moved_camera() -> None:
    import cv2

    rng = np.random.default_rng(3)
    scene = cv2.resize(
        rng.integers(40, 220, (18, 64), dtype=np.uint8), (2 * W, H), interpolation=cv2.INTER_CUBIC
    )

    def view(i: int, x0: int) -> DecodedFrame:  # a textured scene, seen from x0
        return DecodedFrame("ptz1", i / 5, i, W, H, np.ascontiguousarray(scene[:, x0 : x0 + W]))

    pipe = _pipe(_ptz_camera())
    assert pipe.ptz is not None
    pipe.ptz.request("a")
    events = []
    for i in range(1, 41):  # the health monitor learns the view at a
        events += list(pipe.step(view(i, 0)).events)
    pipe.ptz.request(None)  # an operator (or a hand-off) points it elsewhere for a minute
    for i in range(41, 341):
        events += list(pipe.step(view(i, 80)).events)
    assert not [e for _, e in events if e.type == "camera_moved"]
