"""Alert sinks from settings: MQTT URL parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from safecity.alerts.setup import MqttTarget, parse_mqtt_url, sinks_from_settings
from safecity.errors import ConfigError
from safecity.settings import Settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://localhost", MqttTarget("localhost", 1883, "safecity", None, None)),  # defaults
        ("mqtt://h:1884/guro", MqttTarget("h", 1884, "guro", None, None)),  # port and prefix
        ("mqtt://u%40x:p%2F@h/a/b/", MqttTarget("h", 1883, "a/b", "u@x", "p/")),  # quoted credentials
    ],
)
def test_parse_mqtt_url(url: str, expected: MqttTarget) -> None:
    assert parse_mqtt_url(url) == expected


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("tcp://h:1883", "must look like mqtt://"),  # wrong scheme
        ("mqtt://", "must look like mqtt://"),  # no host
        ("mqtt://h:99999", "bad port"),  # port out of range
    ],
)
def test_parse_mqtt_url_rejects(url: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_mqtt_url(url)


def test_no_settings_no_sinks(tmp_path: Path) -> None:
    assert sinks_from_settings(Settings(home=tmp_path, mqtt_url=None, webhook_urls=[])) == []


def test_webhook_setting_builds_a_webhook_sink(tmp_path: Path) -> None:
    (sink,) = sinks_from_settings(Settings(home=tmp_path, webhook_urls=["http://127.0.0.1:9/x"]))
    assert type(sink).__name__ == "WebhookSink"
    sink.close(0.1)  # type: ignore[attr-defined]


def test_doctests() -> None:
    import doctest

    import safecity.alerts.mqtt
    import safecity.alerts.setup

    assert doctest.testmod(safecity.alerts.setup).failed == 0
    assert doctest.testmod(safecity.alerts.mqtt).failed == 0
