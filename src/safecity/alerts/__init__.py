"""Alerts: MQTT and webhook sinks sending the versioned :class:`AlertPayload` (see ``docs/alerts.md``).

paho-mqtt and httpx are imported only when a sink is used (``safecity[web]`` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from safecity.alerts.payload import AlertPayload, EventState, PayloadBuilder

if TYPE_CHECKING:
    from safecity.alerts.mqtt import MqttSink
    from safecity.alerts.webhook import WebhookSink

__all__ = ["AlertPayload", "EventState", "MqttSink", "PayloadBuilder", "WebhookSink"]


def __getattr__(name: str) -> Any:
    if name == "MqttSink":
        from safecity.alerts.mqtt import MqttSink

        return MqttSink
    if name == "WebhookSink":
        from safecity.alerts.webhook import WebhookSink

        return WebhookSink
    raise AttributeError(f"module 'safecity.alerts' has no attribute {name!r}")
