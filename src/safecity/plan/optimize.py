"""Budgeted multi-type maximal covering (MCLP) built sparsely and solved with HiGHS.

Formulation (m candidate sites j, camera types t, n demand cells i with priority w_i > 0)::

    max  Σ_i w_i y_i
    s.t. y_i − Σ_{(j,t) covers i} z_jt ≤ 0            (coverage; only pairs within type t's radius)
         z_jt − x_j ≤ 0                                (an option needs its site open; only if >1 type)
         Σ_t u_t z_jt ≤ N x_j                          (cameras per pole; only where it can bind)
         Σ_j s_j x_j + Σ_jt u_t c_t z_jt ≤ B           (budget in KRW)
         Σ_j x_j ≤ p                                   (optional number of sites)
         Σ_{j in dong d} x_j ≥ k                       (optional minimum per dong)
         x_j, z_jt ∈ {0, 1},  0 ≤ y_i ≤ 1

z_jt = "site j gets the option of type t" (u_t cameras of price c_t). y_i is continuous: for integral z
the optimum puts y_i = min(1, Σ z) ∈ {0, 1}, so the relaxation is exact. Integer camera counts are
not needed as variables: a second option of the same type at the same site covers nothing new, so an
optimal solution never buys it (``n_jt = u_t z_jt``).

Nested reduction (the usual case): when the types' coverages are nested at every site (same centre,
different radius, as :meth:`SitingModel.from_arrays` builds them), adding the smaller type next to the
larger one never covers anything new, so some optimum uses at most one option per site. Then x is
dropped: each option is one column z_o with cost s_j + u_t·c_t, there are no link or pole rows, and
``Σ_o z_o ≤ p`` counts sites. Options with the same covered cells are merged (the cheapest is kept), and an
option covering a single cell is dropped when a cheaper-or-equal option also covers that cell. Both
reductions keep the optimum. Columns that cover no positive-priority cell and cells no option reaches are
dropped before the solve. Non-nested coverage (possible with :meth:`SitingModel.from_coverage`) uses the
full model above.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from safecity.errors import PlanningError
from safecity.plan.coverage import coverage_matrix

__all__ = ["CameraOption", "PlanResult", "SitingModel", "greedy_cover", "new_highs"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class CameraOption:
    """A camera type as the optimiser sees it: ``cameras`` units of ``cost_krw`` each, seeing ``radius_m``."""

    name: str
    radius_m: float
    cost_krw: float
    cameras: int = 1

    @property
    def option_cost_krw(self) -> float:
        return self.cost_krw * self.cameras


@dataclass(frozen=True, slots=True)
class PlanResult:
    """Immutable outcome of :meth:`SitingModel.solve`.

    Attributes:
        status: ``optimal`` (gap within the tolerance) or ``feasible`` (time limit, gap reported).
        objective: covered priority of the returned solution (recomputed from the chosen options).
        bound: best proven upper bound on the covered priority.
        mip_gap: relative gap (bound − objective) / objective, 0 when optimal to tolerance.
        chosen: (m, T) bool, ``chosen[j, t]`` = site j gets the option of type t.
        covered: (n,) bool, cells covered by a chosen option.
        site_cost_krw / camera_cost_krw: cost split of the solution.
        solve_s / build_s: wall seconds of the model build and of HiGHS.
        n_rows / n_cols / n_nonzeros: size of the model handed to HiGHS.
    """

    status: str
    objective: float
    bound: float
    mip_gap: float
    chosen: B8
    covered: B8
    site_cost_krw: float
    camera_cost_krw: float
    build_s: float
    solve_s: float
    n_rows: int
    n_cols: int
    n_nonzeros: int

    @property
    def cost_krw(self) -> float:
        return self.site_cost_krw + self.camera_cost_krw

    @property
    def open_sites(self) -> I64:
        return np.flatnonzero(self.chosen.any(axis=1)).astype(np.int64)


def _as_f64(a: npt.ArrayLike, n: int, what: str) -> F64:
    arr = np.asarray(a, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},), got {arr.shape}")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise PlanningError(f"{what} must be finite and >= 0; fix the input data or config")
    return arr


_INF = float("inf")


@dataclass(frozen=True, slots=True)
class _Built:
    oj: I64  # site of each option column
    ot: I64  # type of each option column
    cells: I64  # cells kept as y columns
    ns: int  # number of x columns (0 when merged)
    k: int  # number of option columns
    start: F64 | None = None  # greedy warm start (all columns), nested model only


class _Rows:
    """Accumulates row blocks of the constraint matrix with their bounds."""

    def __init__(self, ncols: int) -> None:
        self.ncols = ncols
        self.blocks: list[sp.csr_matrix] = []
        self.lo: list[F64] = []
        self.hi: list[F64] = []

    def add(self, block: Any, lower: F64, upper: F64) -> None:
        self.blocks.append(sp.csr_matrix(block))
        self.lo.append(lower)
        self.hi.append(upper)

    def stack(self) -> tuple[sp.csc_matrix, F64, F64]:
        return sp.csc_matrix(sp.vstack(self.blocks)), np.concatenate(self.lo), np.concatenate(self.hi)


def greedy_cover(
    a: sp.csc_matrix, w: F64, cost: F64, *, budget: float, max_sites: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Lazy greedy by covered weight per KRW (per option when costs are zero): a feasible warm start.

    Args:
        a: (cells, options) coverage, CSC.
        w: cell weights; cost: option costs; budget and max_sites: the limits to respect.

    Returns:
        (chosen options, covered cells), both boolean.

    >>> a = sp.csc_matrix(np.array([[1, 0], [1, 1], [0, 1]], dtype=float))
    >>> z, y = greedy_cover(a, np.array([1.0, 1.0, 5.0]), np.array([1.0, 1.0]), budget=1.0, max_sites=5)
    >>> z.tolist(), y.tolist()
    ([False, True], [False, True, True])
    """
    import heapq

    n_opt = a.shape[1]
    chosen = np.zeros(n_opt, dtype=bool)
    covered = np.zeros(a.shape[0], dtype=bool)
    gain = np.asarray(a.T @ w, dtype=np.float64).ravel()
    denom = np.where(cost > 0, cost, 1.0) if (cost > 0).any() else np.ones(n_opt)
    heap = [(-float(g / d), int(o)) for o, (g, d) in enumerate(zip(gain, denom, strict=True)) if g > 0]
    heapq.heapify(heap)
    spent, picked = 0.0, 0
    while heap and picked < max_sites:
        _, o = heapq.heappop(heap)
        if cost[o] > budget - spent + 1e-9:
            continue  # the remaining budget only shrinks
        rows = a.indices[a.indptr[o] : a.indptr[o + 1]]
        g = float(w[rows[~covered[rows]]].sum())
        if g <= 0:
            continue
        ratio = g / float(denom[o])
        if heap and ratio < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-ratio, o))
            continue
        chosen[o] = True
        covered[rows] = True
        spent += float(cost[o])
        picked += 1
    return chosen, covered


