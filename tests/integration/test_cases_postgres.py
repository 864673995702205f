"""Cases on a real PostgreSQL server (migration 0007): create, a taken number, items once, listing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from safecity.errors import InputError
from safecity.store.cases import CaseStore
from safecity.store.db import connect

T0 = datetime(2026, 12, 6, 12, tzinfo=UTC)
T1 = datetime(2026, 12, 6, 14, tzinfo=UTC)


def test_postgres_cases(pg_url: str) -> None:
    engine = connect(pg_url)
    store = CaseStore(engine)
    c = store.create("2026-구로-0042", "구로경찰서", "빨간 자켓", T0, T1, ["cam-a", "cam-b"], "operator")
    assert c["since_at"] == T0 and c["cameras"] == ["cam-a", "cam-b"]
    with pytest.raises(InputError, match="already exists"):
        store.create("2026-구로-0042", "구로경찰서", "again", T0, T1, ["cam-a"], "operator")
    store.add_item(c["id"], "track", "cam-a-1-1000", "cam-a", "operator")
    got = store.add_item(c["id"], "track", "cam-a-1-1000", "cam-a", "operator")
    assert [(i["kind"], i["ref"]) for i in got["items"]] == [("track", "cam-a-1-1000")]
    assert [r["number"] for r in store.list({"cam-a", "cam-b", "cam-c"})] == ["2026-구로-0042"]
    assert store.list({"cam-a"}) == []
    engine.dispose()
