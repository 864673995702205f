"""Reading standard-data CSV files: headers, encodings, bad rows, keys, the real Guro file."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from safecity.errors import InputError
from safecity.registry.stdcsv import parse_rows, read_standard_csv
from tests.unit.registry.factories import (
    OFFICIAL_HEADER,
    SHORT_HEADER,
    csv_text,
    good_row,
    guro_csv,
    write_csv,
)

TODAY = dt.date(2018, 6, 30)


@pytest.mark.parametrize(
    ("header", "encoding"),
    [
        (SHORT_HEADER, "utf-8"),  # Seoul files' short names, plain UTF-8
        (SHORT_HEADER, "utf-8-sig"),  # with BOM
        (OFFICIAL_HEADER, "utf-8"),  # official Korean headers
        (OFFICIAL_HEADER, "utf-8-sig"),  # official headers with BOM (data.go.kr downloads)
        (OFFICIAL_HEADER, "cp949"),  # official headers in CP949 (Excel on Korean Windows)
        (SHORT_HEADER, "cp949"),  # short names in CP949
    ],
)
@pytest.mark.parametrize("newline", ["\n", "\r\n"])  # Unix and Windows line ends
def test_read_headers_and_encodings(
    tmp_path: Path, header: tuple[str, ...], encoding: str, newline: str
) -> None:
    path = write_csv(
        tmp_path / "x.csv",
        [good_row(), good_row(object="어린이보호", num="1")],
        header=header,
        encoding=encoding,
        newline=newline,
    )
    parsed = read_standard_csv(path, today=TODAY)
    assert parsed.encoding == ("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    assert parsed.rows_total == 2 and not parsed.issues
    rec = parsed.records[1]
    assert (rec.district, rec.purpose, rec.count, rec.megapixels, rec.ptz, rec.installed_ym) == (
        "구로구",
        "어린이보호",
        1,
        2.0,
        True,
        "2011-12",
    )
    assert parsed.rows[0].agency == "서울특별시 구로구청"
    assert parsed.rows[0].view_text == "360도전방면"


def test_missing_columns_names_missing_and_found(tmp_path: Path) -> None:
    header = tuple(h for h in SHORT_HEADER if h not in ("lat", "install_day"))
    path = tmp_path / "nocoords.csv"
    path.write_text(",".join(header) + "\n" + ",".join("x" for _ in header) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_standard_csv(path)
    msg = str(info.value)
    assert "설치연월 (install_day)" in msg and "WGS84위도 (lat)" in msg  # what is missing
    assert "found man, add, rd" in msg  # what arrived
    assert "rename the columns" in msg  # what to do
    assert "카메라화소수 (fixel)" not in msg  # present columns are not reported missing


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty"),  # empty file
        (b"\xff\xfe\x00\xd8garbage\xff", "cannot decode"),  # neither UTF-8 nor CP949
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=match):
        read_standard_csv(path)


def test_missing_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read CCTV data file"):
        read_standard_csv(tmp_path / "nope.csv")


BAD_ROWS = [
    (dict(lat="99.999999", lng="999.999999"), "placeholder coordinates"),  # standard placeholder
    (dict(lat="", lng=""), "no coordinates"),  # missing
    (dict(lat="32.1", lng="126.9"), "coordinates outside Korea"),  # south of Jeju
    (dict(lat="37.88", lng="127.73"), "coordinates outside Seoul"),  # Chuncheon for a Seoul office
    (dict(install_day="12-Foo"), "unparseable install date"),  # present but not a date
    (dict(install_day="2019-01"), "future install date"),  # after TODAY
    (dict(num="0"), "bad camera count"),  # no cameras
    (dict(fixel="lots"), "bad megapixels"),  # not a number
    (dict(man="서울특별시청", add="", rd=""), "unknown district"),  # no district anywhere
]


@pytest.mark.parametrize(("over", "kind"), BAD_ROWS)
def test_bad_row_reported_with_number_and_reason_good_rows_kept(over: dict[str, str], kind: str) -> None:
    rows = [good_row(), good_row(num="3"), good_row(**over), good_row(num="4")]
    parsed = parse_rows(csv_text(rows), today=TODAY)
    assert parsed.rows_total == 4
    assert [r.row for r in parsed.rows] == [1, 2, 4]
    assert len(parsed.issues) == 1
    issue = parsed.issues[0]
    assert (issue.row, issue.line, issue.kind) == (3, 4, kind)
    assert issue.message().startswith("row 3 (line 4 of the file): ")


def test_district_from_address_when_agency_is_not_a_district_office() -> None:
    rows = [
        good_row(man="서울특별시 동대문경찰서", add="서울특별시 동대문구 회기로 1", lat="37.59", lng="127.05")
    ]
    parsed = parse_rows(csv_text(rows), today=TODAY)
    assert parsed.records[0].district == "동대문구"


def test_line_numbers_follow_multiline_cells_and_blank_lines() -> None:
    text = (
        csv_text([good_row(see="360도\n전방면"), good_row()])
        + "\n"
        + csv_text([good_row(num="x")]).split("\n", 1)[1]
    )
    parsed = parse_rows(text, today=TODAY)
    # row 1 spans lines 2-3, row 2 is line 4, a blank line 5 is skipped, row 3 is line 6
    assert parsed.rows_total == 3
    assert [(r.row, r.line) for r in parsed.rows] == [(1, 2), (2, 4)]
    assert [(i.row, i.line, i.kind) for i in parsed.issues] == [(3, 6, "bad camera count")]


def test_wrong_field_count_is_a_bad_row() -> None:
    text = csv_text([good_row()]) + "서울특별시 구로구청,only,three\n"
    parsed = parse_rows(text, today=TODAY)
    assert [(i.row, i.kind) for i in parsed.issues] == [(2, "wrong field count")]
    assert "has 3 fields but the header has 13" in parsed.issues[0].reason


def test_unknown_install_date_is_not_an_error() -> None:
    parsed = parse_rows(csv_text([good_row(install_day="")]), today=TODAY)
    assert not parsed.issues and parsed.records[0].installed_ym is None


# ---------------------------------------------------------------- keys
def test_camera_keys_stable_under_reordering_and_identical_rows_kept_apart() -> None:
    a = good_row()
    b = good_row(object="어린이보호", fixel="41")
    c = good_row(lat="37.4954", lng="126.8875")
    first = parse_rows(csv_text([a, a, b, c]), today=TODAY)
    again = parse_rows(csv_text([c, a, b, a]), today=TODAY)
    assert len({r.camera_key for r in first.records}) == 4  # identical rows a, a stay distinct
    assert {r.camera_key for r in first.records} == {r.camera_key for r in again.records}


def test_count_change_keeps_the_camera_key() -> None:
    before = parse_rows(csv_text([good_row(num="2")]), today=TODAY).records[0]
    after = parse_rows(csv_text([good_row(num="5")]), today=TODAY).records[0]
    assert before.camera_key == after.camera_key and after.count == 5


def test_rows_at_the_same_place_share_a_site() -> None:
    near = good_row(lat="37.5058182", lng="126.8536141")  # ~1 cm away: same metre cell (or its neighbour)
    far = good_row(lat="37.506818", lng="126.853614")  # ~111 m north
    parsed = parse_rows(csv_text([good_row(), good_row(object="교통단속"), far]), today=TODAY)
    sites = [r.site_key for r in parsed.records]
    assert sites[0] == sites[1] != sites[2]
    assert parse_rows(csv_text([near]), today=TODAY).records[0].site_key is not None


# ---------------------------------------------------------------- the real Guro file
def test_guro_file_matches_an_independent_count() -> None:
    path = guro_csv()
    with path.open(encoding="utf-8", newline="") as f:
        raw = list(csv.DictReader(f))
    to_xy = Transformer.from_crs("EPSG:4326", "EPSG:5179", always_xy=True)
    cells = set()
    for r in raw:
        x, y = to_xy.transform(float(r["lng"]), float(r["lat"]))
        cells.add((round(x), round(y)))
    purposes: Counter[str] = Counter()
    for r in raw:
        purposes[r["object"]] += int(r["num"])

    parsed = read_standard_csv(path, today=TODAY)
    assert parsed.rows_total == len(raw) and not parsed.issues
    recs = parsed.records
    assert sum(r.count for r in recs) == sum(int(r["num"]) for r in raw)
    assert len({r.site_key for r in recs}) == len(cells)
    got_purposes: Counter[str] = Counter()
    for rec in recs:
        got_purposes[rec.purpose or ""] += rec.count
    assert got_purposes == purposes
    under_2mp = sum(int(r["num"]) for r in raw if float(r["fixel"]) < 200)
    assert sum(r.count for r in recs if r.megapixels is not None and r.megapixels < 2) == under_2mp
    assert {r.district for r in recs} == {"구로구"}
    assert len({r.camera_key for r in recs}) == len(raw)


_POOL = [
    good_row(),
    good_row(),  # exact duplicate of the first
    good_row(object="어린이보호", fixel="41"),
    good_row(num="5"),  # same identity as the first two, other count
    good_row(lat="37.4954", lng="126.8875", install_day="2015-03"),
    good_row(see="", install_day=""),
]


@settings(max_examples=25, deadline=None)
@given(st.permutations(_POOL))
def test_camera_key_set_does_not_depend_on_row_order(rows: list[dict[str, str]]) -> None:
    expected = {r.camera_key for r in parse_rows(csv_text(_POOL), today=TODAY).records}
    got = parse_rows(csv_text(rows), today=TODAY).records
    assert {r.camera_key for r in got} == expected and len(got) == len(_POOL)


def test_near_passes_over_rows_outside_the_box_and_keeps_the_keys_of_the_rest() -> None:
    rows = [
        good_row(),  # Guro (37.5058, 126.8...)
        good_row(num="2"),
        good_row(lat="37.65", lng="127.05", man="서울특별시 노원구청"),  # Nowon: outside the box
        good_row(lat="north", lng="127.0"),  # unreadable position: parsed, and reported
    ]
    full = parse_rows(csv_text(rows), today=TODAY)
    near = parse_rows(csv_text(rows), today=TODAY, near=(126.80, 37.45, 126.95, 37.55))
    inside = [r for r in full.records if r.lat is not None and r.lat < 37.6]
    assert near.records == inside and len(inside) == 2
    assert [i.row for i in near.issues] == [i.row for i in full.issues] == [4]
