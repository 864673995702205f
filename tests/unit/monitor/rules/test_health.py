"""Camera health on synthetic pictures: frozen, covered/dark, blurred, moved, offline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pytest

from safecity.monitor.config.model import CameraHealthRuleConfig
from safecity.monitor.rules.health import CameraHealthMonitor

U8 = np.ndarray[Any, np.dtype[np.uint8]]
CFG = CameraHealthRuleConfig(
    frozen_s=5.0,
    covered_s=3.0,
    blurred_s=3.0,
    moved_s=3.0,
    offline_s=10.0,
    learn_s=2.0,
    end_after_s=1.0,
    update_every_s=100.0,
)


def scene(seed: int = 0) -> U8:
    """A 240x320 picture of random grey blocks (sharp edges, lots of texture)."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(30, 220, size=(30, 40), dtype=np.uint8)
    return np.asarray(cv2.resize(cells, (320, 240), interpolation=cv2.INTER_NEAREST), dtype=np.uint8)


def noisy(img: U8, rng: np.random.Generator) -> U8:
    """Sensor noise, so that consecutive frames of a still scene differ a little."""
    return np.clip(
        img.astype(np.int16) + rng.normal(0, 3, img.shape).round().astype(np.int16), 0, 255
    ).astype(np.uint8)


BASE = scene()


def healthy(t: float, rng: np.random.Generator) -> U8:
    return noisy(BASE, rng)


def repeated(t: float, rng: np.random.Generator) -> U8:
    return BASE  # the very same picture every time


def black(t: float, rng: np.random.Generator) -> U8:
    return np.zeros_like(BASE)


def uniform(t: float, rng: np.random.Generator) -> U8:
    return noisy(np.full_like(BASE, 128), np.random.default_rng(0)) // 64 + 120  # grey, tiny variation


def blurred(t: float, rng: np.random.Generator) -> U8:
    return noisy(np.asarray(cv2.GaussianBlur(BASE, (0, 0), 6), dtype=np.uint8), rng)


def shifted(t: float, rng: np.random.Generator) -> U8:
    return noisy(np.roll(BASE, 40, axis=1), rng)  # 40 of 320 px = 12.5 % sideways


Run = tuple[CameraHealthMonitor, list[tuple[float, str, str]]]


def _run(after: Callable[[float, np.random.Generator], U8], t_bad: float = 4.0, t_end: float = 12.0,
         back_at: float | None = None) -> Run:  # fmt: skip
    mon = CameraHealthMonitor("cam1", CFG, check_every_s=0.5)
    rng = np.random.default_rng(1)
    out = []
    for k in range(round(t_end / 0.5) + 1):
        t = 0.5 * k
        bad = t >= t_bad and (back_at is None or t < back_at)
        img = after(t, rng) if bad else healthy(t, rng)
        out += [(t, kind, ev.type) for kind, ev in mon.update_frame(img, t)]
    return mon, out


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (healthy, []),  # normal noisy frames: nothing
        (repeated, [(9.5, "start", "camera_frozen")]),  # same picture from 4.5 s on: frozen 5 s later
        (black, [(7.0, "start", "camera_covered")]),  # black from 4 s: covered after 3 s
        (uniform, [(7.0, "start", "camera_covered")]),  # uniform grey (lens covered)
        (blurred, [(7.0, "start", "camera_blurred")]),  # defocused after the 2 s learning
        (shifted, [(7.0, "start", "camera_moved")]),  # scene shifted sideways
    ],
)
def test_health_conditions_start(after: Callable[[float, np.random.Generator], U8],
                                 expected: list[tuple[float, str, str]]) -> None:  # fmt: skip
    mon, got = _run(after)
    assert got == expected
    assert mon.state == ({"camera_frozen": "frozen", "camera_covered": "covered", "camera_blurred": "blurred",
                          "camera_moved": "moved"}[expected[0][2]] if expected else "online")  # fmt: skip


@pytest.mark.parametrize("after", [repeated, black, blurred, shifted])
def test_health_conditions_end_when_the_picture_recovers(
    after: Callable[[float, np.random.Generator], U8],
) -> None:
    mon, got = _run(after, back_at=10.0, t_end=14.0)
    assert [k for _, k, _ in got] == ["start", "end"]
    assert got[1][0] == 11.0  # end_after_s = 1 after recovery at 10 s
    assert mon.state == "online" and mon.live() == []


def test_moved_relearn_takes_the_new_view() -> None:
    mon, _ = _run(shifted, t_end=8.0)
    assert mon.state == "moved"
    mon.relearn()
    mon.finish(8.0)
    rng = np.random.default_rng(3)
    later = []
    for k in range(20):
        t = 8.5 + 0.5 * k
        later += mon.update_frame(shifted(t, rng), t)
    assert later == []


def test_offline_from_gaps_and_back_online() -> None:
    mon = CameraHealthMonitor("cam1", CFG)
    assert mon.update_gap(5.0, 0.0, "connection refused") == []  # down 5 s < offline_s
    started = mon.update_gap(11.0, 0.0, "connection refused")
    assert [(k, e.type, e.start_s) for k, e in started] == [("start", "camera_offline", 0.0)]
    assert started[0][1].detail["reason"] == "connection refused" and mon.state == "offline"
    back = mon.update_frame(BASE, 12.0)
    assert [(k, e.type, e.end_s) for k, e in back] == [("end", "camera_offline", 12.0)]
    assert mon.state == "online"


def test_disabled_health_reports_nothing() -> None:
    mon = CameraHealthMonitor("cam1", CameraHealthRuleConfig(enabled=False))
    assert (
        mon.update_gap(100.0, 0.0, "down") == [] and mon.update_frame(np.zeros((10, 10), np.uint8), 1) == []
    )


def test_rejects_colour_frames() -> None:
    with pytest.raises(ValueError, match="2-D uint8"):
        CameraHealthMonitor("cam1").update_frame(np.zeros((4, 4, 3), np.uint8), 0.0)
