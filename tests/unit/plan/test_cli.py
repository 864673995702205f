"""``safecity plan sites|replace`` end to end on the bundled Guro data, and every bad-input case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from safecity.cli import main
from safecity.store.db import connect
from safecity.store.schema import plan_items, plans

REPO = Path(__file__).resolve().parents[3]
GURO_CSV = REPO / "data" / "seoul" / "cctv" / "guro_cctv_points_2018.csv"


def _plans(url: str) -> tuple[int, int]:
    engine = connect(url)
    with engine.connect() as c:
        n = c.execute(select(func.count()).select_from(plans)).scalar_one()
        m = c.execute(select(func.count()).select_from(plan_items)).scalar_one()
    engine.dispose()
    return int(n), int(m)


def test_sites_end_to_end(tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    req = tmp_path / "req.csv"
    req.write_text("lat,lon,kind,note\n37.4954,126.8875,police,station request\n", encoding="utf-8")
    out = tmp_path / "plan"
    rc = main(
        [
            "plan",
            "sites",
            "--area",
            "구로구",
            "--budget-krw",
            "2e8",
            "--requests",
            str(req),
            "--out",
            str(out),
            "--database-url",
            sqlite_url,
            "--json",
        ]
    )
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    res = json.loads(cap.out)
    assert res["status"] in ("optimal", "feasible") and res["cost_krw"] <= 2e8
    assert res["summary"]["requests"] == 1 and res["summary"]["sites"] >= 1
    for name in ("plan.geojson", "plan.csv", "plan.html", "summary.json"):
        assert (out / name).stat().st_size > 0
    assert "demand cells" in cap.err  # progress on stderr
    n, m = _plans(sqlite_url)
    assert n == 1 and m == len(json.loads((out / "plan.geojson").read_text(encoding="utf-8"))["features"])


def test_replace_end_to_end(tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["registry", "import", str(GURO_CSV), "--database-url", sqlite_url]) == 0
    capsys.readouterr()
    rc = main(
        [
            "plan",
            "replace",
            "--budget-krw",
            "1.3e9",
            "--as-of",
            "2024-07-01",
            "--database-url",
            sqlite_url,
            "--out",
            str(tmp_path / "r"),
            "--json",
        ]
    )
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    res = json.loads(cap.out)
    # Guro 2024 replaced 680 cameras for 1.3 bn KRW; with 1.9 M per fixed camera the plan buys about as many
    assert 600 <= res["summary"]["cameras"] <= 700
    assert res["cost_krw"] <= 1.3e9
    assert (tmp_path / "r" / "plan.html").is_file()
    assert _plans(sqlite_url)[0] == 1


def test_replace_service_life_flag_changes_what_is_due(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["registry", "import", str(GURO_CSV), "--database-url", sqlite_url]) == 0
    capsys.readouterr()
    due = []
    for years in ("7", "15"):  # a longer service life leaves fewer cameras due
        rc = main(
            [
                "plan",
                "replace",
                "--budget-krw",
                "1e8",
                "--as-of",
                "2018-02-01",
                "--service-life-years",
                years,
                "--min-megapixels",
                "0.1",
                "--database-url",
                sqlite_url,
                "--no-save",
                "--out",
                str(tmp_path / years),
                "--json",
            ]
        )
        cap = capsys.readouterr()
        assert rc == 0, cap.err
        due.append(json.loads(cap.out)["summary"]["cameras_due"])
    assert due[0] > due[1] > 0


def _write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


@pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        # unknown area: lists the valid names
        (["sites", "--area", "atlantis", "--budget-krw", "1e9"], {}, "valid names: seoul"),
        # requests CSV without the kind column
        (
            ["sites", "--budget-krw", "1e9", "--requests", "{r}"],
            {"r": "lat,lon\n37.5,126.9\n"},
            "missing column",
        ),
        # coordinates in metres where degrees are expected
        (
            ["sites", "--budget-krw", "1e9", "--requests", "{r}"],
            {"r": "lat,lon,kind\n1943000,944000,police\n"},
            "look like metres",
        ),
        # a request outside the planned area (Seoul City Hall for Guro): an error naming the row
        (
            ["sites", "--area", "guro", "--budget-krw", "1e9", "--requests", "{r}"],
            {"r": "lat,lon,kind\n37.4954,126.8875,police\n37.5665,126.9780,resident\n"},
            "1 of 2 request(s) lie outside 구로구: row 2 (line 3)",
        ),
        # budget below one site plus one camera
        (["sites", "--budget-krw", "1000"], {}, "too small for one camera"),
        # every weight zero: no candidate covers a cell with positive priority
        (
            ["sites", "--budget-krw", "1e9", "--config", "{c}"],
            {
                "c": "weights: {coverage_gap: 0, population: 0, households: 0, one_person_households: 0,"
                " crime: 0, streetlight_density: 0, police_request: 0, resident_request: 0}\n"
            },
            "no candidate site covers",
        ),
        # infeasible mix: 60 sites in each of 15 dongs cannot fit 1.22 bn KRW
        (["sites", "--budget-krw", "1.22e9", "--min-per-dong", "60"], {}, "infeasible"),
        # a config with an unknown key names file and line
        (
            ["sites", "--budget-krw", "1e9", "--config", "{c}"],
            {"c": "cell_size: 50\n"},
            "c.yaml:1: cell_size",
        ),
        # replace before any registry import
        (["replace", "--budget-krw", "1.3e9"], {}, "safecity registry import"),
    ],
)
def test_bad_input_exits_1_and_saves_nothing(
    tmp_path: Path,
    sqlite_url: str,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    files: dict[str, str],
    message: str,
) -> None:
    paths = {k: _write(tmp_path, f"{k}.{'yaml' if k == 'c' else 'csv'}", v) for k, v in files.items()}
    argv = [
        "plan",
        *[a.format(**paths) for a in args],
        "--database-url",
        sqlite_url,
        "--out",
        str(tmp_path / "o"),
    ]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 1
    assert message in err
    assert _plans(sqlite_url) == (0, 0)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "budget",
    [
        "-5",  # negative
        "lots",  # not a number
        "0",  # nothing to spend
    ],
)
def test_bad_budget_is_a_usage_error(budget: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["plan", "sites", "--budget-krw", budget])
    assert exc.value.code == 2
    assert "expected an amount" in capsys.readouterr().err
