"""Motion gate: cheap frame differencing on the Y plane that decides where (and whether) to detect.

Follows Frigate's ``ImprovedMotionDetector`` (docs monitoring-domain.md §3.2): the Y plane is
resized to ``frame_height`` rows (100 by default), masked, blurred (Gaussian, sigma 1) and
compared with a running average; pixels that differ by more than ``threshold`` are dilated into
blobs, and blobs whose area reaches ``contour_area`` (in pixels of a 100-row picture) become
motion boxes. When most of the picture changes at once (lightning, a camera switching to IR,
headlights over the whole view) the average is reset to the new picture and the gate reports
``calibrating=True`` with no boxes until the picture is stable again.

Differences from Frigate: the "persistent motion" rule is in seconds (``persist_s``), not in
frames, and the optional contrast stretch is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from safecity.errors import ConfigError

__all__ = ["MotionGate", "MotionResult"]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]

_CALIBRATED_MAX_RATIO = 0.05  # calibration ends when < 5 % of the picture moves ...
_CALIBRATED_MAX_BOXES = 4  # ... in at most 4 blobs (Frigate's rule)
_CALIBRATION_ALPHA = 0.2  # fast background update while calibrating


@dataclass(frozen=True, slots=True)
class MotionResult:
    """Output of one :meth:`MotionGate.update`.

    Attributes:
        boxes_frac: (n, 4) float32 boxes x1, y1, x2, y2 as fractions (0..1) of the frame.
        motion_ratio: share of (resized) pixels that changed, 0..1.
        calibrating: the background was just reset (or is settling); boxes are empty meanwhile.
    """

    boxes_frac: F32
    motion_ratio: float
    calibrating: bool

    @property
    def has_motion(self) -> bool:
        """Whether any motion box was found."""
        return bool(self.boxes_frac.shape[0])


def _no_boxes() -> F32:
    return np.zeros((0, 4), np.float32)


class MotionGate:
    """Frigate-style motion detector for one camera (keeps that camera's background).

    Args:
        frame_height: rows of the downscaled picture the differencing runs on.
        threshold: per-pixel difference (0..255) that counts as change.
        contour_area: smallest blob area that counts as motion, in pixels of a 100-row picture
            (scaled with ``frame_height``).
        frame_alpha: weight of a new picture in the running background average.
        lightning_threshold: share of changed pixels above which the gate recalibrates.
        masks_frac: polygons (x, y fractions of the frame) where motion is ignored (trees, clocks,
            timestamps burnt into the picture).
        persist_s: after this many seconds of continuous motion the moving pixels are averaged
            into the background too (a parked car stops being motion).
        max_calibration_s: a calibration ends after this many seconds even if the picture never
            settles (a busy street or a crowd always has more than a few moving blobs; without
            this limit such a camera would stay blind exactly while the crowd is there).

    Example:
        >>> gate = MotionGate()
        >>> still = np.full((360, 640), 90, np.uint8)
        >>> [gate.update(still, t).calibrating for t in (0.0, 0.2, 0.4)]  # warm-up
        [True, True, False]
        >>> moved = still.copy(); moved[100:200, 300:360] = 200
        >>> r = gate.update(moved, 0.6)
        >>> r.has_motion, r.calibrating
        (True, False)
    """

    def __init__(
        self,
        *,
        frame_height: int = 100,
        threshold: int = 30,
        contour_area: int = 10,
        frame_alpha: float = 0.01,
        lightning_threshold: float = 0.8,
        masks_frac: Sequence[Sequence[tuple[float, float]]] = (),
        persist_s: float = 2.0,
        max_calibration_s: float = 2.0,
    ) -> None:
        if frame_height < 8:
            raise ConfigError(f"frame_height must be at least 8 rows, got {frame_height}")
        if not 0 < threshold < 255:
            raise ConfigError(f"threshold must be in 1..254, got {threshold}")
        if not 0.0 < frame_alpha <= 1.0:
            raise ConfigError(f"frame_alpha must be in (0, 1], got {frame_alpha}")
        if not 0.0 < lightning_threshold <= 1.0:
            raise ConfigError(f"lightning_threshold must be in (0, 1], got {lightning_threshold}")
        for poly in masks_frac:
            if len(poly) < 3 or any(not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0) for x, y in poly):
                raise ConfigError(f"each mask must be a polygon of >= 3 (x, y) points in 0..1, got {poly!r}")
        self.frame_height = frame_height
        self.threshold = threshold
        self.contour_area = contour_area
        self.frame_alpha = frame_alpha
        self.lightning_threshold = lightning_threshold
        self.masks_frac = tuple(tuple((float(x), float(y)) for x, y in poly) for poly in masks_frac)
        if max_calibration_s <= 0:
            raise ConfigError(f"max_calibration_s must be > 0 seconds, got {max_calibration_s}")
        self.persist_s = persist_s
        self.max_calibration_s = max_calibration_s
        self._calibration_since: float | None = None
        self._avg: F32 | None = None
        self._keep: U8 | None = None  # 1 where motion counts, 0 under masks (resized size)
        self._calibrating = True
        self._motion_since: float | None = None
        self._kernel = np.ones((3, 3), np.uint8)

    def reset(self) -> None:
        """Forget the background (the next picture starts a new calibration)."""
        self._avg = None
        self._keep = None
        self._calibrating = True
        self._calibration_since = None
        self._motion_since = None

    def _prepare(self, gray: U8) -> U8:
        h, w = gray.shape[:2]
        out_w = max(1, round(w * self.frame_height / h))
        small = np.asarray(
            cv2.resize(gray, (out_w, self.frame_height), interpolation=cv2.INTER_NEAREST), np.uint8
        )
        if self._keep is None or self._keep.shape != small.shape:
            self._keep = self._mask_for(small.shape[1], small.shape[0])
            self._avg = None  # new resolution: new background
        if self.masks_frac:
            small = small * self._keep
        return np.asarray(cv2.GaussianBlur(small, (3, 3), 1.0), np.uint8)

    def _mask_for(self, w: int, h: int) -> U8:
        keep = np.ones((h, w), np.uint8)
        for poly in self.masks_frac:
            pts = np.array([[round(x * w), round(y * h)] for x, y in poly], np.int32)
            cv2.fillPoly(keep, [pts], 0)
        return keep

    def update(self, gray: U8, t_s: float) -> MotionResult:
        """Compare the Y plane ``gray`` (any size) with the background and update it.

        Args:
            gray: (h, w) uint8 luma picture.
            t_s: its time in seconds (used for the persistent-motion rule).

        Returns:
            Motion boxes as fractions of the frame, the changed share and the calibration flag.
        """
        if gray.ndim != 2:
            raise ValueError(f"gray must be a 2-D (h, w) uint8 picture, got shape {gray.shape}")
        blurred = self._prepare(gray)
        if self._avg is None:
            self._avg = blurred.astype(np.float32)
            self._calibrating = True
            self._calibration_since = t_s
            return MotionResult(_no_boxes(), 0.0, True)
        diff = cv2.absdiff(blurred, cv2.convertScaleAbs(self._avg))
        changed = np.asarray(cv2.threshold(diff, self.threshold, 255, cv2.THRESH_BINARY)[1], np.uint8)
        if self.masks_frac:
            assert self._keep is not None
            changed = np.asarray(changed * self._keep, np.uint8)
        ratio = float(np.count_nonzero(changed)) / changed.size
        h, w = changed.shape
        if ratio > self.lightning_threshold:
            # Lightning / IR switch / PTZ move: the whole picture changed, start over from it.
            self._avg = blurred.astype(np.float32)
            self._calibrating = True
            self._calibration_since = t_s
            self._motion_since = None
            return MotionResult(_no_boxes(), ratio, True)
        boxes = self._boxes(changed)
        if self._calibrating:
            cv2.accumulateWeighted(blurred, self._avg, _CALIBRATION_ALPHA)
            since = t_s if self._calibration_since is None else self._calibration_since
            settled = ratio < _CALIBRATED_MAX_RATIO and len(boxes) <= _CALIBRATED_MAX_BOXES
            if settled or not 0.0 <= t_s - since < self.max_calibration_s:  # (or time went back)
                self._calibrating = False
            return MotionResult(_no_boxes(), ratio, True)
        if boxes:
            if self._motion_since is None:
                self._motion_since = t_s
            if t_s - self._motion_since >= self.persist_s:
                cv2.accumulateWeighted(blurred, self._avg, self.frame_alpha)
        else:
            self._motion_since = None
            cv2.accumulateWeighted(blurred, self._avg, self.frame_alpha)
        arr = np.array(boxes, np.float32).reshape(-1, 4) / np.array([w, h, w, h], np.float32)
        return MotionResult(np.clip(arr, 0.0, 1.0), ratio, False)

    def _boxes(self, changed: U8) -> list[tuple[int, int, int, int]]:
        dilated = cv2.dilate(changed, self._kernel, iterations=2)
        contours, _ = cv2.findContours(dilated, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_area = self.contour_area * (self.frame_height / 100.0) ** 2
        out: list[tuple[int, int, int, int]] = []
        for c in contours:
            if cv2.contourArea(c) >= min_area:
                x, y, bw, bh = cv2.boundingRect(c)
                out.append((x, y, x + bw, y + bh))
        return out
