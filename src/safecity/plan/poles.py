"""Poles with several cameras: the budgeted site/camera/heading covering model, reduced and solved exactly.

Sites j (cost s_j), options o = (site, camera kind, heading) with price c_o, demand points i (weight w_i)::

    max  Σ_i w_i y_i
    s.t. y_i − Σ_{o covers i} z_o ≤ 0          coverage
         z_o − x_j ≤ 0                          a camera needs its pole
         Σ_{o at j of kind k} z_o ≤ K_k x_j     per kind (e.g. one PTZ per pole), where it can bind
         Σ_{o at j} z_o ≤ N x_j                 cameras per pole, where it can bind
         Σ_j s_j x_j + Σ_o c_o z_o ≤ B          budget
         [Σ_j x_j ≤ p]   [Σ_{j in dong d} x_j ≥ k]
         x, z binary, 0 ≤ y ≤ 1  (exact: for integral z the optimum sets y_i = min(1, Σ z))

Before HiGHS sees it (each step keeps the optimum; ``tests/unit/plan/test_poles.py`` compares with the
unreduced model on seeded random instances):

1. **Zero-value options and sites** (covering no point of positive weight) are dropped.
2. **Dominated options**: at one site, an option whose covered set is a subset of another option of the same
   kind (same price) is dropped: swapping it for the larger one keeps every count and cost.
3. **Dominated sites**: site j is dropped when a site j' with s_j' ≤ s_j has, for each useful option of j,
   a distinct option of the same kind covering a superset, and the two sites' useful options together fit
   on one pole (so j's cameras can always move to j').
4. **Identical demand points** (covered by exactly the same options) are merged, weights summed.
5. **Exact Lagrangian bound** (:mod:`safecity.plan.lagrange`): pricing the budget with λ gives
   L(λ) = λB + max_S [w(S) + b(S) − λ·cost(S)] ≥ optimum. Only poles with a positive standalone profit
   p_j(λ) can help (coverage is submodular), and once the budget is priced they interact only within
   connected components (poles sharing a demand group), so the inner maximum is solved exactly per
   component: single poles in closed form, up to six poles by enumerating their camera sets, larger ones
   by HiGHS (its dual bound counts if it stops early). λ is searched on the slope B − cost(S(λ)).
6. **Plans from the bound**: each component's solutions at the λ tried are the alternatives of a
   multiple-choice knapsack on the budget (HiGHS, small); its plan replaces the greedy one when better.
   When the gap is within ``mip_rel_gap`` the plan is proven and no branch-and-bound runs.
7. Otherwise poles with L(λ) + p_j(λ) below the incumbent are fixed closed (any plan that opens j is
   worth at most that), and HiGHS solves the budgeted MIP on what is left, warm-started with the best
   plan, with a callback that reports bound, incumbent and gap every few seconds. The proven gap is
   global: every fixed-out site was shown to be unable to beat the incumbent. With ``max_sites`` or
   ``min_per_group`` no Lagrangian step runs and HiGHS solves the whole reduced model
   (``exact_lagrange=False`` keeps the older LP-based bound and fixing).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from safecity.errors import PlanningError
from safecity.plan.geometry import CameraKind, OptionSet
from safecity.plan.greedy import greedy_poles
from safecity.plan.lagrange import InnerModel, bound_and_plan
from safecity.plan.optimize import new_highs
from safecity.plan.reduce import dominated_sites, merge_points, same_site_dominated, site_profit_bound

__all__ = [
    "PoleProblem",
    "PoleResult",
    "Progress",
    "ReductionStats",
    "solve_poles",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]
_INF = math.inf
#: above this many poles left after fixing, branch-and-bound is skipped and the time spent on the bound
MIP_MAX_POLES = 30_000


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress report: seconds since the start, phase, best bound, incumbent and relative gap."""

    elapsed_s: float
    phase: str
    bound: float
    incumbent: float

    @property
    def gap(self) -> float:
        return _gap(self.bound, self.incumbent)


def _gap(bound: float, incumbent: float) -> float:
    if not math.isfinite(bound):
        return _INF
    if incumbent <= 0:
        return 0.0 if bound <= 1e-9 else _INF
    return max(0.0, (bound - incumbent) / incumbent)


