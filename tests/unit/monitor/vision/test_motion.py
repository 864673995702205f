"""MotionGate on synthetic frames (seeded noise) and on a real clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safecity.errors import ConfigError
from safecity.monitor.sources.readers import FileSource
from safecity.monitor.vision.motion import MotionGate, MotionResult

REPO = Path(__file__).resolve().parents[4]
H, W = 360, 640


def _scene(level: int = 90) -> np.ndarray:
    """Static background with a horizontal gradient (noise is added per frame by _noisy)."""
    base = np.full((H, W), level, np.float32)
    base += np.tile(np.linspace(-30, 30, W, dtype=np.float32), (H, 1))
    return base


def _noisy(base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)


def _warm(gate: MotionGate, base: np.ndarray, rng: np.random.Generator, n: int = 10) -> float:
    t = 0.0
    for _ in range(n):
        gate.update(_noisy(base, rng), t)
        t += 0.2
    return t


def _square(base: np.ndarray, x: int, y: int, size: int = 40, value: float = 230) -> np.ndarray:
    out = base.copy()
    out[y : y + size, x : x + size] = value
    return out


def _contains(box: np.ndarray, x1: float, y1: float, x2: float, y2: float, tol: float = 0.03) -> bool:
    return bool(box[0] <= x1 + tol and box[1] <= y1 + tol and box[2] >= x2 - tol and box[3] >= y2 - tol)


def test_static_scene_has_no_boxes_after_warm_up() -> None:
    rng = np.random.default_rng(1)
    gate = MotionGate()
    base = _scene()
    results = [gate.update(_noisy(base, rng), 0.2 * i) for i in range(30)]
    assert results[0].calibrating
    assert all(not r.has_motion and not r.calibrating for r in results[3:])
    assert max(r.motion_ratio for r in results[3:]) < 0.01


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (300, 150),  # centre
        (10, 10),  # top-left corner
        (590, 310),  # bottom-right corner
    ],
)
def test_moving_square_gives_a_box_around_it(x: int, y: int) -> None:
    rng = np.random.default_rng(2)
    gate = MotionGate()
    base = _scene()
    t = _warm(gate, base, rng)
    results = []
    for step in range(5):
        xs = min(x + 4 * step, W - 40)
        results.append((xs, gate.update(_noisy(_square(base, xs, y), rng), t)))
        t += 0.2
    for xs, r in results:
        assert not r.calibrating and r.has_motion
        assert r.boxes_frac.dtype == np.float32 and r.boxes_frac.shape[1] == 4
        assert any(_contains(b, xs / W, y / H, (xs + 40) / W, (y + 40) / H) for b in r.boxes_frac)
        union = r.boxes_frac[:, 2:].max(0) - r.boxes_frac[:, :2].min(0)
        assert (union < 0.3).all()  # the boxes stay near the square, not the whole frame


@pytest.mark.parametrize(
    ("jump", "expect_calibrating"),
    [
        (120, True),  # lightning / IR switch: everything brighter at once
        (-80, True),  # lights off
        (10, False),  # small exposure drift, under the threshold: nothing
    ],
)
def test_global_brightness_jump_recalibrates(jump: int, expect_calibrating: bool) -> None:
    rng = np.random.default_rng(3)
    gate = MotionGate()
    base = _scene()
    t = _warm(gate, base, rng)
    r = gate.update(_noisy(base + jump, rng), t)
    assert r.calibrating is expect_calibrating
    assert not r.has_motion
    if expect_calibrating:
        assert r.motion_ratio > 0.8
        later = [gate.update(_noisy(base + jump, rng), t + 0.2 * i) for i in range(1, 6)]
        assert not later[-1].calibrating and not later[-1].has_motion  # settled on the new picture


def test_mask_hides_motion_in_the_masked_area() -> None:
    rng = np.random.default_rng(4)
    mask = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]  # left half
    masked, open_ = MotionGate(masks_frac=[mask]), MotionGate()
    base = _scene()
    for gate in (masked, open_):
        _warm(gate, base, np.random.default_rng(5))
    left, right = _square(base, 100, 150), _square(base, 450, 150)
    assert open_.update(_noisy(left, rng), 3.0).has_motion
    assert not masked.update(_noisy(left, rng), 3.0).has_motion
    r = masked.update(_noisy(right, rng), 3.2)
    assert r.has_motion and (r.boxes_frac[:, 0] >= 0.5).all()


def test_persistent_motion_is_absorbed_into_the_background() -> None:
    rng = np.random.default_rng(6)
    gate = MotionGate(persist_s=1.0, frame_alpha=0.2)
    base = _scene()
    t = _warm(gate, base, rng)
    parked = _square(base, 300, 150, size=60)
    results = [gate.update(_noisy(parked, rng), t + 0.2 * i) for i in range(40)]
    assert results[0].has_motion
    assert not results[-1].has_motion  # a parked car stops being motion


def test_resolution_change_restarts_calibration() -> None:
    rng = np.random.default_rng(7)
    gate = MotionGate()
    base = _scene()
    t = _warm(gate, base, rng)
    same_aspect = _noisy(base[::2, ::2], rng)  # same 100-row picture: no restart needed
    assert not gate.update(same_aspect, t).calibrating
    four_by_three = _noisy(base[:, :480], rng)  # another aspect ratio: new background
    assert gate.update(four_by_three, t + 0.2).calibrating


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"frame_height": 4}, "frame_height"),  # too small to see anything
        ({"threshold": 0}, "threshold"),  # every pixel would move
        ({"frame_alpha": 0.0}, "frame_alpha"),  # background never updates
        ({"lightning_threshold": 1.5}, "lightning_threshold"),  # not a share
        ({"masks_frac": [[(0.0, 0.0), (1.0, 0.0)]]}, "polygon"),  # 2 points
        ({"masks_frac": [[(0.0, 0.0), (1.5, 0.0), (0.0, 1.0)]]}, "polygon"),  # outside 0..1
    ],
)
def test_bad_settings_raise_config_error(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        MotionGate(**kwargs)  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), x=st.integers(0, W - 40), y=st.integers(0, H - 40))
def test_boxes_are_fractions_inside_the_frame(seed: int, x: int, y: int) -> None:
    rng = np.random.default_rng(seed)
    gate = MotionGate()
    base = _scene()
    t = _warm(gate, base, rng, n=4)
    r: MotionResult = gate.update(_noisy(_square(base, x, y), rng), t)
    b = r.boxes_frac
    assert ((b >= 0) & (b <= 1)).all()
    assert (b[:, 2] > b[:, 0]).all() and (b[:, 3] > b[:, 1]).all()
    assert 0.0 <= r.motion_ratio <= 1.0


def test_real_clip_motion_when_a_person_walks_in() -> None:
    """Intel one-by-one-person: an empty room for ~6 s, then a person walks in (centre of the view)."""
    src = FileSource(
        REPO / "data/video/intel-sample-videos/one-by-one-person-detection.mp4", camera="c", detect_fps=5.0
    )
    gate = MotionGate()
    results = []
    for f in src:
        results.append((f.t_s, gate.update(f.gray, f.t_s)))
        if f.t_s >= 12.0:
            src.close()
    empty = [r for t, r in results if 1.0 <= t < 5.0]
    person = [r for t, r in results if 8.0 <= t < 12.0]
    assert all(not r.has_motion for r in empty)
    assert sum(r.has_motion for r in person) >= 0.9 * len(person)
    # The person is in the middle of the view (measured: x 0.47-0.70 of the width).
    centres = [(b[0] + b[2]) / 2 for r in person for b in r.boxes_frac]
    assert 0.4 < float(np.median(centres)) < 0.75


def _crowd(base: np.ndarray, step: int, rng: np.random.Generator) -> np.ndarray:
    """Twelve bright 'people' walking across the picture: always more than Frigate's 4 blobs."""
    out = base.copy()
    for k in range(12):
        x = (40 + 45 * k + 6 * step) % (base.shape[1] - 20)
        y = 40 + (k % 4) * 70
        out[y : y + 30, x : x + 12] = 220
    return _noisy(out, rng)


def test_crowd_ends_calibration_after_max_calibration_s() -> None:
    # A busy street never settles to <= 4 blobs; the gate must still start reporting motion
    # (otherwise a camera facing a crowd is blind exactly while the crowd is there).
    rng = np.random.default_rng(7)
    base = np.full((360, 640), 90, np.uint8)
    gate = MotionGate(max_calibration_s=2.0)
    results = [(0.2 * i, gate.update(_crowd(base, i, rng), 0.2 * i)) for i in range(25)]
    calibrating_until = max(t for t, r in results if r.calibrating)
    assert 1.8 <= calibrating_until <= 2.2, calibrating_until  # counted in seconds, not frames
    after = [r for t, r in results if t > 2.2]
    assert after and all(r.has_motion and len(r.boxes_frac) >= 5 for r in after)


def test_max_calibration_s_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="max_calibration_s"):
        MotionGate(max_calibration_s=0)
