"""Object detectors (ONNX on CPU), motion-region cropping and person pose.

Bundled models (``models/``, each with a SOURCE.md giving its exact I/O):

* :class:`NanoDetDetector`: NanoDet-m 416 (COCO 80, GFL head). Default.
* :class:`SsdMobileNetDetector`: SSD MobileNetV2 uint8 300x300 with NMS inside. Cheaper tier.
* :class:`PoseEstimator`: MoveNet MultiPose Lightning, 17 keypoints per person (for the fall rule).

Plug-in models: :class:`OnnxYoloDetector` reads user ONNX exports of the YOLO family. Supported
output layouts (one output tensor, batch first; ``C`` = number of labels):

* ``"yolov5"``: ``[B, N, 5 + C]`` rows ``cx, cy, w, h, objectness, C class scores`` (YOLOv5/v7,
  YOLOX with decoded boxes); score = objectness x class score.
* ``"yolov8"``: ``[B, 4 + C, N]`` (YOLOv8/v9/v11, ultralytics ``export(format="onnx")``) or the
  transposed ``[B, N, 4 + C]``: ``cx, cy, w, h, C class scores``.
* ``"end2end"``: ``[B, N, 6]`` rows ``x1, y1, x2, y2, score, class`` with NMS done (YOLOv10,
  ``nms=True`` exports).

``layout="auto"`` picks one from the shape and ``C``. Boxes are in model-input pixels; input is
RGB float 0..1, letterboxed to the model size. Anything else (another runtime, TensorRT,
OpenVINO) can implement the :class:`Detector` protocol directly.

Sessions use ``intra_op_num_threads=threads, inter_op_num_threads=1``. The bundled models have
a fixed batch of 1, so ``detect_batch`` runs them once per image; a model with a dynamic batch
dimension gets all images in one call.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from safecity.errors import ModelError
from safecity.monitor.types import COCO_CLASSES, Detections
from safecity.monitor.vision.base import Detector, nms
from safecity.monitor.vision.cascade import CascadeDetector, ConfirmWhen, load_cascade
from safecity.paths import bundled_models_dir

__all__ = [
    "COCO80",
    "CascadeDetector",
    "DEFAULT_CLASSES",
    "Detector",
    "NanoDetDetector",
    "OnnxYoloDetector",
    "PoseEstimator",
    "SsdMobileNetDetector",
    "crop_regions",
    "decode_nanodet",
    "decode_yolo",
    "detect_regions",
    "load_detector",
    "nanodet_input_size",
    "nms",
]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
log = logging.getLogger(__name__)

DEFAULT_CLASSES: tuple[str, ...] = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "bus",
    "truck",
    "backpack",
    "handbag",
    "suitcase",
)
COCO80: tuple[str, ...] = COCO_CLASSES  # the 80 COCO names, index = NanoDet class id
_BUNDLED = {
    "nanodet": ("nanodet-m-416-coco", "nanodet-m-416-coco.onnx"),
    "nanodet-int8": ("nanodet-m-416-coco", "nanodet-m-coco-int8.onnx"),
    "ssd": ("ssd-mobilenet-v2-coco-quant", "ssd_mobilenet_v2_coco_quant_postprocess.onnx"),
    "movenet": ("movenet-multipose", "movenet-multipose.onnx"),
}
YoloLayout = Literal["auto", "yolov5", "yolov8", "end2end"]


# ----------------------------------------------------------------------------------------------
# helpers


def _session(path: Path, threads: int) -> ort.InferenceSession:
    if threads < 1:
        raise ModelError(f"threads must be at least 1, got {threads}")
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist; check detector.model_path or the models/ folder")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
        raise ModelError(
            f"cannot load ONNX model {path}: {exc}; expected an ONNX file onnxruntime can run"
        ) from exc


def _bundled(kind: str) -> Path:
    folder, name = _BUNDLED[kind]
    return bundled_models_dir() / folder / name


def _fixed_batch(session: ort.InferenceSession) -> bool:
    dim = session.get_inputs()[0].shape[0]
    return isinstance(dim, int)


def _class_filter(labels: Sequence[str], classes: Sequence[str]) -> I64:
    unknown = sorted(set(classes) - set(labels))
    if unknown:
        raise ModelError(
            f"classes {unknown} are not among the model's labels (first ones: {list(labels[:10])})"
        )
    return np.array([i for i, name in enumerate(labels) if name in set(classes)], np.int64)


def _empty() -> Detections:
    return Detections.empty()


def _to_detections(xyxy: F32, scores: F32, names: npt.NDArray[np.str_]) -> Detections:
    return Detections(xyxy.astype(np.float32), scores.astype(np.float32), names.astype("<U16"))


# ----------------------------------------------------------------------------------------------
# NanoDet


def decode_nanodet(
    outputs: Sequence[npt.NDArray[np.float32]],
    *,
    input_size: int | tuple[int, int],
    conf: float,
    class_ids: I64,
    reg_max: int = 10,
) -> tuple[F32, F32, I64]:
    """Decode NanoDet GFL outputs (see models/nanodet-m-416-coco/SOURCE.md), before NMS.

    Args:
        outputs: the model's outputs in any order: per stride ``s``, scores ``[1, g*g, 80]``
            (sigmoid done) and distributions ``[1, gh*gw, 4*(reg_max+1)]``, cells row-major,
            ``gw = width / s``, ``gh = height / s``.
        input_size: the model input in pixels, ``(width, height)``, or one side of a square (416).
        conf: minimum class score.
        class_ids: class indices to keep.
        reg_max: last bin index of the distance distributions.

    Returns:
        Boxes x1, y1, x2, y2 in model pixels, scores and class ids (a cell may give several classes).
    """
    bins = reg_max + 1
    by_cells: dict[int, dict[str, npt.NDArray[np.float32]]] = {}
    for out in outputs:
        arr = out.reshape(out.shape[-2], out.shape[-1])
        kind = "dist" if arr.shape[1] == 4 * bins else "score"
        by_cells.setdefault(arr.shape[0], {})[kind] = arr
    boxes: list[F32] = []
    scores: list[F32] = []
    ids: list[I64] = []
    proj = np.arange(bins, dtype=np.float32)
    width, height = (input_size, input_size) if isinstance(input_size, int) else input_size
    grids = {(width // s) * (height // s): (s, width // s) for s in (8, 16, 32, 64)}
    for cells, pair in by_cells.items():
        if cells not in grids or set(pair) != {"dist", "score"}:
            raise ModelError(
                f"unexpected NanoDet output shapes {[o.shape for o in outputs]} for an input of "
                f"{width}x{height}; expected per stride s cells (width/s)*(height/s)"
            )
        stride, grid = grids[cells]
        cls_scores = pair["score"][:, class_ids]
        cell_idx, col_idx = np.nonzero(cls_scores > conf)
        if cell_idx.size == 0:
            continue
        logits = pair["dist"][cell_idx].reshape(-1, 4, bins)
        logits = logits - logits.max(axis=2, keepdims=True)
        prob = np.exp(logits)
        prob /= prob.sum(axis=2, keepdims=True)
        dist = (prob @ proj) * stride  # (k, 4): left, top, right, bottom
        cx = (cell_idx % grid + 0.5) * stride
        cy = (cell_idx // grid + 0.5) * stride
        xyxy = np.stack([cx - dist[:, 0], cy - dist[:, 1], cx + dist[:, 2], cy + dist[:, 3]], axis=1)
        np.clip(xyxy, 0, [width, height, width, height], out=xyxy)
        boxes.append(xyxy.astype(np.float32))
        scores.append(cls_scores[cell_idx, col_idx].astype(np.float32))
        ids.append(class_ids[col_idx])
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    return np.concatenate(boxes), np.concatenate(scores), np.concatenate(ids)


def nanodet_input_size(
    width: int, height: int, side: int = 416, scale: float | None = None
) -> tuple[int, int]:
    """(width, height) of a free-input NanoDet's input for a ``width`` x ``height`` picture: the
    picture at ``scale`` (default: its long side to ``side``), each side rounded up to a multiple of
    32 (the model's largest stride). Also the size ``scripts/quantize_nanodet.py`` calibrates the
    int8 model at.

    Example:
        >>> nanodet_input_size(640, 360), nanodet_input_size(360, 640), nanodet_input_size(340, 200)
        ((416, 256), (256, 416), (416, 256))
    """
    s = side / max(width, height) if scale is None else scale
    # 1e-9: 340 * (416 / 340) is 416.00000000000006 in floats, which must not round up to 448
    return max(32, math.ceil(width * s / 32 - 1e-9) * 32), max(32, math.ceil(height * s / 32 - 1e-9) * 32)


class NanoDetDetector:
    """NanoDet-m (COCO) on onnxruntime CPU: BGR, mean/std normalised, plain resize.

    A model with a fixed input (the bundled float model: 416 x 416) gets every picture resized to
    it. A model whose input height and width are free (the bundled int8 model) gets each picture at
    its own aspect: the long side ``side``, the other rounded up to a multiple of 32 (a 16:9 frame
    runs at 416 x 256, 0.6 of the square's pixels, and people keep their shape).

    Args:
        model_path: the ONNX file; ``None`` = the bundled model of ``precision``.
        conf: minimum class score (NanoDet scores run low: 0.3-0.4).
        nms_iou: IoU above which a same-class box is suppressed.
        threads: onnxruntime intra-op threads.
        classes: COCO names to report.
        precision: the bundled model when ``model_path`` is ``None``: ``"fp32"`` (the float model)
            or ``"int8"`` (its quantisation, ``scripts/quantize_nanodet.py``).
        side: long side of the input of a model with a free input size.
    """

    name = "nanodet"
    _MEAN = np.array([103.53, 116.28, 123.675], np.float32)
    _STD = np.array([57.375, 57.12, 58.395], np.float32)
    _INV_STD = (1.0 / _STD).reshape(1, 3, 1, 1).astype(np.float32)

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        conf: float = 0.35,
        nms_iou: float = 0.6,
        threads: int = 1,
        classes: Sequence[str] = DEFAULT_CLASSES,
        precision: Literal["fp32", "int8"] = "fp32",
        side: int = 416,
    ) -> None:
        if precision not in ("fp32", "int8"):
            raise ModelError(f"NanoDet precision must be 'fp32' or 'int8', got {precision!r}")
        if side < 32 or side % 32:
            raise ModelError(f"NanoDet input side must be a multiple of 32 (e.g. 416), got {side}")
        bundled = _bundled("nanodet-int8" if precision == "int8" else "nanodet")
        self.model_path = Path(model_path) if model_path else bundled
        self.session = _session(self.model_path, threads)
        shape = self.session.get_inputs()[0].shape
        if len(shape) != 4 or shape[1] != 3:
            raise ModelError(f"{self.model_path}: expected a NanoDet input [1, 3, H, W], got {shape}")
        self.fixed: tuple[int, int] | None = None
        if isinstance(shape[2], int) and isinstance(shape[3], int):
            self.fixed = (int(shape[3]), int(shape[2]))
            side = max(self.fixed)
        self.side = side
        self.input_size = self.fixed or (side, side)
        self.conf = conf
        self.nms_iou = nms_iou
        self.labels = COCO80
        self.class_ids = _class_filter(self.labels, classes)
        self._input = self.session.get_inputs()[0].name

    @property
    def free_input(self) -> bool:
        """True when the model takes any input size (then ``detect_batch`` accepts ``scale``)."""
        return self.fixed is None

    def model_input(self, width: int, height: int, scale: float | None = None) -> tuple[int, int]:
        """(width, height) of the model input for a ``width`` x ``height`` picture: the fixed
        input, or the picture at ``scale`` (default: long side ``side``), each side rounded up to a
        multiple of 32."""
        return self.fixed or nanodet_input_size(width, height, self.side, scale)

    def _blob(self, bgr: U8, size: tuple[int, int]) -> F32:
        # one OpenCV call resizes, subtracts the mean and lays out NCHW (3.5x faster than NumPy)
        mean = (float(self._MEAN[0]), float(self._MEAN[1]), float(self._MEAN[2]))
        blob = cv2.dnn.blobFromImage(bgr, 1.0, size, mean, swapRB=False, crop=False)
        return np.multiply(blob, self._INV_STD, out=np.asarray(blob, np.float32))

    def detect_batch(self, images_bgr: Sequence[U8], *, scale: float | None = None) -> list[Detections]:
        """Detections in pixels of each input picture; ``scale``: run every picture at this scale
        (a model with a free input only; :func:`detect_regions` gives crops the whole frame's)."""
        out: list[Detections] = []
        for bgr in images_bgr:
            h, w = bgr.shape[:2]
            size = self.model_input(w, h, scale)
            raw = self.session.run(None, {self._input: self._blob(bgr, size)})
            xyxy, scores, ids = decode_nanodet(raw, input_size=size, conf=self.conf, class_ids=self.class_ids)
            keep = nms(xyxy, scores, ids, self.nms_iou)
            back = np.array([w / size[0], h / size[1]] * 2, np.float32)
            out.append(_to_detections(xyxy[keep] * back, scores[keep], np.array(self.labels)[ids[keep]]))
        return out


# ----------------------------------------------------------------------------------------------
# SSD MobileNetV2 (uint8, NMS inside)


def _read_id_labels(path: Path) -> dict[int, str]:
    labels: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        idx, _, name = line.strip().partition(" ")
        if idx.isdigit() and name.strip():
            labels[int(idx)] = name.strip()
    return labels


class SsdMobileNetDetector:
    """SSD MobileNetV2 COCO uint8 (Coral canned model): RGB uint8 300x300, NMS in the graph.

    Args:
        model_path: the ONNX file; ``None`` = bundled ``models/ssd-mobilenet-v2-coco-quant``.
        conf: minimum score.
        threads: onnxruntime intra-op threads.
        classes: COCO names to report.
        labels_path: "id name" lines (90-id COCO map); default ``coco_labels.txt`` next to the model.
    """

    name = "ssd"

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        conf: float = 0.4,
        threads: int = 1,
        classes: Sequence[str] = DEFAULT_CLASSES,
        labels_path: Path | None = None,
    ) -> None:
        self.model_path = Path(model_path) if model_path else _bundled("ssd")
        self.session = _session(self.model_path, threads)
        shape = self.session.get_inputs()[0].shape
        if len(shape) != 4 or shape[3] != 3 or not isinstance(shape[1], int):
            raise ModelError(f"{self.model_path}: expected an SSD input [1, H, W, 3], got {shape}")
        self.input_size = (int(shape[2]), int(shape[1]))
        labels_file = labels_path or self.model_path.parent / "coco_labels.txt"
        if not labels_file.is_file():
            raise ModelError(f"SSD labels file {labels_file} is missing (lines of 'id name')")
        id_labels = _read_id_labels(labels_file)
        unknown = sorted(set(classes) - set(id_labels.values()))
        if unknown:
            raise ModelError(f"classes {unknown} are not in {labels_file}")
        size = max(id_labels) + 1
        self._names = np.array([id_labels.get(i, "") for i in range(size)], dtype="<U16")
        self._wanted = np.isin(self._names, list(classes))
        self.conf = conf
        self._input = self.session.get_inputs()[0].name

    def detect_batch(self, images_bgr: Sequence[U8]) -> list[Detections]:
        """Detections in pixels of each input picture."""
        out: list[Detections] = []
        for bgr in images_bgr:
            h, w = bgr.shape[:2]
            rgb = cv2.cvtColor(
                cv2.resize(bgr, self.input_size, interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB
            )
            boxes, classes, scores, count = self.session.run(None, {self._input: rgb[None]})
            n = int(count.reshape(-1)[0])
            ids = classes[0, :n].astype(np.int64)
            sc = scores[0, :n].astype(np.float32)
            ok = (sc >= self.conf) & (ids >= 0) & (ids < len(self._names))
            ok[ok] &= self._wanted[ids[ok]]
            yx = boxes[0, :n][ok]
            xyxy = np.stack([yx[:, 1] * w, yx[:, 0] * h, yx[:, 3] * w, yx[:, 2] * h], axis=1)
            out.append(_to_detections(np.clip(xyxy, 0, [w, h, w, h]), sc[ok], self._names[ids[ok]]))
        return out


# ----------------------------------------------------------------------------------------------
# generic YOLO-family ONNX


def decode_yolo(
    output: npt.NDArray[np.float32], *, num_classes: int, conf: float, layout: YoloLayout = "auto"
) -> list[tuple[F32, F32, I64]]:
    """Decode one YOLO-family output tensor into per-image (xyxy, score, class id), before NMS.

    Args:
        output: ``[B, N, 5+C]``, ``[B, 4+C, N]``, ``[B, N, 4+C]`` or ``[B, N, 6]`` (module docstring).
        num_classes: ``C``, the number of labels the model was trained on.
        conf: minimum score.
        layout: ``"auto"`` decides from the shape; give it when ``N`` could be confused with a row
            width (tiny models).

    Returns:
        One tuple per batch image; boxes in model-input pixels.

    Raises:
        ModelError: the shape fits none of the supported layouts.

    Example:
        >>> out = np.zeros((1, 3, 7), np.float32)  # yolov5 rows, 2 classes
        >>> out[0, 0] = [50, 50, 20, 40, 0.9, 0.1, 0.8]
        >>> [(xyxy, score, cls)] = decode_yolo(out, num_classes=2, conf=0.5)
        >>> xyxy.tolist(), [round(float(s), 2) for s in score], cls.tolist()
        ([[40.0, 30.0, 60.0, 70.0]], [0.72], [1])
    """
    if output.ndim != 3:
        raise ModelError(f"YOLO output must be 3-D [batch, ...], got shape {output.shape}")
    c = num_classes
    _, d1, d2 = output.shape
    if layout == "auto":
        if d2 == 5 + c:
            layout = "yolov5"
        elif d1 == 4 + c or d2 == 4 + c:
            layout = "yolov8"
        elif d2 == 6:
            layout = "end2end"
        else:
            raise ModelError(
                f"YOLO output shape {output.shape} fits none of [B, N, 5+C], [B, 4+C, N], [B, N, 4+C], "
                f"[B, N, 6] with C={c}; check the model's number of labels or pass layout="
            )
    if layout == "yolov8" and d1 == 4 + c and d2 != 4 + c:
        output = output.transpose(0, 2, 1)
    want = {"yolov5": 5 + c, "yolov8": 4 + c, "end2end": 6}[layout]
    if output.shape[2] != want:
        raise ModelError(f"YOLO output shape {output.shape} does not fit layout {layout!r} with C={c}")
    results: list[tuple[F32, F32, I64]] = []
    for rows in output:
        if layout == "end2end":
            xyxy = rows[:, :4]
            score = rows[:, 4]
            cls = rows[:, 5].astype(np.int64)
        else:
            cls_scores = rows[:, 5:] * rows[:, 4:5] if layout == "yolov5" else rows[:, 4:]
            cls = cls_scores.argmax(axis=1).astype(np.int64)
            score = cls_scores[np.arange(len(rows)), cls]
            cx, cy, bw, bh = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
            xyxy = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
        ok = score >= conf
        results.append((xyxy[ok].astype(np.float32), score[ok].astype(np.float32), cls[ok]))
    return results


class OnnxYoloDetector:
    """A user's YOLO-family ONNX export (layouts in the module docstring), letterboxed RGB 0..1.

    Args:
        model_path: the ONNX file.
        conf: minimum score.
        nms_iou: IoU for class-wise NMS (skipped for ``end2end`` outputs).
        threads: onnxruntime intra-op threads.
        classes: label names to report.
        labels: the model's labels in class-index order (default COCO 80).
        layout: output layout or ``"auto"``.
        input_size: (w, h) when the model's input size is dynamic.
    """

    name = "yolo"

    def __init__(
        self,
        model_path: Path,
        *,
        conf: float = 0.35,
        nms_iou: float = 0.5,
        threads: int = 1,
        classes: Sequence[str] = DEFAULT_CLASSES,
        labels: Sequence[str] = COCO80,
        layout: YoloLayout = "auto",
        input_size: tuple[int, int] = (640, 640),
    ) -> None:
        self.model_path = Path(model_path)
        self.session = _session(self.model_path, threads)
        inp = self.session.get_inputs()[0]
        if len(inp.shape) != 4 or inp.shape[1] != 3:
            raise ModelError(f"{self.model_path}: expected an NCHW input [B, 3, H, W], got {inp.shape}")
        h, w = inp.shape[2], inp.shape[3]
        self.input_size = (w, h) if isinstance(w, int) and isinstance(h, int) else input_size
        self.batched = not _fixed_batch(self.session)
        self.conf = conf
        self.nms_iou = nms_iou
        self.labels = tuple(labels)
        self.class_ids = _class_filter(self.labels, classes)
        self.layout: YoloLayout = layout
        self._input = inp.name

    def _letterbox(self, bgr: U8) -> tuple[F32, float, tuple[float, float]]:
        w, h = self.input_size
        ih, iw = bgr.shape[:2]
        scale = min(w / iw, h / ih)
        nw, nh = round(iw * scale), round(ih * scale)
        pad = ((w - nw) / 2, (h - nh) / 2)
        canvas = np.full((h, w, 3), 114, np.uint8)
        x0, y0 = int(pad[0]), int(pad[1])
        canvas[y0 : y0 + nh, x0 : x0 + nw] = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
        blob = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32).transpose(2, 0, 1) / 255.0
        return blob, scale, (float(x0), float(y0))

    def detect_batch(self, images_bgr: Sequence[U8]) -> list[Detections]:
        """Detections in pixels of each input picture (one call if the batch is dynamic)."""
        prepped = [self._letterbox(b) for b in images_bgr]
        if not prepped:
            return []
        groups = [prepped] if self.batched else [[p] for p in prepped]
        decoded: list[tuple[F32, F32, I64]] = []
        for group in groups:
            blob = np.ascontiguousarray(np.stack([g[0] for g in group]))
            raw = self.session.run(None, {self._input: blob})[0]
            decoded += decode_yolo(raw, num_classes=len(self.labels), conf=self.conf, layout=self.layout)
        out: list[Detections] = []
        names = np.array(self.labels)
        for (xyxy, score, cls), (_, scale, (px, py)), bgr in zip(decoded, prepped, images_bgr, strict=True):
            ok = np.isin(cls, self.class_ids) & (cls < len(names))
            xyxy, score, cls = xyxy[ok], score[ok], cls[ok]
            if self.layout != "end2end":
                keep = nms(xyxy, score, cls, self.nms_iou)
                xyxy, score, cls = xyxy[keep], score[keep], cls[keep]
            ih, iw = bgr.shape[:2]
            xyxy = (xyxy - np.array([px, py, px, py], np.float32)) / scale
            out.append(_to_detections(np.clip(xyxy, 0, [iw, ih, iw, ih]), score, names[cls]))
        return out


def load_detector(
    kind: str,
    model_path: Path | None = None,
    *,
    conf: float | None = None,
    threads: int = 1,
    classes: Sequence[str] = DEFAULT_CLASSES,
    first_pass: Any = None,
    confirm: Any = None,
    confirm_when: ConfirmWhen = "any",
    precision: Literal["fp32", "int8"] = "fp32",
) -> Detector:
    """Build a detector by kind: ``nanodet`` (default model), ``ssd`` (cheaper), ``yolo`` (own ONNX)
    or ``cascade`` (:class:`~safecity.monitor.vision.cascade.CascadeDetector`).

    Args:
        kind: ``nanodet``, ``ssd``, ``yolo`` (``onnx-yolo``) or ``cascade``.
        model_path: ONNX file (not used by ``cascade``: its passes name their own).
        conf: minimum score (``cascade``: the confirmation's score when ``confirm`` gives none).
        threads: onnxruntime intra-op threads (every model of a cascade).
        classes: names to report.
        first_pass: ``cascade`` only: mapping or object with ``type``, ``model``, ``conf`` of the
            cheap pass (default ``ssd`` at 0.3).
        confirm: ``cascade`` only: the same for the confirmation (default ``nanodet`` at ``conf``
            or 0.25). Keys ``kind``/``model_path`` are accepted for ``type``/``model``.
        confirm_when: ``cascade`` only: ``"any"`` or ``"in_zones"``.
        precision: the bundled NanoDet to use (``"fp32"`` or ``"int8"``), also as a cascade stage.

    Raises:
        ModelError: unknown kind, missing model file, or a model that does not fit the kind.
    """
    if kind == "cascade":
        return load_cascade(
            first_pass,
            confirm,
            conf=conf,
            threads=threads,
            classes=classes,
            build=functools.partial(load_detector, precision=precision),
            confirm_when=confirm_when,
        )
    if kind == "onnx-yolo":
        kind = "yolo"
    if kind == "nanodet":
        return NanoDetDetector(
            model_path, conf=0.35 if conf is None else conf, threads=threads, classes=classes,
            precision=precision,
        )  # fmt: skip
    if kind == "ssd":
        return SsdMobileNetDetector(
            model_path, conf=0.4 if conf is None else conf, threads=threads, classes=classes
        )
    if kind == "yolo":
        if model_path is None:
            raise ModelError("detector kind 'yolo' needs model_path: the path of your ONNX export")
        return OnnxYoloDetector(
            model_path, conf=0.35 if conf is None else conf, threads=threads, classes=classes
        )
    raise ModelError(f"unknown detector kind {kind!r}; expected one of 'nanodet', 'ssd', 'yolo', 'cascade'")


# ----------------------------------------------------------------------------------------------
# motion regions -> crops -> detections in full-frame pixels

MIN_SCALED_CROP_PX = 160
"""Smallest crop side, in model pixels, of a detector run at the whole frame's scale (5 cells of
NanoDet's coarsest stride: context around a person)."""


def crop_regions(
    boxes_frac: F32,
    frame_wh: tuple[int, int],
    *,
    min_side_px: int,
    pad_frac: float = 0.15,
    max_regions: int = 4,
    whole_frame_share: float = 0.6,
) -> npt.NDArray[np.int64]:
    """Crops (x1, y1, x2, y2 pixels) that cover the motion boxes, for the detector.

    Each box is padded, overlapping boxes are merged, and every cluster becomes a square of at
    least ``min_side_px`` full-frame pixels around it (clamped to the frame, so a cluster near a
    border or taller than the frame gives a clipped square). Squares that overlap by more than a
    fifth of the smaller one are merged again. If the crops would cover ``whole_frame_share`` of
    the frame or more, or there would be more than ``max_regions``, the whole frame is one crop.

    Example:
        >>> motion = np.array([[0.5, 0.5, 0.52, 0.55]], np.float32)
        >>> crop_regions(motion, (1920, 1080), min_side_px=416).tolist()
        [[771, 359, 1187, 775]]
    """
    w, h = frame_wh
    whole = np.array([[0, 0, w, h]], np.int64)
    if boxes_frac.shape[0] == 0:
        return whole
    px = boxes_frac.astype(np.float64) * np.array([w, h, w, h])
    size = px[:, 2:] - px[:, :2]
    pad = np.maximum(size * pad_frac, 2.0)
    clusters = [tuple(b) for b in np.concatenate([px[:, :2] - pad, px[:, 2:] + pad], axis=1)]
    while True:
        clusters = _merge_overlapping(clusters, lambda a, b: _overlap(a, b) > 0)
        squares = [_square(c, min_side_px, w, h) for c in clusters]
        merged = False
        for i in range(len(squares)):
            for j in range(i + 1, len(squares)):
                inter = _overlap(squares[i], squares[j])
                smaller = min(_area(squares[i]), _area(squares[j]))
                if inter > 0.2 * smaller:
                    a, b = clusters[i], clusters[j]
                    clusters[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del clusters[j]
                    merged = True
                    break
            if merged:
                break
        if not merged:
            break
    if len(squares) > max_regions or sum(_area(s) for s in squares) >= whole_frame_share * w * h:
        return whole
    return np.array(squares, np.int64).reshape(-1, 4)


Box = tuple[float, float, float, float]


def _area(b: Box) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _overlap(a: Box, b: Box) -> float:
    return _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def _merge_overlapping(boxes: list[Box], touch: Any) -> list[Box]:
    out = list(boxes)
    changed = True
    while changed:
        changed = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                if touch(out[i], out[j]):
                    a, b = out[i], out[j]
                    out[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del out[j]
                    changed = True
                    break
            if changed:
                break
    return out


def _square(b: Box, min_side: int, w: int, h: int) -> Box:
    side = max(b[2] - b[0], b[3] - b[1], float(min_side))
    sx, sy = min(side, float(w)), min(side, float(h))
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    x1 = min(max(cx - sx / 2, 0.0), w - sx)
    y1 = min(max(cy - sy / 2, 0.0), h - sy)
    return (round(x1), round(y1), round(x1 + sx), round(y1 + sy))


def detect_regions(
    detector: Detector,
    bgr: U8,
    boxes_frac: F32,
    *,
    min_crop_px: int | None = None,
    nms_iou: float = 0.5,
    track_boxes_frac: F32 | None = None,
    zones_frac: Sequence[F32] | None = None,
) -> Detections:
    """Detect inside the motion regions of one frame; boxes in full-frame pixels.

    The regions are merged and squared (:func:`crop_regions`, at least the model's input side in
    full-frame pixels, so small distant objects are enlarged less than with a whole-frame
    resize), all crops go to the detector in one ``detect_batch`` call, the boxes are shifted
    back and duplicates from overlapping crops are removed by class-wise NMS. No boxes given
    means the whole frame is searched.

    A detector with a free input size (the int8 NanoDet) on a frame at most twice its input side
    (a 640x360 or 704x576 substream, where a crop of the model's side would cover most of the
    frame) gets crops of at least ``MIN_SCALED_CROP_PX`` model pixels instead, each run at the
    whole frame's scale: the same detail as a whole-frame pass, at the cost of the moving part.

    Args:
        detector: any :class:`Detector`.
        bgr: the full frame (h, w, 3).
        boxes_frac: (n, 4) motion (or track) boxes as fractions of the frame.
        min_crop_px: smallest crop side; default the detector's larger input side.
        nms_iou: IoU for the cross-crop NMS.
        track_boxes_frac: (m, 4) boxes of live tracks, searched like ``boxes_frac``; a tiered
            detector (one with ``wants_confirm_hints``, e.g. the cascade) confirms the crops that
            hold one its cheap pass did not find again, so a tracked object is not lost.
        zones_frac: zone polygons ((k, 2) fractions); a tiered detector with
            ``confirm_when="in_zones"`` confirms only crops that touch a zone's bounding box.
    """
    h, w = bgr.shape[:2]
    min_side = min_crop_px or max(detector.input_size)
    tracked = track_boxes_frac if track_boxes_frac is not None else np.zeros((0, 4), np.float32)
    regions = np.concatenate([boxes_frac.reshape(-1, 4), tracked.reshape(-1, 4)]).astype(np.float32)
    scale: float | None = None
    if getattr(detector, "free_input", False) and max(w, h) <= 2 * max(detector.input_size):
        # a small frame (a substream): the crops at the whole frame's scale, so a detection costs
        # the moving part's pixels instead of the frame's (a 640x360 frame runs at 416x256)
        scale = max(detector.input_size) / max(w, h)
        min_side = min_crop_px or round(MIN_SCALED_CROP_PX / scale)
    crops = crop_regions(regions, (w, h), min_side_px=min_side)
    images = [bgr[y1:y2, x1:x2] for x1, y1, x2, y2 in crops]
    if scale is not None:
        per_crop = detector.detect_batch(images, scale=scale)  # type: ignore[call-arg]
    elif getattr(detector, "wants_confirm_hints", False):
        tpx = tracked.reshape(-1, 4) * np.array([w, h, w, h], np.float32)
        mid = (tpx[:, :2] + tpx[:, 2:]) / 2
        per_crop_tracks = [  # the tracks whose centre is in each crop, in crop pixels
            (tpx[((mid >= c[:2]) & (mid <= c[2:])).all(axis=1)] - np.tile(c[:2], 2)).astype(np.float32)
            for c in crops
        ]
        allowed = None
        if zones_frac:
            zb = np.array([[*z.min(axis=0), *z.max(axis=0)] for z in zones_frac], np.float32)
            zb *= np.array([w, h, w, h], np.float32)
            allowed = [
                bool(((zb[:, 0] < c[2]) & (zb[:, 2] > c[0]) & (zb[:, 1] < c[3]) & (zb[:, 3] > c[1])).any())
                for c in crops
            ]
        per_crop = detector.detect_batch(images, confirm_allowed=allowed, track_boxes=per_crop_tracks)  # type: ignore[call-arg]
    else:
        per_crop = detector.detect_batch(images)
    if len(per_crop) == 1 and crops.shape[0] == 1 and crops[0, 0] == 0 and crops[0, 1] == 0:
        return per_crop[0]
    parts = [
        d.xyxy_px + np.array([c[0], c[1], c[0], c[1]], np.float32)
        for d, c in zip(per_crop, crops, strict=True)
    ]
    xyxy = np.concatenate(parts) if parts else np.zeros((0, 4), np.float32)
    scores = np.concatenate([d.confidence for d in per_crop])
    names = np.concatenate([d.class_name for d in per_crop]).astype("<U16")
    if len(scores) == 0:
        return _empty()
    _, cls = np.unique(names, return_inverse=True)
    keep = nms(xyxy.astype(np.float32), scores, cls.astype(np.int64), nms_iou)
    return _to_detections(xyxy[keep], scores[keep], names[keep])


# ----------------------------------------------------------------------------------------------
# pose


class PoseEstimator:
    """MoveNet MultiPose Lightning keypoints for given person boxes (for the fall rule).

    Each person box is enlarged by ``margin`` and squared, the crop is resized to ``side`` x
    ``side`` RGB int32, and the MoveNet person that best overlaps the expected box is kept.

    Args:
        model_path: the ONNX file; ``None`` = bundled ``models/movenet-multipose``.
        threads: onnxruntime intra-op threads.
        side: model input side (a multiple of 32; 256 is what the model was tested at).
        margin: share of the box size added around it before cropping.
    """

    name = "movenet"

    def __init__(
        self, model_path: Path | None = None, threads: int = 1, *, side: int = 256, margin: float = 0.2
    ):
        if side % 32:
            raise ModelError(f"MoveNet input side must be a multiple of 32, got {side}")
        self.model_path = Path(model_path) if model_path else _bundled("movenet")
        self.session = _session(self.model_path, threads)
        self.side = side
        self.margin = margin
        self._input = self.session.get_inputs()[0].name

    def estimate(self, bgr: U8, boxes_px: F32) -> F32:
        """Keypoints (n, 17, 3): y, x in full-frame pixels and score 0..1, one row per box."""
        h, w = bgr.shape[:2]
        out = np.zeros((boxes_px.shape[0], 17, 3), np.float32)
        for i, (x1, y1, x2, y2) in enumerate(boxes_px.astype(np.float64)):
            bw, bh = x2 - x1, y2 - y1
            if bw <= 1 or bh <= 1:
                continue
            box: Box = (
                x1 - bw * self.margin,
                y1 - bh * self.margin,
                x2 + bw * self.margin,
                y2 + bh * self.margin,
            )
            cx1, cy1, cx2, cy2 = (int(v) for v in _square(box, 0, w, h))
            crop = bgr[cy1:cy2, cx1:cx2]
            rgb = cv2.cvtColor(cv2.resize(crop, (self.side, self.side)), cv2.COLOR_BGR2RGB).astype(np.int32)
            people = self.session.run(None, {self._input: rgb[None]})[0][0]  # (6, 56)
            cw, ch = cx2 - cx1, cy2 - cy1
            expect = np.array([(y1 - cy1) / ch, (x1 - cx1) / cw, (y2 - cy1) / ch, (x2 - cx1) / cw])
            best = int(np.argmax(people[:, 55] * _iou_yx(people[:, 51:55], expect)))
            kp = people[best, :51].reshape(17, 3)
            out[i, :, 0] = cy1 + kp[:, 0] * ch
            out[i, :, 1] = cx1 + kp[:, 1] * cw
            out[i, :, 2] = kp[:, 2]
        return out


def _iou_yx(boxes: npt.NDArray[np.float32], ref: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """IoU of (k, 4) ymin, xmin, ymax, xmax boxes with one reference box (a small floor keeps order)."""
    iy = np.clip(np.minimum(boxes[:, 2], ref[2]) - np.maximum(boxes[:, 0], ref[0]), 0, None)
    ix = np.clip(np.minimum(boxes[:, 3], ref[3]) - np.maximum(boxes[:, 1], ref[1]), 0, None)
    inter = iy * ix
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) + (ref[2] - ref[0]) * (ref[3] - ref[1])
    return np.asarray(inter / np.maximum(area - inter, 1e-9) + 1e-3, np.float64)
