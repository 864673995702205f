"""The registry import on a real PostgreSQL (scripts/test-services.sh provides it)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from safecity.errors import InputError
from safecity.registry.repo import import_file, load_cameras, stats
from safecity.store.db import connect
from safecity.store.schema import cameras, import_issues, import_runs, sites
from tests.unit.registry.factories import good_row, guro_csv, write_csv

pytestmark = pytest.mark.integration
TODAY = dt.date(2018, 6, 30)


def test_guro_import_on_postgres_is_idempotent(pg_url: str) -> None:
    engine = connect(pg_url)
    assert engine.dialect.name == "postgresql"
    with guro_csv().open(encoding="utf-8", newline="") as f:
        raw = list(csv.DictReader(f))
    first = import_file(engine, guro_csv(), today=TODAY)
    assert (first.rows_ok, first.rows_bad, first.cameras_new) == (len(raw), 0, len(raw))
    second = import_file(engine, guro_csv(), today=TODAY)
    assert (second.cameras_new, second.cameras_updated, second.cameras_unchanged) == (0, 0, len(raw))
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(cameras)).scalar_one() == len(raw)
        assert c.execute(select(func.count()).select_from(sites)).scalar_one() == first.sites_in_file
        assert c.execute(select(func.count()).select_from(import_runs)).scalar_one() == 2
    got = load_cameras(engine, "guro")
    assert sum(c.count for c in got) == sum(int(r["num"]) for r in raw)
    d = stats(engine, "구로구", as_of="2018-06").districts[0]
    assert d.cameras == sum(int(r["num"]) for r in raw) and d.sites == first.sites_in_file
    engine.dispose()


def test_bad_rows_and_strict_on_postgres(pg_url: str, tmp_path: Path) -> None:
    engine = connect(pg_url)
    rows = [good_row(), good_row(lat="99.999999", lng="999.999999"), good_row(object="교통단속")]
    path = write_csv(tmp_path / "bad.csv", rows, encoding="cp949")
    with pytest.raises(InputError, match="nothing imported"):
        import_file(engine, path, strict=True, today=TODAY)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(cameras)).scalar_one() == 0
        assert c.execute(select(func.count()).select_from(import_runs)).scalar_one() == 0
    report = import_file(engine, path, today=TODAY)
    assert (report.encoding, report.rows_ok, report.rows_bad) == ("cp949", 2, 1)
    with engine.connect() as c:
        assert c.execute(select(import_issues.c.row)).scalars().all() == [2]
    engine.dispose()
