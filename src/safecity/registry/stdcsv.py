"""Reader of the national CCTV standard data (전국CCTV표준데이터) CSV: pure parsing, no database.

Accepts the official Korean headers and the short English names of the Seoul 2018 files
(``man, add, rd, object, num, fixel, see, store, install_day, phone, lat, lng, update``), in UTF-8
(with or without BOM) or CP949. Every data row either becomes a :class:`ParsedRow` or an
:class:`ImportIssue` with its row number and reason; nothing is dropped silently.

Rows are numbered 1-based over data rows (the header is not counted), as a spreadsheet user sees them
under the header; ``line`` is the physical line of the file where the row starts.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from safecity.errors import InputError
from safecity.registry.fields import (
    FieldError,
    check_latlon,
    district_from_address,
    district_from_agency,
    is_ptz,
    parse_count,
    parse_data_date,
    parse_install_ym,
    parse_megapixels,
    parse_retention_days,
)
from safecity.registry.model import CameraRecord

__all__ = [
    "COLUMNS",
    "ImportIssue",
    "MIN_GOOD_SHARE",
    "ParsedCsv",
    "ParsedRow",
    "REQUIRED",
    "decode_bytes",
    "mostly_bad",
    "parse_rows",
    "read_standard_csv",
    "site_keys",
]

#: canonical field -> accepted header names (official Korean first, then the Seoul files' short names)
COLUMNS: dict[str, tuple[str, ...]] = {
    "agency": ("관리기관명", "man"),
    "road_address": ("소재지도로명주소", "add"),
    "lot_address": ("소재지지번주소", "rd"),
    "purpose": ("설치목적구분", "object"),
    "count": ("카메라대수", "num"),
    "pixels": ("카메라화소수", "fixel"),
    "view": ("촬영방면정보", "see"),
    "retention": ("보관일수", "store"),
    "installed": ("설치연월", "install_day"),
    "phone": ("관리기관전화번호", "phone"),
    "lat": ("WGS84위도", "lat", "위도", "latitude"),
    "lon": ("WGS84경도", "lng", "경도", "lon", "longitude"),
    "data_date": ("데이터기준일자", "update"),
}
#: fields a file must have (the others are read when present)
REQUIRED = ("agency", "purpose", "count", "pixels", "view", "retention", "installed", "lat", "lon")

SITE_GRID_M = 1.0  # rows whose EPSG:5179 positions round to the same metre are one site


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """A bad row: 1-based data row number, the reason, the file line it starts on and a short kind."""

    row: int
    reason: str
    line: int = 0
    kind: str = "other"

    def message(self) -> str:
        """The issue as users see it.

        >>> ImportIssue(17, "no coordinates: latitude empty", 18).message()
        'row 17 (line 18 of the file): no coordinates: latitude empty'
        """
        where = f"row {self.row} (line {self.line} of the file)" if self.line else f"row {self.row}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """One good row: the record plus what the store keeps besides it."""

    record: CameraRecord
    row: int
    line: int
    agency: str
    view_text: str
    phone: str | None
    data_date: dt.date | None


@dataclass(frozen=True, slots=True)
class ParsedCsv:
    """Everything read from one file."""

    rows: list[ParsedRow]
    issues: list[ImportIssue]
    rows_total: int
    encoding: str = "utf-8"
    header: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)

    @property
    def records(self) -> list[CameraRecord]:
        """The good rows as :class:`CameraRecord` values, in file order."""
        return [r.record for r in self.rows]


#: below this share of usable rows a file is refused as a whole: it is most likely not what it
#: seems (mis-encoded, another format, shifted columns), not a file with a few bad rows
MIN_GOOD_SHARE = 0.1
_HINTS = {
    "unknown district": "the Korean text does not read right: the file is probably mis-encoded "
    "(save it as UTF-8 or CP949/EUC-KR) or its columns are shifted",
    "wrong field count": "the rows do not split into the header's columns: a different delimiter or "
    "broken quoting (expected comma-separated CSV)",
    "invalid CSV": "the rows do not split into the header's columns: a different delimiter or "
    "broken quoting (expected comma-separated CSV)",
    "no coordinates": "the file has no positions (WGS84위도/WGS84경도 empty)",
    "placeholder coordinates": "the agency gave no positions (placeholder coordinates)",
}


def mostly_bad(parsed: ParsedCsv, what: str, min_good_share: float = MIN_GOOD_SHARE) -> str | None:
    """A message naming the likely cause when fewer than ``min_good_share`` of the rows are usable
    (and at least one row is bad), else None.

    >>> mostly_bad(ParsedCsv([], [ImportIssue(1, "x", 2, "unknown district")], 1, "cp949"), "a.csv")[:40]
    'a.csv: only 0 of 1 rows are usable (read'
    """
    total, ok = parsed.rows_total, len(parsed.rows)
    if total == 0 or not parsed.issues or ok >= min_good_share * total:
        return None
    kinds = Counter(i.kind for i in parsed.issues).most_common(3)
    top = kinds[0][0]
    hint = _HINTS.get(
        top,
        f"the file may be mis-encoded (it was read as {parsed.encoding}) or not the national standard "
        "format (전국CCTV표준데이터)",
    )
    reasons = ", ".join(f"{k} {n}" for k, n in kinds)
    first = parsed.issues[0].message()
    return (
        f"{what}: only {ok} of {total} rows are usable (read as {parsed.encoding}); bad rows by reason: "
        f"{reasons}; e.g. {first}. Likely cause: {hint}. Check it with `safecity registry check`"
    )


# ---------------------------------------------------------------- decoding and header
def decode_bytes(data: bytes, what: str = "file") -> tuple[str, str]:
    """Text and encoding name of CSV bytes: UTF-8 (BOM stripped) or CP949.

    Raises:
        InputError: neither encoding fits.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp949"), "cp949"
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{what}: cannot decode as UTF-8 or CP949 (byte {exc.start}); save it as UTF-8 CSV and retry"
        ) from exc


