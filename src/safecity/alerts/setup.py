"""Alert sinks from deployment settings (``SAFECITY_MQTT_URL``, ``SAFECITY_WEBHOOK_URLS``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from safecity.errors import ConfigError

if TYPE_CHECKING:
    from safecity.monitor.types import EventSink
    from safecity.settings import Settings

__all__ = ["MqttTarget", "parse_mqtt_url", "sinks_from_settings"]


@dataclass(frozen=True, slots=True)
class MqttTarget:
    """Where MQTT alerts go, parsed from ``mqtt://[user[:password]@]host[:port][/topic-prefix]``."""

    host: str
    port: int
    topic_prefix: str
    username: str | None
    password: str | None


def parse_mqtt_url(url: str) -> MqttTarget:
    """Parse an MQTT URL; the port defaults to 1883 and the topic prefix to ``safecity``.

    >>> parse_mqtt_url("mqtt://alerts:pw@10.0.0.5:1884/guro/safecity")
    MqttTarget(host='10.0.0.5', port=1884, topic_prefix='guro/safecity', username='alerts', password='pw')

    Raises:
        ConfigError: not an ``mqtt://`` URL with a host, or a bad port.
    """
    parts = urlsplit(url)
    if parts.scheme != "mqtt" or not parts.hostname:
        raise ConfigError(
            f"SAFECITY_MQTT_URL must look like mqtt://host:1883/topic-prefix, got {url!r} "
            "(TLS brokers are not supported yet)"
        )
    try:
        port = parts.port or 1883
    except ValueError as exc:
        raise ConfigError(f"SAFECITY_MQTT_URL has a bad port: {url!r} ({exc})") from exc
    return MqttTarget(
        host=parts.hostname,
        port=port,
        topic_prefix=parts.path.strip("/") or "safecity",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def sinks_from_settings(settings: Settings, *, epoch_s: float = 0.0) -> list[EventSink]:
    """The MQTT and webhook sinks the settings ask for (none if neither is set), already started.

    The MQTT sink spills to ``<home>/spool/mqtt`` when its memory queue is full.
    """
    sinks: list[EventSink] = []
    if settings.mqtt_url:
        from safecity.alerts.mqtt import MqttSink

        t = parse_mqtt_url(settings.mqtt_url)
        sinks.append(
            MqttSink(
                t.host,
                t.port,
                topic_prefix=t.topic_prefix,
                username=t.username,
                password=t.password,
                epoch_s=epoch_s,
                spool_dir=Path(settings.home) / "spool" / "mqtt",
                payload_versions=settings.alert_payload_versions,
            )
        )
    if settings.webhook_urls:
        from safecity.alerts.webhook import WebhookSink

        sinks.append(
            WebhookSink(
                settings.webhook_urls, epoch_s=epoch_s, payload_versions=settings.alert_payload_versions
            )
        )
    return sinks
