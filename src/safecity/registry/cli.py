"""``safecity registry import|check|stats|list``: the camera registry from the command line.

Handlers import the store lazily, so ``safecity --help`` stays fast.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safecity.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from safecity.registry.repo import DistrictStats, ImportReport, RegistryStats
    from safecity.registry.stdcsv import ImportIssue, ParsedCsv

__all__ = [
    "format_stats",
    "register",
]

_SHOWN_ISSUES = 20


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``registry`` command group to the ``safecity`` parser."""
    p = sub.add_parser(
        "registry",
        help="camera registry: import the national CCTV standard data, statistics",
        description="Camera registry: cameras and sites imported from 전국CCTV표준데이터 CSV files.",
    )
    rsub = p.add_subparsers(dest="registry_command", metavar="ACTION", required=True)

    def db_arg(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--database-url", help="SQLAlchemy URL (default: SAFECITY_DATABASE_URL or var/safecity.db)"
        )

    imp = rsub.add_parser(
        "import",
        help="import a 전국CCTV표준데이터 CSV (UTF-8 or CP949) into the store",
        description="Import a national CCTV standard data CSV. All good rows go in one transaction; "
        "bad rows are reported with their row number and reason. Importing the same file again changes "
        "nothing.",
    )
    imp.add_argument("file", type=Path, help="CSV file (official Korean headers or man,add,rd,... names)")
    imp.add_argument("--strict", action="store_true", help="import nothing if any row is bad (exit 1)")
    imp.add_argument(
        "--accept-mostly-bad",
        action="store_true",
        help="import the usable rows even if fewer than 10%% of the rows are usable (by default such a "
        "file is refused with exit 1: it is most likely mis-encoded or another format)",
    )
    imp.add_argument("--json", action="store_true", help="print the full report (all issues) as JSON")
    imp.add_argument("--issues-csv", type=Path, metavar="PATH", help="write every bad row to this CSV")
    db_arg(imp)
    imp.set_defaults(func=_import)

    chk = rsub.add_parser(
        "check",
        help="parse a CSV without touching the store (dry run)",
        description="Parse a standard-data CSV and report bad rows, without a database.",
    )
    chk.add_argument("file", type=Path)
    chk.add_argument("--views", action="store_true", help="also list the view texts and PTZ/fixed class")
    chk.add_argument("--json", action="store_true", help="machine-readable output")
    chk.add_argument("--issues-csv", type=Path, metavar="PATH", help="write every bad row to this CSV")
    chk.set_defaults(func=_check)

    st = rsub.add_parser(
        "stats",
        help="cameras, sites, purposes, ages and resolution per district",
        description="Per-district statistics: records, cameras, sites, cameras per purpose, PTZ share, "
        "age distribution, share under 2 MP and cameras past the 7-year service life.",
    )
    st.add_argument("--district", help="only this district (구로구 or guro)")
    st.add_argument("--as-of", metavar="YYYY-MM", help="measure ages at this month (default: now)")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    db_arg(st)
    st.set_defaults(func=_stats)

    ls = rsub.add_parser("list", help="list camera records", description="List camera records in the store.")
    ls.add_argument("--district", help="only this district (구로구 or guro)")
    ls.add_argument("--limit", type=int, default=50, help="at most this many records (0 = all; default 50)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    db_arg(ls)
    ls.set_defaults(func=_list)


# ---------------------------------------------------------------- helpers
def _engine(args: argparse.Namespace) -> Engine:
    from safecity.store.db import connect

    return connect(str(args.database_url or Settings().db_url))


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _pad(s: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - _width(s))
    return fill + s if right else s + fill


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    widths = [max(_width(x) for x in col) for col in zip(header, *rows, strict=True)]
    lines = []
    for r in (header, *rows):
        lines.append(
            "  ".join(_pad(c, w, right=i >= left) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        )
    return "\n".join(line.rstrip() for line in lines)


def _write_issues_csv(path: Path, issues: Sequence[ImportIssue]) -> None:
    from safecity.errors import InputError

    try:
        with path.open("w", encoding="utf-8-sig", newline="") as f:  # BOM: Excel shows Korean correctly
            w = csv.writer(f)
            w.writerow(["row", "line", "reason"])
            w.writerows([i.row, i.line, i.reason] for i in issues)
    except OSError as exc:
        raise InputError(f"cannot write the issues CSV {path}: {exc.strerror}; check the folder") from exc


def _print_issues(issues: Sequence[ImportIssue], out: Any) -> None:
    if not issues:
        return
    shown = issues[:_SHOWN_ISSUES]
    more = f" (first {len(shown)}; all with --json or --issues-csv)" if len(issues) > len(shown) else ""
    print(f"bad rows: {len(issues)}{more}; rows are data rows counted from 1 below the header", file=out)
    for i in shown:
        print(f"  {i.message()}", file=out)


def _reasons(issues: Sequence[ImportIssue]) -> dict[str, int]:
    """Bad rows per kind of reason, most common first."""
    return dict(Counter(i.kind for i in issues).most_common())


# ---------------------------------------------------------------- handlers
def _import(args: argparse.Namespace) -> int:
    from safecity.registry.repo import import_file
    from safecity.registry.stdcsv import MIN_GOOD_SHARE

    print(f"importing {args.file} ...", file=sys.stderr)
    engine = _engine(args)
    share = 0.0 if args.accept_mostly_bad else MIN_GOOD_SHARE
    report = import_file(engine, args.file, strict=args.strict, min_good_share=share)
    if args.issues_csv:
        _write_issues_csv(args.issues_csv, report.issues)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
        return 0
    _print_import(report, engine.url.render_as_string(hide_password=True))
    return 0


def _print_import(r: ImportReport, url: str) -> None:
    print(f"imported {r.file} ({r.encoding}) into {url} (import run {r.run_id})")
    print(f"rows: {r.rows_total} total, {r.rows_ok} ok, {r.rows_bad} bad")
    print(
        f"camera records: {r.cameras_new} new, {r.cameras_updated} updated, {r.cameras_unchanged} unchanged "
        f"({r.cameras_in_file} cameras); sites: {r.sites_in_file} ({r.sites_new} new)"
    )
    if r.cameras_absent:
        print(
            f"note: {r.cameras_absent} records of the same agencies are in the store but not in this "
            "file (kept)"
        )
    if r.rows_bad:
        print("bad rows by reason: " + ", ".join(f"{k} {v}" for k, v in _reasons(r.issues).items()))
    _print_issues(r.issues, sys.stdout)
    for w in r.warnings:
        print(f"warning: {w}")


def _check(args: argparse.Namespace) -> int:
    from safecity.registry.stdcsv import mostly_bad, read_standard_csv

    parsed = read_standard_csv(args.file)
    refused = mostly_bad(parsed, str(args.file))
    if args.issues_csv:
        _write_issues_csv(args.issues_csv, parsed.issues)
    views = _views(parsed) if args.views else []
    if args.json:
        out: dict[str, Any] = {
            "file": str(args.file),
            "encoding": parsed.encoding,
            "rows_total": parsed.rows_total,
            "rows_ok": len(parsed.rows),
            "rows_bad": len(parsed.issues),
            "cameras": sum(r.record.count for r in parsed.rows),
            "sites": len({r.record.site_key for r in parsed.rows}),
            "bad_by_reason": _reasons(parsed.issues),
            "issues": [{"row": i.row, "line": i.line, "reason": i.reason} for i in parsed.issues],
            "warnings": parsed.warnings,
            "unusable": refused,
        }
        if args.views:
            out["views"] = [{"view": v, "rows": n, "ptz": p} for v, n, p in views]
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 1 if refused else 0
    print(
        f"{args.file} ({parsed.encoding}): {parsed.rows_total} rows, {len(parsed.rows)} ok, "
        f"{len(parsed.issues)} bad"
    )
    print(
        f"{sum(r.record.count for r in parsed.rows)} cameras in {len(parsed.rows)} records at "
        f"{len({r.record.site_key for r in parsed.rows})} sites"
    )
    if parsed.issues:
        print("bad rows by reason: " + ", ".join(f"{k} {v}" for k, v in _reasons(parsed.issues).items()))
    _print_issues(parsed.issues, sys.stdout)
    for w in parsed.warnings:
        print(f"warning: {w}")
    if args.views:
        print(
            _table(
                ["view text", "rows", "class"],
                [[v or "(empty)", str(n), "PTZ" if p else "fixed"] for v, n, p in views],
            )
        )
    if refused:
        print(f"error: {refused}", file=sys.stderr)
        return 1
    return 0


def _views(parsed: ParsedCsv) -> list[tuple[str, int, bool]]:
    counts = Counter(r.view_text for r in parsed.rows)
    ptz = {r.view_text: r.record.ptz for r in parsed.rows}
    return [(v, n, ptz[v]) for v, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def format_stats(s: RegistryStats) -> str:
    """The stats as readable tables (one row per district, then purposes per district)."""
    bins = ["<3", "3-5", "5-7", "7-10", ">=10", "unknown"]

    def row(d: DistrictStats) -> list[str]:
        return [
            d.district,
            str(d.records),
            str(d.cameras),
            str(d.sites),
            f"{100 * d.ptz_share:.1f}%",
            f"{100 * d.under_2mp_share:.1f}%",
            str(d.past_service_life),
            *(str(d.age_bins[b]) for b in bins),
        ]

    header = [
        "district",
        "records",
        "cameras",
        "sites",
        "PTZ",
        "<2MP",
        "past 7y",
        *(f"age {b}" for b in bins),
    ]
    rows = [row(d) for d in s.districts]
    if len(s.districts) > 1:
        rows.append(row(s.total))
    lines = [
        f"camera registry as of {s.as_of} (ages in years; 'past 7y' = installed at least 7 years before; "
        "'<2MP' = share of cameras with a known resolution)",
        _table(header, rows),
        "",
        "cameras per purpose:",
    ]
    for d in s.districts:
        lines.append(f"  {d.district}: " + ", ".join(f"{p} {n}" for p, n in d.purposes.items()))
    unknown_mp = [
        f"{d.district} {d.cameras - d.megapixels_known}"
        for d in s.districts
        if d.megapixels_known < d.cameras
    ]
    if unknown_mp:
        lines.append("cameras with unknown resolution: " + ", ".join(unknown_mp))
    no_view = [f"{d.district} {d.view_unknown}" for d in s.districts if d.view_unknown]
    if no_view:
        lines.append("cameras without view text (counted as fixed, type unknown): " + ", ".join(no_view))
    return "\n".join(lines)


def _stats(args: argparse.Namespace) -> int:
    from safecity.registry.repo import stats

    s = stats(_engine(args), args.district, as_of=args.as_of)
    if args.json:
        print(json.dumps(s.to_dict(), ensure_ascii=False, indent=1))
        return 0
    if not s.districts:
        where = f" for district {args.district}" if args.district else ""
        print(f"no cameras in the store{where}; import some with `safecity registry import FILE`")
        return 0
    print(format_stats(s))
    return 0


def _list(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from safecity.registry.repo import load_cameras

    cams = load_cameras(_engine(args), args.district)
    total = len(cams)
    if args.limit > 0:
        cams = cams[: args.limit]
    if args.json:
        print(json.dumps([asdict(c) for c in cams], ensure_ascii=False, indent=1))
        return 0
    rows = [
        [
            c.camera_key,
            c.district or "",
            c.purpose or "",
            str(c.count),
            "" if c.megapixels is None else f"{c.megapixels:g}",
            "PTZ" if c.ptz else "fixed",
            c.installed_ym or "?",
            f"{c.lat:.6f},{c.lon:.6f}" if c.lat is not None and c.lon is not None else "",
        ]
        for c in cams
    ]
    print(
        _table(
            ["camera_key", "district", "purpose", "count", "MP", "type", "installed", "lat,lon"], rows, left=3
        )
    )
    print(f"{len(cams)} of {total} records", file=sys.stderr)
    return 0