def _add_budget_cuts(rows: _Rows, cost_row: F64, ns: int, k: int, budget: float) -> None:
    """Chvátal-Gomory cuts of the budget row, one per distinct option cost d (at most 8):
    Σ_o floor(c_o / d) z_o ≤ floor(B / d). They are valid for integer z and tighten the LP bound that
    the leftover budget otherwise inflates (many options share a few cost levels)."""
    costs = cost_row[ns : ns + k]
    levels = np.unique(np.round(costs[costs > 0], 6))[:8]
    for d in levels:
        coef = np.floor(costs / d + 1e-9)
        rhs = float(np.floor(budget / d + 1e-9))
        if rhs >= coef.sum():
            continue  # cannot bind
        row = np.zeros(len(cost_row))
        row[ns : ns + k] = coef
        rows.add(sp.csr_matrix(row), np.array([-_INF]), np.array([rhs]))


def _is_nested(coverage: Sequence[sp.csc_matrix]) -> bool:
    """True when, for every pair of types, one's coverage contains the other's at every site."""
    for i in range(len(coverage)):
        for j in range(i + 1, len(coverage)):
            a: Any = abs(coverage[i]) > 0
            b: Any = abs(coverage[j]) > 0
            both = int(a.multiply(b).nnz)
            if both != int(a.nnz) and both != int(b.nnz):
                return False
    return True


