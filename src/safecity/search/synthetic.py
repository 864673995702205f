"""Seeded synthetic track records for the search benchmark and the index tests (never shown as real).

Cameras sit on a grid around Guro-gu (37.49 N, 126.86 E, about 300 m apart); each record is a person
(60 %), car (30 %) or another vehicle; its period starts uniformly in ``[start_s, start_s + span_s)``
and lasts 2..120 s (a few parked cars up to 1 h); colours are drawn from a skewed distribution over
the palette (black, gray and white commonest, as on real streets); zones and lines are named per
camera (``z0``.. / ``l0``..).

Example:
    >>> recs = synthetic_records(3, seed=1)
    >>> len(recs), [r.uid for r in recs] == [r.uid for r in synthetic_records(3, seed=1)]
    (3, True)
"""

from __future__ import annotations

import numpy as np

from safecity.search.palette import COLOUR_KEYS
from safecity.search.records import Crossing, TrackRecord, parts_for

__all__ = ["COLOUR_WEIGHTS", "camera_grid", "synthetic_records"]

COLOUR_WEIGHTS: tuple[float, ...] = (
    0.24,
    0.2,
    0.14,
    0.06,
    0.03,
    0.03,
    0.04,
    0.08,
    0.07,
    0.02,
    0.02,
    0.04,
    0.03,
)
"""Share of each palette colour (in ``COLOUR_KEYS`` order) among synthetic parts."""
_CLASSES = ("person", "car", "truck", "bicycle", "motorcycle", "bus")
_CLASS_P = (0.6, 0.3, 0.04, 0.03, 0.02, 0.01)


def camera_grid(n: int) -> dict[str, tuple[float, float]]:
    """``n`` camera ids ``cam-000``.. with positions on a ~300 m grid around Guro-gu."""
    side = max(1, int(np.ceil(np.sqrt(n))))
    return {
        f"cam-{i:03d}": (round(37.48 + 0.0027 * (i // side), 6), round(126.85 + 0.0034 * (i % side), 6))
        for i in range(n)
    }


def synthetic_records(
    n: int,
    *,
    seed: int = 0,
    cameras: int = 200,
    start_s: float = 1_790_000_000.0,
    span_s: float = 30 * 86400.0,
) -> list[TrackRecord]:
    """``n`` seeded records over ``cameras`` cameras in ``[start_s, start_s + span_s)``."""
    rng = np.random.default_rng(seed)
    grid = list(camera_grid(cameras).items())
    weights = np.asarray(COLOUR_WEIGHTS) / sum(COLOUR_WEIGHTS)
    cam_i = rng.integers(0, len(grid), n)
    cls_i = rng.choice(len(_CLASSES), n, p=_CLASS_P)
    first = start_s + rng.random(n) * span_s
    dur = np.where(rng.random(n) < 0.01, rng.uniform(120, 3600, n), rng.uniform(2, 120, n))
    cols = rng.choice(len(COLOUR_KEYS), (n, 2), p=weights)
    second = rng.random(n) < 0.3
    speed = rng.gamma(2.0, 0.05, n)
    size = rng.uniform(0.05, 0.6, n)
    xy = rng.random((n, 4))
    zone = rng.integers(0, 4, n)
    line = rng.integers(-1, 3, n)  # -1: crossed no line
    out = []
    for i in range(n):
        cam, (lat, lon) = grid[int(cam_i[i])]
        cls = _CLASSES[int(cls_i[i])]
        colours: dict[str, tuple[str, ...]] = {}
        signature: dict[str, tuple[float, ...]] = {}
        for k, part in enumerate(parts_for(cls)):
            main = int(cols[i, k])
            names = [COLOUR_KEYS[main]]
            sig = [0.0] * len(COLOUR_KEYS)
            sig[main] = 1.0
            if second[i]:
                other = (main + 1 + k) % len(COLOUR_KEYS)
                names.append(COLOUR_KEYS[other])
                sig[main], sig[other] = 0.6, 0.4
            colours[part] = tuple(names)
            signature[part] = tuple(sig)
        x1, x2 = sorted((float(xy[i, 0]), float(xy[i, 1])))
        y1, y2 = sorted((float(xy[i, 2]), float(xy[i, 3])))
        t0, t1 = float(first[i]), float(first[i] + dur[i])
        crossings: tuple[Crossing, ...] = ()
        if line[i] >= 0:
            crossings = (Crossing(f"l{int(line[i])}", "a_to_b" if i % 2 else "b_to_a", (t0 + t1) / 2),)
        out.append(
            TrackRecord(
                uid=f"{cam}-{i}-{round(t0 * 1000)}",
                camera=cam,
                track_id=i,
                object_class=cls,
                first_s=t0,
                last_s=t1,
                path=((t0, x1, y1), (t1, x2, y2)),
                box=(x1, y1, x2, y2),
                zones=(f"z{int(zone[i])}",),
                crossings=crossings,
                speed=round(float(speed[i]), 4),
                size=round(float(size[i]), 4),
                aspect=0.4 if cls == "person" else 1.6,
                colours=colours,
                signature=signature,
                confidence=0.6,
                lat=lat,
                lon=lon,
            )
        )
    return out