def _column_map(header: Sequence[str], what: str) -> dict[str, int]:
    names = [h.strip().lstrip("\ufeff").strip('"') for h in header]
    index: dict[str, int] = {}
    lowered = [n.lower() for n in names]
    for key, aliases in COLUMNS.items():
        for alias in aliases:
            if alias.lower() in lowered:
                index[key] = lowered.index(alias.lower())
                break
    missing = [k for k in REQUIRED if k not in index]
    if missing:
        wanted = ", ".join(f"{COLUMNS[k][0]} ({COLUMNS[k][1]})" for k in missing)
        raise InputError(
            f"{what}: missing required column(s) {wanted}; found {', '.join(names) or '(no header)'}. "
            "Expected the header of 전국CCTV표준데이터 (관리기관명, 설치목적구분, 카메라대수, "
            "카메라화소수, 촬영방면정보, 보관일수, 설치연월, WGS84위도, WGS84경도, ...) or the short names "
            "man, object, num, fixel, see, store, install_day, lat, lng; rename the columns or export the "
            "file again"
        )
    return index


# ---------------------------------------------------------------- rows
@dataclass(frozen=True, slots=True)
class _Good:
    row: int
    line: int
    agency: str
    district: str
    address: str | None
    purpose: str | None
    count: int
    megapixels: float | None
    view: str
    installed_ym: str | None
    retention_days: int | None
    phone: str | None
    data_date: dt.date | None
    lat: float
    lon: float


def _parse_one(cells: dict[str, str], row: int, line: int, today: dt.date) -> _Good:
    agency = cells.get("agency", "").strip()
    road, lot = cells.get("road_address", "").strip(), cells.get("lot_address", "").strip()
    district = district_from_agency(agency) or district_from_address(road) or district_from_address(lot)
    if district is None:
        raise FieldError(
            f"cannot tell the district from agency {agency!r} or address {(road or lot)!r}; "
            "expected a 구/군 office (e.g. 서울특별시 구로구청) or an address with the 구/군",
            "unknown district",
        )
    seoul = any(s.startswith("서울") for s in (agency, road, lot))
    lat, lon = check_latlon(cells.get("lat", ""), cells.get("lon", ""), seoul=seoul)
    # "future" is judged against today: the 데이터기준일자 of real files is not reliable enough
    # (Seoul 2018 rows dated 2016-05-16 list cameras installed in 2017)
    return _Good(
        row=row,
        line=line,
        agency=agency,
        district=district,
        address=road or lot or None,
        purpose=cells.get("purpose", "").strip() or None,
        count=parse_count(cells.get("count", "")),
        megapixels=parse_megapixels(cells.get("pixels", "")),
        view=cells.get("view", "").strip(),
        installed_ym=parse_install_ym(cells.get("installed", ""), not_after=(today.year, today.month)),
        retention_days=parse_retention_days(cells.get("retention", "")),
        phone=cells.get("phone", "").strip() or None,
        data_date=parse_data_date(cells.get("data_date", "")),
        lat=lat,
        lon=lon,
    )


def site_keys(lats: Sequence[float], lons: Sequence[float]) -> list[str]:
    """Site keys ``"5179:<x>:<y>"`` from positions rounded to whole metres in EPSG:5179.

    Needs pyproj (installed with the ``plan`` extra).
    """
    if not lats:
        return []
    try:
        from safecity.geo import lonlat_to_xy

        xs, ys = lonlat_to_xy(list(lons), list(lats))
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise InputError(
            "grouping cameras into sites needs pyproj; install it with `pip install safecity[plan]`"
        ) from exc
    grid = SITE_GRID_M
    return [
        f"5179:{round(x / grid) * grid:.0f}:{round(y / grid) * grid:.0f}" for x, y in zip(xs, ys, strict=True)
    ]


def _camera_keys(goods: Sequence[_Good], sites: Sequence[str]) -> list[str]:
    """Stable keys: hash of the identity fields plus the occurrence index among identical identities."""
    seen: Counter[str] = Counter()
    keys: list[str] = []
    for g, site in zip(goods, sites, strict=True):
        identity = "\x1f".join(
            (
                g.agency,
                site,
                g.purpose or "",
                g.view,
                "" if g.megapixels is None else f"{g.megapixels:g}",
                g.installed_ym or "",
            )
        )
        n = seen[identity]
        seen[identity] += 1
        digest = hashlib.sha256(f"{identity}\x1e{n}".encode()).hexdigest()[:24]
        keys.append(f"std-{digest}")
    return keys


