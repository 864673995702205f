"""CascadeDetector: cheap first pass, confirmation only where unsure or tracked, merged boxes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest

from safecity.errors import ModelError
from safecity.monitor.types import Detections
from safecity.monitor.vision.cascade import CascadeDetector
from safecity.monitor.vision.detect import (
    Detector,
    NanoDetDetector,
    SsdMobileNetDetector,
    detect_regions,
    load_detector,
)

REPO = Path(__file__).resolve().parents[4]
IMAGES = REPO / "tests" / "data" / "images"


@pytest.fixture(scope="module")
def nanodet() -> NanoDetDetector:
    return NanoDetDetector(conf=0.25)


@pytest.fixture(scope="module")
def ssd() -> SsdMobileNetDetector:
    return SsdMobileNetDetector(conf=0.3)


def _stage(kind: str, conf: float) -> SimpleNamespace:
    """A stand-in of the config's cascade stage (anything with type, model and conf works)."""
    return SimpleNamespace(type=kind, model=None, conf=conf)


def _car() -> np.ndarray:
    return cv2.imread(str(IMAGES / "intel-pbc-car-t1.8s.jpg"))


def _mot(shared_dir: Path, seq: str) -> tuple[np.ndarray, np.ndarray]:
    """Frame 1 of a MOT17-mini sequence and its pedestrians (consider=1, visibility >= 0.7, > 100 px)."""
    root = shared_dir / "data/video/mot17-mini-dev" / seq
    gt = np.loadtxt(root / "gt/gt.txt", delimiter=",", ndmin=2)
    rows = gt[(gt[:, 0] == 1) & (gt[:, 6] == 1) & (gt[:, 7] == 1) & (gt[:, 8] >= 0.7) & (gt[:, 5] > 100)]
    boxes = rows[:, 2:6].copy()
    boxes[:, 2:] += boxes[:, :2]
    return cv2.imread(str(root / "img1/000001.jpg")), boxes.astype(np.float32)


def _found(gt: np.ndarray, dets: Detections) -> int:
    people = dets[dets.class_name == "person"].xyxy_px
    n = 0
    for g in gt:
        if len(people) == 0:
            break
        x1 = np.maximum(g[0], people[:, 0])
        y1 = np.maximum(g[1], people[:, 1])
        x2 = np.minimum(g[2], people[:, 2])
        y2 = np.minimum(g[3], people[:, 3])
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        union = (g[2] - g[0]) * (g[3] - g[1]) + (people[:, 2] - people[:, 0]) * (people[:, 3] - people[:, 1])
        n += int((inter / (union - inter)).max() >= 0.5)
    return n


@pytest.mark.parametrize(
    ("picture", "hint", "accept", "confirmed"),
    [
        ("blank", False, 0.6, 0),  # motion without an object: first pass finds nothing, no NanoDet
        ("blank", True, 0.6, 1),  # a live track there: confirmed even though SSD saw nothing
        ("car", False, 1.0, 1),  # SSD finds the car; nothing counts as sure with accept 1.0
        ("car", False, 0.01, 0),  # every SSD box is above accept: no confirmation needed
    ],
)
def test_confirmation_runs_only_where_needed(
    ssd: SsdMobileNetDetector,
    nanodet: NanoDetDetector,
    picture: str,
    hint: bool,
    accept: float,
    confirmed: int,
) -> None:
    cascade = CascadeDetector(ssd, nanodet, accept=accept)
    img = np.full((360, 640, 3), 90, np.uint8) if picture == "blank" else _car()
    out = cascade.detect_batch([img], confirm_hints=[hint])
    assert cascade.calls == 1 and cascade.confirm_calls == confirmed
    if picture == "car":
        assert "car" in out[0].class_name.tolist()
    else:
        assert len(out[0]) == 0


def test_merge_keeps_what_either_model_finds(
    shared_dir: Path, ssd: SsdMobileNetDetector, nanodet: NanoDetDetector
) -> None:
    # accept 1.0: every picture with a first-pass box is confirmed, so the output is the merge
    cascade = CascadeDetector(ssd, nanodet, accept=1.0)
    hits = {"ssd": 0, "nanodet": 0, "cascade": 0}
    total = 0
    for seq in ("MOT17-05-FRCNN", "MOT17-11-FRCNN", "MOT17-13-FRCNN"):
        bgr, gt = _mot(shared_dir, seq)
        det: Detector
        for name, det in (("ssd", ssd), ("nanodet", nanodet), ("cascade", cascade)):
            hits[name] += _found(gt, det.detect_batch([bgr])[0])
        total += len(gt)
    print(f"tall people found on frame 1 of 3 MOT17 scenes ({total}): {hits}")
    assert total >= 10
    assert hits["cascade"] >= max(hits["ssd"], hits["nanodet"])


def test_detect_regions_hints_the_crops_that_hold_tracks(
    ssd: SsdMobileNetDetector, nanodet: NanoDetDetector
) -> None:
    # a 1920x1080 grey frame: two far-apart motion regions give two crops; a track is in the right one
    cascade = CascadeDetector(ssd, nanodet)
    frame = np.full((1080, 1920, 3), 120, np.uint8)
    motion = np.array([[0.05, 0.1, 0.1, 0.3]], np.float32)
    track = np.array([[0.85, 0.6, 0.9, 0.8]], np.float32)
    out = detect_regions(cascade, frame, motion, track_boxes_frac=track)
    assert len(out) == 0
    assert cascade.calls == 2 and cascade.confirm_calls == 1
    # without tracks neither crop is confirmed
    detect_regions(cascade, frame, np.concatenate([motion, track]))
    assert cascade.calls == 4 and cascade.confirm_calls == 1


