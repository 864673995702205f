"""The virtual PTZ's mechanics and picture: a head that moves at a finite speed over a wide scene.

Positions are in ONVIF's generic spaces: pan and tilt -1..1, zoom 0..1. A move sets a target (absolute,
relative, preset, home) or a velocity (continuous, with an optional timeout); :meth:`PtzHead.tick`
advances the head towards it at ``speed`` units per second at most, so ``GetStatus`` really reports
``MOVING`` for a while and the picture really travels. The view is a crop of the scene image centred
by pan/tilt, narrowed by zoom (1x..``max_zoom``), scaled to the output size.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from dataclasses import dataclass, field

import cv2
import numpy as np

__all__ = ["Preset", "PtzHead", "make_scene", "view_rect"]

Vec = tuple[float, float, float]


def _clamp(v: float, lo: float, hi: float) -> float:
    return lo if v < lo else hi if v > hi else v


def _clip(p: Vec) -> Vec:
    return (_clamp(p[0], -1.0, 1.0), _clamp(p[1], -1.0, 1.0), _clamp(p[2], 0.0, 1.0))


@dataclass
class Preset:
    token: str
    name: str
    position: Vec


@dataclass
class PtzHead:
    """Thread-safe PTZ state: position, target or velocity, presets, home.

    Args:
        speed: pan/tilt units per second at full speed (2.0 = one full sweep per second).
        zoom_speed: zoom units per second at full speed.
    """

    speed: float = 0.5
    zoom_speed: float = 0.5
    position: Vec = (0.0, 0.0, 0.0)
    home: Vec = (0.0, 0.0, 0.0)
    presets: dict[str, Preset] = field(default_factory=dict)
    _target: Vec | None = None
    _target_speed: Vec = (1.0, 1.0, 1.0)
    _velocity: Vec = (0.0, 0.0, 0.0)
    _velocity_until: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last: float = field(default_factory=time.monotonic)

    def tick(self, now: float | None = None) -> None:
        """Advance the head to ``now`` (monotonic seconds)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            dt = max(0.0, now - self._last)
            self._last = now
            limits = (self.speed, self.speed, self.zoom_speed)
            pos = list(self.position)
            if self._target is not None:
                done = True
                for i in range(3):
                    step = limits[i] * self._target_speed[i] * dt
                    diff = self._target[i] - pos[i]
                    if abs(diff) <= step:
                        pos[i] = self._target[i]
                    else:
                        pos[i] += math.copysign(step, diff)
                        done = False
                if done:
                    self._target = None
            elif any(self._velocity):
                if self._velocity_until is not None and now >= self._velocity_until:
                    dt = max(0.0, dt - (now - self._velocity_until))
                for i in range(3):
                    pos[i] += limits[i] * self._velocity[i] * dt
                if self._velocity_until is not None and now >= self._velocity_until:
                    self._velocity = (0.0, 0.0, 0.0)
                    self._velocity_until = None
            self.position = _clip((pos[0], pos[1], pos[2]))

    def moving(self) -> tuple[bool, bool]:
        """(pan/tilt moving, zoom moving)."""
        with self._lock:
            if self._target is not None:
                t, p = self._target, self.position
                return (abs(t[0] - p[0]) > 1e-9 or abs(t[1] - p[1]) > 1e-9, abs(t[2] - p[2]) > 1e-9)
            v = self._velocity
            return (v[0] != 0.0 or v[1] != 0.0, v[2] != 0.0)

    def move_to(
        self, target: tuple[float | None, float | None, float | None], speed: Vec | None = None
    ) -> None:
        """Absolute move; ``None`` components keep their current value (or current target)."""
        with self._lock:
            base = self._target if self._target is not None else self.position
            self._target = _clip(tuple(b if t is None else t for t, b in zip(target, base, strict=True)))  # type: ignore[arg-type]
            self._target_speed = speed or (1.0, 1.0, 1.0)
            self._velocity = (0.0, 0.0, 0.0)
            self._velocity_until = None

    def move_by(self, delta: Vec, speed: Vec | None = None) -> None:
        with self._lock:
            p = self.position
            self._target = _clip((p[0] + delta[0], p[1] + delta[1], p[2] + delta[2]))
            self._target_speed = speed or (1.0, 1.0, 1.0)
            self._velocity = (0.0, 0.0, 0.0)
            self._velocity_until = None

    def move_continuous(self, velocity: Vec, timeout_s: float | None) -> None:
        with self._lock:
            self._target = None
            self._velocity = (
                _clamp(velocity[0], -1, 1),
                _clamp(velocity[1], -1, 1),
                _clamp(velocity[2], -1, 1),
            )
            self._velocity_until = None if timeout_s is None else time.monotonic() + timeout_s

    def stop(self, pan_tilt: bool = True, zoom: bool = True) -> None:
        with self._lock:
            p = self.position
            if self._target is not None:
                t = self._target
                self._target = (
                    p[0] if pan_tilt else t[0],
                    p[1] if pan_tilt else t[1],
                    p[2] if zoom else t[2],
                )
            v = self._velocity
            self._velocity = (0.0 if pan_tilt else v[0], 0.0 if pan_tilt else v[1], 0.0 if zoom else v[2])

    def set_preset(self, name: str, token: str | None) -> str:
        with self._lock:
            token = token or f"preset-{uuid.uuid4().hex[:8]}"
            self.presets[token] = Preset(token, name, self.position)
            return token


