"""Real frames of the bundled Intel sample clips (CC BY 4.0) and boxes labelled on them by eye."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[3]
INTEL = REPO / "data/video/intel-sample-videos"

# (clip, time s, box as frame fractions x1 y1 x2 y2, colour(s) by eye, part).
# Method: the frame at that time drawn with a 10 % grid, the box read off the grid to the nearest
# 0.01, the colour named by looking at the object (not at the classifier output).
LABELLED = [
    ("car-detection.mp4", 17.4, (0.41, 0.06, 0.60, 0.59), "red", "body"),  # red saloon, car C
    ("car-detection.mp4", 6.8, (0.37, 0.05, 0.55, 0.58), "white", "body"),  # white hatchback, car A
    ("one-by-one-person-detection.mp4", 8.0, (0.49, 0.04, 0.68, 0.88), "gray", "upper"),  # grey cardigan
]


def read_frame(clip: str, t_s: float) -> npt.NDArray[np.uint8]:
    import cv2

    cap = cv2.VideoCapture(str(INTEL / clip))
    try:
        cap.set(cv2.CAP_PROP_POS_MSEC, t_s * 1000.0)
        ok, frame = cap.read()
    finally:
        cap.release()
    assert ok, f"cannot read {clip} at {t_s} s"
    return np.asarray(frame, dtype=np.uint8)
