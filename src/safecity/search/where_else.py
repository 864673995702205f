""" "Where else": rank tracks on other cameras that may be the same object as a given track.

A candidate is a track of the same class group (people with people, vehicles with vehicles) on
another camera, first seen within ``window_s`` after the source track was last seen (or up to
:data:`OVERLAP_S` before: fields of view may overlap). Its score is ``appearance x plausibility``:

- *appearance* (0..1) = 0.8 x colour similarity (histogram intersection of the palette signatures,
  averaged over the parts both records have) + 0.2 x shape similarity (ratio of the box aspects,
  smaller / larger). Box *size* is not compared: it depends on each camera's distance and zoom.
- *plausibility* (0..1) of the move from the source camera to the candidate's camera in the time
  between them: the straight-line distance (haversine, camera positions) over the time gives the
  speed needed. Up to the class's typical speed (walking 1.4 m/s, driving 8.3 m/s = 30 km/h in a
  district) it is 1; above, it falls off as ``exp(-(v - typical) / typical)``, and beyond the class's
  top speed (running 4 m/s, driving 22 m/s = 80 km/h) the candidate is dropped. A long wait is
  also less likely: after the time needed at a slow pace (0.5 m/s walking, 2 m/s driving) plus two
  minutes, plausibility halves every ten minutes. A camera without a position gets 0.5 (unknown).

Every candidate carries its figures and a one-line reason for the operator.

Example:
    >>> src = {"uid": "a", "camera": "c1", "object_class": "person", "last_s": 0.0, "lat": 37.5,
    ...        "lon": 126.9, "aspect": 0.4, "signature": {"upper": [1.0] + [0.0] * 12}}
    >>> cand = dict(src, uid="b", camera="c2", first_s=60.0, last_s=70.0, lat=37.5005)
    >>> [round(c.score, 2) for c in rank_candidates(src, [cand])]
    [1.0]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from safecity.monitor.vision.track import class_group
from safecity.search.palette import histogram_similarity

__all__ = ["Candidate", "OVERLAP_S", "SPEEDS", "haversine_m", "rank_candidates"]

OVERLAP_S = 30.0
"""A candidate may start this long before the source track ended (overlapping views)."""
SPEEDS: dict[str, tuple[float, float, float]] = {
    "person": (0.5, 1.4, 4.0),
    "vehicle": (2.0, 8.3, 22.0),
}
"""Class group -> (slow, typical, top) speed in m/s; other groups use the person's."""
_EARTH_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class Candidate:
    """One ranked candidate: its record (as stored), the score and how it was reached."""

    record: Mapping[str, Any]
    score: float
    appearance: float
    plausibility: float
    distance_m: float | None
    gap_s: float
    reason: str


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres.

    >>> round(haversine_m(37.5, 126.9, 37.5, 126.91))
    882
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_M * math.asin(min(1.0, math.sqrt(a)))


def _appearance(src: Mapping[str, Any], cand: Mapping[str, Any]) -> tuple[float, float]:
    a, b = src.get("signature") or {}, cand.get("signature") or {}
    parts = sorted(set(a) & set(b))
    colour = sum(histogram_similarity(a[p], b[p]) for p in parts) / len(parts) if parts else 0.0
    sa, sb = float(src.get("aspect") or 0.0), float(cand.get("aspect") or 0.0)
    shape = min(sa, sb) / max(sa, sb) if sa > 0 and sb > 0 else 0.5
    return colour, 0.8 * colour + 0.2 * shape


def _plausibility(group: str, dist: float | None, gap: float) -> float | None:
    slow, typical, top = SPEEDS.get(group, SPEEDS["person"])
    if dist is None:
        return 0.5
    v = dist / max(gap, 1.0)
    if v > top:
        return None
    p = 1.0 if v <= typical else math.exp(-(v - typical) / typical)
    late = gap - (dist / slow + 120.0)
    if late > 0:
        p *= 0.5 ** (late / 600.0)
    return p


def _time(v: Any) -> float:
    if isinstance(v, int | float):
        return float(v)
    return float(v.timestamp())


def rank_candidates(
    source: Mapping[str, Any], candidates: Iterable[Mapping[str, Any]], *, limit: int = 10
) -> list[Candidate]:
    """Score ``candidates`` (stored records of other cameras) against ``source``; best first.

    Records are the dicts of :meth:`safecity.store.tracks.TrackIndex.search` (``first_at`` /
    ``last_at`` datetimes) or the same with ``first_s`` / ``last_s`` seconds.
    """
    group = class_group(str(source["object_class"]))
    src_last = _time(source.get("last_s", source.get("last_at")))
    out = []
    for cand in candidates:
        if cand["uid"] == source["uid"] or cand["camera"] == source["camera"]:
            continue
        if class_group(str(cand["object_class"])) != group:
            continue
        gap = _time(cand.get("first_s", cand.get("first_at"))) - src_last
        if gap < -OVERLAP_S:
            continue
        pos = [source.get("lat"), source.get("lon"), cand.get("lat"), cand.get("lon")]
        known = [float(v) for v in pos if v is not None]
        dist = haversine_m(*known) if len(known) == 4 else None
        plaus = _plausibility(group, dist, max(gap, 0.0))
        if plaus is None:
            continue
        colour, appearance = _appearance(source, cand)
        where = "position unknown" if dist is None else f"{dist:.0f} m"
        speed = "" if dist is None else f" ({dist / max(gap, 1.0):.1f} m/s)"
        reason = f"colours {colour:.2f}, {where} in {gap:.0f} s{speed}"
        out.append(Candidate(cand, appearance * plaus, appearance, plaus, dist, gap, reason))
    out.sort(key=lambda c: (-c.score, c.gap_s, str(c.record["uid"])))
    return out[:limit]
