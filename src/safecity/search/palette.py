"""A fixed palette of 13 named colours (English and Korean) and the classifier that names a crop.

Method (documented so that labels and figures can be compared):

1. The crop region (e.g. the upper body of a person box) is shrunk to at most 32 x 32 pixels with
   area averaging (``cv2.INTER_AREA``: averages out JPEG noise and texture).
2. Pixels are converted from sRGB to CIE L*a*b* (D65) with OpenCV on float input, so L is 0..100
   and a*, b* are unbounded signed values (no 8-bit quantisation).
3. A pixel is *achromatic* when its chroma ``C* = sqrt(a*^2 + b*^2)`` is below
   :data:`ACHROMATIC_CHROMA` (14): it is black below L = 30, white above L = 75, else gray. (Dark
   asphalt, shadows and silver paint are all low chroma; hue is meaningless there.)
4. A chromatic pixel is named by its CIE LCh hue angle ``h = atan2(b*, a*)`` in degrees, split by
   lightness where one hue holds two names (:data:`HUE_RULES`): red 345..45 (pink when L > 65),
   orange 45..70 (brown when L < 50), yellow 70..105 (brown when L < 45; beige when C* < 30 and
   L > 65 for both), green 105..200, blue 200..310 (navy when L < 30), purple 310..345 (pink when
   L > 65). Hue families are stabler under shade and sun than the distance to one reference value
   per colour (measured: a sunlit red car on the Intel car clip, L 61 a 39 b 7, is nearer the pink
   reference than the red one in Lab, but its hue, 10 degrees, is red).
5. The votes make a 13-bin histogram (shares summing to 1): the crop's *colour signature*. The named
   colours are the bins with a share of at least :data:`MIN_SHARE` (0.25), largest first, at most
   two; the largest bin is always named.

Each palette colour also carries a typical sRGB value (for swatches in the console); the classifier
uses the rules above, not these values.

Example:
    >>> import numpy as np
    >>> red = np.zeros((20, 10, 3), np.uint8); red[:] = (40, 30, 200)  # BGR
    >>> names, hist = classify(red)
    >>> names, COLOURS[names[0]].ko
    (('red',), '빨강')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "ACHROMATIC_CHROMA",
    "COLOURS",
    "COLOUR_KEYS",
    "HUE_RULES",
    "MIN_SHARE",
    "PaletteColour",
    "classify",
    "colour_mask",
    "histogram_similarity",
    "names_of",
    "to_lab",
]

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]

ACHROMATIC_CHROMA = 14.0
"""Below this chroma (C*) a pixel is black, gray or white by its lightness."""
MIN_SHARE = 0.25
"""A colour is named when at least this share of the region votes for it."""
HUE_RULES = (
    "red 345-45 (pink L>65)",
    "orange 45-70 (brown L<50)",
    "yellow 70-105 (brown L<45)",
    "orange/yellow C<30 L>65: beige",
    "green 105-200",
    "blue 200-310 (navy L<30)",
    "purple 310-345 (pink L>65)",
)
"""The hue rules of step 4, as shown to operators next to the palette."""
_BLACK_BELOW_L = 30.0
_WHITE_ABOVE_L = 75.0
_MAX_SIDE = 32


@dataclass(frozen=True, slots=True)
class PaletteColour:
    """One named palette colour: key (English, used in the API), English and Korean names, sRGB."""

    key: str
    en: str
    ko: str
    rgb: tuple[int, int, int]
    chromatic: bool = True


_PALETTE: tuple[PaletteColour, ...] = (
    PaletteColour("black", "black", "검정", (20, 20, 20), chromatic=False),
    PaletteColour("gray", "gray", "회색", (128, 128, 128), chromatic=False),
    PaletteColour("white", "white", "흰색", (245, 245, 245), chromatic=False),
    PaletteColour("red", "red", "빨강", (200, 30, 40)),
    PaletteColour("orange", "orange", "주황", (240, 130, 30)),
    PaletteColour("yellow", "yellow", "노랑", (240, 210, 40)),
    PaletteColour("green", "green", "초록", (40, 150, 60)),
    PaletteColour("blue", "blue", "파랑", (40, 90, 200)),
    PaletteColour("navy", "navy", "남색", (30, 40, 90)),
    PaletteColour("purple", "purple", "보라", (120, 50, 150)),
    PaletteColour("pink", "pink", "분홍", (240, 140, 180)),
    PaletteColour("brown", "brown", "갈색", (120, 75, 40)),
    PaletteColour("beige", "beige", "베이지", (215, 195, 155)),
)
COLOUR_KEYS: tuple[str, ...] = tuple(c.key for c in _PALETTE)
"""Palette keys in bin order (the order of signatures and of the bits of :func:`colour_mask`)."""
COLOURS: dict[str, PaletteColour] = {c.key: c for c in _PALETTE}
"""Palette colours by key."""

_BLACK, _GRAY, _WHITE = (COLOUR_KEYS.index(k) for k in ("black", "gray", "white"))


def to_lab(bgr: U8) -> F64:
    """``(h, w, 3)`` BGR uint8 -> ``(h * w, 3)`` CIE L*a*b* (L 0..100), via OpenCV on floats."""
    import cv2

    img = np.asarray(bgr, dtype=np.float32).reshape(-1, 1, 3) / np.float32(255.0)
    return np.asarray(cv2.cvtColor(img, cv2.COLOR_BGR2Lab), dtype=np.float64).reshape(-1, 3)


def _hue_names(light: F64, chroma: F64, hue_deg: F64) -> npt.NDArray[np.intp]:
    """Palette index of chromatic pixels from lightness, chroma and hue (see the module doc)."""
    k = {c: COLOUR_KEYS.index(c) for c in COLOUR_KEYS}
    h = np.mod(hue_deg, 360.0)
    out = np.full(h.shape, k["red"], np.intp)
    pale = (chroma < 30.0) & (light > 65.0)
    orange = (h >= 45.0) & (h < 70.0)
    yellow = (h >= 70.0) & (h < 105.0)
    out[orange] = np.where(light[orange] < 50.0, k["brown"], k["orange"])
    out[yellow] = np.where(light[yellow] < 45.0, k["brown"], k["yellow"])
    out[(orange | yellow) & pale] = k["beige"]
    out[(h >= 105.0) & (h < 200.0)] = k["green"]
    blue = (h >= 200.0) & (h < 310.0)
    out[blue] = np.where(light[blue] < 30.0, k["navy"], k["blue"])
    purple = (h >= 310.0) & (h < 345.0)
    out[purple] = np.where(light[purple] > 65.0, k["pink"], k["purple"])
    red = (h >= 345.0) | (h < 45.0)
    out[red & (light > 65.0)] = k["pink"]
    return out


def _shrink(bgr: U8) -> U8:
    import cv2

    h, w = bgr.shape[:2]
    scale = min(1.0, _MAX_SIDE / max(h, w))
    if scale >= 1.0:
        return bgr
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def classify(bgr: U8) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Named colours (largest share first, at most two) and the 13-bin signature of a BGR region.

    Raises:
        ValueError: a region that is not ``(h, w, 3)`` with h, w >= 1.
    """
    if bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.shape[0] < 1 or bgr.shape[1] < 1:
        raise ValueError(f"expected a BGR region of shape (h >= 1, w >= 1, 3), but got shape {bgr.shape}")
    lab = to_lab(_shrink(bgr))
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    votes = np.empty(lab.shape[0], np.intp)
    grey = chroma < ACHROMATIC_CHROMA
    light = lab[:, 0]
    lg = light[grey]
    votes[grey] = np.where(lg < _BLACK_BELOW_L, _BLACK, np.where(lg > _WHITE_ABOVE_L, _WHITE, _GRAY))
    col = ~grey
    if col.any():
        hue = np.degrees(np.arctan2(lab[col, 2], lab[col, 1]))
        votes[col] = _hue_names(light[col], chroma[col], hue)
    hist = np.bincount(votes, minlength=len(_PALETTE)).astype(np.float64) / votes.size
    return names_of(hist), tuple(round(float(v), 4) for v in hist)


