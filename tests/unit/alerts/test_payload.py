"""Alert payload v1: new/update/end with before/after, and the JSON Schema published in docs/alerts.md."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from safecity.alerts.payload import AlertPayload, PayloadBuilder
from safecity.monitor.types import Event

DOC = Path(__file__).resolve().parents[3] / "docs" / "alerts.md"


def _event(**kw: object) -> Event:
    base: dict[str, object] = {
        "uid": "u1",
        "type": "loitering",
        "camera": "cam1",
        "start_s": 5.0,
        "last_s": 5.0,
    }
    base.update(kw)
    return Event(**base)  # type: ignore[arg-type]


def test_new_update_end_chain_before_and_after() -> None:
    b = PayloadBuilder(epoch_s=1_700_000_000.0)
    ev = _event(severity=2, zone="park")
    new = b.build("start", ev)
    upd = b.build("update", replace(ev, last_s=35.0, severity=4, detail={"dwell_s": 30.0}))
    end = b.build("end", replace(ev, last_s=40.0, end_s=40.0, severity=4))
    assert (new.type, upd.type, end.type) == ("new", "update", "end")
    assert new.before is None and new.after is not None
    assert upd.before == new.after
    assert upd.after is not None and upd.after.severity == 4 and upd.after.detail == {"dwell_s": 30.0}
    assert end.before == upd.after
    assert end.after is not None
    assert end.after.end_time == datetime.fromtimestamp(1_700_000_040.0, UTC)
    assert new.after.start_time == datetime.fromtimestamp(1_700_000_005.0, UTC)


def test_state_is_forgotten_after_end() -> None:
    b = PayloadBuilder()
    b.build("start", _event())
    b.build("end", _event(end_s=6.0, last_s=6.0))
    assert b.build("update", _event(last_s=7.0)).before is None


def test_live_state_is_bounded() -> None:
    b = PayloadBuilder(max_events=2)
    for uid in ("a", "b", "c"):
        b.build("start", _event(uid=uid))
    assert b.build("update", _event(uid="a")).before is None  # oldest forgotten
    assert b.build("update", _event(uid="c")).before is not None


def test_payload_round_trips_as_json() -> None:
    p = PayloadBuilder().build("start", _event(type="camera_offline", detail={"reason": "timeout"}))
    again = AlertPayload.model_validate_json(p.model_dump_json())
    assert again == p
    assert json.loads(p.model_dump_json())["version"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": 2}, "version"),  # unknown contract version
        ({"type": "start"}, "type"),  # kinds are new/update/end on the wire
        ({"event_type": "party"}, "event_type"),  # not an event type
        ({"severity": 9}, "severity"),  # 1..5
        ({"extra": 1}, "extra"),  # unknown fields are refused
    ],
)
def test_payload_validation_rejects(change: dict[str, object], field: str) -> None:
    good = json.loads(PayloadBuilder().build("start", _event()).model_dump_json())
    with pytest.raises(ValidationError, match=field):
        AlertPayload.model_validate({**good, **change})


def test_docs_schema_matches_the_model() -> None:
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"<!-- schema:begin -->\s*```json\n(.*?)```\s*<!-- schema:end -->", text, re.S)
    assert m, "docs/alerts.md must hold the generated JSON Schema between schema markers"
    assert json.loads(m.group(1)) == AlertPayload.model_json_schema()


def test_docs_examples_are_valid_payloads() -> None:
    text = DOC.read_text(encoding="utf-8")
    examples = re.findall(r"<!-- example -->\s*```json\n(.*?)```", text, re.S)
    assert len(examples) >= 5  # new, update, end, camera offline, camera online
    types = [AlertPayload.model_validate_json(e).type for e in examples]
    assert {"new", "update", "end"} <= set(types)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["update", "end"])), max_size=30))
def test_before_is_always_the_last_after_sent_for_that_event(steps: list[tuple[str, str]]) -> None:
    b = PayloadBuilder()
    last: dict[str, object] = {}
    t = 0.0
    for uid, kind in [(u, "start") for u in "abc"] + steps:
        t += 1.0
        if kind == "start" or uid in last:
            end = t if kind == "end" else None
            p = b.build(kind, _event(uid=uid, last_s=t, end_s=end, severity=1 + int(t) % 5))  # type: ignore[arg-type]
            assert p.before == (None if kind == "start" else last[uid])
            assert p.after is not None and p.after.severity == 1 + int(t) % 5
            if kind == "end":
                del last[uid]
            else:
                last[uid] = p.after


def test_file_relative_times_are_offset_by_the_builder_start() -> None:
    import time

    before = time.time()
    b = PayloadBuilder()
    after = time.time()
    p = b.build("start", _event(start_s=3.0, last_s=3.0))
    assert p.after is not None
    assert before + 3.0 - 1e-3 <= p.after.start_time.timestamp() <= after + 3.0 + 1e-3