def _new_highs() -> Any:
    """A silent ``highspy.Highs``: its constructor prints a banner to the C-level stdout, kept out of ours."""
    import highspy

    sys.stdout.flush()  # the banner goes to fd 1; keep Python's buffered output before it
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            return highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def new_highs() -> Any:
    """A ``highspy.Highs`` whose start-up banner does not reach our stdout (``--json`` stays clean)."""
    return _new_highs()


def _status_label(h: object, time_limit_s: float) -> str:
    import highspy

    assert isinstance(h, highspy.Highs)
    status = h.getModelStatus()
    st = highspy.HighsModelStatus
    if status == st.kOptimal:
        return "optimal"
    if h.getInfo().primal_solution_status == 2 and status in (
        st.kTimeLimit,
        st.kInterrupt,
        st.kSolutionLimit,
        st.kIterationLimit,
    ):
        return "feasible"
    if status in (st.kInfeasible, st.kUnboundedOrInfeasible):
        raise PlanningError(
            "the plan is infeasible: no set of sites meets the budget, the number of sites and the "
            "minimum per dong together; lower --min-per-dong, raise --budget-krw or --max-sites"
        )
    raise PlanningError(
        f"HiGHS stopped with status {h.modelStatusToString(status)!r} and no usable solution; "
        f"raise --time-limit-s (was {time_limit_s} s)"
    )


