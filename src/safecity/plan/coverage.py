"""Sparse coverage matrices: which candidate site covers which demand cell, per service radius.

Built from KD-tree ball queries, never from a dense distance matrix, so Seoul (60k cells x 50k sites)
needs a few megabytes.

Example:
    >>> import numpy as np
    >>> cells = np.array([[1000.0, 1000.0], [1200.0, 1000.0]])
    >>> sites = np.array([[1040.0, 1000.0]])
    >>> coverage_matrix(cells, sites, radius_m=50.0).toarray().astype(int).tolist()
    [[1], [0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from safecity.geo import check_metres

__all__ = ["coverage_matrix", "coverage_pairs"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def _check_xy(xy: F64, what: str) -> None:
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"{what} must have shape (n, 2), got {xy.shape}")
    if len(xy):
        check_metres(xy[:, 0], xy[:, 1], what)


def coverage_pairs(cells_xy: F64, sites_xy: F64, radius_m: float) -> tuple[I64, I64]:
    """(cell index, site index) for every pair closer than or at ``radius_m``, sorted by site then cell.

    Raises:
        InputError: coordinates look like degrees instead of metres.
    """
    cells = np.asarray(cells_xy, dtype=np.float64)
    sites = np.asarray(sites_xy, dtype=np.float64)
    _check_xy(cells, "demand cells")
    _check_xy(sites, "candidate sites")
    if radius_m <= 0:
        raise ValueError(f"radius_m must be > 0, got {radius_m}")
    if len(cells) == 0 or len(sites) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    from scipy.spatial import cKDTree  # lazy: a cached plan needs no KD-tree

    found: Any = cKDTree(cells).query_ball_point(sites, r=radius_m, return_sorted=True)
    lists: list[list[int]] = list(found)  # one list of cell indices per site
    lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    site_idx = np.repeat(np.arange(len(sites), dtype=np.int64), lengths)
    total = int(lengths.sum())
    cell_idx = np.fromiter((i for x in lists for i in x), dtype=np.int64, count=total)
    return cell_idx, site_idx


def coverage_matrix(cells_xy: F64, sites_xy: F64, radius_m: float) -> sp.csc_matrix:
    """Boolean-valued (float 0/1) CSC matrix, shape (n_cells, n_sites); column j = cells site j covers."""
    cell_idx, site_idx = coverage_pairs(cells_xy, sites_xy, radius_m)
    n, m = len(cells_xy), len(sites_xy)
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(site_idx, minlength=m), out=indptr[1:])
    return sp.csc_matrix((np.ones(len(cell_idx)), cell_idx, indptr), shape=(n, m))
