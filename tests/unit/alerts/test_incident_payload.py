"""Alert payload v2: incident new/update/end from the event store's writer and operator actions; the docs."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from safecity.alerts.incident_payload import IncidentPayload, IncidentPublisher
from safecity.alerts.mqtt import MqttSink
from safecity.alerts.webhook import WebhookSink
from safecity.monitor.types import Event
from safecity.store.db import connect
from safecity.store.events import EventStore
from safecity.store.incident_store import IncidentStore

DOC = Path(__file__).resolve().parents[3] / "docs" / "alerts.md"
EPOCH = 1_764_000_000.0


class Collect:
    def __init__(self) -> None:
        self.got: list[IncidentPayload] = []

    def publish_incident(self, payload: IncidentPayload) -> None:
        self.got.append(payload)


def _ev(uid: str, t: float, sev: int = 3) -> Event:
    return Event(uid, "intrusion", "cam1", t, t, severity=sev, zone="gate", track_ids=(1,),
                 object_class="person", box_frac=(0.1, 0.1, 0.2, 0.2))  # fmt: skip


def test_incident_messages_follow_the_store(sqlite_url: str, tmp_path: Path) -> None:
    engine = connect(sqlite_url)
    store = EventStore(engine, spool_dir=tmp_path / "spool", epoch_s=EPOCH)
    sink = Collect()
    store.incident_listeners.append(IncidentPublisher(engine, [sink]))
    a = _ev("a", 0.0)
    store.publish("start", a)
    assert store.flush(10)
    store.publish("update", replace(a, last_s=2.0, severity=5))
    store.publish("start", _ev("b", 3.0))
    assert store.flush(10)
    inc_id = sink.got[0].incident_id
    IncidentStore(engine).close(inc_id, "kim", "done")
    store.notify_incidents([inc_id])
    store.close()
    engine.dispose()
    assert [p.type for p in sink.got] == ["new", "update", "end"]
    assert sink.got[0].event_count == 1 and sink.got[0].needs_ack and sink.got[0].best_event_id == "a"
    assert sink.got[1].event_count == 2 and sink.got[1].severity == 5
    assert sink.got[2].closed_reason == "operator" and sink.got[2].state == "closed"
    assert {p.incident_id for p in sink.got} == {inc_id}


def test_sinks_send_the_versions_asked_for() -> None:
    both = MqttSink("127.0.0.1", 1883, topic_prefix="g", start=False)
    v1 = MqttSink("127.0.0.1", 1883, topic_prefix="g", start=False, payload_versions=(1,))
    payload = IncidentPayload.model_validate_json(_docs_examples()[0])
    for sink in (both, v1):
        sink.publish_incident(payload)
        sink.publish("start", _ev("x", 0.0))
    assert (both.backlog, v1.backlog) == (2, 1)
    hook = WebhookSink(["http://127.0.0.1:9/h"], start=False, payload_versions=(2,))
    hook.publish("start", _ev("x", 0.0))
    assert hook.flush(0.05)  # version 1 is not sent: nothing queued
    hook.publish_incident(payload)
    assert not hook.flush(0.05)  # the v2 message waits (the sender is not started)
    hook.close(0.1)


def _docs_examples() -> list[str]:
    return re.findall(r"<!-- example-v2 -->\s*```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_docs_schema_and_examples_match_the_v2_model() -> None:
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"<!-- schema-v2:begin -->\s*```json\n(.*?)```\s*<!-- schema-v2:end -->", text, re.S)
    assert m, "docs/alerts.md must hold the generated v2 JSON Schema between schema-v2 markers"
    assert json.loads(m.group(1)) == IncidentPayload.model_json_schema()
    types = [IncidentPayload.model_validate_json(e).type for e in _docs_examples()]
    assert types == ["new", "update", "end"]


def test_payload_versions_setting(tmp_path: Path) -> None:
    import pytest

    from safecity.settings import Settings

    assert Settings(home=tmp_path).alert_payload_versions == [1, 2]
    assert Settings(home=tmp_path, alert_payload_versions="2").alert_payload_versions == [2]  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="less than or equal to 2"):
        Settings(home=tmp_path, alert_payload_versions="1,3")  # type: ignore[arg-type]
