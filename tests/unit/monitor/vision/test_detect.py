"""Detectors on real images (MOT17 from ../shared, Intel frames), decoding, cropping and pose."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safecity.errors import ModelError
from safecity.monitor.types import Detections
from safecity.monitor.vision.cascade import CascadeDetector
from safecity.monitor.vision.detect import (
    COCO80,
    DEFAULT_CLASSES,
    Detector,
    NanoDetDetector,
    PoseEstimator,
    SsdMobileNetDetector,
    crop_regions,
    decode_nanodet,
    decode_yolo,
    detect_regions,
    load_detector,
    nms,
)

REPO = Path(__file__).resolve().parents[4]
IMAGES = REPO / "tests" / "data" / "images"
MOT_SEQS = ("MOT17-02-FRCNN", "MOT17-05-FRCNN", "MOT17-10-FRCNN", "MOT17-11-FRCNN", "MOT17-13-FRCNN")


@pytest.fixture(scope="module")
def nanodet() -> NanoDetDetector:
    return NanoDetDetector()


@pytest.fixture(scope="module")
def nanodet_int8() -> NanoDetDetector:
    # at the config's default conf (0.2): at the picture's aspect this car scores 0.26 (0.40 squashed
    # into the float model's square), people mostly higher (MOT17 test below)
    return NanoDetDetector(precision="int8", conf=0.2)


@pytest.fixture(scope="module")
def ssd() -> SsdMobileNetDetector:
    return SsdMobileNetDetector()


def _mot_gt(shared_dir: Path, seq: str, frame: int, *, min_visibility: float = 0.7) -> np.ndarray:
    """Pedestrian boxes (consider=1, class 1) of one frame as x1, y1, x2, y2 (gt/gt.txt, MOT17 format)."""
    gt = np.loadtxt(shared_dir / "data/video/mot17-mini-dev" / seq / "gt/gt.txt", delimiter=",", ndmin=2)
    rows = gt[(gt[:, 0] == frame) & (gt[:, 6] == 1) & (gt[:, 7] == 1) & (gt[:, 8] >= min_visibility)]
    boxes = rows[:, 2:6].copy()
    boxes[:, 2:] += boxes[:, :2]
    return boxes.astype(np.float32)


def _mot_frames(shared_dir: Path, seq: str) -> list[tuple[int, Path]]:
    img_dir = shared_dir / "data/video/mot17-mini-dev" / seq / "img1"
    return [(int(p.stem), p) for p in sorted(img_dir.glob("*.jpg"))]


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return np.asarray(inter / (area_a[:, None] + area_b[None] - inter))


def _hits(gt: np.ndarray, dets: Detections, iou: float = 0.5) -> np.ndarray:
    people = dets[dets.class_name == "person"].xyxy_px
    if len(gt) == 0 or len(people) == 0:
        return np.zeros(len(gt), bool)
    return np.asarray(_iou(gt, people).max(axis=1) >= iou)


def _recall_on_tall_people(shared_dir: Path, detector: Detector, seqs: tuple[str, ...]) -> tuple[int, int]:
    hit = total = 0
    for seq in seqs:
        for k, path in _mot_frames(shared_dir, seq):
            gt = _mot_gt(shared_dir, seq, k)
            gt = gt[(gt[:, 3] - gt[:, 1]) > 100]
            found = _hits(gt, detector.detect_batch([cv2.imread(str(path))])[0])
            hit += int(found.sum())
            total += len(gt)
    return hit, total


# --- real images ------------------------------------------------------------------------------


def test_nanodet_finds_most_tall_unoccluded_people(shared_dir: Path, nanodet: NanoDetDetector) -> None:
    hit, total = _recall_on_tall_people(shared_dir, nanodet, MOT_SEQS)
    print(f"NanoDet recall on MOT17-mini GT people > 100 px tall, visibility >= 0.7: {hit}/{total}")
    # Measured 78/140 = 0.56 at conf 0.35 (per sequence 0.42-0.63; crowded 1080p scenes are hard
    # for a 416 input). Threshold a bit under.
    assert total > 100
    assert hit / total >= 0.5


def test_int8_nanodet_finds_as_many_tall_people(shared_dir: Path, nanodet_int8: NanoDetDetector) -> None:
    hit, total = _recall_on_tall_people(shared_dir, nanodet_int8, MOT_SEQS)
    print(f"NanoDet int8 recall on MOT17-mini GT people > 100 px tall, visibility >= 0.7: {hit}/{total}")
    # Measured 2026-12-07: int8 at the frames' aspect (416 x 224 / 416 x 320) 88/140 against the
    # float model's 78/140 at 416 x 416 (the test above); the same floor.
    assert total > 100
    assert hit / total >= 0.5


def test_ssd_finds_people_in_a_near_street_scene(shared_dir: Path, ssd: SsdMobileNetDetector) -> None:
    hit, total = _recall_on_tall_people(shared_dir, ssd, ("MOT17-05-FRCNN",))
    print(f"SSD recall on MOT17-05 GT people > 100 px tall: {hit}/{total}")
    # Measured 12/12 on MOT17-05 (640x480, people close to the camera).
    assert total >= 10
    assert hit / total >= 0.8


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("intel-pbc-car-t1.8s.jpg", {"car"}),  # a car on the access lane
        ("intel-pbc-car-bicycle-t31.8s.jpg", {"car"}),  # a car (and a cyclist)
    ],
)
@pytest.mark.parametrize("kind", ["nanodet", "nanodet-int8", "ssd"])
def test_detectors_find_cars_in_intel_frames(
    kind: str,
    image: str,
    expected: set[str],
    nanodet: NanoDetDetector,
    nanodet_int8: NanoDetDetector,
    ssd: SsdMobileNetDetector,
) -> None:
    detector: Detector = {"nanodet": nanodet, "nanodet-int8": nanodet_int8}.get(kind, ssd)
    bgr = cv2.imread(str(IMAGES / image))
    dets = detector.detect_batch([bgr])[0]
    assert expected <= set(dets.class_name.tolist())
    assert set(dets.class_name.tolist()) <= set(DEFAULT_CLASSES)
    h, w = bgr.shape[:2]
    assert ((dets.xyxy_px >= 0) & (dets.xyxy_px <= [w, h, w, h])).all()


def test_detect_batch_returns_one_result_per_image(
    nanodet: NanoDetDetector, ssd: SsdMobileNetDetector
) -> None:
    car = cv2.imread(str(IMAGES / "intel-pbc-car-t1.8s.jpg"))
    blank = np.zeros((200, 300, 3), np.uint8)
    for det in (nanodet, ssd):
        assert isinstance(det, Detector)
        out = det.detect_batch([car, blank, car])
        assert len(out) == 3 and len(out[1]) == 0
        np.testing.assert_allclose(out[0].xyxy_px, out[2].xyxy_px)
        assert det.detect_batch([]) == []


def test_cropping_motion_regions_finds_more_small_people(shared_dir: Path, nanodet: NanoDetDetector) -> None:
    """Motion at each pedestrian (its GT box stands in for the motion gate's box): crop vs whole frame."""
    whole_hits = crop_hits = total = 0
    for seq in ("MOT17-02-FRCNN", "MOT17-10-FRCNN", "MOT17-13-FRCNN"):  # 1920x1080 static and moving cameras
        bgr = cv2.imread(str(shared_dir / "data/video/mot17-mini-dev" / seq / "img1/000001.jpg"))
        h, w = bgr.shape[:2]
        gt = _mot_gt(shared_dir, seq, 1, min_visibility=0.5)
        whole_hits += int(_hits(gt, nanodet.detect_batch([bgr])[0]).sum())
        scale = np.array([w, h, w, h], np.float32)
        for box in gt:
            found = detect_regions(nanodet, bgr, (box / scale)[None])
            crop_hits += int(_hits(box[None], found)[0])
        total += len(gt)
    print(f"people found: whole frame {whole_hits}/{total}, motion-region crops {crop_hits}/{total}")
    # Measured 16/50 whole frame vs 38/50 with crops.
    assert crop_hits > whole_hits + 0.2 * total


def test_pose_keypoints_lie_on_the_person(shared_dir: Path) -> None:
    bgr = cv2.imread(str(shared_dir / "data/video/mot17-mini-dev/MOT17-05-FRCNN/img1/000001.jpg"))
    gt = _mot_gt(shared_dir, "MOT17-05-FRCNN", 1)
    people = gt[(gt[:, 3] - gt[:, 1]) > 100]
    kp = PoseEstimator().estimate(bgr, people)
    assert kp.shape == (len(people), 17, 3) and kp.dtype == np.float32
    for (x1, y1, x2, y2), k in zip(people, kp, strict=True):
        inside = (k[:, 1] >= x1 - 10) & (k[:, 1] <= x2 + 10) & (k[:, 0] >= y1 - 10) & (k[:, 0] <= y2 + 10)
        assert inside.mean() >= 0.9
        # Standing people: nose (0) above hips (11, 12) above ankles (15, 16). Measured mean score 0.55-0.63.
        assert k[0, 0] < k[11:13, 0].mean() < k[15:17, 0].mean()
        assert k[:, 2].mean() > 0.4
    assert PoseEstimator().estimate(bgr, np.zeros((0, 4), np.float32)).shape == (0, 17, 3)


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "path", "kwargs", "match"),
    [
        ("nanodet", "missing.onnx", {}, "does not exist"),  # wrong path
        ("nanodet", "junk.onnx", {}, "cannot load ONNX model"),  # not an ONNX file
        ("nanodet", None, {"classes": ["person", "unicorn"]}, "unicorn"),  # unknown class
        ("ssd", None, {"threads": 0}, "threads must be"),  # zero threads
        ("yolo", None, {}, "needs model_path"),  # plug-in without a file
        ("tflite", None, {}, "unknown detector kind"),  # unknown kind
    ],
)
def test_load_detector_errors(
    tmp_path: Path, kind: str, path: str | None, kwargs: dict[str, object], match: str
) -> None:
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    model = tmp_path / path if path else None
    with pytest.raises(ModelError, match=match):
        load_detector(kind, model, **kwargs)  # type: ignore[arg-type]


