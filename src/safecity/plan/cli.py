"""``safecity plan sites|replace``: camera siting and replacement plans from the command line.

Progress (with a bar, bound, incumbent and gap while solving) goes to stderr; the summary and file paths to
stdout (``--json`` keeps stdout pure JSON). Exit codes: 0 success, 1 bad input / infeasible plan / store
error, 2 usage error, 3 ``--require-optimal`` and the plan was not proven optimal (it is still saved,
marked ``proven_optimal: false``).

Existing cameras (both commands): the store's registry for the area when it has one, otherwise the
bundled 2018 standard-data CSV; the choice is printed and kept in ``summary.existing.source``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from safecity.errors import InputError, PlanningError
from safecity.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from safecity.plan.history import PastEvent
    from safecity.plan.poles import Progress
    from safecity.plan.report import PlanFiles
    from safecity.plan.types import Plan
    from safecity.registry.model import CameraRecord

__all__ = ["EXIT_NOT_PROVEN", "register"]

EXIT_NOT_PROVEN = 3
BUNDLED = "bundled CSV data/seoul/cctv/seoul_cctv_points_2018.csv"


def _positive(what: str, example: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            v = float(text.replace(",", "").replace("_", ""))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"expected {what} such as {example}, got {text!r}") from exc
        if not v > 0 or v == float("inf"):
            raise argparse.ArgumentTypeError(f"expected {what} > 0, got {text!r}")
        return v

    return parse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``plan`` command group to the ``safecity`` parser."""
    p = sub.add_parser(
        "plan",
        help="camera planning: new sites (budgeted MCLP) and replacement of aged cameras",
        description="Plan new CCTV sites or the replacement of aged cameras within a budget in KRW.",
    )
    psub = p.add_subparsers(dest="plan_command", metavar="ACTION", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--area", default="guro", help="gu (guro, 구로구, 11170, ...) or seoul (default guro)")
        q.add_argument(
            "--budget-krw",
            type=_positive("an amount in KRW", "1.22e9"),
            required=True,
            help="budget in KRW, e.g. 1.22e9",
        )
        q.add_argument(
            "--config", type=Path, help="plan config YAML (default: built-in, see configs/plan.yaml)"
        )
        q.add_argument(
            "--out", type=Path, help="output folder (default var/plans/<kind>-<area>-<timestamp>/)"
        )
        q.add_argument(
            "--database-url",
            help="SQLAlchemy URL (default: SAFECITY_DATABASE_URL, else <SAFECITY_HOME or ./var>/safecity.db, "
            "the database `safecity serve` and `safecity demo` use)",
        )
        q.add_argument("--time-limit-s", type=_positive("seconds", "60"), help="solver time limit in seconds")
        q.add_argument("--no-save", action="store_true", help="write the files only, not the store")
        q.add_argument("--json", action="store_true", help="print the result as JSON on stdout")

    s = psub.add_parser(
        "sites",
        help="choose new camera sites and types within a budget",
        description="Maximise the covered priority (MOIS-style score of 100 m cells) within the budget: "
        "candidates are streetlight poles, existing sites, grid points and requests.",
    )
    common(s)
    s.add_argument(
        "--requests", type=Path, help="police/resident requests: CSV (lat,lon,kind,note) or GeoJSON"
    )
    s.add_argument("--max-sites", type=int, help="at most this many sites")
    s.add_argument("--min-per-dong", type=int, default=0, help="at least this many sites in every dong")
    s.add_argument(
        "--events",
        choices=("auto", "store", "none"),
        default="auto",
        help="event_history layer from the control room's events: auto (use them if the store has any), "
        "store (required; an error if there are none), none",
    )
    s.add_argument(
        "--require-optimal",
        action="store_true",
        help=f"exit with code {EXIT_NOT_PROVEN} when the plan is not proven optimal within the gap",
    )
    s.add_argument(
        "--no-cache",
        action="store_true",
        help="prepare the area from the data files even if <SAFECITY_HOME or ./var>/cache/plan holds it "
        "(entries are keyed by the content of the data files, the code, the config and the inputs, so "
        "they are never stale; SAFECITY_PLAN_CACHE=off disables the cache)",
    )
    s.set_defaults(func=_sites)

    r = psub.add_parser(
        "replace",
        help="choose aged / low-resolution cameras to replace within a budget",
        description="Cameras past the service life or under the minimum resolution, ranked by the "
        "priority of their site and their age/resolution, chosen within the budget. Reads the registry "
        "from the store (`safecity registry import`); on a store without cameras for the area it uses the "
        "bundled 2018 standard data, as `plan sites` does, and says so.",
    )
    common(r)
    r.add_argument("--as-of", type=date.fromisoformat, help="reference date YYYY-MM-DD (default today)")
    r.add_argument(
        "--service-life-years",
        type=_positive("years", "7"),
        help="replace cameras at least this old (default from the config: 7)",
    )
    r.add_argument(
        "--min-megapixels",
        type=_positive("megapixels", "2.0"),
        help="replace cameras below this resolution (default from the config: 2.0)",
    )
    r.set_defaults(func=_replace)


def _progress(args: argparse.Namespace) -> Callable[[str], None]:
    def say(msg: str) -> None:
        print(f"safecity plan: {msg}", file=sys.stderr, flush=True)

    return say


def _bar(args: argparse.Namespace, limit_s: float) -> Callable[[Progress], None]:
    """Solver progress on stderr: a bar of the time limit, bound, incumbent and gap."""
    tty = sys.stderr.isatty()

    def show(p: Progress) -> None:
        frac = min(1.0, p.elapsed_s / limit_s) if limit_s > 0 else 1.0
        filled = round(20 * frac)
        gap = "n/a" if p.gap == float("inf") else f"{p.gap:.3%}"
        bound = "n/a" if p.bound == float("inf") else f"{p.bound:,.1f}"
        line = (
            f"safecity plan: [{'#' * filled}{'.' * (20 - filled)}] {p.elapsed_s:5.1f}/{limit_s:g} s  "
            f"bound {bound}  incumbent {p.incumbent:,.1f}  gap {gap}  ({p.phase})"
        )
        end = "\n" if (not tty or p.phase == "done") else ""
        print(("\r" if tty else "") + line, end=end, file=sys.stderr, flush=True)

    return show


def _engine(args: argparse.Namespace) -> Engine:
    from safecity.store.db import connect

    return connect(str(args.database_url or Settings().db_url))


def _store_cameras(engine: Engine, area: str) -> list[CameraRecord]:
    from safecity.plan.areas import SEOUL, area_label
    from safecity.registry.repo import load_cameras

    key, name_ko = area_label(area)
    return load_cameras(engine, None if key == SEOUL else name_ko)


def _out_dir(args: argparse.Namespace, kind: str, area_key: str) -> Path:
    if args.out is not None:
        return Path(args.out)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Settings().home / "plans" / f"{kind}-{area_key}-{stamp}"


def _finish(args: argparse.Namespace, plan: Plan, files: PlanFiles, plan_id: int | None) -> int:
    out = {
        "plan_id": plan_id,
        "kind": plan.kind,
        "area": plan.area,
        "status": plan.status,
        "budget_krw": plan.budget_krw,
        "cost_krw": plan.cost_krw,
        "objective": plan.objective,
        "mip_gap": plan.mip_gap,
        "files": {k: str(getattr(files, k)) for k in ("geojson", "csv", "html", "summary")},
        "summary": dict(plan.summary),
    }
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return 0
    s = plan.summary
    lines = [
        f"{plan.kind} plan for {plan.area_name} ({plan.area}): {plan.status}, gap {plan.mip_gap or 0:.3%}",
        f"  budget {plan.budget_krw:,.0f} KRW, cost {plan.cost_krw:,.0f} KRW",
        f"  cameras {s.get('cameras')} {json.dumps(s.get('cameras_by_type', {}), ensure_ascii=False)}",
    ]
    if plan.kind == "sites":
        mix, guro = s.get("mix", {}), s.get("guro_2024", {})
        ex = s.get("existing", {})
        lines += [
            f"  proven optimal: {'yes' if s.get('proven_optimal') else 'NO'} (bound "
            f"{float(s.get('bound', 0)):,.1f}, incumbent {float(s.get('incumbent', 0)):,.1f})",
            f"  sites {s.get('sites')} {json.dumps(s.get('sites_by_kind', {}))}; covered priority "
            f"{float(s.get('covered_priority', 0)):,.1f} of {float(s.get('total_priority', 0)):,.1f} "
            f"({float(s.get('covered_share', 0)):.1%}); lights added {s.get('lights_added', 0)}",
            f"  mix: {mix.get('ptz', 0)} PTZ + {mix.get('fixed', 0)} fixed at {mix.get('sites', 0)} poles "
            f"({mix.get('cameras_per_site', 0)} per pole); Guro 2024: {guro.get('ptz')} PTZ + "
            f"{guro.get('fixed')} fixed at {guro.get('sites')} sites",
            f"  existing in the area: {ex.get('cameras_in_area', 0):,} cameras in "
            f"{ex.get('rows_in_area', 0):,} registry rows at {ex.get('sites_in_area', 0):,} sites "
            f"(of {ex.get('rows_total', 0):,} rows read from the {ex.get('source', '?')})",
        ]
    else:
        lines.append(
            f"  due {s.get('cameras_due')} cameras in {s.get('records_due')} records; chosen "
            f"{s.get('records_chosen')} records {json.dumps(s.get('cameras_by_reason', {}))}"
        )
    lines.append(f"  saved as plan {plan_id}" if plan_id is not None else "  not saved (--no-save)")
    lines += [f"  {k}: {getattr(files, k)}" for k in ("geojson", "csv", "html", "summary")]
    print("\n".join(lines))
    return 0


def _save(args: argparse.Namespace, engine: Engine | None, plan: Plan) -> int | None:
    if args.no_save or engine is None:
        return None
    from safecity.plan.store_io import save_plan

    return save_plan(engine, plan)


def _existing(engine: Engine | None, area: str) -> tuple[list[CameraRecord] | None, str]:
    """The store's registry for the area if it has one, else None (= the bundled CSV) and a label."""
    if engine is not None:
        stored = _store_cameras(engine, area)
        if stored:
            return stored, f"store ({len(stored):,} registry rows for the area)"
    return None, BUNDLED + " (the store has no cameras for this area)"


def _past_events(
    args: argparse.Namespace, engine: Engine | None, say: Callable[[str], None]
) -> list[PastEvent] | None:
    if args.events == "none":
        return None
    if engine is None:
        if args.events == "store":
            raise PlanningError("--events store needs the store; drop --no-save or pass --database-url")
        return None
    from safecity.plan.history import load_events

    past = load_events(engine)
    if not past:
        if args.events == "store":
            raise PlanningError(
                "--events store: the store has no events with a camera position "
                f"({engine.url.render_as_string(hide_password=True)}); run the monitoring first or use "
                "--events none"
            )
        say("event_history layer: no events in the store, the layer is zero")
        return None
    say(f"event_history layer: {len(past):,} events from the store")
    return past


def _check_counts(values: Sequence[tuple[str, int | None]]) -> None:
    for name, v in values:
        if v is not None and v < 0:
            raise InputError(f"{name} must be >= 0, got {v}")


def _sites(args: argparse.Namespace) -> int:
    engines: list[Engine] = []
    try:
        return _sites_with(args, engines)
    finally:
        for e in engines:
            e.dispose()  # close pooled connections (PostgreSQL) before returning to the caller


def _replace(args: argparse.Namespace) -> int:
    engines: list[Engine] = []
    try:
        return _replace_with(args, engines)
    finally:
        for e in engines:
            e.dispose()


def _sites_with(args: argparse.Namespace, engines: list[Engine]) -> int:
    from safecity.plan.config import load_plan_config
    from safecity.plan.report import write_outputs
    from safecity.plan.sites import plan_sites

    _check_counts([("--max-sites", args.max_sites), ("--min-per-dong", args.min_per_dong)])
    if args.max_sites == 0:
        raise PlanningError("--max-sites 0 allows no site; give at least 1")
    say = _progress(args)
    cfg = load_plan_config(args.config)
    engine = None if args.no_save and args.database_url is None else _engine(args)
    engines += [] if engine is None else [engine]
    cams, source = _existing(engine, args.area)
    say(f"existing cameras from the {source}")
    past = _past_events(args, engine, say)
    cfg_limit = args.time_limit_s if args.time_limit_s is not None else cfg.time_limit_s
    plan, layers = plan_sites(
        area=args.area,
        budget_krw=args.budget_krw,
        cfg=cfg,
        cameras=cams,
        camera_source=source,
        requests_path=args.requests,
        max_sites=args.max_sites,
        min_per_dong=args.min_per_dong,
        time_limit_s=args.time_limit_s,
        past_events=past,
        progress=say,
        solver_progress=_bar(args, cfg_limit),
        use_cache=not args.no_cache,
    )
    plan_id = _save(args, engine, plan)
    files = write_outputs(plan, layers, _out_dir(args, "sites", plan.area))
    rc = _finish(args, plan, files, plan_id)
    if not plan.summary.get("proven_optimal", False):
        gap = float(plan.summary.get("gap", float("inf")))
        print(
            "safecity plan: WARNING: THIS PLAN IS NOT PROVEN OPTIMAL: gap "
            + ("unknown" if gap == float("inf") else f"{gap:.3%}")
            + f" > {cfg.mip_rel_gap:.3%} within {cfg_limit:g} s. "
            + (
                f"It was saved (plan {plan_id}) with proven_optimal=false. "
                if plan_id is not None
                else "Its files say proven_optimal=false (not saved: --no-save). "
            )
            + "Raise --time-limit-s, plan a smaller area, or accept the gap.",
            file=sys.stderr,
            flush=True,
        )
        if args.require_optimal:
            return EXIT_NOT_PROVEN
    return rc


def _replace_with(args: argparse.Namespace, engines: list[Engine]) -> int:
    from safecity.plan.areas import load_area
    from safecity.plan.config import load_plan_config
    from safecity.plan.replace import plan_replace
    from safecity.plan.report import write_outputs

    say = _progress(args)
    cfg = load_plan_config(args.config)
    rep: dict[str, float] = {}
    if args.service_life_years is not None:
        rep["service_life_years"] = args.service_life_years
    if args.min_megapixels is not None:
        rep["min_megapixels"] = args.min_megapixels
    if rep:
        cfg = cfg.model_copy(update={"replacement": cfg.replacement.model_copy(update=rep)})
    load_area(args.area)
    engine = None if args.no_save and args.database_url is None else _engine(args)
    engines += [] if engine is None else [engine]
    stored, source = _existing(engine, args.area)
    if stored is None:
        from safecity.plan.data import bundled_cameras

        cams = bundled_cameras()
    else:
        cams = stored
    say(f"existing cameras from the {source}")
    plan, layers = plan_replace(
        area=args.area,
        budget_krw=args.budget_krw,
        cfg=cfg,
        cameras=cams,
        camera_source=source,
        today=args.as_of,
        time_limit_s=args.time_limit_s,
        progress=say,
    )
    plan_id = _save(args, engine, plan)
    files = write_outputs(plan, layers, _out_dir(args, "replace", plan.area))
    return _finish(args, plan, files, plan_id)
