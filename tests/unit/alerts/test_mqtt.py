"""MqttSink without a broker: configuration checks, topic escaping, bounded queue (the broker tests are in
tests/integration/test_alerts_mqtt.py and test_outage.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from safecity.alerts.mqtt import MqttSink, topic_part
from safecity.errors import ConfigError
from safecity.monitor.types import Event
from safecity.store.spool import Spool


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cam1", "cam1"),  # plain
        ("gate/1", "gate_1"),  # a level separator
        ("a+b#c", "a_b_c"),  # wildcards are not allowed in published topics
        ("", "_"),  # empty level
        ("구로-01", "구로-01"),  # UTF-8 is fine in MQTT topics
    ],
)
def test_topic_part(name: str, expected: str) -> None:
    assert topic_part(name) == expected


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"qos": 3}, "qos must be 0, 1 or 2"),  # no such QoS
        ({"port": 0}, "port must be"),  # no such port
        ({"max_queue": 0}, "max_queue and max_inflight"),  # nothing could be queued
        ({"reconnect_s": (5, 1)}, "reconnect_s"),  # first wait longer than the longest
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        MqttSink("127.0.0.1", **{"port": 1883, **kwargs}, start=False)


def _ev(uid: str, type_: str = "intrusion") -> Event:
    return Event(uid=uid, type=type_, camera="cam1", start_s=0.0, last_s=0.0)  # type: ignore[arg-type]


def test_full_memory_queue_drops_oldest_without_spool() -> None:
    sink = MqttSink("127.0.0.1", 1883, max_queue=3, start=False)
    for i in range(5):
        sink.publish("start", _ev(f"e{i}"))
    assert sink.dropped == 2
    assert sink.backlog == 3


def test_full_memory_queue_spills_to_disk_in_order(tmp_path: Path) -> None:
    sink = MqttSink("127.0.0.1", 1883, max_queue=2, spool_dir=tmp_path, start=False)
    for i in range(5):
        sink.publish("start", _ev(f"e{i}"))
    assert (sink.dropped, sink.backlog) == (0, 5)
    spilled = [rec["payload"] for _, rec in Spool(tmp_path, lock=False).pending()]
    assert [f'"event_id":"e{i}"' in p for i, p in zip(range(2, 5), spilled, strict=True)] == [True] * 3


def test_camera_offline_also_queues_the_retained_status() -> None:
    sink = MqttSink("127.0.0.1", 1883, topic_prefix="/guro/", start=False)
    sink.publish("start", _ev("o", "camera_offline"))
    sink.publish("update", _ev("o", "camera_offline"))
    sink.publish("end", _ev("o", "camera_offline"))
    assert sink.backlog == 5  # three alerts, two status messages (offline, online)
