"""A brute-force reference of TrackIndex.search (plain Python over the records) and random queries."""

from __future__ import annotations

import numpy as np

from safecity.search.palette import COLOUR_KEYS
from safecity.search.records import TrackRecord
from safecity.search.synthetic import camera_grid
from safecity.store.tracks import TrackQuery


def matches(r: TrackRecord, q: TrackQuery) -> bool:
    if not (r.first_s <= q.until_s and r.last_s >= q.since_s):
        return False
    if q.cameras is not None and r.camera not in q.cameras:
        return False
    if q.classes and r.object_class not in q.classes:
        return False
    named = {c for names in r.colours.values() for c in names}
    if not set(q.colours) <= named:
        return False
    if q.upper and not set(q.upper) & set(r.colours.get("upper", ())):
        return False
    if q.lower and not set(q.lower) & set(r.colours.get("lower", ())):
        return False
    if q.zone is not None and q.zone not in r.zones:
        return False
    if q.line is not None and not any(
        c.line == q.line and (q.direction is None or c.direction == q.direction) for c in r.crossings
    ):
        return False
    if r.dwell_s < q.min_dwell_s:
        return False
    if q.min_speed is not None and r.speed < q.min_speed:
        return False
    if q.max_speed is not None and r.speed > q.max_speed:
        return False
    if q.area is not None:
        s, w, n, e = q.area
        if r.lat is None or r.lon is None or not (s <= r.lat <= n and w <= r.lon <= e):
            return False
    return True


def reference(records: list[TrackRecord], q: TrackQuery) -> list[str]:
    hits = sorted((r for r in records if matches(r, q)), key=lambda r: (r.first_s, r.uid))
    return [r.uid for r in hits]


def random_queries(n: int, seed: int, start_s: float, span_s: float, cameras: int) -> list[TrackQuery]:
    rng = np.random.default_rng(seed)
    grid = camera_grid(cameras)
    out = []
    for _ in range(n):
        t0 = start_s + float(rng.random()) * span_s
        kw: dict[str, object] = {
            "since_s": t0,
            "until_s": t0 + float(rng.uniform(60, span_s / 3)),
            "limit": 500,
        }
        if rng.random() < 0.3:
            kw["cameras"] = frozenset(rng.choice(sorted(grid), 3, replace=False).tolist())
        if rng.random() < 0.4:
            kw["classes"] = ("person",) if rng.random() < 0.5 else ("car", "truck")
        if rng.random() < 0.4:
            kw["colours"] = (COLOUR_KEYS[int(rng.integers(0, 6))],)
        if rng.random() < 0.2:
            kw["upper"] = (COLOUR_KEYS[int(rng.integers(0, 4))], COLOUR_KEYS[int(rng.integers(4, 13))])
        if rng.random() < 0.3:
            kw["zone"] = f"z{int(rng.integers(0, 4))}"
        if rng.random() < 0.3:
            kw["line"] = f"l{int(rng.integers(0, 3))}"
            if rng.random() < 0.5:
                kw["direction"] = "a_to_b"
        if rng.random() < 0.3:
            kw["min_dwell_s"] = float(rng.uniform(0, 60))
        if rng.random() < 0.3:
            kw["min_speed"], kw["max_speed"] = 0.02, 0.2
        if rng.random() < 0.3:
            lats = sorted(v[0] for v in grid.values())
            lons = sorted(v[1] for v in grid.values())
            kw["area"] = (lats[0] - 1e-4, lons[0] - 1e-4, lats[len(lats) // 2], lons[len(lons) // 2])
        out.append(TrackQuery(**kw))  # type: ignore[arg-type]
    return out