def test_int8_nanodet_keeps_the_pictures_aspect(
    nanodet: NanoDetDetector, nanodet_int8: NanoDetDetector
) -> None:
    assert nanodet.model_input(640, 360) == (416, 416)  # the float model's input is fixed
    assert nanodet_int8.fixed is None
    assert nanodet_int8.model_input(640, 360) == (416, 256)  # 234 rounded up to a multiple of 32
    assert nanodet_int8.model_input(1920, 1080) == (416, 256)
    assert nanodet_int8.model_input(640, 480) == (416, 320)
    assert nanodet_int8.model_input(360, 640) == (256, 416)  # portrait
    assert nanodet_int8.model_input(416, 20) == (416, 32)  # never below one stride-32 cell
    # at a given scale (crops at the whole frame's): float noise never adds a stride
    assert nanodet_int8.model_input(340, 200, 416 / 340) == (416, 256)  # 340 * (416/340) = 416.00000000000006
    assert all(nanodet_int8.model_input(w, 100, 416 / w)[0] == 416 for w in range(100, 2000))
    with pytest.raises(ModelError, match="multiple of 32"):
        NanoDetDetector(precision="int8", side=400)
    with pytest.raises(ModelError, match="'fp32' or 'int8'"):
        NanoDetDetector(precision="int4")  # type: ignore[arg-type]


