"""Registry store I/O: import a standard-data CSV, load cameras, compute statistics.

An import is all-or-nothing per file: sites, cameras, the ``import_runs`` row and its ``import_issues``
go in one transaction. Cameras are matched on ``camera_key`` (see ``stdcsv``), so importing the same
file again changes no camera or site (the report says 0 new, N unchanged); a newer file updates
the cameras whose data changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from safecity.errors import InputError, StoreError
from safecity.registry.fields import normalize_district
from safecity.registry.model import CameraRecord
from safecity.registry.stdcsv import (
    MIN_GOOD_SHARE,
    ImportIssue,
    ParsedCsv,
    ParsedRow,
    decode_bytes,
    mostly_bad,
    parse_rows,
)
from safecity.store.schema import cameras, import_issues, import_runs, sites

__all__ = [
    "AGE_BINS",
    "DistrictStats",
    "ImportReport",
    "RegistryStats",
    "SERVICE_LIFE_YEARS",
    "count_cameras",
    "import_file",
    "import_parsed",
    "load_cameras",
    "stats",
]

SERVICE_LIFE_YEARS = 7  # Seoul's working figure for CCTV 내용연수 (planning-domain.md §c)
#: age bins in years: label -> [low, high)
AGE_BINS: dict[str, tuple[float, float]] = {
    "<3": (0.0, 3.0),
    "3-5": (3.0, 5.0),
    "5-7": (5.0, 7.0),
    "7-10": (7.0, 10.0),
    ">=10": (10.0, float("inf")),
}
_CHUNK = 500
# columns whose change makes a camera "updated"; provenance (source, source_row) is refreshed silently
_DATA_COLUMNS = (
    "site_id",
    "name",
    "district",
    "agency",
    "purpose",
    "count",
    "megapixels",
    "ptz",
    "view_text",
    "installed_ym",
    "retention_days",
    "lat",
    "lon",
)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did (or, with ``strict`` and bad rows, refused to do)."""

    file: str
    sha256: str
    rows_total: int
    rows_ok: int
    rows_bad: int
    cameras_new: int
    cameras_updated: int
    cameras_unchanged: int
    cameras_in_file: int  # sum of camera counts of the good rows
    sites_in_file: int
    sites_new: int
    cameras_absent: int  # in the store for the same agencies but not in this file (kept)
    issues: list[ImportIssue]
    warnings: list[str] = field(default_factory=list)
    run_id: int | None = None
    encoding: str = "utf-8"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (issues as ``{row, line, reason}``)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class DistrictStats:
    """Registry statistics of one district (or of all, ``district == "(all)"``)."""

    district: str
    records: int
    cameras: int
    sites: int
    purposes: dict[str, int]  # cameras per purpose
    ptz_cameras: int
    view_unknown: int  # cameras whose view text is empty (counted as fixed; their type is unknown)
    age_bins: dict[str, int]  # cameras per age bin (AGE_BINS keys and "unknown")
    megapixels_known: int  # cameras with a known resolution
    under_2mp: int  # cameras under 2 MP
    past_service_life: int  # cameras at least SERVICE_LIFE_YEARS old

    @property
    def ptz_share(self) -> float:
        return self.ptz_cameras / self.cameras if self.cameras else 0.0

    @property
    def under_2mp_share(self) -> float:
        """Share of the cameras with a known resolution that are under 2 MP."""
        return self.under_2mp / self.megapixels_known if self.megapixels_known else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ptz_share"] = round(self.ptz_share, 4)
        out["under_2mp_share"] = round(self.under_2mp_share, 4)
        return out


@dataclass(frozen=True, slots=True)
class RegistryStats:
    """Per-district statistics at ``as_of`` (YYYY-MM), plus the total over the districts shown."""

    as_of: str
    districts: list[DistrictStats]
    total: DistrictStats

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "service_life_years": SERVICE_LIFE_YEARS,
            "districts": [d.to_dict() for d in self.districts],
            "total": self.total.to_dict(),
        }


# ---------------------------------------------------------------- import
def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _site_xy(site_key: str) -> tuple[float, float]:
    _, x, y = site_key.split(":")
    return float(x), float(y)


