"""`safecity monitor` sends alerts: the composition root it shares with `safecity serve` wires MQTT.

A real mosquitto (scripts/test-services.sh), a paho subscriber, and `safecity monitor` as a user runs
it (a subprocess with ``SAFECITY_MQTT_URL`` set) on the first 15 s of the bundled Intel clip, where a
cyclist rides through the 'bays' zone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.integration.monitor_clips import lot_camera_config
from tests.integration.test_alerts_mqtt import Subscriber

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO / "data" / "video" / "intel-sample-videos" / "person-bicycle-car-detection.mp4"


@pytest.mark.parametrize("store", [True, False], ids=["with-store", "no-store"])
def test_monitor_publishes_mqtt_alerts(tmp_path: Path, mqtt_broker: tuple[str, int], store: bool) -> None:
    host, port = mqtt_broker
    prefix = f"t{uuid.uuid4().hex[:8]}/guro"
    sub = Subscriber(host, port, f"{prefix}/#")
    env = {
        **os.environ,
        "SAFECITY_HOME": str(tmp_path / "home"),
        "SAFECITY_MQTT_URL": f"mqtt://{host}:{port}/{prefix}",
    }
    argv = [sys.executable, "-m", "safecity.cli", "monitor", "--config", str(lot_camera_config(tmp_path))]
    argv += ["--duration", "120"] + ([] if store else ["--no-store"])
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "alerts: MqttSink" in proc.stderr  # the run says where its alerts go
        got = sub.wait_for(2, timeout_s=20)
    finally:
        sub.close()
    events = [(t, json.loads(p)) for t, p, _ in got if "/events/" in t]
    assert events, f"no alert reached the broker; stderr: {proc.stderr[-1500:]}"
    topic, payload = events[0]
    assert topic == f"{prefix}/events/lot/intrusion"
    assert payload["type"] == "new" and payload["camera"] == "lot" and payload["event_type"] == "intrusion"
    assert payload["after"]["zone"] == "bays"
    assert (tmp_path / "home" / "safecity.db").exists() == store  # --no-store opens no database
    incidents = [json.loads(p) for t, p, _ in got if t == f"{prefix}/incidents/lot"]
    if store:  # payload v2 (default on): the incident the store folded the event into
        assert incidents and incidents[0]["version"] == 2 and incidents[0]["type"] == "new", got[:5]
        assert incidents[0]["best_event_id"] == payload["event_id"] and incidents[0]["level"] == "alert"
    else:  # no store, no incidents
        assert not incidents