@dataclass(frozen=True, slots=True)
class PoleProblem:
    """The full (unreduced) instance.

    Attributes:
        weights: (n,) demand point weights, >= 0.
        options: coverage of every (site, kind, heading) option.
        kinds: camera kinds (price, per-pole limit).
        site_cost_krw: (m,) pole preparation cost per site.
        site_xy: (m, 2) pole positions in metres (greedy batching, dominance between close poles).
        budget_krw: total budget.
        max_cameras_per_site: N.
        max_sites: optional cap on open sites.
        site_group / min_per_group: optional minimum of open sites per group (dong).
        site_value: optional (m,) value of opening a pole with at least one camera (the light a new
            smart pole adds where the street is dark), added to the objective.
    """

    weights: F64
    options: OptionSet
    kinds: tuple[CameraKind, ...]
    site_cost_krw: F64
    site_xy: F64
    budget_krw: float
    max_cameras_per_site: int = 4
    max_sites: int | None = None
    site_group: npt.NDArray[np.str_] | None = None
    min_per_group: int = 0
    site_value: F64 | None = None

    @property
    def bonus(self) -> F64:
        """Value of opening each pole by itself (the security light of a new smart pole), zeros if none."""
        if self.site_value is None:
            return np.zeros(self.n_sites)
        return np.asarray(self.site_value, dtype=np.float64)

    @property
    def n_sites(self) -> int:
        return len(self.site_cost_krw)

    @property
    def option_cost(self) -> F64:
        return np.array([k.cost_krw for k in self.kinds], dtype=np.float64)[self.options.kind]


@dataclass(frozen=True, slots=True)
class ReductionStats:
    """Sizes before and after each reduction (for the summary and the docs)."""

    points: int
    points_positive: int
    point_groups: int
    sites: int
    options: int
    options_useful: int
    options_after_dominance: int
    sites_after_dominance: int
    sites_after_fixing: int
    options_after_fixing: int
    groups_after_fixing: int
    lagrange_lambda: float
    lagrange_bound: float
    greedy_objective: float


@dataclass(frozen=True, slots=True)
class PoleResult:
    """Outcome of :func:`solve_poles`.

    ``chosen`` is a boolean mask over ``problem.options``; ``proven_optimal`` is true when the global gap
    is within the requested tolerance.
    """

    status: str  # optimal | feasible
    proven_optimal: bool
    objective: float
    bound: float
    gap: float
    chosen: B8
    open_sites: I64
    covered: B8
    site_cost_krw: float
    camera_cost_krw: float
    stats: ReductionStats
    phases_s: dict[str, float] = field(default_factory=dict)
    n_rows: int = 0
    n_cols: int = 0
    n_nonzeros: int = 0

    @property
    def cost_krw(self) -> float:
        return self.site_cost_krw + self.camera_cost_krw


# ----------------------------------------------------------------------------------- solve
Reporter = Callable[[Progress], None]


def _quiet(_p: Progress) -> None:
    return None


@dataclass(frozen=True, slots=True)
class _Sub:
    """A sub-model over some sites: option ids (into the reduced option list) and point groups."""

    opts: I64
    sites: I64
    groups: I64


