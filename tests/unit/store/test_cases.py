"""CaseStore (safecity.store.cases) on SQLite: create, items, listing by the user's cameras."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from safecity.errors import InputError
from safecity.store.cases import CaseStore
from safecity.store.db import connect

T0 = datetime(2026, 12, 6, 12, tzinfo=UTC)
T1 = datetime(2026, 12, 6, 13, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> CaseStore:
    return CaseStore(connect(f"sqlite:///{tmp_path / 'db.sqlite'}"), clock=lambda: 1_790_000_000.0)


def test_items_are_collected_once_and_only_for_the_case_cameras(store: CaseStore) -> None:
    c = store.create(" 2026-0042 ", "구로경찰서", "theft", T0, T1, ["b", "a", "a"], "op")
    assert c["number"] == "2026-0042" and c["cameras"] == ["a", "b"] and c["created_by"] == "op"
    store.add_item(c["id"], "track", "a-1-100", "a", "op", note=" red jacket ")
    out = store.add_item(c["id"], "track", "a-1-100", "a", "op")  # again: nothing changes
    assert [(i["kind"], i["ref"], i["note"]) for i in out["items"]] == [("track", "a-1-100", "red jacket")]
    with pytest.raises(InputError, match="not one of case"):
        store.add_item(c["id"], "event", "x", "z", "op")
    with pytest.raises(InputError, match="unknown item kind"):
        store.add_item(c["id"], "photo", "x", "a", "op")
    with pytest.raises(InputError, match="no case"):
        store.add_item(999, "track", "x", "a", "op")
    assert [r["number"] for r in store.list({"a", "b"})] == ["2026-0042"]
    assert store.list({"a"}) == []  # a user who may not see camera b does not see the case
    store.set_export(c["id"], "exp-1")
    got = store.get(c["id"])
    assert got is not None and got["export_id"] == "exp-1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", "agency", "why", T0, T1, ["a"]), "case number"),
        (("n1", " ", "why", T0, T1, ["a"]), "agency must be"),
        (("n1", "agency", "why", T1, T0, ["a"]), "until must be after since"),
        (("n1", "agency", "why", T0, T1, []), "1 to 50 cameras"),
        (("n1", "agency", "why", T0.replace(tzinfo=None), T1, ["a"]), "timezone-aware"),
    ],
)
def test_bad_cases_say_what_is_expected(store: CaseStore, args: tuple[object, ...], message: str) -> None:
    with pytest.raises(InputError, match=message):
        store.create(*args, "op")  # type: ignore[arg-type]
    assert store.list() == []


def test_a_taken_number_is_refused(store: CaseStore) -> None:
    store.create("n1", "agency", "why", T0, T1, ["a"], "op")
    with pytest.raises(InputError, match="already exists"):
        store.create("n1", "agency", "why", T0, T1, ["a"], "op")