def test_int8_nanodet_boxes_fit_portrait_and_landscape_pictures(nanodet_int8: NanoDetDetector) -> None:
    car = cv2.imread(str(IMAGES / "intel-pbc-car-t1.8s.jpg"))
    for bgr in (car, np.ascontiguousarray(car[:, :243])):  # the frame and a portrait crop around the car
        dets = nanodet_int8.detect_batch([bgr])[0]
        h, w = bgr.shape[:2]
        assert "car" in set(dets.class_name.tolist())
        assert ((dets.xyxy_px >= 0) & (dets.xyxy_px <= [w, h, w, h])).all()


def test_load_detector_builds_bundled_models() -> None:
    assert load_detector("nanodet", precision="int8").model_path.name == "nanodet-m-coco-int8.onnx"
    cascade = load_detector("cascade", precision="int8")  # the confirming NanoDet is the int8 one
    assert isinstance(cascade, CascadeDetector) and isinstance(cascade.confirm, NanoDetDetector)
    assert cascade.confirm.model_path.name == "nanodet-m-coco-int8.onnx"
    assert load_detector("nanodet", threads=2).name == "nanodet"
    ssd = load_detector("ssd", conf=0.5, classes=["person"])
    assert ssd.name == "ssd" and ssd.input_size == (300, 300)