def _camera_values(r: ParsedRow, site_id: int | None, source: str) -> dict[str, Any]:
    rec = r.record
    return {
        "camera_key": rec.camera_key,
        "site_id": site_id,
        "name": rec.name,
        "district": rec.district,
        "agency": r.agency,
        "purpose": rec.purpose,
        "count": rec.count,
        "megapixels": rec.megapixels,
        "ptz": rec.ptz,
        "view_text": r.view_text,
        "installed_ym": rec.installed_ym,
        "retention_days": rec.retention_days,
        "lat": rec.lat,
        "lon": rec.lon,
        "source": source,
        "source_row": r.row,
    }


def import_file(
    engine: Engine,
    path: str | Path,
    *,
    strict: bool = False,
    today: dt.date | None = None,
    min_good_share: float = MIN_GOOD_SHARE,
) -> ImportReport:
    """Import a 전국CCTV표준데이터 CSV into the store (all-or-nothing).

    Args:
        engine: a migrated store engine (``safecity.store.db.connect``).
        path: the CSV file.
        strict: refuse the whole file (store untouched) if any row is bad.
        today: reference date for "future" install dates (default: today).
        min_good_share: refuse the whole file if fewer of its rows are usable (0 = never).

    Returns:
        The report; bad rows are in ``issues`` and recorded in ``import_issues``.

    Raises:
        InputError: unreadable file or missing columns; (almost) no usable row, naming the likely
            cause; with ``strict``, any bad row.
        StoreError: the database failed (nothing was written).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read CCTV data file {p}: {exc.strerror}; check the path") from exc
    text, encoding = decode_bytes(data, str(p))
    parsed = replace(parse_rows(text, what=str(p), today=today), encoding=encoding)
    sha = hashlib.sha256(data).hexdigest()
    return import_parsed(
        engine, parsed, file=str(p), sha256=sha, strict=strict, min_good_share=min_good_share
    )


def import_parsed(
    engine: Engine,
    parsed: ParsedCsv,
    *,
    file: str,
    sha256: str,
    strict: bool = False,
    min_good_share: float = MIN_GOOD_SHARE,
) -> ImportReport:
    """Write an already parsed file (see :func:`import_file`)."""
    refused = mostly_bad(parsed, file, min_good_share)
    if refused is not None:
        raise InputError(
            f"{refused}; nothing imported (pass --accept-mostly-bad to import the usable rows anyway)"
        )
    if strict and parsed.issues:
        first = "; ".join(i.message() for i in parsed.issues[:5])
        raise InputError(
            f"{file}: {len(parsed.issues)} of {parsed.rows_total} rows are bad, nothing imported (--strict): "
            f"{first}{' ...' if len(parsed.issues) > 5 else ''}; fix them or import without --strict"
        )
    source = Path(file).name
    try:
        with engine.begin() as conn:
            # sites: first row of each site gives its position and address
            first_of_site: dict[str, ParsedRow] = {}
            for r in parsed.rows:
                if r.record.site_key is not None:
                    first_of_site.setdefault(r.record.site_key, r)
            site_ids: dict[str, int] = {}
            keys = list(first_of_site)
            for chunk in _chunks(keys):
                for sk, sid in conn.execute(
                    select(sites.c.site_key, sites.c.id).where(sites.c.site_key.in_(chunk))
                ):
                    site_ids[sk] = sid
            new_sites = [k for k in keys if k not in site_ids]
            if new_sites:
                conn.execute(
                    insert(sites),
                    [
                        {
                            "site_key": k,
                            "district": first_of_site[k].record.district or "",
                            "lat": first_of_site[k].record.lat,
                            "lon": first_of_site[k].record.lon,
                            "x_m": _site_xy(k)[0],
                            "y_m": _site_xy(k)[1],
                            "address": first_of_site[k].record.address,
                        }
                        for k in new_sites
                    ],
                )
                for chunk in _chunks(new_sites):
                    for sk, sid in conn.execute(
                        select(sites.c.site_key, sites.c.id).where(sites.c.site_key.in_(chunk))
                    ):
                        site_ids[sk] = sid
            # cameras
            rows = [_camera_values(r, site_ids.get(r.record.site_key or ""), source) for r in parsed.rows]
            ckeys = [v["camera_key"] for v in rows]
            existing: dict[str, dict[str, Any]] = {}
            for chunk in _chunks(ckeys):
                for m in conn.execute(select(cameras).where(cameras.c.camera_key.in_(chunk))).mappings():
                    existing[m["camera_key"]] = dict(m)
            new = [v for v in rows if v["camera_key"] not in existing]
            changed: list[dict[str, Any]] = []
            moved: list[dict[str, Any]] = []
            for v in rows:
                old = existing.get(v["camera_key"])
                if old is None:
                    continue
                if any(old[c] != v[c] for c in _DATA_COLUMNS):
                    changed.append(v)
                elif old["source"] != v["source"] or old["source_row"] != v["source_row"]:
                    moved.append(v)
            if new:
                conn.execute(insert(cameras), new)
            if changed or moved:
                cols = (*_DATA_COLUMNS, "source", "source_row")
                stmt = (
                    update(cameras)
                    .where(cameras.c.camera_key == bindparam("k"))
                    .values({c: bindparam(f"v_{c}") for c in cols})
                )
                conn.execute(
                    stmt, [{"k": v["camera_key"], **{f"v_{c}": v[c] for c in cols}} for v in changed + moved]
                )
            agencies = sorted({r.agency for r in parsed.rows})
            in_file = set(ckeys)
            absent = 0
            for chunk in _chunks(agencies):
                for (k,) in conn.execute(
                    select(cameras.c.camera_key).where(
                        cameras.c.agency.in_(chunk), cameras.c.camera_key.like("std-%")
                    )
                ):
                    absent += k not in in_file
            run_id = conn.execute(
                insert(import_runs).returning(import_runs.c.id),
                {
                    "file": file,
                    "sha256": sha256,
                    "started_at": dt.datetime.now(dt.UTC),
                    "rows_total": parsed.rows_total,
                    "rows_ok": len(parsed.rows),
                    "rows_bad": len(parsed.issues),
                    "cameras_new": len(new),
                    "cameras_updated": len(changed),
                },
            ).scalar_one()
            if parsed.issues:
                conn.execute(
                    insert(import_issues),
                    [
                        {"run_id": run_id, "row": i.row, "reason": f"{i.reason} (line {i.line} of the file)"}
                        for i in parsed.issues
                    ],
                )
    except SQLAlchemyError as exc:
        raise StoreError(
            f"importing {file} into {engine.url.render_as_string(hide_password=True)} failed, nothing was "
            f"written: {exc.__class__.__name__}: {getattr(exc, 'orig', exc)}; run `safecity db upgrade` "
            "and check the database"
        ) from exc
    return ImportReport(
        file=file,
        sha256=sha256,
        rows_total=parsed.rows_total,
        rows_ok=len(parsed.rows),
        rows_bad=len(parsed.issues),
        cameras_new=len(new),
        cameras_updated=len(changed),
        cameras_unchanged=len(rows) - len(new) - len(changed),
        cameras_in_file=sum(r.record.count for r in parsed.rows),
        sites_in_file=len(keys),
        sites_new=len(new_sites),
        cameras_absent=absent,
        issues=list(parsed.issues),
        warnings=list(parsed.warnings),
        run_id=int(run_id),
        encoding=parsed.encoding,
    )


# ---------------------------------------------------------------- reading
def _camera_rows(engine: Engine, district: str | None) -> list[dict[str, Any]]:
    q = select(cameras, sites.c.site_key, sites.c.address.label("site_address")).select_from(
        cameras.outerjoin(sites, cameras.c.site_id == sites.c.id)
    )
    if district is not None:
        q = q.where(cameras.c.district == normalize_district(district))
    try:
        with engine.connect() as conn:
            return [dict(m) for m in conn.execute(q.order_by(cameras.c.id)).mappings()]
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot read cameras from {engine.url.render_as_string(hide_password=True)}: "
            f"{getattr(exc, 'orig', exc)}; run `safecity db upgrade`"
        ) from exc


def load_cameras(engine: Engine, district: str | None = None) -> list[CameraRecord]:
    """Cameras in the store, in import order; ``district`` accepts ``구로구``, ``guro`` or ``Guro-gu``."""
    return [
        CameraRecord(
            camera_key=m["camera_key"],
            site_key=m["site_key"],
            district=m["district"],
            purpose=m["purpose"],
            count=int(m["count"]),
            megapixels=m["megapixels"],
            ptz=bool(m["ptz"]),
            installed_ym=m["installed_ym"],
            retention_days=m["retention_days"],
            lat=m["lat"],
            lon=m["lon"],
            name=m["name"],
            address=m["site_address"],
        )
        for m in _camera_rows(engine, district)
    ]


# ---------------------------------------------------------------- statistics
def _months(ym: str) -> int:
    y, m = ym.split("-")
    return int(y) * 12 + int(m) - 1


def _age_bin(installed_ym: str | None, as_of_months: int) -> str:
    if installed_ym is None:
        return "unknown"
    age_y = (as_of_months - _months(installed_ym)) / 12
    for label, (lo, hi) in AGE_BINS.items():
        if lo <= age_y < hi:
            return label
    return "<3"  # installed after as_of: counted as new


def _district_stats(name: str, rows: Iterable[dict[str, Any]], as_of_months: int) -> DistrictStats:
    records = cams = ptz = view_unknown = mp_known = under = past = 0
    site_set: set[int] = set()
    purposes: dict[str, int] = {}
    bins = dict.fromkeys((*AGE_BINS, "unknown"), 0)
    for m in rows:
        n = int(m["count"])
        records += 1
        cams += n
        if m["site_id"] is not None:
            site_set.add(m["site_id"])
        p = m["purpose"] or "(none)"
        purposes[p] = purposes.get(p, 0) + n
        ptz += n if m["ptz"] else 0
        view_unknown += 0 if (m["view_text"] or "").strip() else n
        if m["megapixels"] is not None:
            mp_known += n
            under += n if m["megapixels"] < 2.0 else 0
        b = _age_bin(m["installed_ym"], as_of_months)
        bins[b] += n
        if (
            m["installed_ym"] is not None
            and as_of_months - _months(m["installed_ym"]) >= 12 * SERVICE_LIFE_YEARS
        ):
            past += n
    return DistrictStats(
        district=name,
        records=records,
        cameras=cams,
        sites=len(site_set),
        purposes=dict(sorted(purposes.items(), key=lambda kv: (-kv[1], kv[0]))),
        ptz_cameras=ptz,
        view_unknown=view_unknown,
        age_bins=bins,
        megapixels_known=mp_known,
        under_2mp=under,
        past_service_life=past,
    )


def stats(engine: Engine, district: str | None = None, *, as_of: str | None = None) -> RegistryStats:
    """Per-district registry statistics (cameras are weighted by their record's count).

    Args:
        engine: the store.
        district: only this district (``구로구`` / ``guro``).
        as_of: ``YYYY-MM`` at which ages are measured (default: this month).

    Raises:
        InputError: ``as_of`` is not YYYY-MM.
    """
    if as_of is None:
        today = dt.date.today()
        as_of = f"{today.year:04d}-{today.month:02d}"
    try:
        as_of_months = _months(as_of)
        if not (len(as_of) == 7 and 1 <= int(as_of[5:]) <= 12):
            raise ValueError(as_of)
    except ValueError:
        raise InputError(f"--as-of {as_of!r} is not a year-month; expected YYYY-MM, e.g. 2018-06") from None
    rows = _camera_rows(engine, district)
    by_district: dict[str, list[dict[str, Any]]] = {}
    for m in rows:
        by_district.setdefault(m["district"] or "(unknown)", []).append(m)
    per = [_district_stats(d, by_district[d], as_of_months) for d in sorted(by_district)]
    return RegistryStats(as_of=as_of, districts=per, total=_district_stats("(all)", rows, as_of_months))


def count_cameras(engine: Engine) -> int:
    """Number of camera records in the store (used by tests and the CLI)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(cameras)).scalar_one())
