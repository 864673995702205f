"""MOIS-style priority score per demand cell: weighted sum of layers scaled to 0..1.

Pure functions of arrays; the weights come from :class:`~safecity.plan.config.LayerWeights`.

Example:
    >>> import numpy as np
    >>> cells = np.array([[0.0, 0.0], [500.0, 0.0]])
    >>> gap = coverage_gap(cells, np.array([[10.0, 0.0]]), radius_m=50.0)
    >>> gap.tolist()
    [0.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safecity.plan.config import LayerWeights

__all__ = [
    "CELL_LAYERS",
    "CellScores",
    "LAYERS",
    "LAYER_LABELS_KO",
    "combine",
    "count_within",
    "coverage_gap",
    "dark_and_active",
    "per_cell_share",
    "request_counts",
    "scaled",
]

F64 = npt.NDArray[np.float64]
#: every priority layer, in display order; ``lighting`` is valued at new poles only (see sites.py)
LAYERS = (
    "coverage_gap",
    "population",
    "one_person_households",
    "crime",
    "lighting",
    "requests",
    "event_history",
)
#: layers that make up a cell's score (what a camera's view is worth)
CELL_LAYERS = tuple(n for n in LAYERS if n != "lighting")
#: Korean labels for display next to the layer names
LAYER_LABELS_KO = {
    "coverage_gap": "CCTV 사각지대",
    "population": "인구",
    "one_person_households": "1인 가구",
    "crime": "5대 범죄",
    "lighting": "보안등 부족(야간 활동)",
    "requests": "설치 요청(경찰·주민)",
    "event_history": "관제 이력(이벤트)",
}


@dataclass(frozen=True, slots=True)
class CellScores:
    """Layers (each (n,), 0..1) and the combined, non-negative priority score per cell."""

    layers: Mapping[str, F64]
    score: F64

    def __post_init__(self) -> None:
        n = len(self.score)
        for name, arr in self.layers.items():
            if arr.shape != (n,):
                raise ValueError(f"layer {name!r} must have shape ({n},), got {arr.shape}")


def scaled(values: npt.ArrayLike) -> F64:
    """Divide by the maximum (0..1); an all-zero or empty layer stays zero.

    >>> scaled([0, 2, 4]).tolist()
    [0.0, 0.5, 1.0]
    """
    a = np.asarray(values, dtype=np.float64)
    top = float(a.max()) if a.size else 0.0
    return a / top if top > 0 else np.zeros_like(a)


def coverage_gap(cells_xy: F64, cameras_xy: F64, radius_m: float) -> F64:
    """1.0 where no existing camera lies within ``radius_m`` of the cell centre, else 0.0."""
    if len(cameras_xy) == 0:
        return np.ones(len(cells_xy))
    # query's bound is strict; nudge it so "within" includes the radius, as coverage_pairs does
    bound = float(np.nextafter(radius_m, np.inf))
    from scipy.spatial import cKDTree  # lazy: a cached plan needs no KD-tree

    d, _ = cKDTree(cameras_xy).query(cells_xy, k=1, distance_upper_bound=bound)
    return np.where(np.isfinite(d), 0.0, 1.0)


def count_within(cells_xy: F64, points_xy: F64, radius_m: float) -> F64:
    """Number of points within ``radius_m`` of each cell centre."""
    if len(points_xy) == 0 or len(cells_xy) == 0:
        return np.zeros(len(cells_xy))
    from scipy.spatial import cKDTree  # lazy: a cached plan needs no KD-tree

    counts = cKDTree(cells_xy).query_ball_point(points_xy, r=radius_m)
    out = np.zeros(len(cells_xy))
    for idx in counts:
        out[idx] += 1.0
    return out


def request_counts(cells_xy: F64, requests_xy: F64, cell_size_m: float) -> F64:
    """Requests per cell: each request counts for the cell whose centre is nearest (within one cell)."""
    out = np.zeros(len(cells_xy))
    if len(requests_xy) == 0 or len(cells_xy) == 0:
        return out
    from scipy.spatial import cKDTree  # lazy: a cached plan needs no KD-tree

    d, i = cKDTree(cells_xy).query(requests_xy, k=1, distance_upper_bound=cell_size_m)
    d_arr, i_arr = np.asarray(d, dtype=np.float64), np.asarray(i, dtype=np.int64)
    np.add.at(out, i_arr[np.isfinite(d_arr)], 1.0)
    return out


def per_cell_share(group: Sequence[str] | npt.NDArray[np.str_], totals: Mapping[str, float]) -> F64:
    """Spread each group's total evenly over its cells (dong households -> households per cell).

    >>> per_cell_share(["a", "a", "b"], {"a": 10.0, "b": 3.0}).tolist()
    [5.0, 5.0, 3.0]
    """
    keys = np.asarray(group, dtype=np.str_)
    uniq, inv, counts = np.unique(keys, return_inverse=True, return_counts=True)
    vals = np.array([totals.get(str(k), 0.0) for k in uniq], dtype=np.float64)
    return np.asarray(vals[inv] / counts[inv], dtype=np.float64)


def dark_and_active(activity: F64, lights_within: F64, lights_enough: int) -> F64:
    """Where people live and few lights stand: activity (0..1) × (1 − lights / lights_enough, floored at 0).

    >>> dark_and_active(np.array([1.0, 1.0, 0.0]), np.array([0.0, 4.0, 0.0]), 4).tolist()
    [1.0, 0.0, 0.0]
    """
    lit = np.clip(np.asarray(lights_within, dtype=np.float64) / float(lights_enough), 0.0, 1.0)
    return np.asarray(np.asarray(activity, dtype=np.float64) * (1.0 - lit), dtype=np.float64)


def combine(layers: Mapping[str, F64], weights: LayerWeights) -> CellScores:
    """Weighted sum of the named cell layers (``lighting`` is kept but not summed: it prices new poles).

    Raises:
        ValueError: a layer name is not one of :data:`LAYERS`.
    """
    unknown = sorted(set(layers) - set(LAYERS))
    if unknown:
        raise ValueError(f"unknown score layer(s) {unknown}; expected names from {list(LAYERS)}")
    n = len(next(iter(layers.values()))) if layers else 0
    total = np.zeros(n)
    for name, arr in layers.items():
        if name in CELL_LAYERS:
            total = total + getattr(weights, name) * arr
    return CellScores(layers=dict(layers), score=np.clip(total, 0.0, None))