# --- decoding (synthetic outputs) --------------------------------------------------------------


def _nanodet_outputs(
    cell: int, stride: int, cls: int, score: float, dist_bins: tuple[int, ...]
) -> list[np.ndarray]:
    outs = []
    for s in (8, 16, 32):
        g = 416 // s
        scores = np.zeros((1, g * g, 80), np.float32)
        dist = np.full((1, g * g, 44), -20.0, np.float32)
        dist[0, :, 0::11] = 20.0  # every side peaked at bin 0 (zero distance)
        if s == stride:
            scores[0, cell, cls] = score
            for side, b in enumerate(dist_bins):
                dist[0, cell, side * 11 : side * 11 + 11] = -20.0
                dist[0, cell, side * 11 + b] = 20.0
        outs += [scores, dist]
    return outs[::-1]  # order must not matter


@pytest.mark.parametrize(
    ("cell", "stride", "bins", "expected"),
    [
        (0, 8, (1, 1, 1, 1), [-4.0, -4.0, 12.0, 12.0]),  # top-left cell centre (4, 4), 8 px each side
        (52 * 3 + 2, 8, (2, 0, 0, 3), [4.0, 28.0, 20.0, 52.0]),  # row 3, col 2: centre (20, 28)
        (13 * 13 - 1, 32, (1, 2, 0, 0), [368.0, 336.0, 400.0, 400.0]),  # last cell of stride 32: (400, 400)
    ],
)
def test_decode_nanodet_matches_the_source_md_formula(
    cell: int, stride: int, bins: tuple[int, int, int, int], expected: list[float]
) -> None:
    outs = _nanodet_outputs(cell, stride, cls=2, score=0.9, dist_bins=bins)
    xyxy, scores, ids = decode_nanodet(outs, input_size=416, conf=0.5, class_ids=np.array([0, 2]))
    np.testing.assert_allclose(xyxy, [np.clip(expected, 0, 416)], atol=1e-3)
    assert scores.tolist() == pytest.approx([0.9]) and ids.tolist() == [2]
    none = decode_nanodet(outs, input_size=416, conf=0.5, class_ids=np.array([0]))  # class 2 not wanted
    assert none[0].shape == (0, 4)


