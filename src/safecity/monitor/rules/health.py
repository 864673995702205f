"""Camera health as a pure state machine over gray frames and timestamps.

Checks, each debounced and ended like any rule (start after its ``*_s``, end after ``end_after_s``):

- **offline**: the source reports a gap (``update_gap``) lasting ``offline_s``; the next frame ends it.
- **frozen**: the downscaled picture does not change (mean absolute difference to the previous
  analysed frame below ``frozen_epsilon`` grey levels) for ``frozen_s``.
- **covered**: the picture is dark (mean below ``dark_mean``) or uniform (standard deviation below
  ``uniform_std``: a lens covered by a hand, a bag, spray paint) for ``covered_s``.
- **blurred**: sharpness (variance of the Laplacian) below ``blur_ratio`` × its learned baseline for
  ``blurred_s`` (defocus, a wet or dirty lens). The baseline is learned over ``learn_s`` and then
  follows slow changes while the picture is sharp.
- **moved**: the scene shifted (phase correlation against a reference frame) by more than
  ``moved_shift_frac`` of the frame for ``moved_s`` (camera knocked or turned). After the operator
  acknowledges, :meth:`CameraHealthMonitor.relearn` takes the current view as the new reference.

Frames are analysed at most every ``check_every_s`` and at ``analysis_height`` pixels tall (~0.3 ms).
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from safecity.monitor.config.model import CameraHealthRuleConfig
from safecity.monitor.rules.episode import Emission, Episode, UidMaker
from safecity.monitor.types import Event, EventType, HealthState

__all__ = ["CameraHealthMonitor"]

_BASE_ALPHA = 0.02  # how fast the sharpness baseline follows a sharp picture
_PRIORITY: tuple[tuple[EventType, HealthState], ...] = (
    ("camera_offline", "offline"),
    ("camera_covered", "covered"),
    ("camera_frozen", "frozen"),
    ("camera_moved", "moved"),
    ("camera_blurred", "blurred"),
)


class CameraHealthMonitor:
    """Health events of one camera from its gray frames and source gaps.

    Args:
        camera: camera id put in events.
        cfg: thresholds and durations; ``None`` = defaults. A disabled config yields no events.
        check_every_s: analyse at most one frame per this many seconds.
    """

    def __init__(
        self, camera: str, cfg: CameraHealthRuleConfig | None = None, *, check_every_s: float = 0.5
    ) -> None:
        self.camera = camera
        self.cfg = cfg if cfg is not None else CameraHealthRuleConfig()
        self.check_every_s = check_every_s
        self._last_check: float | None = None
        self._prev: npt.NDArray[np.float32] | None = None
        self._ref: npt.NDArray[np.float32] | None = None
        self._window: npt.NDArray[np.float64] | None = None
        self._learn_from: float | None = None
        self._sharp_sum = 0.0
        self._sharp_n = 0
        self._sharp_base: float | None = None
        c = self.cfg
        durations: dict[EventType, float] = {
            "camera_offline": c.offline_s,
            "camera_frozen": c.frozen_s,
            "camera_covered": c.covered_s,
            "camera_blurred": c.blurred_s,
            "camera_moved": c.moved_s,
        }
        self.episodes: dict[EventType, Episode] = {
            kind: Episode(
                Event(uid="", type=kind, camera=camera, start_s=0.0, last_s=0.0, severity=c.severity),
                UidMaker(camera, kind, None),
                min_s,
                0.0 if kind == "camera_offline" else c.end_after_s,
                c.update_every_s,
            )
            for kind, min_s in durations.items()
        }

    @property
    def state(self) -> HealthState:
        """The most serious live condition, or ``online``."""
        for kind, state in _PRIORITY:
            if self.episodes[kind].event is not None:
                return state
        return "online"

    def live(self) -> list[Event]:
        """Live health events."""
        return [ep.event for ep in self.episodes.values() if ep.event is not None]

    def relearn(self) -> None:
        """Forget the reference view and sharpness baseline (after an acknowledged move or refocus)."""
        self._ref = None
        self._learn_from = None
        self._sharp_sum, self._sharp_n, self._sharp_base = 0.0, 0, None

    def finish(self, t_s: float) -> list[Emission]:
        """End every live health event (the camera is being stopped)."""
        out: list[Emission] = []
        for ep in self.episodes.values():
            out += ep.finish(t_s)
        return out

    def update_gap(self, gap_t_s: float, down_since_s: float, reason: str) -> list[Emission]:
        """The source is down since ``down_since_s`` (reported again at ``gap_t_s``)."""
        if not self.cfg.enabled:
            return []
        ep = self.episodes["camera_offline"]
        if ep.event is None and (ep.cond_since is None or ep.cond_since > down_since_s):
            ep.cond_since = down_since_s
        down = round(gap_t_s - down_since_s, 1)
        return ep.step(gap_t_s, True, {"detail": {"reason": reason[:200], "down_s": down}})

    def update_frame(self, gray: npt.NDArray[np.uint8], t_s: float) -> list[Emission]:
        """Analyse a gray frame (any size); returns health event messages."""
        if not self.cfg.enabled:
            return []
        if gray.ndim != 2 or gray.size == 0:
            raise ValueError(f"gray must be a 2-D uint8 image, but got shape {gray.shape}")
        out: list[Emission] = []
        offline = self.episodes["camera_offline"]
        if offline.event is not None or offline.cond_since is not None:
            out += offline.finish(t_s)  # a frame arrived: back online
            offline.cond_since = None
        if self._last_check is not None and t_s - self._last_check < self.check_every_s:
            return out
        self._last_check = t_s
        c = self.cfg
        small = self._downscale(gray)
        mean, std = float(small.mean()), float(small.std())
        covered = mean < c.dark_mean or std < c.uniform_std
        diff = float(np.abs(small - self._prev).mean()) if self._prev is not None else math.inf
        frozen = not covered and diff < c.frozen_epsilon
        self._prev = small

        sharp = float(cv2.Laplacian(small, cv2.CV_32F).var())
        blurred = False
        shift = 0.0
        if not covered:
            if self._learn_from is None:
                self._learn_from = t_s
                self._ref = small
            if self._sharp_base is None:
                self._sharp_sum += sharp
                self._sharp_n += 1
                if t_s - self._learn_from >= c.learn_s:
                    self._sharp_base = self._sharp_sum / self._sharp_n
            else:
                blurred = sharp < c.blur_ratio * self._sharp_base
                if not blurred:
                    self._sharp_base += _BASE_ALPHA * (sharp - self._sharp_base)
            if self._ref is not None and self._ref.shape == small.shape:
                shift = self._shift(self._ref, small)
        moved = shift > c.moved_shift_frac

        def detail(**kw: float) -> dict[str, object]:
            return {"detail": {k: round(v, 3) for k, v in kw.items()}}

        out += self.episodes["camera_covered"].step(t_s, covered, detail(mean=mean, std=std))
        out += self.episodes["camera_frozen"].step(t_s, frozen, detail(diff=diff if frozen else 0.0))
        out += self.episodes["camera_blurred"].step(
            t_s, blurred, detail(sharpness=sharp, baseline=self._sharp_base or 0.0)
        )
        out += self.episodes["camera_moved"].step(t_s, moved, detail(shift_frac=shift))
        return out

    # -----------------------------------------------------------------------------------------

    def _downscale(self, gray: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        h, w = gray.shape
        th = min(self.cfg.analysis_height, h)
        tw = max(8, round(w * th / h))
        img: npt.NDArray[Any] = gray
        if h > 2 * th:  # a cheap linear step to twice the size, then an exact 2x area average
            img = cv2.resize(img, (2 * tw, 2 * th), interpolation=cv2.INTER_LINEAR)
        if img.shape != (th, tw):
            img = cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA)
        return np.asarray(img, dtype=np.float32)

    def _shift(self, ref: npt.NDArray[np.float32], cur: npt.NDArray[np.float32]) -> float:
        """Shift between two analysed frames as a fraction of the frame (phase correlation, half size)."""
        a, b = cv2.pyrDown(ref), cv2.pyrDown(cur)
        h, w = _smooth_floor(a.shape[0]), _smooth_floor(a.shape[1])  # fast DFT sizes
        a, b = a[:h, :w].astype(np.float64), b[:h, :w].astype(np.float64)
        if self._window is None or self._window.shape != a.shape:
            self._window = np.asarray(cv2.createHanningWindow((w, h), cv2.CV_64F), dtype=np.float64)
        (dx, dy), _resp = cv2.phaseCorrelate(a, b, self._window)
        return float(math.hypot(dx / w, dy / h))


def _smooth_floor(n: int) -> int:
    """Largest m <= n whose prime factors are 2, 3 and 5 (fast DFT length)."""
    for m in range(n, 0, -1):
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
    return 1
