"""What each camera on a pole sees: a PTZ covers a disc, a fixed camera a sector in a chosen heading.

Headings are compass bearings in degrees, clockwise from grid north (EPSG:5179 y axis). A sector of
field of view ``fov`` in heading ``h`` holds the points whose bearing from the pole lies in
``[h − fov/2, h + fov/2)`` (half-open, so headings spaced exactly one field of view apart never share a
point) and whose distance is at most the range. A point at the foot of the pole is seen by every camera.

Example (a pole at the origin, one point 30 m north and one 30 m east):
    >>> import numpy as np
    >>> pts = np.array([[940_000.0, 1_940_030.0], [940_030.0, 1_940_000.0]])
    >>> pole = np.array([[940_000.0, 1_940_000.0]])
    >>> kinds = [CameraKind("fixed", 50.0, 90.0, (0.0, 90.0), 1.0, 2)]
    >>> opt = option_coverage(pts, pole, kinds)
    >>> opt.heading_deg.tolist(), opt.matrix.toarray().astype(int).tolist()
    ([0.0, 90.0], [[1, 0], [0, 1]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from safecity.geo import check_metres

__all__ = ["CameraKind", "OptionSet", "bearing_deg", "in_sector", "option_coverage"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class CameraKind:
    """A camera type on a pole: range, field of view, the headings it may take, price, how many a pole holds.

    ``fov_deg == 360`` is a disc (PTZ); it then has the single heading ``()`` (empty tuple).
    """

    name: str
    range_m: float
    fov_deg: float
    headings_deg: tuple[float, ...]
    cost_krw: float
    max_per_site: int

    @property
    def is_disc(self) -> bool:
        return self.fov_deg >= 360.0


@dataclass(frozen=True, slots=True)
class OptionSet:
    """Every (site, camera kind, heading) option and the points it covers.

    Attributes:
        site / kind: (k,) site index and kind index of each option.
        heading_deg: (k,) heading, NaN for a disc.
        matrix: (n_points, k) CSC 0/1 coverage.
        inner: (n_points, k) CSC 0/1, the covered points that also lie within the site's disc kind
            (the smallest disc range at that site); empty when the kinds have no disc.
        slots: options per site (every site has the same slots, option = site * slots + slot).
        pair_point / pair_site / pair_mask: each (point, site) pair within range, grouped by site, with
            the bit mask of the site's slots that see the point.
    """

    site: I64
    kind: I64
    heading_deg: F64
    matrix: sp.csc_matrix
    inner: sp.csc_matrix
    slots: int = 1
    pair_point: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    pair_site: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    pair_mask: npt.NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, np.uint64))

    def __len__(self) -> int:
        return len(self.site)


def bearing_deg(dx: npt.ArrayLike, dy: npt.ArrayLike) -> F64:
    """Compass bearing of (dx, dy) in [0, 360): 0 = north (+y), 90 = east (+x).

    >>> bearing_deg([0.0, 1.0, 0.0, -1.0], [1.0, 0.0, -1.0, 0.0]).tolist()
    [0.0, 90.0, 180.0, 270.0]
    """
    b = np.degrees(np.arctan2(np.asarray(dx, float), np.asarray(dy, float)))
    return np.asarray(np.mod(b, 360.0), dtype=np.float64)


def in_sector(bearing: F64, dist: F64, heading_deg: float, fov_deg: float, range_m: float) -> B8:
    """Points (by bearing and distance from the pole) inside the sector; the pole's foot always is.

    >>> in_sector(np.array([44.0, 45.0, 315.0]), np.array([10.0, 10.0, 10.0]), 0.0, 90.0, 50.0).tolist()
    [True, False, True]
    """
    if fov_deg >= 360.0:
        return np.asarray(dist <= range_m, dtype=np.bool_)
    off = np.mod(bearing - heading_deg + fov_deg / 2.0, 360.0)
    return np.asarray((dist <= range_m) & ((off < fov_deg) | (dist < 1e-9)), dtype=np.bool_)


def _pairs(points: F64, sites: F64, radius: float) -> tuple[I64, I64]:
    from scipy.spatial import cKDTree  # lazy: a cached plan needs no KD-tree

    found: Any = cKDTree(points).query_ball_point(sites, r=radius)
    lists: list[list[int]] = list(found)
    lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    site_idx = np.repeat(np.arange(len(sites), dtype=np.int64), lengths)
    pt_idx = np.fromiter((i for x in lists for i in x), dtype=np.int64, count=int(lengths.sum()))
    return pt_idx, site_idx


def option_coverage(points_xy: F64, sites_xy: F64, kinds: Sequence[CameraKind]) -> OptionSet:
    """Coverage of every option at every site, from one KD-tree query at the longest range.

    Raises:
        InputError: coordinates look like degrees instead of metres.
        ValueError: no kinds.
    """
    if not kinds:
        raise ValueError("need at least one camera kind")
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    sts = np.asarray(sites_xy, dtype=np.float64).reshape(-1, 2)
    for a, what in ((pts, "demand points"), (sts, "candidate sites")):
        if len(a):
            check_metres(a[:, 0], a[:, 1], what)
    n, m = len(pts), len(sts)
    empty = sp.csc_matrix((n, 0))
    if n == 0 or m == 0:
        z = np.zeros(0, np.int64)
        return OptionSet(z, z.copy(), np.zeros(0), empty, empty)
    p_idx, s_idx = _pairs(pts, sts, max(k.range_m for k in kinds))
    d = pts[p_idx] - sts[s_idx]
    dist = np.hypot(d[:, 0], d[:, 1])
    bear = bearing_deg(d[:, 0], d[:, 1])
    discs = [k.range_m for k in kinds if k.is_disc]
    inner_r = min(discs) if discs else -1.0
    local: list[tuple[int, float]] = []  # (kind, heading) per option slot of a site
    for ki, k in enumerate(kinds):
        local += [(ki, float("nan"))] if k.is_disc else [(ki, float(h)) for h in k.headings_deg]
    if len(local) > 64:
        raise ValueError(f"at most 64 camera options per pole (kinds x headings), got {len(local)}")
    rows, cols, inner_rows, inner_cols = [], [], [], []
    mask = np.zeros(len(p_idx), dtype=np.uint64)
    for slot, (ki, h) in enumerate(local):
        k = kinds[ki]
        hit = in_sector(bear, dist, 0.0 if k.is_disc else h, k.fov_deg, k.range_m)
        opt = s_idx[hit] * len(local) + slot
        mask[hit] |= np.uint64(1 << slot)
        rows.append(p_idx[hit])
        cols.append(opt)
        if discs:
            near = hit & (dist <= inner_r)
            inner_rows.append(p_idx[near])
            inner_cols.append(s_idx[near] * len(local) + slot)
    n_opt = m * len(local)
    r, c = np.concatenate(rows), np.concatenate(cols)
    mat = sp.csc_matrix((np.ones(len(r)), (r, c)), shape=(n, n_opt))
    if discs:
        ri, ci = np.concatenate(inner_rows), np.concatenate(inner_cols)
        inner = sp.csc_matrix((np.ones(len(ri)), (ri, ci)), shape=(n, n_opt))
    else:
        inner = sp.csc_matrix((n, n_opt))
    slot_kind = np.array([s[0] for s in local], dtype=np.int64)
    slot_head = np.array([s[1] for s in local], dtype=np.float64)
    return OptionSet(
        site=np.repeat(np.arange(m, dtype=np.int64), len(local)),
        kind=np.tile(slot_kind, m),
        heading_deg=np.tile(slot_head, m),
        matrix=mat,
        inner=inner,
        slots=len(local),
        pair_point=p_idx,
        pair_site=s_idx,
        pair_mask=mask,
    )