def test_decode_nanodet_on_a_wide_input() -> None:
    # 416 x 256: per stride s a grid of (416/s) columns x (256/s) rows, cells row-major
    w, h = 416, 256
    outs = []
    for s in (8, 16, 32):
        cells = (w // s) * (h // s)
        scores = np.zeros((1, cells, 80), np.float32)
        dist = np.full((1, cells, 44), -20.0, np.float32)
        dist[0, :, 1::11] = 20.0  # every side one stride
        if s == 32:
            scores[0, cells - 1, 0] = 0.8  # last cell: column 12, row 7 -> centre (400, 240)
        if s == 8:
            scores[0, 52 * 31 + 1, 0] = 0.7  # row 31 (the last), column 1 -> centre (12, 252)
        outs += [scores, dist]
    xyxy, scores_, _ = decode_nanodet(outs, input_size=(w, h), conf=0.5, class_ids=np.array([0]))
    order = np.argsort(-scores_)
    np.testing.assert_allclose(xyxy[order], [[368, 208, 416, 256], [4, 244, 20, 256]], atol=1e-3)
    with pytest.raises(ModelError, match="416x416"):
        decode_nanodet(outs, input_size=416, conf=0.5, class_ids=np.array([0]))


def _yolo_rows(num_classes: int, with_obj: bool) -> np.ndarray:
    rows = np.zeros((4, 4 + int(with_obj) + num_classes), np.float32)
    off = 4 + int(with_obj)
    rows[0, :4] = [100, 100, 40, 80]
    rows[0, off + 1] = 0.9
    rows[1, :4] = [300, 200, 20, 20]
    rows[1, off + 0] = 0.2  # below conf
    if with_obj:
        rows[:, 4] = 1.0
    return rows


@pytest.mark.parametrize(
    ("layout", "make", "expected_boxes"),
    [
        ("auto", lambda: _yolo_rows(3, True)[None], [[80, 60, 120, 140]]),  # yolov5 [1, N, 5+C]
        ("auto", lambda: _yolo_rows(3, False).T[None], [[80, 60, 120, 140]]),  # yolov8 [1, 4+C, N]
        ("auto", lambda: _yolo_rows(3, False)[None], [[80, 60, 120, 140]]),  # yolov8 transposed [1, N, 4+C]
        ("yolov8", lambda: np.repeat(_yolo_rows(3, False).T[None], 2, 0), [[80, 60, 120, 140]]),  # batch of 2
        (
            "end2end",
            lambda: np.array([[[80, 60, 120, 140, 0.9, 1], [0, 0, 5, 5, 0.1, 0]]], np.float32),
            [[80, 60, 120, 140]],
        ),  # [1, N, 6] post-NMS
    ],
)
def test_decode_yolo_layouts(layout: str, make: object, expected_boxes: list[list[float]]) -> None:
    out = make()  # type: ignore[operator]
    results = decode_yolo(out, num_classes=3, conf=0.5, layout=layout)  # type: ignore[arg-type]
    assert len(results) == out.shape[0]
    for xyxy, score, cls in results:
        np.testing.assert_allclose(xyxy, expected_boxes)
        assert score.tolist() == pytest.approx([0.9]) and cls.tolist() == [1]


@pytest.mark.parametrize(
    ("shape", "layout", "match"),
    [
        ((1, 10, 11), "auto", "fits none"),  # 11 columns fit no layout with C=3
        ((10, 7), "auto", "3-D"),  # batch dimension missing
        ((1, 10, 8), "yolov8", "does not fit layout"),  # forced layout, wrong width
    ],
)
def test_decode_yolo_rejects_unknown_layouts(shape: tuple[int, ...], layout: str, match: str) -> None:
    with pytest.raises(ModelError, match=match):
        decode_yolo(np.zeros(shape, np.float32), num_classes=3, conf=0.5, layout=layout)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("boxes", "scores", "classes", "expected"),
    [
        ([[0, 0, 10, 10], [1, 1, 10, 10]], [0.9, 0.8], [0, 0], [0]),  # same class overlap: best kept
        ([[0, 0, 10, 10], [1, 1, 10, 10]], [0.8, 0.9], [0, 0], [1]),  # order by score
        ([[0, 0, 10, 10], [1, 1, 10, 10]], [0.9, 0.8], [0, 1], [0, 1]),  # other class: both kept
        ([[0, 0, 10, 10], [20, 20, 30, 30]], [0.9, 0.8], [0, 0], [0, 1]),  # no overlap
    ],
)
def test_nms_is_class_wise(
    boxes: list[list[float]], scores: list[float], classes: list[int], expected: list[int]
) -> None:
    keep = nms(np.array(boxes, np.float32), np.array(scores, np.float32), np.array(classes), 0.5)
    assert sorted(keep.tolist()) == expected