def _build_lp(
    a: sp.csc_matrix,
    wg: F64,
    sub: _Sub,
    o_site: I64,
    o_kind: I64,
    o_cost: F64,
    site_cost: F64,
    caps: I64,
    n_max: int,
    *,
    lam: float | None,
    budget: float,
    max_sites: int | None,
    group: npt.NDArray[np.str_] | None,
    min_per_group: int,
    site_bonus: F64 | None = None,
) -> tuple[Any, int, int, int]:
    """HighsLp over ``sub``: columns x (sites), z (options), y (groups). With ``lam`` the budget is priced
    into the objective (Lagrangian inner problem) instead of being a row."""
    import highspy

    ns, k, ng = len(sub.sites), len(sub.opts), len(sub.groups)
    pos = np.full(len(site_cost), -1, dtype=np.int64)
    pos[sub.sites] = np.arange(ns)
    gpos = np.full(a.shape[0], -1, dtype=np.int64)
    gpos[sub.groups] = np.arange(ng)
    cov = a[:, sub.opts].tocoo()
    keep = gpos[cov.row] >= 0
    cr, cc = gpos[cov.row[keep]], cov.col[keep]
    xs = pos[o_site[sub.opts]]
    blocks_r: list[npt.NDArray[np.integer[Any]]] = []
    blocks_c: list[npt.NDArray[np.integer[Any]]] = []
    blocks_v: list[F64] = []
    lo: list[F64] = []
    hi: list[F64] = []
    nrow = 0
    # coverage: y_g - sum z <= 0
    blocks_r += [cr, np.arange(ng)]
    blocks_c += [ns + cc, ns + k + np.arange(ng)]
    blocks_v += [-np.ones(len(cr)), np.ones(ng)]
    lo.append(np.full(ng, -_INF))
    hi.append(np.zeros(ng))
    nrow += ng
    # link: z_o - x_j <= 0
    blocks_r += [nrow + np.arange(k), nrow + np.arange(k)]
    blocks_c += [ns + np.arange(k), xs]
    blocks_v += [np.ones(k), -np.ones(k)]
    lo.append(np.full(k, -_INF))
    hi.append(np.zeros(k))
    nrow += k
    # per kind and per pole limits where they can bind
    nk = len(caps)
    cnt = np.zeros((ns, nk), dtype=np.int64)
    np.add.at(cnt, (xs, o_kind[sub.opts]), 1)
    for kk in range(nk):
        tight = np.flatnonzero(cnt[:, kk] > caps[kk])
        if len(tight) == 0:
            continue
        row_of = np.full(ns, -1, dtype=np.int64)
        row_of[tight] = np.arange(len(tight))
        sel = np.flatnonzero((o_kind[sub.opts] == kk) & (row_of[xs] >= 0))
        blocks_r += [nrow + row_of[xs[sel]], nrow + np.arange(len(tight))]
        blocks_c += [ns + sel, tight]
        blocks_v += [np.ones(len(sel)), np.full(len(tight), -float(caps[kk]))]
        lo.append(np.full(len(tight), -_INF))
        hi.append(np.zeros(len(tight)))
        nrow += len(tight)
    tot = cnt.sum(axis=1)
    tight = np.flatnonzero(tot > n_max)
    if len(tight):
        row_of = np.full(ns, -1, dtype=np.int64)
        row_of[tight] = np.arange(len(tight))
        sel = np.flatnonzero(row_of[xs] >= 0)
        blocks_r += [nrow + row_of[xs[sel]], nrow + np.arange(len(tight))]
        blocks_c += [ns + sel, tight]
        blocks_v += [np.ones(len(sel)), np.full(len(tight), -float(n_max))]
        lo.append(np.full(len(tight), -_INF))
        hi.append(np.zeros(len(tight)))
        nrow += len(tight)
    sc = site_cost[sub.sites]
    oc = o_cost[sub.opts]
    bonus = np.zeros(len(site_cost)) if site_bonus is None else site_bonus
    obj = np.concatenate([bonus[sub.sites], np.zeros(k), wg[sub.groups]])
    with_bonus = np.flatnonzero(bonus[sub.sites] > 0)
    if len(with_bonus):
        # a pole earns its light only with a camera on it: x_j - sum_o z_o <= 0
        row_of = np.full(ns, -1, dtype=np.int64)
        row_of[with_bonus] = np.arange(len(with_bonus))
        sel = np.flatnonzero(row_of[xs] >= 0)
        blocks_r += [nrow + row_of[xs[sel]], nrow + np.arange(len(with_bonus))]
        blocks_c += [ns + sel, with_bonus]
        blocks_v += [-np.ones(len(sel)), np.ones(len(with_bonus))]
        lo.append(np.full(len(with_bonus), -_INF))
        hi.append(np.zeros(len(with_bonus)))
        nrow += len(with_bonus)
    if lam is None:
        unit = max(float(np.max(sc, initial=0.0)), float(np.max(oc, initial=0.0)), 1.0)
        blocks_r += [np.full(ns, nrow), np.full(k, nrow)]
        blocks_c += [np.arange(ns), ns + np.arange(k)]
        blocks_v += [sc / unit, oc / unit]
        lo.append(np.array([-_INF]))
        hi.append(np.array([budget / unit]))
        nrow += 1
    else:
        obj[:ns] = bonus[sub.sites] - lam * sc
        obj[ns : ns + k] = -lam * oc
    if max_sites is not None:
        blocks_r.append(np.full(ns, nrow))
        blocks_c.append(np.arange(ns))
        blocks_v.append(np.ones(ns))
        lo.append(np.array([-_INF]))
        hi.append(np.array([float(max_sites)]))
        nrow += 1
    if group is not None and min_per_group > 0:
        groups, gid = np.unique(group[sub.sites], return_inverse=True)
        blocks_r.append(nrow + gid)
        blocks_c.append(np.arange(ns))
        blocks_v.append(np.ones(ns))
        lo.append(np.full(len(groups), float(min_per_group)))
        hi.append(np.full(len(groups), _INF))
        nrow += len(groups)
    ncol = ns + k + ng
    mat = sp.csc_matrix(
        (np.concatenate(blocks_v), (np.concatenate(blocks_r), np.concatenate(blocks_c))), shape=(nrow, ncol)
    )
    lp = highspy.HighsLp()
    lp.num_col_ = ncol
    lp.num_row_ = nrow
    lp.col_cost_ = obj
    lp.col_lower_ = np.zeros(ncol)
    lp.col_upper_ = np.ones(ncol)
    lp.row_lower_ = np.concatenate(lo)
    lp.row_upper_ = np.concatenate(hi)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = mat.indptr
    lp.a_matrix_.index_ = mat.indices
    lp.a_matrix_.value_ = mat.data
    lp.offset_ = 0.0 if lam is None else lam * budget
    return lp, ns, k, int(mat.nnz)


