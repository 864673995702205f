"""The detector seam: the :class:`Detector` protocol and the helpers every detector shares.

:mod:`~safecity.monitor.vision.detect` (ONNX models) and :mod:`~safecity.monitor.vision.cascade`
(two models in tiers) both build on this module, and neither imports the other's internals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import cv2
import numpy as np
import numpy.typing as npt

from safecity.monitor.types import Detections

__all__ = ["Detector", "nms"]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


@runtime_checkable
class Detector(Protocol):
    """Anything that turns BGR pictures into :class:`Detections` (pixel boxes of each input)."""

    name: str
    input_size: tuple[int, int]  # (w, h) of the model input

    def detect_batch(self, images_bgr: Sequence[U8]) -> list[Detections]: ...


def nms(xyxy: F32, scores: F32, class_ids: I64, iou: float) -> I64:
    """Class-wise non-maximum suppression; indices of the kept boxes, best first.

    Uses ``cv2.dnn.NMSBoxesBatched`` (boxes of different classes never suppress each other).

    Example:
        >>> b = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10]], np.float32)
        >>> nms(b, np.array([0.9, 0.8, 0.7], np.float32), np.array([0, 0, 1]), 0.5).tolist()
        [0, 2]
    """
    if len(scores) == 0:
        return np.zeros(0, np.int64)
    xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
    keep = cv2.dnn.NMSBoxesBatched(
        xywh.astype(np.float64).tolist(), scores.astype(np.float64).tolist(), class_ids.tolist(), 0.0, iou
    )
    return np.asarray(keep, np.int64).reshape(-1)
