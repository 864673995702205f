"""Reductions of the pole model that keep its optimum, and the per-pole Lagrangian profit bound.

See :mod:`safecity.plan.poles` for the model and why each reduction is exact; the tests in
``tests/unit/plan/test_reduce.py`` compare reduced and unreduced optima on seeded random instances.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from safecity.plan.geometry import CameraKind, OptionSet

__all__ = [
    "PoleInstance",
    "close_pairs",
    "dominated_sites",
    "merge_points",
    "same_site_dominated",
    "site_profit_bound",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]
_INF = float("inf")


class PoleInstance(Protocol):
    """What the reductions read of a pole model (:class:`~safecity.plan.poles.PoleProblem`)."""

    @property
    def n_sites(self) -> int: ...
    @property
    def options(self) -> OptionSet: ...
    @property
    def kinds(self) -> tuple[CameraKind, ...]: ...
    @property
    def site_cost_krw(self) -> F64: ...
    @property
    def bonus(self) -> F64: ...
    @property
    def max_cameras_per_site(self) -> int: ...


def merge_points(a: sp.csc_matrix, w: F64) -> tuple[sp.csc_matrix, F64, I64]:
    """Merge rows of ``a`` (points × options) with identical column sets; sum their weights.

    Returns (merged matrix, merged weights, group of each original row; −1 for rows covered by nothing).

    >>> a = sp.csc_matrix(np.array([[1, 0], [1, 0], [0, 1], [0, 0]], dtype=float))
    >>> m, w, g = merge_points(a, np.array([1.0, 2.0, 3.0, 4.0]))
    >>> m.toarray().astype(int).tolist(), w.tolist(), g.tolist()
    ([[1, 0], [0, 1]], [3.0, 3.0], [0, 0, 1, -1])
    """
    r = sp.csr_matrix(a)
    r.sort_indices()
    n = r.shape[0]
    lens = np.diff(r.indptr)
    rng = np.random.default_rng(12345)  # fixed: the hash only has to separate distinct sets
    keys = rng.integers(1, 2**62, size=(r.shape[1], 2), dtype=np.int64).view(np.uint64)
    h = np.zeros((n, 2), dtype=np.uint64)
    nz = np.flatnonzero(lens)
    if len(r.indices):
        with np.errstate(over="ignore"):
            vals = keys[r.indices]
            starts = r.indptr[nz]
            h[nz, 0] = np.add.reduceat(vals[:, 0], starts)
            h[nz, 1] = np.bitwise_xor.reduceat(vals[:, 1] * np.uint64(2654435761), starts)
    rec = np.zeros(n, dtype=[("a", np.uint64), ("b", np.uint64), ("n", np.int64)])
    rec["a"], rec["b"], rec["n"] = h[:, 0], h[:, 1], lens
    sel = nz
    uniq, first, inv = np.unique(rec[sel], return_index=True, return_inverse=True)
    group = np.full(n, -1, dtype=np.int64)
    group[sel] = inv
    wg = np.bincount(inv, weights=w[sel], minlength=len(uniq)).astype(np.float64)
    merged = sp.csc_matrix(r[sel[first]])
    return merged, wg, group


def same_site_dominated(options: OptionSet, kind_of_slot: I64, positive: B8) -> B8:
    """Options covered (⊆, over positive points) by another option of the same pole and kind.

    Uses the per-(point, pole) slot masks: for each option, the AND of the masks of the points it sees
    says which other slots see all of them. Of identical options the lowest slot is kept.

    Returns a boolean over all options (True = dominated).
    """
    n_opt, slots = len(options), options.slots
    out = np.zeros(n_opt, dtype=bool)
    keep = positive[options.pair_point]
    ps, pm = options.pair_site[keep], options.pair_mask[keep]
    if len(ps) == 0:
        return out
    order = np.argsort(ps, kind="stable")
    ps, pm = ps[order], pm[order]
    for s1 in range(slots):
        bit = np.uint64(1 << s1)
        sel = (pm & bit) != 0
        if not sel.any():
            continue
        sites, masks = ps[sel], pm[sel]
        start = np.r_[0, np.flatnonzero(np.diff(sites)) + 1]
        together = np.bitwise_and.reduceat(masks, start)  # slots seeing every point that s1 sees
        site_ids = sites[start]
        for s2 in range(slots):
            if s2 == s1 or kind_of_slot[s2] != kind_of_slot[s1]:
                continue
            sub = (together & np.uint64(1 << s2)) != 0
            if s2 > s1:
                # identical sets keep the lower slot: s1 is dropped only if s2 is strictly larger
                idx = np.flatnonzero(sub)
                sub[idx[_sees_all(ps, pm, site_ids[idx], s2, s1)]] = False
            out[site_ids[sub] * slots + s1] = True
    return out


def _sees_all(ps: I64, pm: npt.NDArray[np.uint64], sites: I64, s_from: int, s_to: int) -> B8:
    """For each site in ``sites``: does slot ``s_to`` see every point that slot ``s_from`` sees?"""
    res = np.zeros(len(sites), dtype=bool)
    if len(sites) == 0:
        return res
    sel = ((pm & np.uint64(1 << s_from)) != 0) & np.isin(ps, sites)
    if not sel.any():
        return res
    s, msk = ps[sel], pm[sel]
    start = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    tog = np.bitwise_and.reduceat(msk, start)
    ok = dict(zip(s[start].tolist(), ((tog & np.uint64(1 << s_to)) != 0).tolist(), strict=True))
    return np.array([ok.get(int(x), False) for x in sites], dtype=bool)


def close_pairs(xy: F64, r: float) -> I64:
    """Index pairs (i < j) of points at most ``r`` apart, sorted (buckets of side ``r``: each point is
    compared with the points of its own and the eight neighbouring buckets).

    >>> close_pairs(np.array([[0.0, 0.0], [3.0, 4.0], [20.0, 0.0], [26.0, 0.0]]), 6.0).tolist()
    [[0, 1], [2, 3]]
    """
    n = len(xy)
    if n < 2 or r <= 0:
        return np.zeros((0, 2), dtype=np.int64)
    cell = np.floor(xy / r).astype(np.int64)
    cell -= cell.min(axis=0)
    width = int(cell[:, 1].max()) + 3
    key = (cell[:, 0] + 1) * width + (cell[:, 1] + 1)
    order = np.argsort(key, kind="stable")
    skey = key[order]
    found: list[I64] = []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            nkey = key + dx * width + dy
            lo = np.searchsorted(skey, nkey, side="left")
            cnt = np.searchsorted(skey, nkey, side="right") - lo
            total = int(cnt.sum())
            if total == 0:
                continue
            i = np.repeat(np.arange(n, dtype=np.int64), cnt)
            start = np.repeat(np.cumsum(cnt) - cnt, cnt)
            j = order[np.repeat(lo, cnt) + (np.arange(total) - start)]
            keep = (i < j) & (np.hypot(*(xy[i] - xy[j]).T) <= r)
            found.append(np.column_stack([i[keep], j[keep]]))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.unique(np.concatenate(found), axis=0)
    return np.asarray(pairs, dtype=np.int64)


def dominated_sites(prob: PoleInstance, opts: I64, a_pos: sp.csc_matrix, xy: F64, near_m: float) -> B8:
    """Sites (indexed like ``prob.site_cost_krw``) dominated by a site within ``near_m``.

    j is dominated by j' when s_j' ≤ s_j, each useful option of j maps to a distinct option of j' of the
    same kind covering a superset, and both poles' useful options fit on one pole together (so a plan with
    both can move j's cameras onto j'). Of two mutually dominating sites the lower index stays.
    """
    m = prob.n_sites
    out = np.zeros(m, dtype=bool)
    site = prob.options.site[opts]
    kind = prob.options.kind[opts]
    by_site: dict[int, I64] = {}
    order = np.argsort(site, kind="stable")
    for s, grp in zip(
        site[order][np.r_[0, np.flatnonzero(np.diff(site[order])) + 1]],
        np.split(order, np.flatnonzero(np.diff(site[order])) + 1),
        strict=True,
    ):
        by_site[int(s)] = grp
    if not by_site:
        return out
    live = np.array(sorted(by_site), dtype=np.int64)
    caps = np.array([k.max_per_site for k in prob.kinds], dtype=np.int64)
    for a_i, b_i in close_pairs(xy[live], near_m):
        for j, jp in ((live[a_i], live[b_i]), (live[b_i], live[a_i])):
            if out[j] or out[jp] or prob.site_cost_krw[jp] > prob.site_cost_krw[j]:
                continue
            if prob.bonus[jp] < prob.bonus[j]:
                continue
            gj, gp = by_site[int(j)], by_site[int(jp)]
            if len(gj) + len(gp) > prob.max_cameras_per_site:
                continue
            cnt = np.bincount(kind[gj], minlength=len(caps)) + np.bincount(kind[gp], minlength=len(caps))
            if (cnt > caps).any():
                continue
            sub_j, sub_p = a_pos[:, opts[gj]], a_pos[:, opts[gp]]
            inter = (sub_j.T @ sub_p).toarray()
            size_j = np.diff(sub_j.indptr)
            ok = (inter == size_j[:, None]) & (kind[gj][:, None] == kind[gp][None, :])
            if _has_matching(ok) and not (
                prob.site_cost_krw[jp] == prob.site_cost_krw[j]
                and prob.bonus[jp] == prob.bonus[j]
                and jp > j
                and _mutual(ok, inter, sub_p)
            ):
                out[j] = True
    return out


def _mutual(ok: B8, inter: Any, sub_p: sp.csc_matrix) -> bool:
    """True when the two sites dominate each other (then only the higher index is dropped)."""
    size_p = np.diff(sub_p.indptr)
    return bool(ok.shape[0] == ok.shape[1] and _has_matching((inter == size_p[None, :]).T & ok.T))


def _has_matching(ok: B8) -> bool:
    """Is there an injective map from rows to columns using allowed (True) cells? (tiny: augmenting paths)"""
    match: dict[int, int] = {}

    def place(r: int, seen: set[int]) -> bool:
        for c in np.flatnonzero(ok[r]):
            ci = int(c)
            if ci in seen:
                continue
            seen.add(ci)
            if ci not in match or place(match[ci], seen):
                match[ci] = r
                return True
        return False

    return all(place(r, set()) for r in range(ok.shape[0]))


def site_profit_bound(
    site: I64,
    kind: I64,
    value: F64,
    value_outer: F64,
    cost: F64,
    is_disc: B8,
    caps: I64,
    n_max: int,
    site_cost: F64,
    lam: float,
    bonus: F64 | None = None,
) -> F64:
    """Best standalone profit of each pole at price λ: max over camera sets of w(covered) − λ·cost.

    Exact when the pole has at most one disc kind and its sector headings do not overlap (the default
    config); otherwise an upper bound (a union is never worth more than the sum of its parts). Case A: no
    disc camera, best sectors by full value; case B: the best disc plus sectors by their value outside
    the disc (``value_outer``). Per-kind caps and the pole's camera limit are respected (a greedy choice
    by profit is optimal for these nested limits).
    """
    m = len(site_cost)
    profit = value - lam * cost
    profit_out = value_outer - lam * cost
    best = np.full(m, -_INF)
    # case A: no disc
    best = np.maximum(best, _top_sum(site, kind, np.where(is_disc, -_INF, profit), caps, n_max, m))
    if is_disc.any():
        disc_best = np.full(m, -_INF)
        np.maximum.at(disc_best, site[is_disc], profit[is_disc])
        rest = _top_sum(site, kind, np.where(is_disc, -_INF, profit_out), caps, n_max - 1, m)
        best = np.maximum(best, np.where(np.isfinite(disc_best), disc_best + rest, -_INF))
    best = np.maximum(best, 0.0)  # (an upper bound: a pole carries at least one camera)
    extra = np.zeros(m) if bonus is None else bonus
    return np.asarray(best + extra - lam * site_cost, dtype=np.float64)


def _top_sum(site: I64, kind: I64, profit: F64, caps: I64, n_max: int, m: int) -> F64:
    """Per site: sum of the best positive profits, at most caps[k] per kind and n_max in all."""
    out = np.zeros(m)
    if n_max <= 0 or len(site) == 0:
        return out
    pos = profit > 0
    s, k, p = site[pos], kind[pos], profit[pos]
    order = np.lexsort((-p, k, s))
    s, k, p = s[order], k[order], p[order]
    # rank within (site, kind)
    key = s * (len(caps) + 1) + k
    start = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
    rank = np.arange(len(key)) - np.repeat(start, np.diff(np.r_[start, len(key)]))
    keep = rank < caps[k]
    s, p = s[keep], p[keep]
    order = np.lexsort((-p, s))
    s, p = s[order], p[order]
    start = np.r_[0, np.flatnonzero(np.diff(s)) + 1] if len(s) else np.zeros(0, np.int64)
    rank = np.arange(len(s)) - np.repeat(start, np.diff(np.r_[start, len(s)]))
    keep = rank < n_max
    np.add.at(out, s[keep], p[keep])
    return out