def solve_poles(
    prob: PoleProblem,
    *,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-3,
    report: Reporter = _quiet,
    report_every_s: float = 3.0,
    reduce: bool = True,
    mip_max_poles: int = MIP_MAX_POLES,
    exact_lagrange: bool = True,
) -> PoleResult:
    """Reduce, bound and solve ``prob``; the time limit covers everything after coverage was built.

    ``reduce=False`` hands the unreduced model to HiGHS (used by the tests as the reference);
    ``exact_lagrange=False`` bounds the Lagrangian inner problem by its LP (the method before
    :mod:`safecity.plan.lagrange`, kept for comparison).

    Raises:
        PlanningError: budget below one pole with one camera, nothing worth covering, infeasible limits.
    """
    t0 = time.perf_counter()
    phases: dict[str, float] = {}
    deadline = t0 + time_limit_s
    w = np.asarray(prob.weights, dtype=np.float64)
    o = prob.options
    caps = np.array([k.max_per_site for k in prob.kinds], dtype=np.int64)
    o_cost = prob.option_cost
    is_disc_k = np.array([k.is_disc for k in prob.kinds], dtype=bool)
    cheapest = float(prob.site_cost_krw.min()) + float(min(k.cost_krw for k in prob.kinds))
    if prob.budget_krw < cheapest:
        raise PlanningError(
            f"budget {prob.budget_krw:,.0f} KRW is below one pole with one camera: the cheapest site "
            f"plus camera costs {cheapest:,.0f} KRW; raise --budget-krw or lower the costs in the config"
        )
    pos = w > 0
    a_pos = sp.csc_matrix(sp.diags(pos.astype(np.float64)) @ o.matrix) if reduce else o.matrix
    a_pos.eliminate_zeros()
    value = np.asarray(a_pos.T @ w, dtype=np.float64).ravel()
    useful = np.flatnonzero(value > 0) if reduce else np.arange(len(o), dtype=np.int64)
    if len(useful) == 0 or not pos.any():
        raise PlanningError(
            "no candidate camera covers any demand point with a positive priority; add candidates or "
            "check the score weights"
        )
    n_useful = len(useful)
    if reduce:
        slot_kind = o.kind[: o.slots]
        useful = useful[~same_site_dominated(o, slot_kind, pos)[useful]]
    n_after_opt = len(useful)
    if reduce and prob.min_per_group == 0 and prob.max_sites is None:
        dom = dominated_sites(prob, useful, a_pos, prob.site_xy, near_m=10.0)
        useful = useful[~dom[o.site[useful]]]
    phases["dominance_s"] = time.perf_counter() - t0
    # merged point groups over the useful options
    a_u = sp.csc_matrix(a_pos[:, useful])
    if reduce:
        a_g, wg, group = merge_points(a_u, w)
    else:
        a_g, wg, group = a_u, w.copy(), np.arange(len(w), dtype=np.int64)
    a_g = sp.csc_matrix(a_g)
    rep = np.full(a_g.shape[0], -1, dtype=np.int64)
    hit = np.flatnonzero(group >= 0)
    rep[group[hit[::-1]]] = hit[::-1]  # first point of each group
    inner_g = sp.csc_matrix(sp.csr_matrix(o.inner[:, useful])[rep]) if len(rep) else sp.csc_matrix(a_g.shape)
    phases["merge_s"] = time.perf_counter() - t0 - phases["dominance_s"]
    u_site, u_kind, u_cost = o.site[useful], o.kind[useful], o_cost[useful]
    sites_live = np.unique(u_site)
    # greedy incumbent
    t1 = time.perf_counter()
    disc_u = is_disc_k[u_kind]
    g_mask = greedy_poles(
        a_g,
        wg,
        site=u_site,
        slot=useful % o.slots,
        kind=u_kind,
        disc=disc_u,
        inner=inner_g,
        cost=u_cost,
        site_cost=prob.site_cost_krw,
        site_xy=prob.site_xy,
        caps=caps,
        n_max=prob.max_cameras_per_site,
        budget=prob.budget_krw,
        reach_m=max(k.range_m for k in prob.kinds),
        max_sites=prob.max_sites,
        site_bonus=prob.bonus,
    )
    g_cov = np.asarray(a_g[:, g_mask].sum(axis=1)).ravel() > 0
    g_open = np.unique(u_site[g_mask])
    incumbent = float(wg[g_cov].sum() + prob.bonus[g_open].sum()) if prob.min_per_group == 0 else 0.0
    phases["greedy_s"] = time.perf_counter() - t1
    greedy_value = incumbent
    report(Progress(time.perf_counter() - t0, "greedy", _INF, incumbent))
    # Lagrangian fixing
    value_u = np.asarray(a_g.T @ wg, dtype=np.float64).ravel()
    value_out = value_u - np.asarray(inner_g.T @ wg, dtype=np.float64).ravel()
    lam, upper, fixed_sites = 0.0, _INF, sites_live
    t2 = time.perf_counter()
    simple = reduce and prob.min_per_group == 0 and prob.max_sites is None and incumbent > 0
    if simple and exact_lagrange:
        inner = InnerModel(
            a=a_g,
            w=wg,
            site=u_site,
            kind=u_kind,
            cost=u_cost,
            disc=disc_u,
            value=value_u,
            value_out=value_out,
            site_cost=prob.site_cost_krw,
            bonus=prob.bonus,
            caps=caps,
            n_max=prob.max_cameras_per_site,
            budget=prob.budget_krw,
        )
        got = bound_and_plan(
            inner,
            g_mask,
            incumbent,
            deadline=t0 + (0.95 if len(sites_live) > mip_max_poles else 0.85) * (deadline - t0),
            plan_deadline=deadline,
            gap=mip_rel_gap,
            say=lambda ph, b, inc: report(Progress(time.perf_counter() - t0, ph, b, inc)),
        )
        phases["knapsack_s"] = got.knapsack_s
        incumbent, g_mask = got.value, got.plan
        lam, upper = got.lam, got.bound
        if math.isfinite(upper) and _gap(upper, incumbent) > mip_rel_gap:
            # fix closed every pole that cannot lift a plan above the incumbent: L(λ) + p_j(λ) < incumbent
            prof = inner.profit(lam)
            keep = np.flatnonzero(upper + prof >= incumbent - 1e-9 * max(1.0, abs(incumbent)))
            keep = np.union1d(keep, np.unique(u_site[g_mask]))
            fixed_sites = np.intersect1d(keep, sites_live)
        elif math.isfinite(upper):
            fixed_sites = np.unique(u_site[g_mask])  # proven: the plan needs no MIP
    elif simple:
        lam, upper, fixed_sites = _lagrange(
            a_g,
            wg,
            u_site,
            u_kind,
            u_cost,
            value_u,
            value_out,
            disc_u,
            caps,
            prob,
            incumbent,
            g_mask,
            deadline,
            t0,
            report,
            mip_max_poles,
        )
    phases["lagrange_s"] = time.perf_counter() - t2
    keep_opt = np.flatnonzero(np.isin(u_site, fixed_sites))
    groups = np.flatnonzero(np.asarray(a_g[:, keep_opt].sum(axis=1)).ravel() > 0)
    sub = _Sub(opts=keep_opt, sites=np.unique(u_site[keep_opt]), groups=groups)
    # MIP, unless the model left is far beyond what branch-and-bound moves within the limit (measured:
    # on Seoul's 98k poles HiGHS never improved the greedy plan or the bound); then the time went to λ
    skip_mip = reduce and (
        len(sub.sites) > mip_max_poles or (math.isfinite(upper) and _gap(upper, incumbent) <= mip_rel_gap)
    )
    if skip_mip:
        zsel = np.flatnonzero(g_mask)
        dual, mip_optimal, n_rows, n_cols, nnz = upper, False, 0, 0, 0
        phases["mip_s"] = 0.0
    else:
        import highspy

        t3 = time.perf_counter()
        lp, ns, k, nnz = _build_lp(
            a_g,
            wg,
            sub,
            u_site,
            u_kind,
            u_cost,
            prob.site_cost_krw,
            caps,
            prob.max_cameras_per_site,
            lam=None,
            budget=prob.budget_krw,
            max_sites=prob.max_sites,
            group=prob.site_group,
            min_per_group=prob.min_per_group,
            site_bonus=prob.bonus,
        )
        lp.integrality_ = [highspy.HighsVarType.kInteger] * (ns + k) + [
            highspy.HighsVarType.kContinuous
        ] * len(sub.groups)
        h = new_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        # HiGHS may take a while to return after its limit (a node LP in flight): ask for 90 % of what
        # is left, and interrupt from the callbacks at the deadline
        left = max(1.0, 0.9 * (deadline - time.perf_counter()))
        h.setOptionValue("time_limit", float(left))
        _check(h.passModel(lp), "passModel")
        if incumbent > 0:
            zs = g_mask[sub.opts].astype(np.float64)
            xs = np.zeros(ns)
            pos_site = np.full(prob.n_sites, -1, dtype=np.int64)
            pos_site[sub.sites] = np.arange(ns)
            xs[pos_site[u_site[sub.opts[g_mask[sub.opts]]]]] = 1.0
            ys = (np.asarray(a_g[sub.groups][:, sub.opts[g_mask[sub.opts]]].sum(axis=1)).ravel() > 0).astype(
                float
            )
            warm = highspy.HighsSolution()
            warm.col_value = np.concatenate([xs, zs, ys]).tolist()
            _check(h.setSolution(warm), "setSolution")
        last = [time.perf_counter()]

        def stop_late(e: Any) -> None:
            if time.perf_counter() > deadline:
                e.data_in.user_interrupt = True

        def on_interrupt(e: Any) -> None:
            now = time.perf_counter()
            if now > deadline:
                e.data_in.user_interrupt = True
            if now - last[0] >= report_every_s:
                last[0] = now
                d = e.data_out
                inc = max(float(d.objective_function_value), incumbent)
                report(Progress(now - t0, "branch-and-bound", max(float(d.mip_dual_bound), inc), inc))

        h.cbMipInterrupt.subscribe(on_interrupt)
        h.cbSimplexInterrupt.subscribe(stop_late)
        h.cbIpmInterrupt.subscribe(stop_late)
        _check(h.run(), "run")
        phases["mip_s"] = time.perf_counter() - t3
        info = h.getInfo()
        status = h.getModelStatus()
        st = highspy.HighsModelStatus
        if status in (st.kInfeasible, st.kUnboundedOrInfeasible):
            raise PlanningError(
                "the plan is infeasible: no set of sites meets the budget, the number of sites and the "
                "minimum per dong together; lower --min-per-dong, raise --budget-krw or --max-sites"
            )
        if info.primal_solution_status != 2:
            raise PlanningError(
                f"HiGHS stopped with status {h.modelStatusToString(status)!r} and no usable plan; raise "
                f"--time-limit-s (was {time_limit_s:g} s)"
            )
        sol = np.asarray(h.getSolution().col_value)
        zsel = sub.opts[sol[ns : ns + k] > 0.5]
        dual = float(info.mip_dual_bound)
        mip_optimal = status == st.kOptimal
        n_rows, n_cols = int(lp.num_row_), int(lp.num_col_)
    chosen = np.zeros(len(o), dtype=bool)
    chosen[useful[zsel]] = True
    chosen = _drop_redundant(chosen, prob, w) if prob.min_per_group == 0 else chosen
    covered = np.asarray(o.matrix[:, chosen].sum(axis=1)).ravel() > 0
    open_now = np.unique(o.site[chosen])
    objective = float(w[covered].sum() + prob.bonus[open_now].sum())
    # HiGHS's bound (global, given the fixing) and the Lagrangian bound are both valid: take the tighter
    valid = [b for b in (dual, upper) if math.isfinite(b) and abs(b) < 1e30]
    if mip_optimal and not valid:
        valid = [objective]
    bound = max(min(valid), objective) if valid else _INF
    gap = _gap(bound, objective)
    proven = gap <= mip_rel_gap + 1e-9
    report(Progress(time.perf_counter() - t0, "done", bound, objective))
    open_sites = np.unique(o.site[chosen])
    stats = ReductionStats(
        points=len(w),
        points_positive=int(pos.sum()),
        point_groups=int(a_g.shape[0]),
        sites=prob.n_sites,
        options=len(o),
        options_useful=n_useful,
        options_after_dominance=n_after_opt,
        sites_after_dominance=len(sites_live),
        sites_after_fixing=len(sub.sites),
        options_after_fixing=len(sub.opts),
        groups_after_fixing=len(sub.groups),
        lagrange_lambda=lam,
        lagrange_bound=upper,
        greedy_objective=greedy_value,
    )
    phases["total_s"] = time.perf_counter() - t0
    return PoleResult(
        status="optimal" if proven else "feasible",
        proven_optimal=proven,
        objective=objective,
        bound=bound,
        gap=gap,
        chosen=chosen,
        open_sites=open_sites.astype(np.int64),
        covered=covered,
        site_cost_krw=float(prob.site_cost_krw[open_sites].sum()),
        camera_cost_krw=float(o_cost[chosen].sum()),
        stats=stats,
        phases_s={key: round(v, 3) for key, v in phases.items()},
        n_rows=n_rows,
        n_cols=n_cols,
        n_nonzeros=nnz,
    )


