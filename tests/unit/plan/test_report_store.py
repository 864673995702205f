"""Report files (GeoJSON, CSV, offline HTML) and the all-or-nothing store save."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from safecity.errors import StoreError
from safecity.plan.report import write_outputs
from safecity.plan.store_io import save_plan
from safecity.plan.types import MapLayers, Plan, PlanItem
from safecity.store.db import connect
from safecity.store.schema import plan_items, plans


def make_plan(n_items: int = 3) -> Plan:
    items = tuple(
        PlanItem(
            rank=i + 1,
            kind="streetlight",
            lat=37.49 + i * 1e-3,
            lon=126.88,
            camera_type="ptz",
            n_cameras=1,
            cost_krw=12.5e6,
            priority=3.0 - i,
            ref=f"pole-{i}",
            props={"dong": "1117051", "nan": float("nan")},
        )
        for i in range(n_items)
    )
    return Plan(
        kind="sites",
        area="guro",
        area_name="구로구",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        budget_krw=50e6,
        cost_krw=12.5e6 * n_items,
        status="optimal",
        objective=6.0,
        mip_gap=0.0,
        params={"budget_krw": 50e6},
        summary={"cameras": n_items, "cameras_by_type": {"ptz": n_items}},
        items=items,
    )


LAYERS = MapLayers(
    area_geojson={"type": "FeatureCollection", "features": []},
    dong_geojson={"type": "FeatureCollection", "features": []},
    cells=((37.49, 126.88, 1.5),),
    cell_size_m=100.0,
    existing=((37.491, 126.881, 2),),
)


def test_outputs_round_trip(tmp_path: Path) -> None:
    plan = make_plan()
    files = write_outputs(plan, LAYERS, tmp_path / "out")
    gj = json.loads(files.geojson.read_text(encoding="utf-8"))
    assert [f["properties"]["rank"] for f in gj["features"]] == [1, 2, 3]
    assert gj["features"][0]["geometry"]["coordinates"] == [126.88, 37.49]
    assert gj["features"][0]["properties"]["nan"] is None  # NaN is not valid JSON
    with files.csv.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["ref"] for r in rows] == ["pole-0", "pole-1", "pole-2"]
    html = files.html.read_text(encoding="utf-8")
    assert "L.map(" in html and "leaflet" in html.lower()
    assert "<script src=" not in html and "<link" not in html  # everything inline: opens offline
    assert "tile.openstreetmap" not in html
    assert json.loads(files.summary.read_text(encoding="utf-8"))["summary"]["cameras"] == 3
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_save_plan_sqlite(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    pid = save_plan(engine, make_plan())
    with engine.connect() as c:
        assert (
            c.execute(
                select(func.count()).select_from(plan_items).where(plan_items.c.plan_id == pid)
            ).scalar()
            == 3
        )
        row = c.execute(select(plans).where(plans.c.id == pid)).mappings().one()
    assert row["kind"] == "sites" and row["summary"]["area_name"] == "구로구"


def test_failed_save_leaves_nothing(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    # the items table is gone: the plan row goes in, the items fail, the whole transaction must roll back
    with engine.begin() as c:
        c.execute(text("DROP TABLE plan_items"))
    with pytest.raises(StoreError, match="nothing was saved"):
        save_plan(engine, make_plan())
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(plans)).scalar() == 0
