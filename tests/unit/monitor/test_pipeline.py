"""CameraPipeline wiring with a fake detector: motion gating, detector call counts, rules, gaps.

The fake detector finds bright blobs in whatever crop it is given (a stand-in for NanoDet so the
wiring can be tested without a model); the real detector runs in the integration tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from safecity.monitor.config.model import CameraConfig
from safecity.monitor.pipeline import CameraPipeline
from safecity.monitor.sources.readers import DecodedFrame, SourceGap
from safecity.monitor.types import Detections

W, H = 320, 180
U8 = npt.NDArray[np.uint8]


class BlobDetector:
    """Reports the bounding box of pixels brighter than 200 in each image as one ``person``."""

    name = "blob"
    input_size = (64, 64)

    def __init__(self) -> None:
        self.calls = 0
        self.images = 0

    def detect_batch(self, images_bgr: Sequence[U8]) -> list[Detections]:
        self.calls += 1
        out = []
        for img in images_bgr:
            self.images += 1
            ys, xs = np.nonzero(img[..., 1] > 200)
            if len(xs) == 0:
                out.append(Detections.empty())
                continue
            box = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32)
            out.append(Detections(box, np.array([0.9], np.float32), np.array(["person"], dtype="<U16")))
        return out


def _camera(**extra: Any) -> CameraConfig:
    doc: dict[str, Any] = {
        "id": "cam1",
        "source": "x.mp4",
        "zones": [{"name": "gate", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}],
        "rules": [{"type": "intrusion", "zone": "gate", "min_s": 0.4}],
    }
    doc.update(extra)
    return CameraConfig.model_validate(doc)


def _frame(t_s: float, index: int, block_x: int | None = None) -> DecodedFrame:
    rng = np.random.default_rng(index)
    gray = np.full((H, W), 90, np.uint8) + rng.integers(0, 3, (H, W), dtype=np.uint8)
    if block_x is not None:
        gray[70:130, block_x : block_x + 20] = 250  # a bright "person" 20 x 60 px
    return DecodedFrame("cam1", t_s, index, W, H, gray)


def _tracker_cfg() -> Any:
    from safecity.monitor.config.model import TrackerConfig

    return TrackerConfig(high_thresh=0.5, new_track_thresh=0.5, min_hits=2, lost_s=1.0)


def test_static_scene_calls_the_detector_only_for_the_startup_scan() -> None:
    det = BlobDetector()
    pipe = CameraPipeline(_camera(), det, tracker=_tracker_cfg())
    called = [pipe.step(_frame(i / 5, i + 1)).detector_called for i in range(50)]
    # the first frame (motion gate calibrating) is scanned whole once; after that: no motion, no tracks
    assert called[0] is True
    assert not any(called[1:])
    assert pipe.counters.detector_calls == det.calls == 1
    assert pipe.counters.frames == 50


def test_moving_object_is_detected_tracked_and_raises_intrusion() -> None:
    det = BlobDetector()
    pipe = CameraPipeline(_camera(), det, tracker=_tracker_cfg())
    events = []
    for i in range(10):  # settle the background
        pipe.step(_frame(i / 5, i + 1))
    for k in range(30):  # walks from x=20 to x=281 at 5 fps
        res = pipe.step(_frame((10 + k) / 5, 11 + k, block_x=20 + 9 * k))
        events += list(res.events)
        assert res.detector_called
    starts = [e for kind, e in events if kind == "start" and e.type == "intrusion"]
    assert len(starts) == 1
    ev = starts[0]
    # the foot point (x centre 30 + 9k) passes x = 160 (the zone's edge) at k = 15 -> t = 5.0 s; the
    # event is stamped with that onset (it is raised after the 0.4 s debounce)
    assert 5.0 <= ev.start_s <= 5.2
    assert ev.zone == "gate" and ev.object_class == "person" and len(ev.track_ids) == 1
    assert det.calls == pipe.counters.detector_calls


def test_live_track_without_motion_keeps_the_detector_on_its_box() -> None:
    det = BlobDetector()
    pipe = CameraPipeline(_camera(), det, tracker=_tracker_cfg())
    for i in range(10):
        pipe.step(_frame(i / 5, i + 1))
    for k in range(8):  # walk in, then stand still at x=220 (inside the zone)
        pipe.step(_frame((10 + k) / 5, 11 + k, block_x=150 + 10 * k))
    standing = [pipe.step(_frame((18 + k) / 5, 19 + k, block_x=220)) for k in range(40)]
    # a motionless person is still re-detected on its track region, so its track and event stay alive
    assert all(r.detector_called for r in standing[-10:])
    assert all(len(r.tracks) == 1 for r in standing[-10:])
    ends = [e for r in standing for kind, e in r.events if kind == "end" and e.type == "intrusion"]
    assert ends == []


def test_person_leaving_ends_the_event_and_the_detector_stops() -> None:
    det = BlobDetector()
    pipe = CameraPipeline(_camera(), det, tracker=_tracker_cfg())
    results = []
    blocks = [None] * 10 + [200 + 5 * k for k in range(10)] + [None] * 40
    for idx, block in enumerate(blocks, 1):
        results.append(pipe.step(_frame(idx / 5, idx, block_x=block)))
    kinds = [(kind, e.type) for r in results for kind, e in r.events if e.type == "intrusion"]
    assert ("start", "intrusion") in kinds and ("end", "intrusion") in kinds
    # once the track is gone and the picture is still again, no more detector calls
    assert not any(r.detector_called for r in results[-10:])


@pytest.mark.parametrize(
    ("outage_s", "offline"),
    [
        (1.0, False),  # shorter than offline_s: no event yet
        (5.0, True),  # longer: camera_offline starts
    ],
)
def test_source_gaps_raise_camera_offline(outage_s: float, offline: bool) -> None:
    cam = _camera(rules=[{"type": "camera_health", "offline_s": 3.0}])
    pipe = CameraPipeline(cam, BlobDetector())
    t0 = 1_764_000_000.0
    events = []
    for k in range(int(outage_s) + 1):
        res = pipe.step(SourceGap("cam1", t0 + k, "connection refused", t0))
        events += [e for kind, e in res.events if kind == "start"]
        assert res.tracks.track_id.size == 0 and not res.detector_called
    assert any(e.type == "camera_offline" for e in events) is offline
    assert pipe.counters.gaps == int(outage_s) + 1


def test_finish_ends_live_events() -> None:
    pipe = CameraPipeline(_camera(), BlobDetector(), tracker=_tracker_cfg())
    for i in range(10):
        pipe.step(_frame(i / 5, i + 1))
    for k in range(10):
        pipe.step(_frame((10 + k) / 5, 11 + k, block_x=200))
    ended = pipe.finish(4.0)
    assert [kind for kind, e in ended if e.type == "intrusion"] == ["end"]


class HintedBlobDetector(BlobDetector):
    """A tiered detector (like the cascade): records the track boxes and zone flags it is given."""

    wants_confirm_hints = True

    def __init__(self) -> None:
        super().__init__()
        self.track_boxes: list[int] = []  # per call: track boxes over all crops
        self.allowed: list[list[bool] | None] = []

    def detect_batch(
        self,
        images_bgr: Sequence[U8],
        confirm_allowed: Sequence[bool] | None = None,
        track_boxes: Sequence[npt.NDArray[np.float32]] = (),
    ) -> list[Detections]:
        self.track_boxes.append(sum(len(t) for t in track_boxes))
        self.allowed.append(None if confirm_allowed is None else list(confirm_allowed))
        return super().detect_batch(images_bgr)


# (zone polygon, whether a crop around the walker at x = 20..80 touches it)
ZONE_CASES = [
    ([[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]], False),  # right half: the walker is far left
    ([[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]], True),  # left half: around the walker
]


@pytest.mark.parametrize(("polygon", "touches"), ZONE_CASES)
def test_tiered_detector_gets_track_hints_and_zones(polygon: list[list[float]], touches: bool) -> None:
    cam = _camera(zones=[{"name": "gate", "polygon": polygon}])
    det = HintedBlobDetector()
    pipe = CameraPipeline(cam, det, tracker=_tracker_cfg(), min_crop_px=40)
    for i in range(10):
        pipe.step(_frame(i / 5, i + 1))
    det.track_boxes.clear()
    det.allowed.clear()
    tracked = []
    for k in range(8):  # a slow walker on the left: a track after min_hits, then its box is handed on
        res = pipe.step(_frame((10 + k) / 5, 11 + k, block_x=20 + 8 * k))
        tracked.append(len(res.tracks) > 0)
    assert det.track_boxes and det.track_boxes[0] == 0  # first sighting: no track yet
    assert tracked[-1] and det.track_boxes[-1] == 1  # once tracked, its box goes with its crop
    assert all(a is not None and any(a) is touches for a in det.allowed)  # zones reach the detector


def test_health_due_names_when_a_building_condition_matures() -> None:
    """A frozen picture: the condition starts at the second check; health_due_s is its start plus
    frozen_s (+ 0.2 s slack), the time the worker asks a gated source in watch mode to decode."""
    pipe = CameraPipeline(_camera(), BlobDetector(), tracker=_tracker_cfg())
    gray = np.full((H, W), 90, np.uint8)
    gray[10:40, 10:60] = 140  # some texture, not "covered"
    assert pipe.health_due_s is None
    for i in range(6):
        pipe.step(DecodedFrame("cam1", i * 0.6, i + 1, W, H, gray))
    frozen_s = 30.0  # the camera_health default
    assert pipe.health_due_s == pytest.approx(0.6 + frozen_s + 0.2)