def names_of(signature: Sequence[float] | F64) -> tuple[str, ...]:
    """The named colours of a signature: the largest bin, and the second when its share is at least
    :data:`MIN_SHARE` (ties: palette order).

    >>> names_of([0.1, 0.3, 0.6] + [0.0] * 10)
    ('white', 'gray')
    """
    hist = np.asarray(signature, np.float64)
    if hist.shape != (len(_PALETTE),):
        raise ValueError(f"expected a signature of {len(_PALETTE)} shares, but got shape {hist.shape}")
    order = np.argsort(-hist, kind="stable")
    names = [COLOUR_KEYS[int(order[0])]]
    names += [COLOUR_KEYS[int(i)] for i in order[1:2] if hist[i] >= MIN_SHARE]
    return tuple(names)


def colour_mask(names: Iterable[str]) -> int:
    """Bit mask of colour keys (bit i = ``COLOUR_KEYS[i]``).

    Raises:
        KeyError: a key that is not in the palette.

    >>> colour_mask(["black", "red"])
    9
    """
    mask = 0
    for n in names:
        if n not in COLOURS:
            raise KeyError(f"unknown colour {n!r}; expected one of {', '.join(COLOUR_KEYS)}")
        mask |= 1 << COLOUR_KEYS.index(n)
    return mask


def histogram_similarity(a: Sequence[float], b: Sequence[float]) -> float:
    """Histogram intersection of two signatures (1 = the same colour shares, 0 = nothing shared).

    >>> histogram_similarity([0.5, 0.5], [1.0, 0.0])
    0.5
    """
    if len(a) != len(b):
        raise ValueError(f"signatures must have the same length, but got {len(a)} and {len(b)}")
    return float(np.minimum(np.asarray(a, np.float64), np.asarray(b, np.float64)).sum())
