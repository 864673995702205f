"""Field rules of the standard data: dates, megapixels, PTZ, district, coordinates, numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safecity.registry.fields import (
    FieldError,
    check_latlon,
    district_from_address,
    district_from_agency,
    is_ptz,
    normalize_district,
    parse_count,
    parse_data_date,
    parse_install_ym,
    parse_megapixels,
    parse_retention_days,
)

# ---------------------------------------------------------------- install year-month
INSTALL_CASES = [
    ("11-Dec", "2011-12"),  # Excel-mangled YY-Mon, the common Seoul form
    ("09-Jan", "2009-01"),  # leading zero year
    ("3-Jul", "2003-07"),  # single-digit year
    ("17-sep", "2017-09"),  # lower-case month
    ("Apr-00", "2000-04"),  # Excel Mon-YY, year 00
    ("May-99", "1999-05"),  # Mon-YY, Excel's pivot puts 99 in the 1900s
    ("2011-12", "2011-12"),  # YYYY-MM
    ("2011-3", "2011-03"),  # YYYY-M
    ("2011.12", "2011-12"),  # YYYY.MM
    ("2011/12", "2011-12"),  # YYYY/MM
    ("2011년 12월", "2011-12"),  # Korean year-month
    ("201112", "2011-12"),  # YYYYMM
    ("2012-05-31", "2012-05"),  # YYYY-MM-DD
    ("2012.05.31.", "2012-05"),  # Korean dotted date with final dot
    ("20120531", "2012-05"),  # YYYYMMDD
    ("40513", "2010-12"),  # Excel serial day number
    ("", None),  # empty: unknown install date
    ("  ", None),  # blank: unknown
    ("-", None),  # dash: unknown
]


@pytest.mark.parametrize(("text", "expected"), INSTALL_CASES)
def test_parse_install_ym_accepted_forms(text: str, expected: str | None) -> None:
    assert parse_install_ym(text) == expected


BAD_INSTALL_CASES = [
    ("11-Foo", "not a date"),  # unknown month name
    ("Dec", "not a date"),  # month only
    ("2011", "no month"),  # year only
    ("2011-13", "month 13"),  # month out of range
    ("2011-02-30", "calendar date"),  # impossible day
    ("1985-05", "before 1990"),  # before public CCTV
    ("yesterday", "not a date"),  # text
    ("2011-12-01 extra", "not a date"),  # trailing junk
]


@pytest.mark.parametrize(("text", "match"), BAD_INSTALL_CASES)
def test_parse_install_ym_bad_values_raise_with_reason(text: str, match: str) -> None:
    with pytest.raises(FieldError, match=match):
        parse_install_ym(text)


FUTURE_CASES = [
    ("2018-07", (2018, 6), True),  # one month after the limit
    ("18-Jun", (2018, 6), False),  # the limit month itself is allowed
    ("Dec-17", (2018, 6), False),  # earlier
    ("2019-01-01", (2018, 12), True),  # full date in the next year
]


@pytest.mark.parametrize(("text", "limit", "future"), FUTURE_CASES)
def test_parse_install_ym_future_dates_are_refused(text: str, limit: tuple[int, int], future: bool) -> None:
    if future:
        with pytest.raises(FieldError, match="in the future") as info:
            parse_install_ym(text, not_after=limit)
        assert info.value.kind == "future install date"
    else:
        assert parse_install_ym(text, not_after=limit) is not None


@given(st.integers(1990, 2099), st.integers(1, 12))
def test_parse_install_ym_all_numeric_forms_agree(year: int, month: int) -> None:
    expected = f"{year:04d}-{month:02d}"
    forms = [f"{year}-{month:02d}", f"{year}.{month}", f"{year}{month:02d}", f"{year}-{month:02d}-01"]
    assert {parse_install_ym(f) for f in forms} == {expected}


DATA_DATE_CASES = [
    ("2018-01-31", (2018, 1, 31)),  # ISO
    ("2018.01.31", (2018, 1, 31)),  # dotted
    ("20180131", (2018, 1, 31)),  # compact
    ("2018-02-30", None),  # impossible: ignored (informative field)
    ("", None),  # empty
]


@pytest.mark.parametrize(("text", "expected"), DATA_DATE_CASES)
def test_parse_data_date(text: str, expected: tuple[int, int, int] | None) -> None:
    got = parse_data_date(text)
    assert (None if got is None else (got.year, got.month, got.day)) == expected


# ---------------------------------------------------------------- megapixels
MP_CASES = [
    ("200", 2.0),  # standard unit: 만 pixels = MP x 100
    ("200.0", 2.0),  # float text as in the Guro file
    ("41", 0.41),  # 0.41 MP analogue-era cameras
    ("130", 1.3),  # 1.3 MP
    ("500", 5.0),  # 5 MP
    ("30", 0.3),  # VGA-class, still x100 (above 20)
    ("2", 2.0),  # already MP (<= 20)
    ("5", 5.0),  # already MP
    ("1.3", 1.3),  # already MP with decimals
    ("200만", 2.0),  # explicit 만 unit
    ("41만화소", 0.41),  # explicit 만화소 unit
    ("2MP", 2.0),  # explicit MP unit
    ("", None),  # empty: unknown
    ("0", None),  # zero: unknown
]


@pytest.mark.parametrize(("text", "expected"), MP_CASES)
def test_parse_megapixels(text: str, expected: float | None) -> None:
    assert parse_megapixels(text) == expected


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("abc", "not a number"),  # text
        ("-200", "negative"),  # negative
        ("90000", "implausible"),  # 900 MP
    ],
)
def test_parse_megapixels_bad(text: str, match: str) -> None:
    with pytest.raises(FieldError, match=match):
        parse_megapixels(text)


# ---------------------------------------------------------------- count, retention
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),  # plain
        ("3.0", 3),  # float text
        (" 12 ", 12),  # spaces
        ("1,200", 1200),  # thousands separator
        ("0", None),  # zero cameras: bad
        ("1.5", None),  # fraction: bad
        ("", None),  # empty: bad
        ("two", None),  # text: bad
    ],
)
def test_parse_count(text: str, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(FieldError, match="camera count"):
            parse_count(text)
    else:
        assert parse_count(text) == expected


@pytest.mark.parametrize(
    ("text", "expected", "ok"),
    [
        ("30", 30, True),  # usual
        ("", None, True),  # unknown
        ("0", 0, True),  # not recorded
        ("-1", None, False),  # negative
        ("30일", None, False),  # unit text
    ],
)
def test_parse_retention_days(text: str, expected: int | None, ok: bool) -> None:
    if ok:
        assert parse_retention_days(text) == expected
    else:
        with pytest.raises(FieldError, match="retention days"):
            parse_retention_days(text)


# ---------------------------------------------------------------- PTZ
PTZ_CASES = [
    ("360도전방면", True),  # most common PTZ text in Seoul
    ("360도 전방면", True),  # with a space
    ("360도 전방향", True),  # direction wording
    ("360", True),  # bare number
    ("PTZ", True),  # English
    ("ptz 카메라", True),  # lower case
    ("회전형", True),  # rotating
    ("스피드 돔", True),  # speed dome
    ("전방위", True),  # all-direction
    ("쌍용양회전시장 옆 공원", False),  # 회전 inside a place name is not rotation
    ("카메라 전면(고정)", False),  # fixed
    ("180도", False),  # less than full circle
    ("90도전방면", False),  # 전방면 alone is not PTZ
    ("북,남", False),  # compass directions
    ("반경 30~150미터 이내(기종따라 다름)", False),  # range text, no type
    ("0", False),  # placeholder
    ("", False),  # empty
]


@pytest.mark.parametrize(("text", "expected"), PTZ_CASES)
def test_is_ptz(text: str, expected: bool) -> None:
    assert is_ptz(text) is expected


# ---------------------------------------------------------------- district
@pytest.mark.parametrize(
    ("agency", "expected"),
    [
        ("서울특별시 구로구청", "구로구"),  # usual
        ("관악구청", "관악구"),  # no city prefix
        ("서울특별시 중구", "중구"),  # one-syllable gu without 청
        ("서울특별시 동대문경찰서", None),  # police: not a district office
        ("부산광역시 기장군청", "기장군"),  # county
        ("", None),  # empty
    ],
)
def test_district_from_agency(agency: str, expected: str | None) -> None:
    assert district_from_agency(agency) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("서울특별시 동대문구 회기로 1", "동대문구"),  # road address
        ("서울특별시 구로구 고척2동 산9-14", "구로구"),  # lot address
        ("경기도 성남시 분당구 정자동 1", "분당구"),  # gu of a city
        ("서울특별시", None),  # no district
    ],
)
def test_district_from_address(address: str, expected: str | None) -> None:
    assert district_from_address(address) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("guro", "구로구"),  # romanised
        ("Guro-gu", "구로구"),  # romanised with -gu
        ("GURO", "구로구"),  # upper case
        ("구로", "구로구"),  # Korean without 구
        ("구로구", "구로구"),  # already stored form
        ("jung", "중구"),  # short name
        ("기장군", "기장군"),  # outside Seoul: unchanged
    ],
)
def test_normalize_district(name: str, expected: str) -> None:
    assert normalize_district(name) == expected


# ---------------------------------------------------------------- coordinates
@pytest.mark.parametrize(
    ("lat", "lon", "seoul", "kind"),
    [
        ("37.505818", "126.853614", True, None),  # Guro
        ("35.1796", "129.0756", False, None),  # Busan, not a Seoul agency
        ("", "126.85", False, "no coordinates"),  # missing latitude
        ("", "", False, "no coordinates"),  # both missing
        ("99.999999", "999.999999", False, "placeholder coordinates"),  # standard placeholder
        ("0", "0", False, "placeholder coordinates"),  # zeros
        ("126.853614", "37.505818", False, "swapped coordinates"),  # swapped columns
        ("32.626224", "126.923368", False, "coordinates outside Korea"),  # south of Jeju
        ("40.564718", "129.987226", False, "coordinates outside Korea"),  # North Korea / sea
        ("39.564718", "128.987226", True, "coordinates outside Korea"),  # Seoul outlier: sea off the north
        ("37.8813", "127.7298", True, "coordinates outside Seoul"),  # Chuncheon for a Seoul agency
        ("abc", "126.85", False, "bad latitude"),  # not a number
    ],
)
def test_check_latlon(lat: str, lon: str, seoul: bool, kind: str | None) -> None:
    if kind is None:
        assert check_latlon(lat, lon, seoul=seoul) == (float(lat), float(lon))
    else:
        with pytest.raises(FieldError) as info:
            check_latlon(lat, lon, seoul=seoul)
        assert info.value.kind == kind
        assert lat.strip() in str(info.value) or "empty" in str(info.value)
