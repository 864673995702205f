"""The exact Lagrangian bound of the pole model, solved per connected component, and plans built from it.

Pricing the budget with λ ≥ 0 gives L(λ) = λB + max_S [w(S) + b(S) − λ·cost(S)], an upper bound on the
budgeted optimum for every λ. Once the budget is priced, poles only interact through demand points they
share, and only poles with a positive standalone profit p_j(λ) can help (coverage is submodular), so the
inner maximum splits into connected components of the profitable poles (Seoul at the best λ: about 5,000
poles in 2,800 components of at most a few dozen). Each component is a small MIP: single poles are
solved in closed form (:func:`~safecity.plan.reduce.site_profit_bound`, checked against the union they
really cover), larger ones by HiGHS. A component that HiGHS does not finish in time contributes its dual
bound, so L(λ) stays a valid bound. L is convex and piecewise linear in λ with slope B − cost(S(λ)); λ
is searched by bracketing its sign and intersecting the two tangents (Kelley's method in one dimension).

Plans (lower bounds) come from the same solves: each component's solutions at the λ tried are the
alternatives of a multiple-choice knapsack on the budget (one HiGHS MIP, tiny), whose solution is a
feasible plan of the full model.

This is the bound that the LP relaxation (:func:`safecity.plan.poles.solve_poles` before) could not
give: on Seoul the LP is 0.7 % above the best plan, the Lagrangian dual with exact inner problems a few
hundredths of a percent.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from safecity.plan.optimize import new_highs
from safecity.plan.reduce import site_profit_bound

__all__ = [
    "BoundAndPlan",
    "InnerModel",
    "InnerSolution",
    "LagrangeResult",
    "bound_and_plan",
    "knapsack_plan",
    "lagrangian_search",
    "solve_inner",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]
_INF = math.inf


@dataclass(frozen=True, slots=True)
class InnerModel:
    """The reduced pole model as the Lagrangian sees it.

    Attributes:
        a: (groups × options) CSC 0/1 coverage of the merged demand point groups.
        w: (groups,) group weights.
        site / kind / cost: per option; ``disc`` per option (a disc camera).
        value / value_out: per option, the weight it covers, and the weight outside its pole's disc range.
        site_cost / bonus: per pole (all poles of the problem, indexed like ``site``).
        caps: per-kind cameras per pole; n_max: cameras per pole; budget: KRW.
    """

    a: sp.csc_matrix
    w: F64
    site: I64
    kind: I64
    cost: F64
    disc: B8
    value: F64
    value_out: F64
    site_cost: F64
    bonus: F64
    caps: I64
    n_max: int
    budget: float

    def profit(self, lam: float) -> F64:
        """Per pole: an upper bound on its standalone profit at price λ (exact for the default kinds)."""
        return site_profit_bound(
            self.site,
            self.kind,
            self.value,
            self.value_out,
            self.cost,
            self.disc,
            self.caps,
            self.n_max,
            self.site_cost,
            lam,
            self.bonus,
        )

    def plan_value(self, chosen: B8) -> float:
        """Covered weight plus the bonus of open poles, for options ``chosen``."""
        if not chosen.any():
            return 0.0
        cov = np.asarray(self.a[:, np.flatnonzero(chosen)].sum(axis=1)).ravel() > 0
        return float(self.w[cov].sum() + self.bonus[np.unique(self.site[chosen])].sum())

    def plan_cost(self, chosen: B8) -> float:
        return float(self.site_cost[np.unique(self.site[chosen])].sum() + self.cost[chosen].sum())


@dataclass(frozen=True, slots=True)
class InnerSolution:
    """The inner problem at one λ: its bound L(λ), the options chosen, their cost and value."""

    lam: float
    bound: float
    chosen: B8
    cost: float
    value: float
    exact: bool
    live_sites: I64
    seconds: float


@dataclass(slots=True)
class LagrangeResult:
    """Every inner solve of the search, the best bound and the λ where it was found."""

    solves: list[InnerSolution] = field(default_factory=list)
    best_bound: float = _INF
    best_lam: float = 0.0


def _components(model: InnerModel, live: I64, opts: I64) -> tuple[int, I64]:
    """Connected components of the live poles (sharing a demand group); label per live pole.

    Minimum-label propagation with pointer jumping on the pole adjacency (components are small, so a few
    sparse passes; this also spares the start-up of ``scipy.sparse.csgraph``).
    """
    n = len(live)
    if n == 0:
        return 0, np.zeros(0, dtype=np.int64)
    pos = np.full(len(model.site_cost), -1, dtype=np.int64)
    pos[live] = np.arange(n)
    sub = model.a[:, opts].tocoo()
    inc = sp.csr_matrix(
        (np.ones(len(sub.row)), (sub.row, pos[model.site[opts]][sub.col])),
        shape=(model.a.shape[0], n),
    )
    adj = sp.csr_matrix(inc.T @ inc + sp.identity(n, format="csr"))
    lab = np.arange(n, dtype=np.int64)
    while True:
        nb = np.minimum.reduceat(lab[adj.indices], adj.indptr[:-1])
        new = np.minimum(lab, nb)
        new = new[new]  # pointer jumping
        if np.array_equal(new, lab):
            break
        lab = new
    uniq, out = np.unique(lab, return_inverse=True)
    return len(uniq), np.asarray(out, dtype=np.int64)


def _single_best(model: InnerModel, opts: I64, lam: float) -> tuple[I64, float]:
    """Best options of one pole alone at price λ by the same rule as ``site_profit_bound`` (sectors by
    profit within the caps, with or without the best disc); returns (options, profit it really earns)."""
    a = model.a
    best: tuple[I64, float] = (np.zeros(0, dtype=np.int64), 0.0)
    discs = opts[model.disc[opts]]
    secs = opts[~model.disc[opts]]
    starts: list[tuple[I64, F64]] = [(np.zeros(0, dtype=np.int64), model.value[secs])]
    for d in discs:
        starts.append((np.array([d], dtype=np.int64), model.value_out[secs]))
    for base, vals in starts:
        prof = vals - lam * model.cost[secs]
        order = np.argsort(-prof, kind="stable")
        pick = list(base.tolist())
        count = np.zeros(len(model.caps), dtype=np.int64)
        for b in pick:
            count[model.kind[b]] += 1
        for i in order:
            if prof[i] <= 0 or len(pick) >= model.n_max:
                break
            k = int(model.kind[secs[i]])
            if count[k] >= model.caps[k]:
                continue
            count[k] += 1
            pick.append(int(secs[i]))
        if not pick:
            continue
        sel = np.array(pick, dtype=np.int64)
        rows = np.unique(np.concatenate([a.indices[a.indptr[o] : a.indptr[o + 1]] for o in sel]))
        j = int(model.site[sel[0]])
        real = float(
            model.w[rows].sum() + model.bonus[j] - lam * (model.site_cost[j] + float(model.cost[sel].sum()))
        )
        if real > best[1]:
            best = (sel, real)
    return best


@functools.lru_cache(maxsize=256)
def _subsets(kinds: tuple[int, ...], caps: tuple[int, ...], n_max: int) -> npt.NDArray[np.bool_]:
    """Every set of a pole's options within the per-kind caps and the per-pole limit, as rows of a
    (sets × options) membership matrix; the first row is the empty set.

    >>> _subsets((0, 0, 1), (1, 1), 2).astype(int).tolist()
    [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1]]
    """
    k = np.array(kinds, dtype=np.int64)
    rows: list[list[bool]] = [[False] * len(kinds)]
    for r in range(1, min(len(kinds), n_max) + 1):
        for comb in itertools.combinations(range(len(kinds)), r):
            cnt = np.bincount(k[list(comb)], minlength=len(caps))
            if (cnt <= np.array(caps)).all():
                rows.append([i in comb for i in range(len(kinds))])
    out = np.array(rows, dtype=bool).reshape(-1, len(kinds))
    out.flags.writeable = False
    return out


def _enumerate(
    model: InnerModel, a_live: sp.csc_matrix, cols: I64, opts: I64, lam: float, limit: int = 150_000
) -> tuple[I64, float] | None:
    """Exact inner optimum of a small component by enumerating camera sets per pole (None if too big).

    An option whose own value is at most its price is dropped first (its marginal gain never exceeds its
    value), unless its pole earns a light bonus above the pole's price (closing it would then lose).
    The last pole is combined with all the others' sets by one matrix product:
    w(A ∪ B) = w(A) + w(B) − w(A ∩ B).
    """
    sub = a_live[:, cols]
    rows = np.unique(sub.indices)
    g = len(rows)
    w = model.w[rows]
    sites = np.unique(model.site[opts])
    caps = tuple(int(c) for c in model.caps)
    per_site: list[tuple[npt.NDArray[np.bool_], F64, list[tuple[int, ...]]]] = []
    for j in sites:
        mine = np.flatnonzero(model.site[opts] == j)
        pole_gain = float(model.bonus[j] - lam * model.site_cost[j])
        if pole_gain <= 0:
            mine = mine[model.value[opts[mine]] - lam * model.cost[opts[mine]] > 0]
        cov_o = np.zeros((len(mine), g), dtype=bool)
        for i, c in enumerate(mine):
            cov_o[i, np.searchsorted(rows, sub.indices[sub.indptr[c] : sub.indptr[c + 1]])] = True
        member = _subsets(tuple(model.kind[opts[mine]].tolist()), caps, model.n_max)
        cov = (member.astype(np.float64) @ cov_o.astype(np.float64)) > 0
        lin = np.where(member.any(axis=1), pole_gain, 0.0) - lam * (member @ model.cost[opts[mine]])
        ids = opts[mine]
        per_site.append((cov, lin, [tuple(ids[r].tolist()) for r in member]))
    per_site.sort(key=lambda t: len(t[1]))
    total = 1
    for _cov, lin_s, _sets in per_site:
        total *= len(lin_s)
    if total * max(g, 1) > limit * 20 or total > limit:
        return None
    cov_r = np.zeros((1, g), dtype=bool)
    lin_r = np.zeros(1)
    pick_r = np.zeros((1, 0), dtype=np.int64)
    for cov, lin, _sets in per_site[:-1]:
        n_r, n_c = len(lin_r), len(lin)
        cov_r = (cov_r[:, None, :] | cov[None, :, :]).reshape(n_r * n_c, g)
        lin_r = (lin_r[:, None] + lin[None, :]).ravel()
        pick_r = np.concatenate(
            [np.repeat(pick_r, n_c, axis=0), np.tile(np.arange(n_c), n_r)[:, None]], axis=1
        )
    cov_l, lin_l, _ = per_site[-1]
    fr = cov_r.astype(np.float64)
    fl = cov_l.astype(np.float64)
    val = (fr @ w + lin_r)[:, None] + (fl @ w + lin_l)[None, :] - (fr * w) @ fl.T
    best = int(np.argmax(val))
    r_i, l_i = divmod(best, val.shape[1])
    chosen: list[int] = []
    for s_i, (_c, _l, sets) in enumerate(per_site[:-1]):
        chosen += list(sets[int(pick_r[r_i, s_i])])
    chosen += list(per_site[-1][2][l_i])
    return np.array(chosen, dtype=np.int64), float(val.flat[best])


def _component_mip(
    model: InnerModel,
    a_live: sp.csc_matrix,
    cols: I64,
    opts: I64,
    lam: float,
    time_limit_s: float,
    mip_rel_gap: float = 1e-4,
    mip_abs_gap: float = 1e-6,
) -> tuple[I64, float, float, bool]:
    """Inner MIP of one component. Returns (chosen options, profit, dual bound on the profit, optimal)."""
    import highspy

    sub = a_live[:, cols].tocoo()
    rows, r_loc = np.unique(sub.row, return_inverse=True)
    ng, k = len(rows), len(opts)
    sites, s_loc = np.unique(model.site[opts], return_inverse=True)
    ns = len(sites)
    kind = model.kind[opts]
    r: list[I64] = []
    c: list[I64] = []
    v: list[F64] = []
    lo: list[F64] = []
    hi: list[F64] = []
    nrow = 0
    # y_g - sum z <= 0
    r += [np.asarray(r_loc, dtype=np.int64), np.arange(ng)]
    c += [ns + sub.col.astype(np.int64), ns + k + np.arange(ng)]
    v += [-np.ones(len(sub.row)), np.ones(ng)]
    lo.append(np.full(ng, -_INF))
    hi.append(np.zeros(ng))
    nrow += ng
    # z_o - x_j <= 0
    r += [nrow + np.arange(k), nrow + np.arange(k)]
    c += [ns + np.arange(k), s_loc]
    v += [np.ones(k), -np.ones(k)]
    lo.append(np.full(k, -_INF))
    hi.append(np.zeros(k))
    nrow += k
    limits = [(kind == kk, int(model.caps[kk])) for kk in range(len(model.caps))]
    limits.append((np.ones(k, dtype=bool), int(model.n_max)))
    for sel, cap in limits:
        cnt = np.bincount(s_loc[sel], minlength=ns)
        tight = np.flatnonzero(cnt > cap)
        if len(tight) == 0:
            continue
        row_of = np.full(ns, -1, dtype=np.int64)
        row_of[tight] = np.arange(len(tight))
        o_sel = np.flatnonzero(sel & (row_of[s_loc] >= 0))
        r += [nrow + row_of[s_loc[o_sel]], nrow + np.arange(len(tight))]
        c += [ns + o_sel, tight]
        v += [np.ones(len(o_sel)), np.full(len(tight), -float(cap))]
        lo.append(np.full(len(tight), -_INF))
        hi.append(np.zeros(len(tight)))
        nrow += len(tight)
    site_obj = model.bonus[sites] - lam * model.site_cost[sites]
    with_gain = np.flatnonzero(site_obj > 0)
    if len(with_gain):  # a pole earns its light only with a camera on it
        row_of = np.full(ns, -1, dtype=np.int64)
        row_of[with_gain] = np.arange(len(with_gain))
        o_sel = np.flatnonzero(row_of[s_loc] >= 0)
        r += [nrow + row_of[s_loc[o_sel]], nrow + np.arange(len(with_gain))]
        c += [ns + o_sel, with_gain]
        v += [-np.ones(len(o_sel)), np.ones(len(with_gain))]
        lo.append(np.full(len(with_gain), -_INF))
        hi.append(np.zeros(len(with_gain)))
        nrow += len(with_gain)
    ncol = ns + k + ng
    mat = sp.csc_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))), shape=(nrow, ncol))
    lp = highspy.HighsLp()
    lp.num_col_ = ncol
    lp.num_row_ = nrow
    lp.col_cost_ = np.concatenate([site_obj, -lam * model.cost[opts], model.w[rows]])
    lp.col_lower_ = np.zeros(ncol)
    lp.col_upper_ = np.ones(ncol)
    lp.row_lower_ = np.concatenate(lo)
    lp.row_upper_ = np.concatenate(hi)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = mat.indptr
    lp.a_matrix_.index_ = mat.indices
    lp.a_matrix_.value_ = mat.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * (ns + k) + [highspy.HighsVarType.kContinuous] * ng
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", mip_rel_gap)
    h.setOptionValue("mip_abs_gap", max(1e-6, mip_abs_gap))
    h.setOptionValue("time_limit", max(0.05, float(time_limit_s)))
    h.passModel(lp)
    ran = h.run()
    info = h.getInfo()
    st = h.getModelStatus()
    optimal = st == highspy.HighsModelStatus.kOptimal
    if info.primal_solution_status == 2:
        sol = np.asarray(h.getSolution().col_value)
        chosen = opts[sol[ns : ns + k] > 0.5]
        profit = float(info.objective_function_value)
    else:
        chosen, profit = np.zeros(0, dtype=np.int64), 0.0
    # HiGHS's dual bound only counts when it ran and stopped for time or optimality; otherwise (an
    # error, an interrupt before the first bound) the per-pole profits bound the component
    stopped = (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt)
    dual = float(info.mip_dual_bound)
    if (
        ran == highspy.HighsStatus.kError
        or not (optimal or st in stopped)
        or not math.isfinite(dual)
        or abs(dual) > 1e30
    ):
        dual = float(np.maximum(model.profit(lam)[sites], 0.0).sum())
    return chosen, profit, max(dual, profit), optimal


def solve_inner(
    model: InnerModel,
    lam: float,
    deadline: float,
    *,
    abs_gap: float = 1e-6,
    enum_max_poles: int = 6,
    component_limit_s: float = 1.0,
) -> InnerSolution:
    """L(λ) and an optimal (or, past the deadline, a good) inner solution, component by component."""
    t0 = time.perf_counter()
    prof = model.profit(lam)
    live = np.flatnonzero(prof > 0)
    chosen = np.zeros(len(model.site), dtype=bool)
    total = 0.0
    exact = True
    if len(live):
        is_live = np.zeros(len(model.site_cost), dtype=bool)
        is_live[live] = True
        opts = np.flatnonzero(is_live[model.site])
        # an option worth no more than its price never pays (its marginal gain is at most its value),
        # unless dropping it would close a pole whose light is worth more than the pole's price
        keeps_pole = model.bonus - lam * model.site_cost > 0
        opts = opts[(model.value[opts] - lam * model.cost[opts] > 0) | keeps_pole[model.site[opts]]]
        n_comp, lab = _components(model, live, opts)
        pos = np.full(len(model.site_cost), -1, dtype=np.int64)
        pos[live] = np.arange(len(live))
        comp_of_opt = lab[pos[model.site[opts]]]
        order = np.argsort(comp_of_opt, kind="stable")
        bounds = np.r_[0, np.flatnonzero(np.diff(comp_of_opt[order])) + 1, len(order)]
        size = np.bincount(lab, minlength=n_comp)
        a_live = sp.csc_matrix(model.a[:, opts])
        for ci in range(len(bounds) - 1):
            cols = order[bounds[ci] : bounds[ci + 1]]
            c_opts = opts[cols]
            comp = int(comp_of_opt[cols[0]])
            j = int(model.site[c_opts[0]])
            if size[comp] == 1:
                pick, real = _single_best(model, c_opts, lam)
                if real >= prof[j] - 1e-9 * max(1.0, abs(prof[j])):
                    chosen[pick] = True
                    total += float(prof[j])
                    continue
            if size[comp] <= enum_max_poles:
                found = _enumerate(model, a_live, cols, c_opts, lam)
                if found is not None:
                    chosen[found[0]] = True
                    total += max(found[1], 0.0)
                    continue
            left = deadline - time.perf_counter()
            if left <= 0:
                # out of time: the per-pole bound stays valid; no solution for this component
                total += float(prof[np.unique(model.site[c_opts])].sum())
                exact = False
                continue
            # a component HiGHS does not close within a second contributes its dual bound (valid)
            pick, _profit, dual, optimal = _component_mip(
                model, a_live, cols, c_opts, lam, min(left, component_limit_s), mip_abs_gap=abs_gap
            )
            chosen[pick] = True
            total += dual
            exact &= optimal
    cost = model.plan_cost(chosen) if chosen.any() else 0.0
    value = model.plan_value(chosen)
    return InnerSolution(
        lam=lam,
        bound=lam * model.budget + total,
        chosen=chosen,
        cost=cost,
        value=value,
        exact=exact,
        live_sites=live,
        seconds=time.perf_counter() - t0,
    )


Report = Callable[[InnerSolution], None]


def _no_report(_s: InnerSolution) -> None:
    return None


def lagrangian_search(
    model: InnerModel,
    lam0: float,
    *,
    deadline: float,
    max_solves: int = 8,
    tolerance: float = 2e-4,
    abs_gap: float = 1e-6,
    stop: Callable[[LagrangeResult], bool] | None = None,
    report: Report = _no_report,
) -> LagrangeResult:
    """Minimise L(λ) from ``lam0``: bracket the slope's sign, then intersect tangents.

    Stops after ``max_solves`` inner solves, at the deadline, when the bracket's lines meet within
    ``tolerance`` (relative), or when ``stop(result so far)`` says so (e.g. a plan proven by the bound).
    ``abs_gap``: the absolute MIP gap allowed per component (their dual bounds are summed).
    """
    res = LagrangeResult()

    def ev(lam: float) -> InnerSolution:
        s = solve_inner(model, lam, deadline, abs_gap=abs_gap)
        res.solves.append(s)
        if s.bound < res.best_bound:
            res.best_bound, res.best_lam = s.bound, lam
        report(s)
        return s

    b = model.budget
    lo: InnerSolution | None = None  # slope < 0: cost > budget, λ too low
    hi: InnerSolution | None = None  # slope >= 0
    lam = lam0
    step = 1.02
    while len(res.solves) < max_solves and time.perf_counter() < deadline:
        s = ev(lam)
        if stop is not None and stop(res):
            break
        if s.cost > b:
            lo = s if lo is None or s.lam > lo.lam else lo
        else:
            hi = s if hi is None or s.lam < hi.lam else hi
        if lo is None or hi is None:
            lam = _toward_budget(res.solves, b) or (lam / step if lo is None else lam * step)
            step = 1.0 + 2.0 * (step - 1.0)
            continue
        # tangent lines: L(x) >= L_i + (B - cost_i)(x - λ_i); their intersection
        g_lo, g_hi = b - lo.cost, b - hi.cost
        if g_hi - g_lo <= 0:
            break
        x = (hi.bound - lo.bound + g_lo * lo.lam - g_hi * hi.lam) / (g_lo - g_hi)
        model_min = lo.bound + g_lo * (x - lo.lam)
        if res.best_bound - model_min <= tolerance * max(1.0, abs(res.best_bound)):
            break
        if not (lo.lam < x < hi.lam):
            x = 0.5 * (lo.lam + hi.lam)
        lam = x
    return res


def _toward_budget(solves: list[InnerSolution], budget: float) -> float | None:
    """With two solves on the same side of the budget: the λ where the secant of cost(λ) reaches the
    budget, overshot 2.5 times (so that the next solve lands on the other side); None if no secant."""
    if len(solves) < 2:
        return None
    a, b = solves[-2], solves[-1]
    if a.lam == b.lam or a.cost == b.cost:
        return None
    slope = (b.cost - a.cost) / (b.lam - a.lam)
    if slope >= 0:
        return None  # cost(λ) falls as λ rises; anything else is noise
    lam = b.lam + 2.5 * (budget - b.cost) / slope
    return lam if lam > 0 else None


def knapsack_plan(
    model: InnerModel, solves: list[InnerSolution], deadline: float, mip_rel_gap: float = 1e-6
) -> B8:
    """A feasible plan: per component of the widest live set, one of the solutions seen (or nothing),
    chosen by a multiple-choice knapsack on the budget (HiGHS)."""
    import highspy

    cands = [s for s in solves if s.chosen.any()]
    none = np.zeros(len(model.site), dtype=bool)
    if not cands:
        return none
    live = np.unique(np.concatenate([s.live_sites for s in cands]))
    is_live = np.zeros(len(model.site_cost), dtype=bool)
    is_live[live] = True
    opts = np.flatnonzero(is_live[model.site])
    _n, lab = _components(model, live, opts)
    pos = np.full(len(model.site_cost), -1, dtype=np.int64)
    pos[live] = np.arange(len(live))
    comp_opt = np.full(len(model.site), -1, dtype=np.int64)
    comp_opt[opts] = lab[pos[model.site[opts]]]
    # alternatives: (component, solution) with value and cost; identical ones collapse
    alts: dict[tuple[int, bytes], tuple[int, I64]] = {}
    for s in cands:
        ch = np.flatnonzero(s.chosen)
        cc = comp_opt[ch]
        order = np.argsort(cc, kind="stable")
        ch, cc = ch[order], cc[order]
        starts = np.r_[0, np.flatnonzero(np.diff(cc)) + 1, len(cc)]
        for i in range(len(starts) - 1):
            part = ch[starts[i] : starts[i + 1]]
            alts.setdefault((int(cc[starts[i]]), part.tobytes()), (int(cc[starts[i]]), part))
    items = list(alts.values())
    comp = np.array([c for c, _ in items], dtype=np.int64)
    lens = np.array([len(p) for _, p in items], dtype=np.int64)
    member = sp.csr_matrix(
        (np.ones(int(lens.sum())), np.concatenate([p for _, p in items]), np.r_[0, np.cumsum(lens)]),
        shape=(len(items), len(model.site)),
    )
    covered = sp.csr_matrix(member @ model.a.T)
    covered.data[:] = 1.0
    val = np.asarray(covered @ model.w).ravel()
    pole_of = sp.csr_matrix(
        (np.ones(len(model.site)), (np.arange(len(model.site)), model.site)),
        shape=(len(model.site), len(model.site_cost)),
    )
    opened = (member @ pole_of).tocsr()
    opened.data[:] = 1.0
    val = val + np.asarray(opened @ model.bonus).ravel()
    cst = np.asarray(opened @ model.site_cost).ravel() + np.asarray(member @ model.cost).ravel()
    n = len(items)
    unit = max(float(cst.max()), 1.0)
    # rows: one per component (sum <= 1), budget
    used, row = np.unique(comp, return_inverse=True)
    nrow = len(used) + 1
    mat = sp.csc_matrix(
        (
            np.concatenate([np.ones(n), cst / unit]),
            (np.concatenate([row, np.full(n, len(used))]), np.concatenate([np.arange(n), np.arange(n)])),
        ),
        shape=(nrow, n),
    )
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = nrow
    lp.col_cost_ = val
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    lp.row_lower_ = np.full(nrow, -_INF)
    lp.row_upper_ = np.concatenate([np.ones(len(used)), [model.budget / unit]])
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = mat.indptr
    lp.a_matrix_.index_ = mat.indices
    lp.a_matrix_.value_ = mat.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", mip_rel_gap)
    h.setOptionValue("time_limit", max(0.5, deadline - time.perf_counter()))
    h.passModel(lp)
    h.run()
    if h.getInfo().primal_solution_status != 2:
        return none
    sol = np.asarray(h.getSolution().col_value) > 0.5
    out = none.copy()
    for pick in np.flatnonzero(sol).tolist():
        out[items[pick][1]] = True
    return out


@dataclass(frozen=True, slots=True)
class BoundAndPlan:
    """Outcome of :func:`bound_and_plan`: the best λ and bound, the best plan and its value."""

    lam: float
    bound: float
    value: float
    plan: B8
    knapsack_s: float


Say = Callable[[str, float, float], None]


def _no_say(_phase: str, _bound: float, _incumbent: float) -> None:
    return None


def bound_and_plan(
    model: InnerModel,
    start_plan: B8,
    start_value: float,
    *,
    deadline: float,
    plan_deadline: float,
    gap: float,
    say: Say = _no_say,
) -> BoundAndPlan:
    """Search λ from the start plan's value per KRW (× 0.88: the average overstates the marginal
    value), building a knapsack plan whenever the solves bracket the budget; stop once the plan is
    within ``gap`` of the bound. ``say(phase, bound, incumbent)`` reports each step."""
    best_val = [start_value]
    best_plan = [start_plan]
    spent = [0.0]

    def proves(r: LagrangeResult) -> bool:
        costs = [x.cost for x in r.solves]
        if min(costs) > model.budget or max(costs) <= model.budget:
            return False  # a plan from the solutions needs one on each side of the budget
        t_k = time.perf_counter()
        plan = knapsack_plan(model, r.solves, plan_deadline, mip_rel_gap=0.2 * gap)
        spent[0] += time.perf_counter() - t_k
        val = model.plan_value(plan) if plan.any() else 0.0
        if val > best_val[0] and model.plan_cost(plan) <= model.budget * (1 + 1e-12):
            best_val[0], best_plan[0] = val, plan
            say("lagrangian plan", r.best_bound, val)
        return r.best_bound <= best_val[0] * (1 + gap)

    def said(s: InnerSolution) -> None:
        say(f"lagrangian bound (λ={s.lam:.3g}, {len(s.live_sites):,} poles)", s.bound, best_val[0])

    cost = model.plan_cost(start_plan) if start_plan.any() else model.budget
    found = lagrangian_search(
        model,
        0.88 * max(start_value, 1e-9) / max(cost, 1.0),
        deadline=deadline,
        abs_gap=0.005 * gap * start_value,  # per component; their dual bounds are summed
        stop=proves,
        report=said,
    )
    return BoundAndPlan(found.best_lam, found.best_bound, best_val[0], best_plan[0], spent[0])