# --- cropping ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("boxes_frac", "frame_wh", "expected"),
    [
        ([], (1920, 1080), [[0, 0, 1920, 1080]]),  # nothing given: whole frame
        (
            [[0.5, 0.5, 0.52, 0.55]],
            (1920, 1080),
            [[771, 359, 1187, 775]],
        ),  # small person: 416 square around it
        ([[0.0, 0.0, 0.02, 0.05]], (1920, 1080), [[0, 0, 416, 416]]),  # corner: shifted inside the frame
        ([[0.1, 0.1, 0.12, 0.15], [0.8, 0.7, 0.82, 0.75]], (1920, 1080), None),  # two far apart: two crops
        ([[0.1, 0.1, 0.9, 0.9]], (1920, 1080), [[0, 0, 1920, 1080]]),  # most of the frame: whole frame
        ([[0.4, 0.4, 0.45, 0.5]], (768, 432), [[118, 0, 534, 416]]),  # small frame: one 416 square
        ([[0.1, 0.4, 0.15, 0.5], [0.85, 0.4, 0.9, 0.5]], (768, 432), [[0, 0, 768, 432]]),  # 2 squares > 60 %
    ],
)
def test_crop_regions_cases(
    boxes_frac: list[list[float]], frame_wh: tuple[int, int], expected: list[list[int]] | None
) -> None:
    crops = crop_regions(np.array(boxes_frac, np.float32).reshape(-1, 4), frame_wh, min_side_px=416)
    if expected is None:
        assert len(crops) == 2 and all((c[2] - c[0], c[3] - c[1]) == (416, 416) for c in crops)
    else:
        assert crops.tolist() == expected


@settings(max_examples=80, deadline=None)
@given(
    boxes=st.lists(
        st.tuples(st.floats(0, 0.95), st.floats(0, 0.95), st.floats(0.01, 0.3), st.floats(0.01, 0.3)),
        min_size=1,
        max_size=8,
    ),
    wh=st.sampled_from([(1920, 1080), (1280, 720), (640, 360), (704, 576)]),
    min_side=st.sampled_from([300, 416]),
)
def test_crop_regions_cover_every_box_inside_the_frame(
    boxes: list[tuple[float, float, float, float]], wh: tuple[int, int], min_side: int
) -> None:
    arr = np.array([[x, y, min(x + bw, 1.0), min(y + bh, 1.0)] for x, y, bw, bh in boxes], np.float32)
    crops = crop_regions(arr, wh, min_side_px=min_side)
    w, h = wh
    assert ((crops[:, 0] >= 0) & (crops[:, 1] >= 0) & (crops[:, 2] <= w) & (crops[:, 3] <= h)).all()
    assert (crops[:, 2] - crops[:, 0] >= min(min_side, w)).all()
    assert (crops[:, 3] - crops[:, 1] >= min(min_side, h)).all()
    px = arr * np.array([w, h, w, h], np.float32)
    for b in px:
        inside = (crops[:, 0] <= b[0] + 1) & (crops[:, 1] <= b[1] + 1) & (crops[:, 2] >= b[2] - 1)
        inside &= crops[:, 3] >= b[3] - 1
        assert inside.any(), f"motion box {b} not covered by crops {crops}"


class _FakeDetector:
    """A Detector that 'sees' a fixed full-frame box, reported in each crop's own pixels."""

    name = "fake"
    input_size = (100, 100)

    def __init__(self, box_px: tuple[float, float, float, float], offsets: list[tuple[int, int]]) -> None:
        self.box = np.array(box_px, np.float32)
        self.offsets = offsets
        self.calls: list[int] = []

    def detect_batch(self, images_bgr: list[np.ndarray]) -> list[Detections]:  # type: ignore[override]
        self.calls.append(len(images_bgr))
        out = []
        for (ox, oy), _img in zip(self.offsets, images_bgr, strict=True):
            b = self.box - np.array([ox, oy, ox, oy], np.float32)
            out.append(Detections(b[None], np.array([0.9], np.float32), np.array(["person"])))
        return out


