"""Composition root: builds the store, event store, alert sinks and monitoring runtime.

Everything the console (or any other front end) needs is built here from :class:`Settings` and an
optional monitoring config, and handed over as one :class:`Services` value; nothing else in
safecity wires components together. Heavy modules are imported inside :func:`build_services`.

Snapshots and clips are written by the runtime's worker processes (each owns a
:class:`~safecity.media.MediaRecorder` under ``media_root``, fed with the frames it analyses); the event
store records the same deterministic paths (:func:`safecity.media.media_paths`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safecity.errors import ConfigError
from safecity.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from safecity.monitor.types import EventSink, MonitorService
    from safecity.store.events import EventStore

__all__ = [
    "LiveCamera",
    "Polygon",
    "Services",
    "build_services",
    "live_cameras_from_config",
    "masks_from_config",
]

log = logging.getLogger(__name__)

Polygon = Sequence[tuple[float, float]]


@dataclass(frozen=True, slots=True)
class LiveCamera:
    """A monitored camera as the console shows it (from the monitoring config)."""

    key: str
    name: str
    group: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass
class Services:
    """The running parts of one safecity process.

    Attributes:
        settings: deployment settings it was built from.
        engine: migrated store engine.
        events: the event store (an EventSink plus query/acknowledge helpers).
        media_root: where snapshots and clips live (the runtime's workers write them).
        sinks: alert sinks built from the settings (MQTT, webhooks).
        monitor: the monitoring runtime, or None (console only: no live tiles).
        privacy_masks: camera key -> polygons (image fractions) blacked out in every live frame.
        live_cameras: camera key -> name, group and position of each monitored camera.
        retention: (max days, max bytes) of snapshots and clips, enforced hourly while started.
        camera_max_bytes: camera key -> size cap of that camera's snapshots and clips (``media_max_mb``).
        liftable_masks: camera key -> privacy polygons that a permitted user may lift for a while (live
            view only; recordings keep them masked).
    """

    settings: Settings
    engine: Engine
    events: EventStore
    media_root: Path
    sinks: list[EventSink] = field(default_factory=list)
    monitor: MonitorService | None = None
    privacy_masks: Mapping[str, Sequence[Polygon]] = field(default_factory=dict)
    live_cameras: Mapping[str, LiveCamera] = field(default_factory=dict)
    retention: tuple[float, int] | None = None
    camera_max_bytes: Mapping[str, int] = field(default_factory=dict)
    liftable_masks: Mapping[str, Sequence[Polygon]] = field(default_factory=dict)
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _sweeper: threading.Event | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the monitoring runtime (if any) and the hourly media retention."""
        start = getattr(self.monitor, "start", None)
        if callable(start):
            start()
        if self.retention is not None and self._sweeper is None:
            self._sweeper = threading.Event()
            stop = self._sweeper
            threading.Thread(
                target=self._sweep, args=(stop, *self.retention), name="safecity-retention", daemon=True
            ).start()
            self._closers.append(stop.set)

    def _sweep(
        self, stop: threading.Event, max_days: float, max_bytes: int, period_s: float = 3600.0
    ) -> None:
        while True:
            try:
                removed = self.sweep_media(max_days, max_bytes)
                if removed:
                    log.info("retention: removed %d snapshot/clip files", len(removed))
            except Exception:  # retention must not take the console down
                log.exception("media retention failed")
            if stop.wait(period_s):
                return

    def sweep_media(self, max_days: float, max_bytes: int, *, now: float | None = None) -> list[Path]:
        """One retention pass: by age, each camera's cap, the total cap; media of open events and of
        evidence exports is kept (:func:`safecity.store.retention.protected_media`)."""
        from safecity.media import enforce_retention
        from safecity.store.retention import protected_media

        return enforce_retention(
            self.media_root,
            max_days,
            max_bytes,
            camera_max_bytes=self.camera_max_bytes,
            keep=protected_media(self.engine),
            now=now,
        )

    def close(self) -> None:
        """Stop the runtime, close sinks and dispose of the engine (each step even if one fails)."""
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception:  # every part must get its chance to close
                log.exception("error while closing %r", closer)
        self._closers.clear()


def masks_from_config(config: Any, key: str = "privacy_masks") -> dict[str, list[list[tuple[float, float]]]]:
    """Camera id -> privacy-mask polygons (``key``: ``privacy_masks`` or ``liftable_privacy_masks``)
    from a ``MonitorConfig`` (empty lists omitted)."""
    out: dict[str, list[list[tuple[float, float]]]] = {}
    for cam in getattr(config, "cameras", ()):
        polys = []
        for mask in getattr(cam, key, ()) or ():
            points = getattr(mask, "polygon", mask)
            polys.append([(float(x), float(y)) for x, y in points])
        if polys:
            out[str(cam.id)] = polys
    return out


def live_cameras_from_config(config: Any) -> dict[str, LiveCamera]:
    """Camera id -> :class:`LiveCamera` for the enabled cameras of a ``MonitorConfig``."""
    out: dict[str, LiveCamera] = {}
    for cam in getattr(config, "cameras", ()):
        if not getattr(cam, "enabled", True):
            continue
        key = str(cam.id)
        out[key] = LiveCamera(key, cam.name or key, cam.group, cam.lat, cam.lon)
    return out


def _alert_sinks(settings: Settings) -> list[Any]:
    sinks: list[Any] = []
    if settings.mqtt_url:
        from urllib.parse import urlsplit

        from safecity.alerts import MqttSink

        parts = urlsplit(settings.mqtt_url)
        if parts.scheme != "mqtt" or not parts.hostname:
            raise ConfigError(
                "SAFECITY_MQTT_URL must look like mqtt://host:1883/topic-prefix, "
                f"but got {settings.mqtt_url!r}"
            )
        sinks.append(
            MqttSink(
                parts.hostname,
                parts.port or 1883,
                topic_prefix=parts.path.strip("/") or "safecity",
                username=parts.username,
                password=parts.password,
                spool_dir=settings.home / "spool" / "mqtt",
            )
        )
    if settings.webhook_urls:
        from safecity.alerts import WebhookSink

        sinks.append(WebhookSink(list(settings.webhook_urls)))
    return sinks


def build_services(
    settings: Settings, monitor_config_path: Path | None = None, *, replay: bool = False, workers: int = 2
) -> Services:
    """Build every service from ``settings``; with a monitoring config also the runtime.

    With ``replay`` video-file cameras loop and play at their own frame rate (demo, tests), so
    they behave like live cameras; ``workers`` is the runtime's process count.

    The runtime is created but not started: call :meth:`Services.start` (the console does so
    at application start-up) and :meth:`Services.close` at the end.

    Raises:
        ConfigError: a setting or the monitoring config is invalid.
        StoreError: the database cannot be reached or migrated.
    """
    from safecity.store.db import connect
    from safecity.store.events import EventStore

    config: Any = None
    media_root = settings.home / "media"
    retention_days = settings.media_retention_days
    if monitor_config_path is not None:
        from safecity.monitor.config.model import load_monitor_config

        config = load_monitor_config(monitor_config_path)
        outputs = config.outputs
        if outputs.media_dir is not None:
            media_dir = Path(outputs.media_dir)
            media_root = media_dir if media_dir.is_absolute() else monitor_config_path.parent / media_dir
        retention_days = min(retention_days, float(outputs.retention_days))
    engine = connect(settings.db_url)
    events = EventStore(engine, spool_dir=settings.home / "spool" / "events", media_root=media_root)
    services = Services(settings=settings, engine=engine, events=events, media_root=media_root)
    services._closers.append(engine.dispose)

    def close_events() -> None:
        events.close()

    services._closers.append(close_events)
    services.retention = (retention_days, settings.media_max_bytes)
    try:
        services.sinks = _alert_sinks(settings)
        for sink in services.sinks:
            closer = getattr(sink, "close", None)
            if callable(closer):
                services._closers.append(closer)
        if config is not None:
            from safecity.monitor.runtime.local import MonitorRuntime, RuntimeOptions

            services.privacy_masks = masks_from_config(config)
            services.liftable_masks = masks_from_config(config, "liftable_privacy_masks")
            services.camera_max_bytes = {
                str(c.id): int(c.media_max_mb * 1e6) for c in config.cameras if c.media_max_mb is not None
            }
            services.live_cameras = live_cameras_from_config(config)
            runtime = MonitorRuntime(
                config,
                sinks=[events, *services.sinks],
                workers=workers,
                loop=replay,
                realtime=replay,
                options=RuntimeOptions(media_root=media_root),
            )
            services.monitor = runtime
            services._closers.append(runtime.stop)
    except BaseException:
        services.close()
        raise
    return services
