"""MqttSink against the real mosquitto started by scripts/test-services.sh."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from safecity.alerts.mqtt import MqttSink
from safecity.alerts.payload import AlertPayload
from safecity.monitor.types import Event
from safecity.store.spool import Spool

pytestmark = pytest.mark.integration


class Subscriber:
    """A paho subscriber that records (topic, payload, retain) of everything it receives.

    With ``client_id`` set it uses a persistent session (clean_session=False), so a broker with
    persistence keeps its QoS 1 messages while it is away.
    """

    def __init__(self, host: str, port: int, topic: str, *, client_id: str | None = None) -> None:
        self.messages: list[tuple[str, str, bool]] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"sub-{uuid.uuid4().hex[:8]}",
            clean_session=client_id is None,
        )
        self.client.reconnect_delay_set(1, 2)
        self.topic = topic

        def on_connect(c: mqtt.Client, _u: object, _f: object, _rc: object, _p: object) -> None:
            c.subscribe(topic, qos=1)

        def on_subscribe(*_a: object) -> None:
            self.subscribed.set()

        def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            with self.lock:
                self.messages.append((msg.topic, msg.payload.decode(), bool(msg.retain)))

        self.client.on_connect = on_connect
        self.client.on_subscribe = on_subscribe
        self.client.on_message = on_message
        self.client.connect_async(host, port)
        self.client.loop_start()
        assert self.subscribed.wait(10), f"subscriber could not subscribe at {host}:{port}"

    def wait_for(self, n: int, timeout_s: float = 20.0) -> list[tuple[str, str, bool]]:
        """Messages received once there are ``n`` (or whatever arrived when ``timeout_s`` ran out)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    break
            time.sleep(0.02)
        with self.lock:
            return list(self.messages)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _event(uid: str, **kw: object) -> Event:
    base: dict[str, object] = {
        "uid": uid,
        "type": "intrusion",
        "camera": "cam/1",
        "start_s": 1e9,
        "last_s": 1e9,
    }
    base.update(kw)
    return Event(**base)  # type: ignore[arg-type]


def test_alerts_and_camera_status_reach_a_subscriber(mqtt_broker: tuple[str, int]) -> None:
    host, port = mqtt_broker
    prefix = f"t{uuid.uuid4().hex[:8]}/safecity"
    sub = Subscriber(host, port, f"{prefix}/#")
    sink = MqttSink(host, port, topic_prefix=prefix)
    ev = _event("e1", zone="gate", severity=3)
    sink.publish("start", ev)
    sink.publish("update", replace(ev, last_s=1e9 + 5, severity=5))
    sink.publish("end", replace(ev, last_s=1e9 + 9, end_s=1e9 + 9, severity=5))
    off = _event("off1", type="camera_offline", camera="cam2", severity=4, detail={"reason": "timeout"})
    sink.publish("start", off)
    sink.publish("end", replace(off, last_s=1e9 + 30, end_s=1e9 + 30))
    assert sink.flush(10)
    got = sub.wait_for(7)
    sink.close()
    sub.close()
    topics = [t for t, _, _ in got]
    assert topics == [
        f"{prefix}/events/cam_1/intrusion",  # "/" in the camera id is escaped
        f"{prefix}/events/cam_1/intrusion",
        f"{prefix}/events/cam_1/intrusion",
        f"{prefix}/events/cam2/camera_offline",
        f"{prefix}/cameras/cam2/status",
        f"{prefix}/events/cam2/camera_offline",
        f"{prefix}/cameras/cam2/status",
    ]
    payloads = [AlertPayload.model_validate_json(p) for t, p, _ in got if "/events/" in t]
    assert [(p.event_id, p.type) for p in payloads] == [
        ("e1", "new"),
        ("e1", "update"),
        ("e1", "end"),
        ("off1", "new"),
        ("off1", "end"),
    ]
    assert payloads[1].before is not None and payloads[1].before.severity == 3
    assert payloads[1].after is not None and payloads[1].after.severity == 5
    assert [p for t, p, _ in got if t.endswith("/status")] == ["offline", "online"]


def test_camera_status_is_retained_for_late_subscribers(mqtt_broker: tuple[str, int]) -> None:
    host, port = mqtt_broker
    prefix = f"t{uuid.uuid4().hex[:8]}"
    sink = MqttSink(host, port, topic_prefix=prefix)
    sink.publish("start", _event("off", type="camera_offline", camera="cam7"))
    assert sink.flush(10)
    sink.close()
    late = Subscriber(host, port, f"{prefix}/cameras/+/status")
    got = late.wait_for(1)
    late.close()
    assert got == [(f"{prefix}/cameras/cam7/status", "offline", True)]
    cleanup = mqtt.Client(CallbackAPIVersion.VERSION2)  # clear the retained message
    cleanup.connect(host, port)
    cleanup.loop_start()
    cleanup.publish(f"{prefix}/cameras/cam7/status", b"", qos=1, retain=True).wait_for_publish(5)
    cleanup.disconnect()
    cleanup.loop_stop()


def test_broker_unreachable_spills_to_disk_and_a_later_sink_sends_it(
    tmp_path: Path, mqtt_broker: tuple[str, int]
) -> None:
    host, port = mqtt_broker
    with socket.socket() as s:  # a port nobody listens on: the broker is "down"
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    prefix = f"t{uuid.uuid4().hex[:8]}"
    spool = tmp_path / "mq"
    sink = MqttSink(host, dead_port, topic_prefix=prefix, max_queue=1, max_inflight=1, spool_dir=spool)
    for i in range(10):
        sink.publish("start", _event(f"e{i}"))
    assert not sink.flush(0.3)
    assert sink.backlog == 10  # 1 handed to paho, 1 in memory, the rest on disk
    sink.close(0.1)
    spooled = len(Spool(spool, lock=False))
    assert spooled >= 8
    # The next run (same spool folder) reaches the broker and sends what was spilled, in order.
    sub = Subscriber(host, port, f"{prefix}/#")
    again = MqttSink(host, port, topic_prefix=prefix, spool_dir=spool)
    assert again.flush(10)
    got = sub.wait_for(spooled)
    again.close()
    sub.close()
    ids = [AlertPayload.model_validate_json(p).event_id for _, p, _ in got]
    assert ids == [f"e{i}" for i in range(10 - spooled, 10)]
