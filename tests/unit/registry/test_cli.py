"""``safecity registry ...`` through ``safecity.cli.main``: exit codes and output."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from safecity.cli import main
from tests.unit.registry.factories import good_row, guro_csv, write_csv


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["-q", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    rows = [good_row(), good_row(install_day="11-Xyz"), good_row(object="교통단속", lat="", lng="")]
    return write_csv(tmp_path / "bad.csv", rows)


def test_import_then_reimport_prints_counts(capsys: pytest.CaptureFixture[str], sqlite_url: str) -> None:
    code, out, _ = _run(capsys, "registry", "import", str(guro_csv()), "--database-url", sqlite_url)
    assert code == 0
    assert "rows: 1279 total, 1279 ok, 0 bad" in out
    assert "1279 new, 0 updated, 0 unchanged (2746 cameras)" in out
    code, out, _ = _run(capsys, "registry", "import", str(guro_csv()), "--database-url", sqlite_url)
    assert code == 0 and "0 new, 0 updated, 1279 unchanged" in out


def test_import_bad_rows_listed_with_numbers_and_csv(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, bad_file: Path, tmp_path: Path
) -> None:
    issues_csv = tmp_path / "issues.csv"
    code, out, _ = _run(
        capsys,
        "registry",
        "import",
        str(bad_file),
        "--database-url",
        sqlite_url,
        "--issues-csv",
        str(issues_csv),
    )
    assert code == 0
    assert "rows: 3 total, 1 ok, 2 bad" in out
    assert "row 2 (line 3 of the file): install year-month '11-Xyz' is not a date" in out
    assert "row 3 (line 4 of the file): no coordinates" in out
    assert "unparseable install date 1, no coordinates 1" in out
    with issues_csv.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["row"], r["line"]) for r in rows] == [("2", "3"), ("3", "4")]


def test_import_json_has_all_issues(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, bad_file: Path
) -> None:
    code, out, _ = _run(capsys, "registry", "import", str(bad_file), "--database-url", sqlite_url, "--json")
    assert code == 0
    report = json.loads(out)
    assert (report["rows_ok"], report["rows_bad"], report["cameras_new"]) == (1, 2, 1)
    assert [i["row"] for i in report["issues"]] == [2, 3]


def test_import_strict_exits_1_and_imports_nothing(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, bad_file: Path
) -> None:
    code, _, err = _run(capsys, "registry", "import", str(bad_file), "--database-url", sqlite_url, "--strict")
    assert code == 1
    assert "2 of 3 rows are bad, nothing imported (--strict)" in err
    code, out, _ = _run(capsys, "registry", "list", "--database-url", sqlite_url, "--json")
    assert code == 0 and json.loads(out) == []


def test_import_missing_columns_exits_1(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("name,lat,lon\na,37.5,126.9\n", encoding="utf-8")
    code, _, err = _run(capsys, "registry", "import", str(path), "--database-url", sqlite_url)
    assert code == 1
    assert "missing required column(s)" in err and "found name, lat, lon" in err


def test_import_without_file_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["registry", "import"])
    assert info.value.code == 2
    capsys.readouterr()


def test_stats_table_and_json(capsys: pytest.CaptureFixture[str], sqlite_url: str) -> None:
    assert _run(capsys, "registry", "import", str(guro_csv()), "--database-url", sqlite_url)[0] == 0
    code, out, _ = _run(capsys, "registry", "stats", "--database-url", sqlite_url, "--as-of", "2018-06")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("구로구"))
    assert line.split()[1:4] == ["1279", "2746", "1049"]  # records, cameras, sites
    assert "생활방범 1448" in out
    code, out, _ = _run(
        capsys,
        "registry",
        "stats",
        "--district",
        "guro",
        "--json",
        "--database-url",
        sqlite_url,
        "--as-of",
        "2018-06",
    )
    data = json.loads(out)
    d = data["districts"][0]
    assert d["district"] == "구로구" and d["cameras"] == 2746 and sum(d["age_bins"].values()) == 2746
    assert 0 < d["under_2mp_share"] < 1


def test_stats_bad_as_of_exits_1(capsys: pytest.CaptureFixture[str], sqlite_url: str) -> None:
    code, _, err = _run(capsys, "registry", "stats", "--database-url", sqlite_url, "--as-of", "June")
    assert code == 1 and "expected YYYY-MM" in err


def test_stats_empty_store_says_what_to_do(capsys: pytest.CaptureFixture[str], sqlite_url: str) -> None:
    code, out, _ = _run(capsys, "registry", "stats", "--database-url", sqlite_url)
    assert code == 0 and "safecity registry import FILE" in out


def test_list_limit(capsys: pytest.CaptureFixture[str], sqlite_url: str) -> None:
    _run(capsys, "registry", "import", str(guro_csv()), "--database-url", sqlite_url)
    code, out, err = _run(
        capsys, "registry", "list", "--district", "구로구", "--limit", "5", "--database-url", sqlite_url
    )
    assert code == 0
    assert len(out.strip().splitlines()) == 1 + 5  # header + 5 records
    assert "5 of 1279 records" in err


def test_check_views_without_database(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rows = [good_row(), good_row(see="180도"), good_row(see="360도전방면", object="교통단속")]
    code, out, _ = _run(
        capsys, "registry", "check", str(write_csv(tmp_path / "v.csv", rows)), "--views", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["views"] == [
        {"view": "360도전방면", "rows": 2, "ptz": True},
        {"view": "180도", "rows": 1, "ptz": False},
    ]


def test_implausible_counts_and_retention_are_bad_rows_not_tracebacks(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    rows = [good_row(lat=f"37.50{i}") for i in range(7)]
    rows += [good_row(num="1e9"), good_row(num=str(2**63)), good_row(store="1e9"), good_row(num="inf")]
    path = write_csv(tmp_path / "big.csv", rows)
    code, out, err = _run(capsys, "registry", "import", str(path), "--database-url", sqlite_url)
    assert code == 0, err
    assert "rows: 11 total, 7 ok, 4 bad" in out and "Traceback" not in out + err
    assert "camera count (카메라대수) '1e9' is implausible for one record; expected 1 to 10,000" in out
    assert f"camera count (카메라대수) '{2**63}' is implausible" in out
    assert "retention days (보관일수) '1e9' is implausible; expected 0 to 3,650 days" in out
    assert "camera count (카메라대수) 'inf' is not a finite number" in out
    code, out, _ = _run(capsys, "registry", "stats", "--database-url", sqlite_url, "--json")
    assert code == 0 and json.loads(out)["districts"][0]["cameras"] == 14


def _mis_encoded(tmp_path: Path) -> Path:
    """25 good rows whose UTF-8 bytes were read as Latin-1 and saved as UTF-8 again (mojibake)."""
    good = write_csv(tmp_path / "good.csv", [good_row(lat=f"37.5{i:02d}") for i in range(25)])
    path = tmp_path / "mojibake.csv"
    path.write_bytes(good.read_bytes().decode("latin-1").encode("utf-8"))
    return path


def test_import_with_no_usable_row_exits_1_naming_the_encoding(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    path = _mis_encoded(tmp_path)
    code, out, err = _run(capsys, "registry", "import", str(path), "--database-url", sqlite_url)
    assert code == 1
    assert "only 0 of 25 rows are usable" in err and "mis-encoded" in err and "nothing imported" in err
    code, out, err = _run(capsys, "registry", "check", str(path))
    assert code == 1 and "mis-encoded" in err
    code, out, _ = _run(capsys, "registry", "stats", "--database-url", sqlite_url)
    assert "no cameras in the store" in out + _
    code, out, err = _run(
        capsys, "registry", "import", str(path), "--database-url", sqlite_url, "--accept-mostly-bad"
    )
    assert code == 0 and "rows: 25 total, 0 ok, 25 bad" in out
