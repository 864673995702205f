"""Composition root: services from settings, alert sinks, close."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from safecity.errors import ConfigError, InputError
from safecity.monitor.runtime.local import MonitorRuntime
from safecity.service import (
    RuntimeChoice,
    build_outputs,
    build_services,
    live_cameras_from_config,
    masks_from_config,
)
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


def test_sweep_keeps_open_events_and_exports_and_caps_each_camera(tmp_path: Path) -> None:
    """Retention by size per camera (issue 11, item 7): the camera's cap from ``media_max_mb``; media of
    an open event or of an evidence export is never deleted, a closed event's is."""
    import os
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from safecity.store.schema import events, evidence_exports

    (tmp_path / "v.mp4").write_bytes(b"")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "outputs: {media_dir: media}\ncameras:\n"
        "  - id: busy\n    source: v.mp4\n    media_max_mb: 0.003\n"
        "    liftable_privacy_masks: [[[0, 0], [0.5, 0], [0.5, 0.5]]]\n"
        "  - id: quiet\n    source: v.mp4\n",
        encoding="utf-8",
    )
    services = build_services(Settings(home=tmp_path / "home"), cfg)
    try:
        assert services.camera_max_bytes == {"busy": 3000}
        assert services.liftable_masks == {"busy": [[(0.0, 0.0), (0.5, 0.0), (0.5, 0.5)]]}
        now = 1_800_000_000.0
        root = services.media_root
        for i, name in enumerate(["open", "closed", "exported", "recent", "newest"]):
            p = root / "busy" / f"{name}.mp4"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(b"x" * 1000)
            os.utime(p, (now - 3600 * (10 - i), now - 3600 * (10 - i)))
        q = root / "quiet" / "old.mp4"
        q.parent.mkdir()
        q.write_bytes(b"x" * 5000)
        os.utime(q, (now - 86400, now - 86400))
        t = datetime.fromtimestamp(now, UTC)
        with services.engine.begin() as c:
            for uid, state in (("open", "new"), ("closed", "closed")):
                c.execute(
                    insert(events).values(
                        uid=uid,
                        camera_key="busy",
                        type="intrusion",
                        severity=2,
                        start_at=t,
                        state=state,
                        clip_path=f"busy/{uid}.mp4",
                        updated_at=t,
                    )
                )
            c.execute(
                insert(evidence_exports).values(
                    export_id="x1",
                    created_at=t,
                    username="kim",
                    reason="police request",
                    camera_key="busy",
                    start_at=t,
                    end_at=t,
                    path="p",
                    manifest_sha256="0" * 64,
                    media=["busy/exported.mp4"],
                )
            )
        gone = services.sweep_media(30, 10**9, now=now)
        # busy holds 5000 bytes, cap 3000: the two oldest deletable ones go; open and exported stay
        assert sorted(p.name for p in gone) == ["closed.mp4", "recent.mp4"]
        assert {p.name for p in (root / "busy").iterdir()} == {"open.mp4", "exported.mp4", "newest.mp4"}
        assert q.exists()  # another camera, no cap of its own
    finally:
        services.close()


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (RuntimeChoice(backend="k8s"), "must be 'local' or 'ray'"),  # unknown backend
        (RuntimeChoice(workers=0), "--workers must be at least 1"),
        (RuntimeChoice(ray_address="10.0.0.1:6379"), "--ray-address needs --backend ray"),
        (RuntimeChoice(backend="ray", cameras_per_actor=0), "--cameras-per-actor must be at least 1"),
    ],
)
def test_runtime_choice_check_names_the_bad_option(choice: RuntimeChoice, message: str) -> None:
    with pytest.raises(InputError, match=message):
        choice.check()


def test_build_outputs_without_store_opens_no_database_but_builds_alerts(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", webhook_urls=["http://127.0.0.1:9/hook"])
    out = build_outputs(settings, store=False)
    try:
        assert out.engine is None and out.events is None
        assert [type(s).__name__ for s in out.sinks] == ["WebhookSink"]
        assert out.media_root == tmp_path / "home" / "media"
        assert not (tmp_path / "home" / "safecity.db").exists()
    finally:
        out.close()


def test_serve_and_monitor_share_the_outputs(tmp_path: Path) -> None:
    """build_services (serve) is built on build_outputs (monitor): same store first, then the alerts."""
    settings = Settings(home=tmp_path, webhook_urls=["http://127.0.0.1:9/hook"])
    services = build_services(settings)
    try:
        assert [type(s).__name__ for s in services.sinks] == ["WebhookSink"]
        assert str(services.engine.url) == settings.db_url
    finally:
        services.close()


def test_console_follows_a_changed_config_file(tmp_path: Path) -> None:
    """serve builds a ConfigWatcher; an applied change also reaches the console's masks (same mapping)."""
    from safecity.monitor.config.model import load_monitor_config

    (tmp_path / "v.mp4").write_bytes(b"")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("cameras:\n  - id: gate\n    name: Gate\n    source: v.mp4\n", encoding="utf-8")
    services = build_services(Settings(home=tmp_path / "home"), cfg)
    try:
        assert services.config_watcher is not None and services.config_watcher.path == cfg
        masks = services.privacy_masks
        assert masks == {}
        cfg.write_text(
            "cameras:\n  - id: gate\n    name: 정문\n    source: v.mp4\n"
            "    privacy_masks: [[[0, 0], [0.5, 0], [0.5, 0.5]]]\n",
            encoding="utf-8",
        )
        services.apply_config(load_monitor_config(cfg))
        assert masks == {"gate": [[(0.0, 0.0), (0.5, 0.0), (0.5, 0.5)]]}  # the very mapping the tiles use
        assert services.live_cameras["gate"].name == "정문"
        assert services.events.policy.action("gate", "line_crossing", 2, None, datetime.now(UTC)) == "record"
        cfg.write_text(  # the alert policy follows the file too (issue 10)
            "timezone: Europe/Berlin\ncameras:\n  - id: gate\n    name: 정문\n    source: v.mp4\n"
            "policy:\n  window_s: 30\n  rules: [{types: [line_crossing], action: ignore}]\n",
            encoding="utf-8",
        )
        services.apply_config(load_monitor_config(cfg))
        assert services.events.policy.window_s == 30 and services.alert_policy.window_s == 30
        assert services.events.policy.action("gate", "line_crossing", 2, None, datetime.now(UTC)) == "ignore"
        assert str(services.events.policy.tz) == "Europe/Berlin"
    finally:
        services.close()
