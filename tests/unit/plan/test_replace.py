"""Replacement: due rules, urgency order, exact knapsack within the budget, errors."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from safecity.errors import PlanningError
from safecity.plan.config import PlanConfig
from safecity.plan.replace import age_years, choose_replacements, due_reason
from safecity.registry.model import CameraRecord

TODAY = date(2024, 7, 1)
CFG = PlanConfig()


def cam(key: str, ym: str | None, mp: float | None, count: int = 1, ptz: bool = False) -> CameraRecord:
    return CameraRecord(
        camera_key=key,
        site_key=None,
        district="구로구",
        purpose="생활방범",
        count=count,
        megapixels=mp,
        ptz=ptz,
        installed_ym=ym,
        retention_days=30,
        lat=37.49,
        lon=126.88,
    )


@pytest.mark.parametrize(
    ("rec", "reason"),
    [
        (cam("a", "2015-01", 2.0), "age"),  # 9.5 years, 2 MP
        (cam("b", "2020-01", 0.41), "resolution"),  # young but 0.41 MP
        (cam("c", "2010-05", 0.41), "age+resolution"),  # both
        (cam("d", "2019-01", 2.0), None),  # 5.5 years, 2 MP: not due
        (cam("e", None, 5.0), None),  # unknown age, good resolution: not due
        (cam("f", "2017-07", 2.0), "age"),  # exactly 7 years: due
    ],
)
def test_due_reason(rec: CameraRecord, reason: str | None) -> None:
    assert due_reason(rec, TODAY, CFG) == reason


def test_age_years_unknown() -> None:
    assert age_years(None, TODAY) is None and age_years("bad", TODAY) is None


def test_choose_is_optimal_knapsack() -> None:
    recs = [
        cam("a", "2010-01", 0.41, count=3),
        cam("b", "2012-01", 2.0, count=1),
        cam("c", "2016-01", 1.3, count=2, ptz=True),
        cam("d", "2005-01", 0.41, count=1),
        cam("e", "2014-06", 2.0, count=4),
    ]
    pri = [0.2, 0.9, 0.5, 0.1, 0.7]
    budget = 12e6
    out = choose_replacements(recs, pri, budget_krw=budget, cfg=CFG, today=TODAY)
    chosen = [r for r in out if r.chosen]
    assert sum(r.cost_krw for r in chosen) <= budget
    # brute force over the due records
    best = 0.0
    for mask in itertools.product([0, 1], repeat=len(out)):
        cost = sum(r.cost_krw for r, m in zip(out, mask, strict=True) if m)
        if cost <= budget:
            best = max(best, sum(r.urgency * r.record.count for r, m in zip(out, mask, strict=True) if m))
    assert sum(r.urgency * r.record.count for r in chosen) == pytest.approx(best)
    assert [r.urgency for r in out] == sorted((r.urgency for r in out), reverse=True)
    ptz = next(r for r in out if r.record.camera_key == "c")
    assert ptz.cost_krw == 2 * CFG.camera_types["ptz"].replacement_cost_krw


@pytest.mark.parametrize(
    ("recs", "budget", "match"),
    [
        ([cam("a", "2022-01", 2.0)], 1e9, "no camera is due"),  # everything young and sharp
        ([cam("a", "2010-01", 0.41)], 1e5, "too small for one replacement"),  # budget below 1.9 M
    ],
)
def test_errors(recs: list[CameraRecord], budget: float, match: str) -> None:
    with pytest.raises(PlanningError, match=match):
        choose_replacements(recs, [0.5] * len(recs), budget_krw=budget, cfg=CFG, today=TODAY)