class SitingModel:
    """The budgeted multi-type MCLP; build with :meth:`from_arrays` or :meth:`from_coverage`."""

    def __init__(
        self,
        *,
        weights: F64,
        coverage: Sequence[sp.csc_matrix],
        options: Sequence[CameraOption],
        site_cost_krw: F64,
        budget_krw: float | None,
        max_sites: int | None,
        max_cameras_per_site: int,
        site_group: npt.NDArray[np.str_] | None,
        min_sites_per_group: int,
    ) -> None:
        self.weights = weights
        self.coverage = tuple(coverage)
        self.options = tuple(options)
        self.site_cost_krw = site_cost_krw
        self.budget_krw = budget_krw
        self.max_sites = max_sites
        self.max_cameras_per_site = max_cameras_per_site
        self.site_group = site_group
        self.min_sites_per_group = min_sites_per_group
        self.nested = _is_nested(self.coverage)

    @property
    def n_cells(self) -> int:
        return len(self.weights)

    @property
    def n_sites(self) -> int:
        return len(self.site_cost_krw)

    @classmethod
    def from_coverage(
        cls,
        *,
        weights: npt.ArrayLike,
        coverage: Sequence[sp.spmatrix | sp.sparray],
        options: Sequence[CameraOption],
        site_cost_krw: npt.ArrayLike,
        budget_krw: float | None = None,
        max_sites: int | None = None,
        max_cameras_per_site: int = 4,
        site_group: Sequence[str] | None = None,
        min_sites_per_group: int = 0,
    ) -> SitingModel:
        """Model from ready coverage matrices, one (n_cells, n_sites) matrix per option.

        Raises:
            PlanningError: no candidates, a budget below the cheapest option, or inconsistent sizes.
        """
        if not options or len(options) != len(coverage):
            raise ValueError(f"need one coverage matrix per option, got {len(coverage)} for {len(options)}")
        w = np.asarray(weights, dtype=np.float64)
        n = len(w)
        w = _as_f64(w, n, "cell priority weights")
        m = int(np.asarray(site_cost_krw).shape[0]) if np.ndim(site_cost_krw) else 0
        s = _as_f64(site_cost_krw, m, "site costs")
        covs = [sp.csc_matrix(c) for c in coverage]
        for c in covs:
            if c.shape != (n, m):
                raise ValueError(f"coverage matrix must have shape ({n}, {m}), got {c.shape}")
        if m == 0:
            raise PlanningError(
                "no candidate sites in the area: expected streetlights, existing sites or grid points; "
                "check the area and the candidate inputs"
            )
        if n == 0:
            raise PlanningError("no demand cells in the area; check the area polygon and cell size")
        for o in options:
            if o.cameras > max_cameras_per_site:
                raise PlanningError(
                    f"camera option {o.name!r} needs {o.cameras} cameras but a site holds at most "
                    f"{max_cameras_per_site}; raise max_cameras_per_site"
                )
        if budget_krw is not None:
            if not np.isfinite(budget_krw) or budget_krw < 0:
                raise PlanningError(f"budget must be a finite amount of KRW >= 0, got {budget_krw}")
            cheapest = float(s.min()) + min(o.option_cost_krw for o in options)
            if budget_krw < cheapest:
                raise PlanningError(
                    f"budget {budget_krw:,.0f} KRW is too small for one camera: the cheapest site plus "
                    f"camera costs {cheapest:,.0f} KRW; raise --budget-krw or lower the costs in the config"
                )
        if max_sites is not None and max_sites < 1:
            raise PlanningError(f"max_sites must be >= 1, got {max_sites}")
        group = None if site_group is None else np.asarray(site_group, dtype=np.str_)
        if group is not None and group.shape != (m,):
            raise ValueError(f"site_group must have shape ({m},), got {group.shape}")
        return cls(
            weights=w,
            coverage=covs,
            options=options,
            site_cost_krw=s,
            budget_krw=budget_krw,
            max_sites=max_sites,
            max_cameras_per_site=max_cameras_per_site,
            site_group=group,
            min_sites_per_group=min_sites_per_group,
        )

    @classmethod
    def from_arrays(
        cls,
        *,
        demand_xy: npt.ArrayLike,
        weights: npt.ArrayLike,
        site_xy: npt.ArrayLike,
        site_cost_krw: npt.ArrayLike,
        options: Sequence[CameraOption],
        budget_krw: float | None = None,
        max_sites: int | None = None,
        max_cameras_per_site: int = 4,
        site_group: Sequence[str] | None = None,
        min_sites_per_group: int = 0,
    ) -> SitingModel:
        """Model from points in a projected CRS (metres): builds one sparse coverage matrix per option.

        Raises:
            InputError: coordinates look like degrees.
            PlanningError: see :meth:`from_coverage`.
        """
        d = np.asarray(demand_xy, dtype=np.float64).reshape(-1, 2)
        c = np.asarray(site_xy, dtype=np.float64).reshape(-1, 2)
        covs = [coverage_matrix(d, c, o.radius_m) for o in options]
        return cls.from_coverage(
            weights=weights,
            coverage=covs,
            options=options,
            site_cost_krw=site_cost_krw,
            budget_krw=budget_krw,
            max_sites=max_sites,
            max_cameras_per_site=max_cameras_per_site,
            site_group=site_group,
            min_sites_per_group=min_sites_per_group,
        )

    @classmethod
    def from_geodataframes(
        cls,
        demand: Any,
        sites: Any,
        *,
        weight_col: str,
        options: Sequence[CameraOption],
        site_cost_col: str | None = None,
        **kwargs: Any,
    ) -> SitingModel:
        """Model from two GeoDataFrames of points in the same projected CRS (metres).

        Raises:
            InputError: a CRS is missing, geographic (degrees) or differs between the frames, or a
                column is missing.
        """
        from safecity.errors import InputError

        for name, gdf in (("demand", demand), ("sites", sites)):
            if gdf.crs is None or not gdf.crs.is_projected:
                raise InputError(
                    f"{name} GeoDataFrame must be in a projected CRS in metres (e.g. EPSG:5179), got "
                    f"{gdf.crs}; call .to_crs(5179) first"
                )
        if demand.crs != sites.crs:
            raise InputError(
                f"demand and sites must share one CRS, got {demand.crs} and {sites.crs}"
                "; reproject one of them"
            )
        for gdf, col in ((demand, weight_col), (sites, site_cost_col)):
            if col is not None and col not in gdf.columns:
                raise InputError(f"column {col!r} not found; expected one of {list(gdf.columns)}")
        d_xy = np.column_stack([demand.geometry.x.to_numpy(), demand.geometry.y.to_numpy()])
        s_xy = np.column_stack([sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()])
        cost = sites[site_cost_col].to_numpy(float) if site_cost_col else np.zeros(len(sites))
        return cls.from_arrays(
            demand_xy=d_xy,
            weights=demand[weight_col].to_numpy(float),
            site_xy=s_xy,
            site_cost_krw=cost,
            options=options,
            **kwargs,
        )

    # ------------------------------------------------------------------ build + solve
    def _build(self) -> tuple[_Built, sp.csc_matrix, F64, F64]:
        """Reduced model: (column layout, constraint matrix CSC, row lower, row upper bounds)."""
        m = self.n_sites
        pos = self.weights > 0
        cols_j, cols_t, blocks = [], [], []
        for t, cov in enumerate(self.coverage):
            useful = np.flatnonzero(np.asarray(cov[pos].sum(axis=0)).ravel() > 0).astype(np.int64)
            cols_j.append(useful)
            cols_t.append(np.full(len(useful), t, dtype=np.int64))
            blocks.append(cov[:, useful])
        oj, ot = np.concatenate(cols_j), np.concatenate(cols_t)
        if len(oj) == 0:
            raise PlanningError(
                "no candidate site covers any cell with a positive priority; add candidates or "
                "check the score weights"
            )
        a_all = sp.csc_matrix(sp.hstack(blocks, format="csc"))
        if self.nested:
            total = self.site_cost_krw[oj] + np.array([o.option_cost_krw for o in self.options])[ot]
            keep = self._reduce(a_all, pos, total, oj)
            oj, ot, a_all = oj[keep], ot[keep], sp.csc_matrix(a_all[:, keep])
        k = len(oj)
        a_cov = sp.csr_matrix(a_all)
        cells = np.flatnonzero(pos & (np.asarray(a_cov.sum(axis=1)).ravel() > 0))
        a_cov = sp.csr_matrix(a_cov[cells])
        nc = len(cells)
        merge = self.nested  # one option per site: x_j is the option column
        sites = np.unique(oj)
        ns = 0 if merge else len(sites)
        site_pos = np.full(m, -1, dtype=np.int64)
        site_pos[sites] = np.arange(len(sites))
        ncols = ns + k + nc
        x_cols = ns + np.arange(k) if merge else np.arange(ns)
        site_of_x = oj if merge else sites
        unit = np.array([o.cameras for o in self.options], dtype=np.float64)
        opt_cost = np.array([o.option_cost_krw for o in self.options])[ot]
        rows = _Rows(ncols)
        # coverage: y_i - sum z <= 0
        rows.add(
            sp.hstack([sp.csr_matrix((nc, ns)), -a_cov, sp.identity(nc, format="csr")]),
            np.full(nc, -_INF),
            np.zeros(nc),
        )
        if not merge:
            r = np.tile(np.arange(k), 2)
            c = np.concatenate([ns + np.arange(k), site_pos[oj]])
            v = np.concatenate([np.ones(k), -np.ones(k)])
            rows.add(sp.csr_matrix((v, (r, c)), shape=(k, ncols)), np.full(k, -_INF), np.zeros(k))
            per_site = np.bincount(site_pos[oj], weights=unit[ot], minlength=ns)
            tight = np.flatnonzero(per_site > self.max_cameras_per_site)
            if len(tight):
                row_of = np.full(ns, -1, dtype=np.int64)
                row_of[tight] = np.arange(len(tight))
                sel = np.flatnonzero(row_of[site_pos[oj]] >= 0)
                r = np.concatenate([row_of[site_pos[oj[sel]]], np.arange(len(tight))])
                c = np.concatenate([ns + sel, tight])
                v = np.concatenate([unit[ot[sel]], np.full(len(tight), -float(self.max_cameras_per_site))])
                rows.add(
                    sp.csr_matrix((v, (r, c)), shape=(len(tight), ncols)),
                    np.full(len(tight), -_INF),
                    np.zeros(len(tight)),
                )
        if self.budget_krw is not None:
            cost_row = np.zeros(ncols)
            cost_row[ns : ns + k] = opt_cost
            cost_row[x_cols] += self.site_cost_krw[site_of_x]
            rows.add(sp.csr_matrix(cost_row), np.array([-_INF]), np.array([float(self.budget_krw)]))
            if merge:
                _add_budget_cuts(rows, cost_row, ns, k, float(self.budget_krw))
        if self.max_sites is not None:
            r1 = np.zeros(ncols)
            r1[x_cols] = 1.0
            rows.add(sp.csr_matrix(r1), np.array([-_INF]), np.array([float(self.max_sites)]))
        if self.site_group is not None and self.min_sites_per_group > 0:
            groups = np.unique(self.site_group)
            gid = np.searchsorted(groups, self.site_group[site_of_x])
            uniq_sites = np.unique(site_of_x)
            have = np.bincount(np.searchsorted(groups, self.site_group[uniq_sites]), minlength=len(groups))
            if merge:
                # sites count here, so one option per site (a second one never adds coverage anyway)
                multi = np.flatnonzero(np.bincount(site_of_x, minlength=m) > 1)
                if len(multi):
                    row_of = np.full(m, -1, dtype=np.int64)
                    row_of[multi] = np.arange(len(multi))
                    sel = np.flatnonzero(row_of[site_of_x] >= 0)
                    rows.add(
                        sp.csr_matrix(
                            (np.ones(len(sel)), (row_of[site_of_x[sel]], x_cols[sel])),
                            shape=(len(multi), ncols),
                        ),
                        np.full(len(multi), -_INF),
                        np.ones(len(multi)),
                    )
            short = np.flatnonzero(have < self.min_sites_per_group)
            if len(short):
                g = groups[short[0]]
                raise PlanningError(
                    f"the plan is infeasible: dong {g} has {int(have[short[0]])} useful candidate site(s) "
                    "but "
                    f"the minimum per dong is {self.min_sites_per_group} ({len(short)} dong(s) short); "
                    "lower --min-per-dong or add candidates there"
                )
            rows.add(
                sp.csr_matrix((np.ones(len(gid)), (gid, x_cols)), shape=(len(groups), ncols)),
                np.full(len(groups), float(self.min_sites_per_group)),
                np.full(len(groups), _INF),
            )
        a, lo, hi = rows.stack()
        start = None
        if merge and not (self.site_group is not None and self.min_sites_per_group > 0):
            total_cost = opt_cost + self.site_cost_krw[oj]
            z0, y0 = greedy_cover(
                sp.csc_matrix(a_cov),
                self.weights[cells],
                total_cost,
                budget=float("inf") if self.budget_krw is None else float(self.budget_krw),
                max_sites=k if self.max_sites is None else self.max_sites,
            )
            start = np.concatenate([z0, y0]).astype(np.float64)
        return _Built(oj=oj, ot=ot, cells=cells, ns=ns, k=k, start=start), a, lo, hi

    def solve(self, time_limit_s: float = 60.0, mip_rel_gap: float = 1e-3) -> PlanResult:
        """Solve with HiGHS and return the best solution found.

        Raises:
            PlanningError: infeasible (e.g. per-dong minimum beyond the budget) or no solution in time.
        """
        import highspy

        t0 = time.perf_counter()
        built, a, lo, hi = self._build()
        ns, k, cells = built.ns, built.k, built.cells
        ncols = ns + k + len(cells)
        lp = highspy.HighsLp()
        lp.num_col_ = ncols
        lp.num_row_ = a.shape[0]
        lp.col_cost_ = np.concatenate([np.zeros(ns + k), self.weights[cells]])
        lp.col_lower_ = np.zeros(ncols)
        lp.col_upper_ = np.ones(ncols)
        lp.row_lower_ = lo
        lp.row_upper_ = hi
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr
        lp.a_matrix_.index_ = a.indices
        lp.a_matrix_.value_ = a.data
        lp.integrality_ = [highspy.HighsVarType.kInteger] * (ns + k) + [
            highspy.HighsVarType.kContinuous
        ] * len(cells)
        h = _new_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(time_limit_s))
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        h.passModel(lp)
        if built.start is not None:
            warm = highspy.HighsSolution()
            warm.col_value = built.start.tolist()
            h.setSolution(warm)
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        h.run()
        solve_s = time.perf_counter() - t1
        label = _status_label(h, time_limit_s)
        sol = np.asarray(h.getSolution().col_value)
        z = sol[ns : ns + k] > 0.5
        chosen = np.zeros((self.n_sites, len(self.options)), dtype=bool)
        chosen[built.oj[z], built.ot[z]] = True
        chosen = self._drop_redundant(chosen)
        covered = self._covered(chosen)
        objective = float(self.weights[covered].sum())
        dual = float(h.getInfo().mip_dual_bound)
        bound = max(dual if np.isfinite(dual) else objective, objective)
        gap = 0.0 if objective <= 0 else (bound - objective) / objective
        opt_costs = np.array([o.option_cost_krw for o in self.options])
        return PlanResult(
            status=label,
            objective=objective,
            bound=bound,
            mip_gap=gap,
            chosen=chosen,
            covered=covered,
            site_cost_krw=float(self.site_cost_krw[chosen.any(axis=1)].sum()),
            camera_cost_krw=float((chosen * opt_costs).sum()),
            build_s=build_s,
            solve_s=solve_s,
            n_rows=int(a.shape[0]),
            n_cols=int(ncols),
            n_nonzeros=int(a.nnz),
        )

    def _reduce(self, a: sp.csc_matrix, pos: B8, cost: F64, site: I64) -> I64:
        """Option columns to keep: one per distinct covered set (cheapest), no dominated single-cell ones."""
        group = self.site_group if self.min_sites_per_group > 0 else None
        best: dict[tuple[str, bytes], int] = {}
        ind, ptr = a.indices, a.indptr
        for o in range(a.shape[1]):
            rows = ind[ptr[o] : ptr[o + 1]]
            key = ("" if group is None else str(group[site[o]]), np.sort(rows[pos[rows]]).tobytes())
            b = best.get(key)
            if b is None or cost[o] < cost[b]:
                best[key] = o
        keep = np.array(sorted(best.values()), dtype=np.int64)
        if group is not None or len(keep) == 0:
            return keep
        sub = sp.csc_matrix(a[:, keep])
        n_pos = np.diff(sub.indptr)
        # cheapest option (and which) covering each cell
        c = cost[keep]
        rows_csr = sp.csr_matrix(sub)
        cell_min = np.full(sub.shape[0], np.inf)
        cell_arg = np.full(sub.shape[0], -1, dtype=np.int64)
        for i in np.flatnonzero(np.diff(rows_csr.indptr)):
            cols = rows_csr.indices[rows_csr.indptr[i] : rows_csr.indptr[i + 1]]
            best_o = int(cols[np.argmin(c[cols])])
            cell_min[i], cell_arg[i] = c[best_o], best_o
        drop = np.zeros(len(keep), dtype=bool)
        for oc in np.flatnonzero(n_pos == 1):
            cell = int(sub.indices[sub.indptr[oc]])
            drop[oc] = cell_arg[cell] != oc and cell_min[cell] <= c[oc]
        return keep[~drop]

    def _covered(self, chosen: B8) -> B8:
        hit = np.zeros(self.n_cells, dtype=np.int64)
        for t, cov in enumerate(self.coverage):
            idx = np.flatnonzero(chosen[:, t])
            if len(idx):
                hit += np.asarray(cov[:, idx].sum(axis=1), dtype=np.int64).ravel()
        return hit > 0

    def _drop_redundant(self, chosen: B8) -> B8:
        """Remove options whose every covered positive cell is also covered by another chosen option."""
        if self.site_group is not None and self.min_sites_per_group > 0:
            return chosen
        out = chosen.copy()
        pos = self.weights > 0
        hits = np.zeros(self.n_cells, dtype=np.int64)
        for t, cov in enumerate(self.coverage):
            idx = np.flatnonzero(out[:, t])
            if len(idx):
                hits += np.asarray(cov[:, idx].sum(axis=1), dtype=np.int64).ravel()
        costs = np.array([o.option_cost_krw for o in self.options])
        order = sorted(zip(*np.nonzero(out), strict=True), key=lambda jt: -costs[jt[1]])
        for j, t in order:
            cov = self.coverage[t]
            rows = cov.indices[cov.indptr[j] : cov.indptr[j + 1]]
            if np.all(hits[rows[pos[rows]]] >= 2):
                out[j, t] = False
                hits[rows] -= 1
        return out
