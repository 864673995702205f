"""Field rules of the national CCTV standard data (전국CCTV표준데이터), one pure function per field.

Each parser takes the cell text and returns the value, ``None`` for "unknown", or raises
:class:`FieldError` with a reason that names the value and says what was expected. The reader in
``stdcsv.py`` turns a ``FieldError`` into a bad-row issue.

>>> parse_install_ym("11-Dec")
'2011-12'
>>> parse_megapixels("41")
0.41
>>> is_ptz("360도전방면"), is_ptz("카메라 전면(고정)")
(True, False)
>>> district_from_agency("서울특별시 구로구청")
'구로구'
"""

from __future__ import annotations

import datetime as dt
import math
import re

__all__ = [
    "FieldError",
    "KOREA_LATLON_BOUNDS",
    "MAX_CAMERAS_PER_RECORD",
    "MAX_RETENTION_DAYS",
    "SEOUL_DISTRICTS",
    "check_latlon",
    "district_from_address",
    "district_from_agency",
    "is_ptz",
    "normalize_district",
    "parse_count",
    "parse_data_date",
    "parse_install_ym",
    "parse_megapixels",
    "parse_retention_days",
]


class FieldError(ValueError):
    """A cell of a row cannot be used; ``str(exc)`` is the reason shown to the user.

    Args:
        reason: what is wrong, naming the value and what was expected.
        kind: short category for summaries (e.g. ``"placeholder coordinates"``).
    """

    def __init__(self, reason: str, kind: str = "other") -> None:
        super().__init__(reason)
        self.kind = kind


#: lat_min, lon_min, lat_max, lon_max of South Korea incl. Jeju, Ulleungdo and Dokdo
KOREA_LATLON_BOUNDS = (33.0, 124.0, 39.0, 132.0)
#: the same generous box around Seoul that ``safecity.geo.SEOUL_BOUNDS`` uses
_SEOUL_BOUNDS = (37.40, 126.76, 37.72, 127.19)

#: Seoul's 25 autonomous districts (자치구) -> romanised short name (accepted by ``--district``)
SEOUL_DISTRICTS: dict[str, str] = {
    "강남구": "gangnam",
    "강동구": "gangdong",
    "강북구": "gangbuk",
    "강서구": "gangseo",
    "관악구": "gwanak",
    "광진구": "gwangjin",
    "구로구": "guro",
    "금천구": "geumcheon",
    "노원구": "nowon",
    "도봉구": "dobong",
    "동대문구": "dongdaemun",
    "동작구": "dongjak",
    "마포구": "mapo",
    "서대문구": "seodaemun",
    "서초구": "seocho",
    "성동구": "seongdong",
    "성북구": "seongbuk",
    "송파구": "songpa",
    "양천구": "yangcheon",
    "영등포구": "yeongdeungpo",
    "용산구": "yongsan",
    "은평구": "eunpyeong",
    "종로구": "jongno",
    "중구": "jung",
    "중랑구": "jungnang",
}
_ROMAN_TO_KO = {v: k for k, v in SEOUL_DISTRICTS.items()}

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
#: a record is the cameras of one site (or, in some files, all of one agency): even a whole district
#: has fewer than 10,000, and this is far below what a database column holds
MAX_CAMERAS_PER_RECORD = 10_000
#: ten years: recordings are kept for days to months (개인정보 보호법: as short as needed)
MAX_RETENTION_DAYS = 3650
_EARLIEST_YEAR = 1990  # public CCTV in Korea starts in the 1990s; earlier years are typos
_UNKNOWN_TEXTS = frozenset({"", "-", "없음", "미상", "불명", "모름"})


# ---------------------------------------------------------------- install year-month
def _two_digit_year(yy: int) -> int:
    """Excel's own rule for two-digit years: 00-29 -> 2000-2029, 30-99 -> 1930-1999."""
    return 2000 + yy if yy < 30 else 1900 + yy


def _ym(year: int, month: int, text: str) -> tuple[int, int]:
    if not 1 <= month <= 12:
        raise FieldError(
            f"install year-month {text!r} has month {month}; expected 1-12", "unparseable install date"
        )
    if year < _EARLIEST_YEAR:
        raise FieldError(
            f"install year-month {text!r} gives year {year}, before {_EARLIEST_YEAR}; check it",
            "implausible install date",
        )
    return year, month