@pytest.mark.parametrize(
    ("first_pass", "confirm", "kinds"),
    [
        (None, None, ("ssd", "nanodet")),  # defaults: SSD then NanoDet
        ({"type": "nanodet", "conf": 0.2}, {"type": "ssd", "conf": 0.5}, ("nanodet", "ssd")),  # mappings
        (_stage("ssd", 0.25), _stage("nanodet", 0.3), ("ssd", "nanodet")),  # objects with attributes
        # the runtime's form: load_detector arguments
        (
            {"kind": "nanodet", "model_path": None, "conf": 0.2},
            {"kind": "ssd", "model_path": None, "conf": 0.5},
            ("nanodet", "ssd"),
        ),
    ],
)  # fmt: skip
def test_load_detector_builds_a_cascade(first_pass: Any, confirm: Any, kinds: tuple[str, str]) -> None:
    det = load_detector("cascade", None, conf=0.3, threads=1, first_pass=first_pass, confirm=confirm)
    assert isinstance(det, CascadeDetector) and isinstance(det, Detector)
    assert (det.first_pass.name, det.confirm.name) == kinds
    if isinstance(first_pass, dict):
        assert getattr(det.first_pass, "conf", None) == first_pass["conf"]
        assert getattr(det.confirm, "conf", None) == confirm["conf"]


@pytest.mark.parametrize(
    ("first_pass", "match"),
    [
        ({"type": "cascade"}, "cannot itself be a cascade"),  # no nesting
        ({"type": "tflite"}, "unknown detector kind"),  # unknown pass
        ({"type": "yolo"}, "needs model_path"),  # own ONNX without a file
    ],
)
def test_load_cascade_errors(first_pass: dict[str, str], match: str) -> None:
    with pytest.raises(ModelError, match=match):
        load_detector("cascade", first_pass=first_pass)


def test_hints_must_match_pictures(ssd: SsdMobileNetDetector, nanodet: NanoDetDetector) -> None:
    with pytest.raises(ValueError, match="confirm hints"):
        CascadeDetector(ssd, nanodet).detect_batch([_car()], confirm_hints=[True, False])


@pytest.mark.parametrize(
    ("confirm_when", "zone", "confirmed"),
    [
        ("any", [[0.0, 0.0], [0.2, 0.0], [0.2, 0.2]], 2),  # both unsure crops confirmed
        ("in_zones", [[0.0, 0.0], [0.2, 0.0], [0.2, 0.2]], 1),  # only the crop at the top-left zone
        ("in_zones", [[0.4, 0.9], [0.6, 0.9], [0.6, 1.0]], 0),  # a zone that touches neither crop
    ],
)
def test_confirm_only_crops_in_zones(
    ssd: SsdMobileNetDetector,
    nanodet: NanoDetDetector,
    confirm_when: str,
    zone: list[list[float]],
    confirmed: int,
) -> None:
    # the Intel car picture pasted at the top-left and bottom-right of a 1920x1080 frame; accept 1.0
    # makes every first-pass box unsure, so only the zone rule decides
    car = cv2.resize(_car(), (400, 225))
    frame = np.full((1080, 1920, 3), 120, np.uint8)
    frame[50:275, 50:450] = car
    frame[800:1025, 1450:1850] = car
    motion = np.array([[50 / 1920, 50 / 1080, 450 / 1920, 275 / 1080],
                       [1450 / 1920, 800 / 1080, 1850 / 1920, 1025 / 1080]], np.float32)  # fmt: skip
    cascade = CascadeDetector(ssd, nanodet, accept=1.0, confirm_when=confirm_when)  # type: ignore[arg-type]
    out = detect_regions(cascade, frame, motion, zones_frac=[np.array(zone, np.float32)])
    assert cascade.calls == 2 and cascade.confirm_calls == confirmed
    assert (out.class_name == "car").sum() >= 2  # the first pass alone still reports both cars


@pytest.mark.parametrize(
    ("track", "confirmed"),
    [
        (None, 1),  # no track: the unsure car box needs NanoDet
        ("on_car", 0),  # a live track on the car: the weak box only extends it, no confirmation
        ("elsewhere", 1),  # a track elsewhere: the unsure car box is off it (and the track is lost)
    ],
)
def test_unsure_boxes_on_live_tracks_need_no_confirmation(
    ssd: SsdMobileNetDetector, nanodet: NanoDetDetector, track: str | None, confirmed: int
) -> None:
    img = _car()
    cascade = CascadeDetector(ssd, nanodet, accept=1.0)  # every first-pass box counts as unsure
    first = ssd.detect_batch([img])[0]
    cars = first[first.class_name == "car"].xyxy_px
    assert len(cars) >= 1
    boxes = {
        None: np.zeros((0, 4), np.float32),
        "on_car": cars[:1] + np.array([-10, -10, 10, 10], np.float32),
        "elsewhere": np.array([[0, 0, 5, 5]], np.float32),  # a corner where SSD finds nothing
    }[track]
    cascade.detect_batch([img], track_boxes=[boxes])
    assert cascade.confirm_calls == confirmed