WALKER_BGR = (255, 0, 255)  # magenta: no block of the test scene has it (their channels are >= 30)


def make_scene(width: int = 2560, height: int = 1080, seed: int = 7) -> np.ndarray:
    """A deterministic wide test scene: seeded coloured blocks, a labelled grid every 160 px, so that
    every pan/tilt/zoom position gives a different picture."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), 60, np.uint8)
    for _ in range(220):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(20, 160)), int(rng.integers(20, 160))
        color = tuple(int(c) for c in rng.integers(30, 255, 3))
        cv2.rectangle(img, (x, y), (x + w, y + h), color, -1)
    for x in range(0, width, 160):
        cv2.line(img, (x, 0), (x, height), (240, 240, 240), 2)
        for y in range(0, height, 160):
            cv2.putText(img, f"{x // 160},{y // 160}", (x + 6, y + 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8,
                        (255, 255, 255), 2)  # fmt: skip
    for y in range(0, height, 160):
        cv2.line(img, (0, y), (width, y), (240, 240, 240), 2)
    return img


def view_rect(
    pos: Vec, scene_wh: tuple[int, int], out_wh: tuple[int, int], max_zoom: float
) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the scene shown at ``pos``: at zoom 0 the view is as wide as half the scene
    (or as tall as the scene allows at the output's aspect), ``max_zoom`` times narrower at zoom 1."""
    sw, sh = scene_wh
    aspect = out_wh[0] / out_wh[1]
    w0 = min(sw / 2.0, sh * aspect)
    mag = 1.0 + pos[2] * (max_zoom - 1.0)
    w, h = w0 / mag, w0 / mag / aspect
    cx = sw / 2.0 + pos[0] * (sw - w) / 2.0
    cy = sh / 2.0 - pos[1] * (sh - h) / 2.0
    return round(cx - w / 2), round(cy - h / 2), max(1, round(w)), max(1, round(h))


def walker_rect(
    at: tuple[float, float],
    scene_wh: tuple[int, int],
    t_s: float,
    *,
    span_px: float = 160.0,
    speed_px: float = 60.0,
) -> tuple[int, int, int, int]:
    """(x, y, w, h) in scene pixels of the walker: a 28 x 80 px figure centred on ``at`` (fractions of
    the scene) that walks ``span_px`` left and right at ``speed_px`` per second (a triangle wave)."""
    phase = (t_s * speed_px / span_px) % 2.0
    dx = (phase if phase < 1.0 else 2.0 - phase) * span_px - span_px / 2.0
    cx, cy = at[0] * scene_wh[0] + dx, at[1] * scene_wh[1]
    return round(cx - 14), round(cy - 40), 28, 80


def render(
    scene: np.ndarray,
    pos: Vec,
    out_wh: tuple[int, int],
    max_zoom: float,
    walker: tuple[float, float] | None = None,
    t_s: float = 0.0,
) -> np.ndarray:
    """The view at ``pos``; with ``walker`` a magenta figure walks in the scene (it is seen only where
    the camera looks: tests of per-preset rules, the demo)."""
    x, y, w, h = view_rect(pos, (scene.shape[1], scene.shape[0]), out_wh, max_zoom)
    crop = scene[y : y + h, x : x + w]
    out = cv2.resize(crop, out_wh, interpolation=cv2.INTER_AREA)
    if walker is not None:
        wx, wy, ww, wh = walker_rect(walker, (scene.shape[1], scene.shape[0]), t_s)
        sx, sy = out_wh[0] / w, out_wh[1] / h
        p1 = (round((wx - x) * sx), round((wy - y) * sy))
        p2 = (round((wx + ww - x) * sx), round((wy + wh - y) * sy))
        cv2.rectangle(out, p1, p2, WALKER_BGR, -1)
    return out
