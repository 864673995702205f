"""Composition root: services from settings, alert sinks, close."""

from __future__ import annotations

from pathlib import Path

import pytest

from safecity.errors import ConfigError
from safecity.monitor.runtime.local import MonitorRuntime
from safecity.service import build_services, live_cameras_from_config, masks_from_config
from safecity.settings import Settings


def test_build_services_without_monitor(tmp_path: Path) -> None:
    services = build_services(Settings(home=tmp_path))
    try:
        assert services.monitor is None and services.sinks == []
        assert services.media_root == tmp_path / "media"
        assert services.events.list_events() == []
    finally:
        services.close()
    services.close()  # twice is fine


@pytest.mark.parametrize(
    "url",
    [
        "http://broker:1883/x",  # wrong scheme
        "mqtt://",  # no host
    ],
)
def test_bad_mqtt_url_is_a_config_error(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="SAFECITY_MQTT_URL"):
        build_services(Settings(home=tmp_path, mqtt_url=url))


def test_camera_metadata_and_masks_from_monitor_config(tmp_path: Path) -> None:
    from safecity.monitor.config.model import load_monitor_config

    video = tmp_path / "v.mp4"
    video.write_bytes(b"")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "cameras:\n"
        "  - id: gate\n    name: Gate\n    source: v.mp4\n    group: west\n    lat: 37.5\n    lon: 126.9\n"
        "    privacy_masks: [[[0, 0], [0.5, 0], [0.5, 0.5]]]\n"
        "  - id: spare\n    source: v.mp4\n    enabled: false\n",
        encoding="utf-8",
    )
    config = load_monitor_config(cfg)
    cams = live_cameras_from_config(config)
    assert list(cams) == ["gate"]
    assert (cams["gate"].name, cams["gate"].group, cams["gate"].lat) == ("Gate", "west", 37.5)
    assert masks_from_config(config) == {"gate": [[(0.0, 0.0), (0.5, 0.0), (0.5, 0.5)]]}


def test_outputs_of_the_monitor_config_shape_media_and_retention(tmp_path: Path) -> None:
    (tmp_path / "v.mp4").write_bytes(b"")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "outputs: {media_dir: clips, clip_pre_s: 2, clip_post_s: 3, retention_days: 7}\n"
        "cameras:\n  - id: gate\n    source: v.mp4\n",
        encoding="utf-8",
    )
    services = build_services(Settings(home=tmp_path / "home"), cfg)
    try:
        assert services.media_root == tmp_path / "clips"  # relative to the config file
        # the workers record media under that root (no recorder, no tile feeder in the parent)
        assert isinstance(services.monitor, MonitorRuntime)
        assert services.monitor.opts.media_root == tmp_path / "clips"
        assert (services.monitor.config.outputs.clip_pre_s, services.monitor.config.outputs.clip_post_s) == (
            2,
            3,
        )
        assert services.retention == (7.0, Settings().media_max_bytes)  # the stricter of settings and config
        assert services.monitor is not None and services.monitor.cameras() == ["gate"]
    finally:
        services.close()