def test_detect_regions_maps_back_and_merges_crops() -> None:
    bgr = np.zeros((1000, 2000, 3), np.uint8)
    motion = np.array([[0.30, 0.30, 0.32, 0.35], [0.335, 0.30, 0.35, 0.35]], np.float32)  # touching: one crop
    far = np.array([[0.30, 0.30, 0.32, 0.35], [0.90, 0.85, 0.92, 0.90]], np.float32)
    crops = crop_regions(far, (2000, 1000), min_side_px=100)
    fake = _FakeDetector((600, 300, 640, 350), [(int(c[0]), int(c[1])) for c in crops])
    dets = detect_regions(fake, bgr, far, min_crop_px=100)
    assert fake.calls == [2]  # one batch with both crops
    assert len(dets) == 1  # the same full-frame box seen twice -> merged by NMS
    np.testing.assert_allclose(dets.xyxy_px[0], [600, 300, 640, 350])
    one = crop_regions(motion, (2000, 1000), min_side_px=100)
    assert len(one) == 1


class _ScaleRecorder:
    """A free-input detector that records what it is asked (picture sizes and scale)."""

    name = "recorder"
    input_size = (416, 416)
    free_input = True

    def __init__(self) -> None:
        self.seen: list[tuple[list[tuple[int, int]], float | None]] = []

    def detect_batch(self, images_bgr: list[np.ndarray], *, scale: float | None = None) -> list[Detections]:
        self.seen.append(([(im.shape[1], im.shape[0]) for im in images_bgr], scale))
        return [
            Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.array([], "<U16"))
        ] * len(images_bgr)


def test_substream_crops_run_at_the_whole_frames_scale() -> None:
    bgr = np.zeros((360, 640, 3), np.uint8)
    rec = _ScaleRecorder()
    small = np.array([[0.45, 0.40, 0.50, 0.60]], np.float32)  # a person-sized motion box
    detect_regions(rec, bgr, small)
    ((sizes, scale),) = rec.seen
    assert scale == pytest.approx(416 / 640)  # the whole frame's scale, not the crop's
    assert len(sizes) == 1 and sizes[0][0] * sizes[0][1] < 0.4 * 640 * 360  # only the moving part
    assert min(sizes[0]) >= round(160 / scale) - 1  # at least 160 model pixels of context
    rec.seen.clear()
    detect_regions(rec, bgr, np.array([[0.05, 0.1, 0.95, 0.9]], np.float32))  # most of the frame moves
    assert rec.seen == [([(640, 360)], pytest.approx(416 / 640))]
    rec.seen.clear()
    detect_regions(rec, np.zeros((1080, 1920, 3), np.uint8), small)  # a main stream: crops of the model side
    assert rec.seen[0][1] is None and rec.seen[0][0] == [(416, 416)]


def test_int8_nanodet_finds_the_car_in_its_crop_as_in_the_whole_frame(nanodet_int8: NanoDetDetector) -> None:
    bgr = cv2.resize(cv2.imread(str(IMAGES / "intel-pbc-car-t1.8s.jpg")), (640, 360))
    whole = nanodet_int8.detect_batch([bgr])[0]
    car = whole[whole.class_name == "car"].xyxy_px
    assert len(car) >= 1
    motion = (car[:1] / np.array([640, 360, 640, 360], np.float32)).astype(np.float32)
    cropped = detect_regions(nanodet_int8, bgr, motion)
    found = cropped[cropped.class_name == "car"].xyxy_px
    assert len(found) >= 1 and _iou(car[:1], found).max() > 0.8


def test_coco_lists_are_consistent() -> None:
    labels = (REPO / "models/nanodet-m-416-coco/labels.txt").read_text(encoding="utf-8").split("\n")
    assert tuple(x for x in labels if x) == COCO80
    assert set(DEFAULT_CLASSES) <= set(COCO80)
