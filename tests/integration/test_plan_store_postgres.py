"""A real plan saved to PostgreSQL (scripts/test-services.sh) and read back by the console's reader."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from safecity.errors import StoreError
from safecity.plan.config import PlanConfig
from safecity.plan.sites import plan_sites
from safecity.plan.store_io import save_plan
from safecity.store.db import connect
from safecity.store.plans_read import get_plan
from safecity.store.schema import plans

pytestmark = pytest.mark.integration


def test_save_guro_plan_to_postgres(pg_url: str) -> None:
    engine = connect(pg_url)
    plan, _ = plan_sites(area="guro", budget_krw=1.5e8, cfg=PlanConfig())
    pid = save_plan(engine, plan)
    view = get_plan(engine, pid)
    assert view is not None
    assert view.kind == "sites" and view.area == "guro"
    assert len(view.items) == len(plan.items) > 0
    assert view.cost_krw == pytest.approx(plan.cost_krw) and view.cost_krw <= 1.5e8
    assert [i.rank for i in view.items] == sorted(i.rank for i in view.items)
    assert view.summary["incumbent"] == pytest.approx(plan.objective)
    assert view.summary["covered_priority"] + view.summary["light_value"] == pytest.approx(plan.objective)
    assert isinstance(view.summary["proven_optimal"], bool)
    assert all("explain" in i.props and "cameras" in i.props for i in view.items)
    engine.dispose()


def test_failed_save_rolls_back_on_postgres(pg_url: str) -> None:
    engine = connect(pg_url)
    with engine.begin() as c:
        c.execute(text("ALTER TABLE plan_items ADD CONSTRAINT ck_rank_small CHECK (rank < 2)"))
    plan, _ = plan_sites(area="guro", budget_krw=1.5e8, cfg=PlanConfig())
    assert len(plan.items) >= 2  # the second item violates the check: the whole plan must vanish
    with pytest.raises(StoreError, match="nothing was saved"):
        save_plan(engine, plan)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(plans)).scalar_one() == 0
    engine.dispose()