def _parse_ym(text: str) -> tuple[int, int] | None:
    s = text.strip()
    if s.lower() in _UNKNOWN_TEXTS:
        return None
    if m := re.fullmatch(r"(\d{1,2})-([A-Za-z]{3})", s):  # Excel-mangled YY-Mon ('11-Dec')
        mon = _MONTHS.get(m[2].lower())
        if mon is not None:
            return _ym(_two_digit_year(int(m[1])), mon, s)
    if m := re.fullmatch(r"([A-Za-z]{3})-(\d{2})", s):  # Excel Mon-YY ('Apr-00')
        mon = _MONTHS.get(m[1].lower())
        if mon is not None:
            return _ym(_two_digit_year(int(m[2])), mon, s)
    if m := re.fullmatch(r"(\d{4})\s*[-./년]\s*(\d{1,2})\s*월?", s):  # YYYY-MM, YYYY.MM, 2011년 12월
        return _ym(int(m[1]), int(m[2]), s)
    if m := re.fullmatch(r"(\d{4})(\d{2})", s):  # YYYYMM
        return _ym(int(m[1]), int(m[2]), s)
    if (m := re.fullmatch(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})\.?", s)) or (
        m := re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s)
    ):  # YYYY-MM-DD, YYYY.MM.DD, YYYYMMDD
        try:
            day = dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise FieldError(
                f"install date {text!r} is not a calendar date", "unparseable install date"
            ) from None
        return _ym(day.year, day.month, s)
    if m := re.fullmatch(r"(\d{5})(\.0+)?", s):  # Excel serial day number (40513 = 2010-12-01)
        day = dt.date(1899, 12, 30) + dt.timedelta(days=int(m[1]))
        return _ym(day.year, day.month, s)
    if re.fullmatch(r"\d{4}", s):
        raise FieldError(
            f"install year-month {text!r} has a year but no month; write it as {s}-MM",
            "unparseable install date",
        )
    raise FieldError(
        f"install year-month {text!r} is not a date; expected YYYY-MM, YYYY.MM, YYYYMM, YYYY-MM-DD, "
        "Excel's YY-Mon ('11-Dec') or Mon-YY ('Apr-00'), or empty for unknown",
        "unparseable install date",
    )


def parse_install_ym(text: str, *, not_after: tuple[int, int] | None = None) -> str | None:
    """Install year-month as ``"YYYY-MM"``, ``None`` when empty (unknown).

    Args:
        text: the 설치연월 cell.
        not_after: (year, month) after which a date is "in the future" (the data date or today).

    Raises:
        FieldError: the value is present but not a date, implausibly early, or after ``not_after``.

    >>> [parse_install_ym(s) for s in ("09-Jan", "May-99", "2011.03", "201104", "2012-05-31", "")]
    ['2009-01', '1999-05', '2011-03', '2011-04', '2012-05', None]
    """
    ym = _parse_ym(text)
    if ym is None:
        return None
    if not_after is not None and ym > not_after:
        raise FieldError(
            f"install year-month {text!r} = {ym[0]:04d}-{ym[1]:02d} is in the future "
            f"(after {not_after[0]:04d}-{not_after[1]:02d})",
            "future install date",
        )
    return f"{ym[0]:04d}-{ym[1]:02d}"


def parse_data_date(text: str) -> dt.date | None:
    """The 데이터기준일자 cell (YYYY-MM-DD, YYYY.MM.DD or YYYYMMDD) or ``None`` if empty/unreadable.

    The data date is informative only (it bounds "future" install dates), so an odd value is ignored.
    """
    s = text.strip()
    m = re.fullmatch(r"(\d{4})[-./]?(\d{1,2})[-./]?(\d{1,2})\.?", s)
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


# ---------------------------------------------------------------- numbers
def _number(text: str, what: str) -> float | None:
    s = text.strip().replace(",", "")
    if s.lower() in _UNKNOWN_TEXTS:
        return None
    try:
        value = float(s)
    except ValueError:
        raise FieldError(f"{what} {text!r} is not a number", f"bad {what.split(' (')[0]}") from None
    if not math.isfinite(value):
        raise FieldError(f"{what} {text!r} is not a finite number", f"bad {what.split(' (')[0]}")
    return value


