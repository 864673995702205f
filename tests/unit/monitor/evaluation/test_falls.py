"""The fall rule on real recorded falls (GMDCSA24, test-only shared data; tests/data/labels/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from safecity.monitor.evaluation.suite import evaluate_labels

LABELS = Path(__file__).resolve().parents[3] / "data" / "labels"

pytestmark = pytest.mark.needs_shared_data


@pytest.mark.parametrize("clip", ["S1-Fall-13", "S2-Fall-12", "S2-Fall-13"])
def test_each_real_fall_is_found_once_while_the_person_still_lies_in_view(clip: str) -> None:
    report = evaluate_labels(LABELS / f"falls-{clip}.yaml")
    score = report.events["fall"]
    assert (score.tp, score.fp, score.fn, score.duplicates) == (1, 0, 0, 0), report.predicted
    (truth,) = report.truth
    (event,) = report.predicted
    # inside the KISA window, and raised before the clip ends (the person is still on the floor)
    assert truth.start_s - 2.0 <= event.start_s <= truth.start_s + 10.0
    assert event.start_s < report.duration_s


def test_no_fall_on_the_daily_activity_clip() -> None:
    report = evaluate_labels(LABELS / "falls-S2-ADL-23.yaml")  # sitting on a bed, eating
    assert report.predicted == () and report.events["fall"].fp == 0
