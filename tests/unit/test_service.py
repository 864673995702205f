"""Composition root: services from settings, alert sinks, close."""

from __future__ import annotations

from pathlib import Path

import pytest

from safecity.errors import ConfigError
from safecity.service import build_services, live_cameras_from_config, masks_from_config
from safecity.settings import Settings


def test_build_services_without_monitor(tmp_path: Path) -> None:
    services = build_services(Settings(home=tmp_path))
    try:
        assert services.monitor is None and services.media is None and services.sinks == []
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
    from safecity.monitor.config import load_monitor_config

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


class _TileMonitor:
    """Runtime double with JPEG tiles (the feeder's subject is the hand-over, not the runtime)."""

    def __init__(self) -> None:
        import cv2
        import numpy as np

        self.tile: bytes | None = None
        self._jpg = bytes(cv2.imencode(".jpg", np.full((36, 64, 3), 90, np.uint8))[1].tobytes())

    def new_tile(self) -> None:
        self.tile = bytes(bytearray(self._jpg))  # a new object, as the runtime stores each tile

    def cameras(self) -> list[str]:
        return ["c1"]

    def latest_jpeg(self, camera: str) -> bytes | None:
        return self.tile


class _Recorder:
    def __init__(self) -> None:
        self.frames: list[tuple[str, float, tuple[int, ...]]] = []

    def add_frame(self, camera: str, t_s: float, bgr: object) -> None:
        self.frames.append((camera, t_s, getattr(bgr, "shape", ())))


def test_tile_feeder_hands_each_new_tile_once_with_the_clock() -> None:
    from safecity.service import TileFeeder

    mon, rec = _TileMonitor(), _Recorder()
    feeder = TileFeeder(mon, rec, clock=lambda: 42.0)  # type: ignore[arg-type]
    assert feeder.feed_once() == 0  # no tile yet
    mon.new_tile()
    assert feeder.feed_once() == 1
    assert feeder.feed_once() == 0  # same tile: not again
    mon.new_tile()
    assert feeder.feed_once() == 1
    assert rec.frames == [("c1", 42.0, (36, 64, 3))] * 2


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
        assert services.media is not None and (services.media.pre_s, services.media.post_s) == (2.0, 3.0)
        assert services.retention == (7.0, Settings().media_max_bytes)  # the stricter of settings and config
        assert services.monitor is not None and services.monitor.cameras() == ["gate"]
    finally:
        services.close()