def _lagrange(
    a_g: sp.csc_matrix,
    wg: F64,
    u_site: I64,
    u_kind: I64,
    u_cost: F64,
    value_u: F64,
    value_out: F64,
    disc: B8,
    caps: I64,
    prob: PoleProblem,
    incumbent: float,
    g_mask: B8,
    deadline: float,
    t0: float,
    report: Reporter,
    mip_max_poles: int = MIP_MAX_POLES,
) -> tuple[float, float, I64]:
    """Search λ, bound the Lagrangian inner problem by its LP over profitable poles, fix the rest.

    Returns (λ, upper bound U(λ) on the optimum, sites kept)."""
    import highspy

    m = prob.n_sites
    g_cost = float(prob.site_cost_krw[np.unique(u_site[g_mask])].sum() + u_cost[g_mask].sum())
    lam0 = incumbent / max(g_cost, 1.0)
    best: tuple[float, float, F64] | None = None
    tried: dict[float, float] = {}

    def bound_at(lam: float) -> tuple[float, F64]:
        prof = site_profit_bound(
            u_site,
            u_kind,
            value_u,
            value_out,
            u_cost,
            disc,
            caps,
            prob.max_cameras_per_site,
            prob.site_cost_krw,
            lam,
            prob.bonus,
        )
        live = np.flatnonzero(prof > 0)
        if len(live) == 0:
            return lam * prob.budget_krw, prof
        opts = np.flatnonzero(np.isin(u_site, live))
        groups = np.flatnonzero(np.asarray(a_g[:, opts].sum(axis=1)).ravel() > 0)
        lp, _ns, _k, _nnz = _build_lp(
            a_g,
            wg,
            _Sub(opts, live, groups),
            u_site,
            u_kind,
            u_cost,
            prob.site_cost_krw,
            caps,
            prob.max_cameras_per_site,
            lam=lam,
            budget=prob.budget_krw,
            max_sites=None,
            group=None,
            min_per_group=0,
            site_bonus=prob.bonus,
        )
        h = new_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", max(1.0, deadline - time.perf_counter()))
        h.passModel(lp)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return _INF, prof
        info = h.getInfo()
        # the dual objective bounds the LP from above even if the primal were slightly off
        val = float(info.objective_function_value)
        return val + 1e-7 * abs(val), prof

    # a short golden-section search on the convex function λ -> U(λ)
    # the greedy plan's average value per KRW overstates the marginal one; on Guro and Seoul the best λ
    # was 0.85-0.93 of it
    lam0 *= 0.88
    lo_l, hi_l = 0.92 * lam0, 1.08 * lam0
    phi = (math.sqrt(5) - 1) / 2
    x1, x2 = hi_l - phi * (hi_l - lo_l), lo_l + phi * (hi_l - lo_l)
    f: dict[float, tuple[float, F64]] = {}

    def ev(x: float) -> float:
        if x not in f:
            f[x] = bound_at(x)
            tried[x] = f[x][0]
            u, _ = f[x]
            report(Progress(time.perf_counter() - t0, f"lagrangian bound (λ={x:.3g})", u, incumbent))
        return f[x][0]

    ev(lam0)
    # at city scale branch-and-bound rarely moves within a minute: spend more on the bound there
    big = len(np.unique(u_site)) > mip_max_poles
    share, rounds = (0.9, 12) if big else (0.2, 4)
    for _ in range(rounds):
        if time.perf_counter() > t0 + share * (deadline - t0):
            break
        if ev(x1) < ev(x2):
            hi_l, x2 = x2, x1
            x1 = hi_l - phi * (hi_l - lo_l)
        else:
            lo_l, x1 = x1, x2
            x2 = lo_l + phi * (hi_l - lo_l)
    lam = min(f, key=lambda x: f[x][0])
    upper, prof = f[lam]
    best = (lam, upper, prof)
    lam, upper, prof = best
    if not math.isfinite(upper):
        return lam, upper, np.unique(u_site)
    keep = np.flatnonzero(upper + prof >= incumbent - 1e-9 * max(1.0, abs(incumbent)))
    keep = np.union1d(keep, np.unique(u_site[g_mask]))
    live_sites = np.unique(u_site)
    keep = np.intersect1d(keep, live_sites)
    del m
    return lam, upper, keep


def _check(status: Any, what: str) -> None:
    import highspy

    if status == highspy.HighsStatus.kError:
        raise PlanningError(f"HiGHS refused the model ({what}); this is a bug, please report it")


def _drop_redundant(chosen: B8, prob: PoleProblem, w: F64) -> B8:
    """Remove cameras whose every covered positive point is also seen by another chosen camera."""
    out = chosen.copy()
    mat = prob.options.matrix
    idx = np.flatnonzero(out)
    if len(idx) == 0:
        return out
    hits = np.asarray(mat[:, idx].sum(axis=1)).ravel()
    cost = prob.option_cost
    bonus = prob.bonus
    per_site = np.bincount(prob.options.site[idx], minlength=prob.n_sites)
    for o in idx[np.argsort(-cost[idx], kind="stable")]:
        rows = mat.indices[mat.indptr[o] : mat.indptr[o + 1]]
        rows = rows[w[rows] > 0]
        j = int(prob.options.site[o])
        if np.all(hits[rows] >= 2) and not (bonus[j] > 0 and per_site[j] == 1):
            out[o] = False
            per_site[j] -= 1
            hits[mat.indices[mat.indptr[o] : mat.indptr[o + 1]]] -= 1
    return out
