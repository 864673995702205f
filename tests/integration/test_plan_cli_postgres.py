"""``safecity plan sites`` against PostgreSQL: the control room's events become the event_history layer,
the explanation and the proven flag are stored, and --events store on an empty events table fails cleanly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from safecity.cli import main
from safecity.store.db import connect
from safecity.store.schema import cameras, events, plans

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _plan_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFECITY_PLAN_CACHE_DIR", str(tmp_path / "plan-cache"))


def test_events_layer_from_postgres_and_explanations_stored(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = connect(pg_url)
    now = datetime.now(UTC)
    with engine.begin() as c:
        c.execute(insert(cameras).values(camera_key="pg-cam", count=1, ptz=False, lat=37.4954, lon=126.8875))
        for i in range(20):
            c.execute(
                insert(events).values(
                    uid=f"pg-e{i}",
                    camera_key="pg-cam",
                    type="intrusion",
                    severity=4,
                    start_at=now - timedelta(days=i),
                    state="closed",
                    updated_at=now,
                )
            )
    rc = main(
        [
            "plan",
            "sites",
            "--budget-krw",
            "2e8",
            "--events",
            "store",
            "--database-url",
            pg_url,
            "--json",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    res = json.loads(cap.out)
    assert res["summary"]["events_used"] == 20
    with engine.connect() as c:
        summary = c.execute(select(plans.c.summary).where(plans.c.id == res["plan_id"])).scalar_one()
    assert summary["events_used"] == 20 and isinstance(summary["proven_optimal"], bool)
    assert summary["mix"]["sites"] == res["summary"]["sites"]
    engine.dispose()


def test_events_store_without_events_leaves_the_store_untouched(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        [
            "plan",
            "sites",
            "--budget-krw",
            "2e8",
            "--events",
            "store",
            "--database-url",
            pg_url,
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert rc == 1
    assert "--events store: the store has no events" in capsys.readouterr().err
    engine = connect(pg_url)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(plans)).scalar_one() == 0
    engine.dispose()