def parse_megapixels(text: str) -> float | None:
    """Megapixels from the 카메라화소수 cell; ``None`` when empty or 0 (unknown).

    The standard counts pixels in 만 (10,000), i.e. MP x 100: ``200`` -> 2.0, ``41`` -> 0.41,
    ``130`` -> 1.3. Values up to 20 are taken as already in MP (``2`` -> 2.0, ``5`` -> 5.0), since no
    public camera has under 0.2 MP. Suffixes ``만``/``만화소`` (x100 units) and ``MP`` are understood.

    >>> [parse_megapixels(s) for s in ("200", "200.0", "41", "2", "1.3", "500만화소", "2MP", "")]
    [2.0, 2.0, 0.41, 2.0, 1.3, 5.0, 2.0, None]
    """
    s = text.strip().replace(" ", "")
    unit: str | None = None
    if m := re.fullmatch(r"(.*?)(만화소|만|mp|MP|Mp)", s):
        s, unit = m[1], "mp" if m[2].lower() == "mp" else "x100"
    value = _number(s, "megapixels (카메라화소수)") if s else None
    if value is None or value == 0:
        return None
    if value < 0:
        raise FieldError(f"megapixels (카메라화소수) {text!r} is negative", "bad megapixels")
    mp = value / 100 if unit == "x100" or (unit is None and value > 20) else value
    if mp > 50:
        raise FieldError(
            f"megapixels (카메라화소수) {text!r} = {mp:g} MP is implausible; expected MP x 100",
            "bad megapixels",
        )
    return round(mp, 4)


def parse_count(text: str) -> int:
    """Cameras in the record (카메라대수): a whole number >= 1.

    >>> parse_count("3"), parse_count("2.0")
    (3, 2)
    """
    value = _number(text, "camera count (카메라대수)")
    if value is None:
        raise FieldError(
            "camera count (카메라대수) is empty; expected a whole number >= 1", "bad camera count"
        )
    if value != int(value) or value < 1:
        raise FieldError(f"camera count (카메라대수) {text!r} is not a whole number >= 1", "bad camera count")
    if value > MAX_CAMERAS_PER_RECORD:
        raise FieldError(
            f"camera count (카메라대수) {text!r} is implausible for one record; expected 1 to "
            f"{MAX_CAMERAS_PER_RECORD:,} (even a whole district has fewer)",
            "bad camera count",
        )
    return int(value)


def parse_retention_days(text: str) -> int | None:
    """Days recordings are kept (보관일수), ``None`` when empty.

    >>> parse_retention_days("30"), parse_retention_days("")
    (30, None)
    """
    value = _number(text, "retention days (보관일수)")
    if value is None:
        return None
    if value != int(value) or value < 0:
        raise FieldError(
            f"retention days (보관일수) {text!r} is not a whole number >= 0", "bad retention days"
        )
    if value > MAX_RETENTION_DAYS:
        raise FieldError(
            f"retention days (보관일수) {text!r} is implausible; expected 0 to {MAX_RETENTION_DAYS:,} days "
            "(10 years)",
            "bad retention days",
        )
    return int(value)


# ---------------------------------------------------------------- view text -> PTZ
_PTZ_PATTERN = re.compile(r"360|ptz|(?<![가-힣])회전|전방위|스피드\s*돔|speed\s*dome", re.IGNORECASE)


def is_ptz(view_text: str) -> bool:
    """PTZ (pan-tilt-zoom) camera from the view text (촬영방면정보); otherwise fixed.

    PTZ when the text mentions 360 (``360도전방면``, ``360도 전방향``, ``360``), ``PTZ``, ``회전``
    (rotating; not inside a word such as ``쌍용양회전시장``), ``전방위`` or a speed dome. Everything else,
    including directions (``북,남``), angles below 360 (``180도``) and empty text, is fixed.

    >>> [is_ptz(s) for s in ("360도 전방향", "PTZ", "회전형", "쌍용양회전시장 옆 공원", "180도", "")]
    [True, True, True, False, False, False]
    """
    return bool(_PTZ_PATTERN.search(view_text))