def _suspicious_dates(goods: Sequence[_Good]) -> list[str]:
    """Agencies whose install dates all sit in the data year's January (an Excel mangling seen in Seoul)."""
    out: list[str] = []
    by_agency: dict[str, list[_Good]] = {}
    for g in goods:
        by_agency.setdefault(g.agency, []).append(g)
    for agency, rows in by_agency.items():
        dated = [g for g in rows if g.installed_ym and g.data_date]
        if len(dated) >= 20 and all(
            g.installed_ym == f"{g.data_date.year - 1:04d}-01"  # type: ignore[union-attr]
            or g.installed_ym == f"{g.data_date.year:04d}-01"  # type: ignore[union-attr]
            for g in dated
        ):
            out.append(
                f"all {len(dated)} dated rows of {agency} are installed in January of the data year "
                f"({dated[0].installed_ym}); the file may carry Excel-mangled dates, check the source"
            )
    return out


def parse_rows(
    text: str,
    *,
    what: str = "file",
    today: dt.date | None = None,
    near: tuple[float, float, float, float] | None = None,
) -> ParsedCsv:
    """Parse CSV text of the standard format (see module docstring).

    Args:
        text: the decoded file.
        what: name used in messages (the path).
        today: date after which install dates are "in the future" (default: today).
        near: ``(min_lon, min_lat, max_lon, max_lat)``: rows whose coordinates read as numbers outside this
            box are passed over before parsing (a planner reading one district of a city-wide file). Keys
            are unchanged: a site key comes from the row's own position and a camera key counts identical
            identities, which share a site. Rows with unreadable coordinates are parsed (and reported).

    Raises:
        InputError: the header lacks required columns or the file is empty.
    """
    today = today or dt.date.today()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{what}: the file is empty; expected a CSV header and rows") from None
    except csv.Error as exc:
        raise InputError(f"{what}: cannot read the header line as CSV: {exc}") from exc
    index = _column_map(header, what)
    goods: list[_Good] = []
    issues: list[ImportIssue] = []
    row = 0
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row += 1
            issues.append(ImportIssue(row, f"not valid CSV: {exc}", line, "invalid CSV"))
            continue
        if not any(c.strip() for c in cells):
            continue  # blank line: no data, not a row
        row += 1
        if len(cells) != len(header):
            issues.append(
                ImportIssue(
                    row,
                    f"has {len(cells)} fields but the header has {len(header)}",
                    line,
                    "wrong field count",
                )
            )
            continue
        fields = {k: cells[i] for k, i in index.items()}
        if near is not None and _outside(fields, near):
            continue
        try:
            goods.append(_parse_one(fields, row, line, today))
        except FieldError as exc:
            issues.append(ImportIssue(row, str(exc), line, exc.kind))
    sites = site_keys([g.lat for g in goods], [g.lon for g in goods])
    keys = _camera_keys(goods, sites)
    rows = [
        ParsedRow(
            record=CameraRecord(
                camera_key=key,
                site_key=site,
                district=g.district,
                purpose=g.purpose,
                count=g.count,
                megapixels=g.megapixels,
                ptz=is_ptz(g.view),
                installed_ym=g.installed_ym,
                retention_days=g.retention_days,
                lat=g.lat,
                lon=g.lon,
                name=f"{g.purpose or 'CCTV'} · {g.address}" if g.address else None,
                address=g.address,
            ),
            row=g.row,
            line=g.line,
            agency=g.agency,
            view_text=g.view,
            phone=g.phone,
            data_date=g.data_date,
        )
        for g, site, key in zip(goods, sites, keys, strict=True)
    ]
    return ParsedCsv(
        rows=rows,
        issues=issues,
        rows_total=row,
        header=tuple(h.strip() for h in header),
        warnings=_suspicious_dates(goods),
    )


def _outside(fields: dict[str, str], near: tuple[float, float, float, float]) -> bool:
    try:
        lon, lat = float(fields.get("lon", "")), float(fields.get("lat", ""))
    except ValueError:
        return False
    return not (near[0] <= lon <= near[2] and near[1] <= lat <= near[3])


def read_standard_csv(
    path: str | Path, *, today: dt.date | None = None, near: tuple[float, float, float, float] | None = None
) -> ParsedCsv:
    """Read a 전국CCTV표준데이터 CSV file (UTF-8 with/without BOM, or CP949).

    Args:
        path: the CSV file.
        today: reference date for "future" install dates (default: today).
        near: only rows near this ``(min_lon, min_lat, max_lon, max_lat)`` box (see :func:`parse_rows`).

    Returns:
        Good rows (with camera and site keys), bad-row issues and the row count.

    Raises:
        InputError: the file is missing, undecodable, empty or lacks required columns.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read CCTV data file {p}: {exc.strerror}; check the path") from exc
    text, encoding = decode_bytes(data, str(p))
    return replace(parse_rows(text, what=str(p), today=today, near=near), encoding=encoding)
