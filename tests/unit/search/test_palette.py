from __future__ import annotations

import numpy as np
import pytest

from safecity.search.palette import (
    COLOUR_KEYS,
    COLOURS,
    classify,
    colour_mask,
    histogram_similarity,
    names_of,
)
from safecity.search.summary import PART_REGIONS

from .conftest import LABELLED, read_frame


@pytest.mark.parametrize("key", COLOUR_KEYS)
def test_each_palette_swatch_is_named_as_itself(key: str) -> None:
    r, g, b = COLOURS[key].rgb
    img = np.zeros((40, 20, 3), np.uint8)
    img[:] = (b, g, r)
    names, hist = classify(img)
    assert names == (key,), f"swatch {key} {COLOURS[key].rgb} named {names}"
    assert hist[COLOUR_KEYS.index(key)] == 1.0


def test_every_colour_has_korean_and_english_names() -> None:
    assert len(COLOUR_KEYS) == 13 and len(set(COLOUR_KEYS)) == 13
    for c in COLOURS.values():
        assert c.en and c.ko and not c.ko.isascii()


def test_two_colour_region_names_both_largest_first() -> None:
    img = np.zeros((40, 40, 3), np.uint8)
    img[:, :24] = (40, 30, 200)  # red, 60 %
    img[:, 24:] = (245, 245, 245)  # white, 40 %
    names, hist = classify(img)
    assert names == ("red", "white")
    assert sum(hist) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(("clip", "t", "box", "colour", "part"), LABELLED)
def test_real_crops_are_named_as_labelled_by_eye(
    clip: str, t: float, box: tuple[float, float, float, float], colour: str, part: str
) -> None:
    frame = read_frame(clip, t)
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = box
    bw, bh = x2 - x1, y2 - y1
    fx1, fy1, fx2, fy2 = PART_REGIONS[part]
    crop = frame[
        int((y1 + fy1 * bh) * h) : int((y1 + fy2 * bh) * h),
        int((x1 + fx1 * bw) * w) : int((x1 + fx2 * bw) * w),
    ]
    names, _ = classify(crop)
    assert names[0] == colour, f"{clip} at {t} s: labelled {colour}, classified {names}"


def test_bad_region_and_unknown_colour_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="shape"):
        classify(np.zeros((0, 4, 3), np.uint8))
    with pytest.raises(KeyError, match="unknown colour 'mauve'"):
        colour_mask(["red", "mauve"])
    with pytest.raises(ValueError, match="13 shares"):
        names_of([1.0])


def test_mask_and_similarity() -> None:
    assert colour_mask([]) == 0
    assert colour_mask(["white", "red"]) == (1 << 2) | (1 << 3)
    a = [0.0] * 13
    a[3] = 1.0
    assert histogram_similarity(a, a) == 1.0
    assert histogram_similarity(a, [1.0] + [0.0] * 12) == 0.0