# ---------------------------------------------------------------- district
def _district_token(token: str) -> str | None:
    t = token.strip()
    for suffix in ("청", "사무소"):
        t = t.removesuffix(suffix)
    if re.fullmatch(r"[가-힣]{1,6}[구군]", t):
        return t
    return None


def district_from_agency(agency: str) -> str | None:
    """District (구/군) from the managing agency: ``서울특별시 구로구청`` -> ``구로구``.

    ``관악구청`` -> ``관악구``, ``서울특별시 중구`` -> ``중구``.

    Returns ``None`` for agencies that are not a district office (``서울특별시 동대문경찰서``).
    """
    for token in reversed(agency.split()):
        if (d := _district_token(token)) is not None:
            return d
    return None


def district_from_address(address: str) -> str | None:
    """District (구/군) from an address: ``서울특별시 동대문구 회기로 1`` -> ``동대문구``."""
    for token in address.split()[:3]:
        if re.fullmatch(r"[가-힣]{1,6}[구군]", token):
            return token
    return None


def normalize_district(name: str) -> str:
    """A district name as stored (Korean): ``guro``, ``Guro-gu``, ``구로``, ``구로구`` -> ``구로구``.

    Unknown names are returned stripped, so districts outside Seoul still work in Korean.

    >>> normalize_district("Guro-gu"), normalize_district("구로")
    ('구로구', '구로구')
    """
    s = name.strip()
    key = s.lower().removesuffix("-gu").removesuffix(" gu").removesuffix("gu").strip("- ")
    if key in _ROMAN_TO_KO:
        return _ROMAN_TO_KO[key]
    if s + "구" in SEOUL_DISTRICTS:
        return s + "구"
    return s


# ---------------------------------------------------------------- coordinates
def _coord(text: str, what: str) -> float | None:
    s = text.strip()
    if not s:
        return None
    try:
        value = float(s)
    except ValueError:
        raise FieldError(f"{what} {text!r} is not a number", f"bad {what.split(' (')[0]}") from None
    if not math.isfinite(value):
        raise FieldError(f"{what} {text!r} is not a finite number", f"bad {what.split(' (')[0]}")
    return value


def check_latlon(lat_text: str, lon_text: str, *, seoul: bool = False) -> tuple[float, float]:
    """Parse and check WGS84 latitude/longitude cells; ``seoul`` also requires the Seoul box.

    Raises:
        FieldError: missing, placeholder (99.99/999.99), zero, swapped, outside Korea (or Seoul).
    """
    lat, lon = _coord(lat_text, "latitude (WGS84위도)"), _coord(lon_text, "longitude (WGS84경도)")
    if lat is None or lon is None:
        missing = " and ".join(w for w, v in (("latitude", lat), ("longitude", lon)) if v is None)
        raise FieldError(f"no coordinates: {missing} empty", "no coordinates")
    where = f"lat {lat_text.strip()}, lon {lon_text.strip()}"
    la0, lo0, la1, lo1 = KOREA_LATLON_BOUNDS
    if la0 <= lon <= la1 and lo0 <= lat <= lo1:
        raise FieldError(
            f"latitude and longitude look swapped ({where}); fix the columns", "swapped coordinates"
        )
    if lat >= 90 or abs(lon) >= 180:
        raise FieldError(
            f"placeholder coordinates ({where}): the agency gave no position", "placeholder coordinates"
        )
    if lat == 0 or lon == 0:
        raise FieldError(
            f"zero coordinates ({where}): the agency gave no position", "placeholder coordinates"
        )
    if not (la0 <= lat <= la1 and lo0 <= lon <= lo1):
        raise FieldError(
            f"coordinates outside Korea ({where}); expected lat {la0}-{la1}, lon {lo0}-{lo1}",
            "coordinates outside Korea",
        )
    sa0, so0, sa1, so1 = _SEOUL_BOUNDS
    if seoul and not (sa0 <= lat <= sa1 and so0 <= lon <= so1):
        raise FieldError(
            f"coordinates outside Seoul ({where}) for a Seoul agency; "
            f"expected lat {sa0}-{sa1}, lon {so0}-{so1}",
            "coordinates outside Seoul",
        )
    return lat, lon
