"""Registry store I/O on SQLite: import, idempotence, bad rows, --strict, load_cameras, stats."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from safecity.errors import InputError
from safecity.registry.repo import import_file, load_cameras, stats
from safecity.store.db import connect
from safecity.store.schema import cameras, import_issues, import_runs, sites
from tests.unit.registry.factories import good_row, guro_csv, write_csv

TODAY = dt.date(2018, 6, 30)


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table)).scalar_one())


def _snapshot(engine: Engine) -> tuple[list[Any], list[Any]]:
    with engine.connect() as c:
        cams = [tuple(r) for r in c.execute(select(cameras).order_by(cameras.c.id))]
        sts = [tuple(r) for r in c.execute(select(sites).order_by(sites.c.id))]
    return cams, sts


@pytest.fixture
def engine(sqlite_url: str) -> Engine:
    return connect(sqlite_url)


def test_import_guro_counts_and_reimport_is_idempotent(engine: Engine) -> None:
    with guro_csv().open(encoding="utf-8", newline="") as f:
        raw = list(csv.DictReader(f))
    first = import_file(engine, guro_csv(), today=TODAY)
    assert (first.rows_total, first.rows_ok, first.rows_bad) == (len(raw), len(raw), 0)
    assert (first.cameras_new, first.cameras_updated, first.cameras_unchanged) == (len(raw), 0, 0)
    assert first.cameras_in_file == sum(int(r["num"]) for r in raw)
    assert _count(engine, cameras) == len(raw)
    assert _count(engine, sites) == first.sites_in_file == first.sites_new
    before = _snapshot(engine)

    second = import_file(engine, guro_csv(), today=TODAY)
    assert (second.cameras_new, second.cameras_updated, second.cameras_unchanged) == (0, 0, len(raw))
    assert second.sites_new == 0
    assert _snapshot(engine) == before  # nothing changed
    assert _count(engine, import_runs) == 2  # both runs are recorded


def test_changed_row_is_updated_not_duplicated(engine: Engine, tmp_path: Path) -> None:
    rows = [good_row(), good_row(object="어린이보호", fixel="41")]
    import_file(engine, write_csv(tmp_path / "a.csv", rows), today=TODAY)
    rows[0] = good_row(num="7", store="60")
    report = import_file(engine, write_csv(tmp_path / "a.csv", rows), today=TODAY)
    assert (report.cameras_new, report.cameras_updated, report.cameras_unchanged) == (0, 1, 1)
    assert sorted(c.count for c in load_cameras(engine)) == [2, 7]
    assert _count(engine, cameras) == 2


def test_bad_row_reported_and_good_rows_imported(engine: Engine, tmp_path: Path) -> None:
    rows = [good_row(), good_row(lat="99.999999", lng="999.999999"), good_row(object="교통단속")]
    report = import_file(engine, write_csv(tmp_path / "bad.csv", rows), today=TODAY)
    assert (report.rows_total, report.rows_ok, report.rows_bad) == (3, 2, 1)
    assert [(i.row, i.line, i.kind) for i in report.issues] == [(2, 3, "placeholder coordinates")]
    assert _count(engine, cameras) == 2
    with engine.connect() as c:
        stored = c.execute(select(import_issues.c.row, import_issues.c.reason)).all()
        run = c.execute(select(import_runs)).mappings().one()
    assert len(stored) == 1 and stored[0][0] == 2 and "placeholder" in stored[0][1]
    assert "line 3 of the file" in stored[0][1]
    assert (run["rows_total"], run["rows_ok"], run["rows_bad"], run["cameras_new"]) == (3, 2, 1, 2)


def test_strict_refuses_the_whole_file_and_leaves_the_store_untouched(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, write_csv(tmp_path / "ok.csv", [good_row()]), today=TODAY)
    before = _snapshot(engine)
    rows = [good_row(num="9"), good_row(object="교통단속"), good_row(install_day="13-Xyz")]
    with pytest.raises(
        InputError, match=r"1 of 3 rows are bad, nothing imported.*row 3 \(line 4 of the file\)"
    ):
        import_file(engine, write_csv(tmp_path / "bad.csv", rows), strict=True, today=TODAY)
    assert _snapshot(engine) == before
    assert _count(engine, import_runs) == 1 and _count(engine, import_issues) == 0


def test_load_cameras_by_district_alias(engine: Engine, tmp_path: Path) -> None:
    rows = [
        good_row(),
        good_row(
            man="서울특별시 금천구청", add="서울특별시 금천구 시흥대로 73길 70", lat="37.4569", lng="126.8955"
        ),
    ]
    import_file(engine, write_csv(tmp_path / "two.csv", rows), today=TODAY)
    for name in ("guro", "구로구", "Guro-gu"):
        got = load_cameras(engine, name)
        assert [c.district for c in got] == ["구로구"]
    assert {c.district for c in load_cameras(engine)} == {"구로구", "금천구"}
    cam = load_cameras(engine, "geumcheon")[0]
    assert cam.site_key is not None and cam.address == "서울특별시 금천구 시흥대로 73길 70"
    assert load_cameras(engine, "nowhere") == []


def test_stats_match_an_independent_computation(engine: Engine, tmp_path: Path) -> None:
    rows = [
        good_row(num="2", fixel="41", install_day="05-Jan", see="북,남"),  # 13.4 y at 2018-06: >=10, past 7y
        good_row(object="교통단속", num="1", fixel="200", install_day="10-Dec"),  # 7.5 y: 7-10, PTZ
        good_row(
            object="교통단속", num="3", fixel="130", install_day="2016-06", lat="37.4954", lng="126.8875"
        ),
        good_row(num="4", fixel="", install_day="", see=""),  # unknown age and resolution
    ]
    import_file(engine, write_csv(tmp_path / "s.csv", rows), today=TODAY)
    s = stats(engine, "guro", as_of="2018-06")
    assert len(s.districts) == 1
    d = s.districts[0]
    assert (d.district, d.records, d.cameras, d.sites) == ("구로구", 4, 10, 2)
    assert d.purposes == {"생활방범": 6, "교통단속": 4}
    assert d.ptz_cameras == 1 + 3  # rows 2 and 3 use the default 360도 view text
    assert d.view_unknown == 4  # row 4 has no view text
    assert d.age_bins == {"<3": 3, "3-5": 0, "5-7": 0, "7-10": 1, ">=10": 2, "unknown": 4}
    assert (d.megapixels_known, d.under_2mp) == (6, 5)
    assert d.under_2mp_share == pytest.approx(5 / 6)
    assert d.past_service_life == 3
    assert s.total.cameras == 10


def test_stats_bad_as_of_is_input_error(engine: Engine) -> None:
    with pytest.raises(InputError, match="YYYY-MM"):
        stats(engine, as_of="2018/06")


def test_guro_stats_purposes_match_the_file(engine: Engine) -> None:
    with guro_csv().open(encoding="utf-8", newline="") as f:
        raw = list(csv.DictReader(f))
    expected: Counter[str] = Counter()
    for r in raw:
        expected[r["object"]] += int(r["num"])
    import_file(engine, guro_csv(), today=TODAY)
    d = stats(engine, "구로구", as_of="2018-06").districts[0]
    assert d.purposes == dict(expected)
    assert d.age_bins["unknown"] == sum(int(r["num"]) for r in raw if not r["install_day"])
