"""Composition root: builds the store, event store, alert sinks and monitoring runtime.

Everything the console (or any other front end) needs is built here from :class:`Settings` and an
optional monitoring config, and handed over as one :class:`Services` value; nothing else in
safecity wires components together. ``safecity serve``/``demo`` call :func:`build_services`;
``safecity monitor`` (no console) calls the same :func:`build_outputs` (store, media, MQTT, webhooks)
and :func:`build_runtime` (local worker processes or Ray). Heavy modules are imported inside.

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

from safecity.errors import InputError
from safecity.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from safecity.monitor.types import EventSink, MonitorService
    from safecity.ptz.control import PtzControl
    from safecity.store.events import EventStore

__all__ = [
    "LiveCamera",
    "Outputs",
    "Polygon",
    "RuntimeChoice",
    "Services",
    "bound_policy",
    "build_outputs",
    "build_ptz",
    "build_runtime",
    "build_services",
    "live_cameras_from_config",
    "masks_from_config",
    "media_root_for",
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
        config_watcher: applies a changed monitoring config file while running (runtime and console).
        camera_max_bytes: camera key -> size cap of that camera's snapshots and clips (``media_max_mb``).
        liftable_masks: camera key -> privacy polygons that a permitted user may lift for a while (live
            view only; recordings keep them masked).
        ptz: the PTZ cameras of the config (ONVIF control and operator leases), or None.
        alert_policy: the config's ``policy:`` (``AlertPolicy``), or None (console only: the defaults).
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
    ptz: PtzControl | None = None
    alert_policy: Any = None
    config_watcher: Any = None
    ptz_runtime: Any = None  # safecity.ptz.runtime.PtzRuntime: patrols, analytics arming, hand-off
    tracks: Any = None  # the TrackWriter of the track index (issue 14): filled by the workers, purged by age
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _sweeper: threading.Event | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the monitoring runtime (if any), its config watcher and the hourly media retention."""
        start = getattr(self.monitor, "start", None)
        if callable(start):
            start()
        if self.ptz_runtime is not None:  # after the runtime: the drivers arm its cameras' analytics
            self.ptz_runtime.start()
            self._closers.append(self.ptz_runtime.stop)
        if self.config_watcher is not None:
            self.config_watcher.start()
            self._closers.append(self.config_watcher.stop)
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
            try:
                self.sweep_tracks(max_days)
            except Exception:  # retention must not take the console down
                log.exception("track index retention failed")
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

    def sweep_tracks(self, max_days: float, *, now: float | None = None) -> int:
        """Track index retention (like media, by age): records, thumbnails and passages last seen
        more than ``max_days`` ago; returns how many records went."""
        from safecity.search.retention import purge_tracks

        return purge_tracks(self.engine, max_days, now=now)

    def apply_config(self, config: Any) -> None:
        """Follow a monitoring config changed while running: masks, liftable masks, per-camera caps,
        camera names and the alert policy (the runtime itself is updated by the watcher through the hub).
        The mappings are changed in place, so the live-tile cache that holds them masks the next tile with
        the new masks; the event store folds its next batch with the new policy."""
        for table, new in (
            (self.privacy_masks, masks_from_config(config)),
            (self.liftable_masks, masks_from_config(config, "liftable_privacy_masks")),
            (self.camera_max_bytes, _camera_caps(config)),
            (self.live_cameras, live_cameras_from_config(config)),
        ):
            if isinstance(table, dict):
                table.clear()
                table.update(new)
        # the alert policy too: the event store's writer folds its next batch with the new one
        self.alert_policy = config.policy
        self.events.policy = bound_policy(config)
        if self.ptz_runtime is not None:  # PTZ drivers, hand-off positions and headings (ptz.runtime)
            self.ptz_runtime.update_config(config)

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


def _camera_caps(config: Any) -> dict[str, int]:
    """Camera id -> size cap in bytes of its snapshots and clips (``media_max_mb``), where set."""
    return {str(c.id): int(c.media_max_mb * 1e6) for c in config.cameras if c.media_max_mb is not None}


def live_cameras_from_config(config: Any) -> dict[str, LiveCamera]:
    """Camera id -> :class:`LiveCamera` for the enabled cameras of a ``MonitorConfig``."""
    out: dict[str, LiveCamera] = {}
    for cam in getattr(config, "cameras", ()):
        if not getattr(cam, "enabled", True):
            continue
        key = str(cam.id)
        out[key] = LiveCamera(key, cam.name or key, cam.group, cam.lat, cam.lon)
    return out


def bound_policy(config: Any = None) -> Any:
    """The incident policy the event store folds with: the config's ``policy:`` with its cameras' groups
    and time zone, or the default policy (no config)."""
    from safecity.monitor.config.policy import AlertPolicy, BoundPolicy

    if config is None:
        return BoundPolicy(AlertPolicy(), {})
    groups = {str(c.id): c.group for c in config.cameras}
    return BoundPolicy(config.policy, groups, config.timezone)


def media_root_for(settings: Settings, config: Any = None, config_path: Path | None = None) -> Path:
    """Where snapshots and clips live: the config's ``outputs.media_dir`` (relative to the config file) or
    ``<home>/media``. The one place both ``safecity serve`` and ``safecity monitor`` decide it."""
    media_dir = getattr(getattr(config, "outputs", None), "media_dir", None)
    if media_dir is None:
        return settings.home / "media"
    p = Path(media_dir)
    if p.is_absolute() or config_path is None:
        return p
    return config_path.parent / p


@dataclass(frozen=True, slots=True)
class RuntimeChoice:
    """Where the monitoring runtime runs its cameras, as the command line chose it.

    Attributes:
        backend: ``local`` (worker processes on this machine) or ``ray`` (actors on a Ray cluster).
        workers: local worker processes.
        loop: file cameras start again at their end (demo).
        realtime: file cameras play at their frame rate (demo).
        ray_address: with ``ray``: ``auto``, ``HOST:6379`` or ``ray://HOST:10001``; None starts a local Ray.
        cameras_per_actor: with ``ray``: most cameras per actor.
    """

    backend: str = "local"
    workers: int = 2
    loop: bool = False
    realtime: bool = False
    ray_address: str | None = None
    cameras_per_actor: int = 8

    def check(self) -> None:
        """Raise :class:`~safecity.errors.InputError` naming the bad choice and what is expected."""
        if self.backend not in ("local", "ray"):
            raise InputError(f"the backend must be 'local' or 'ray', got {self.backend!r}")
        if self.workers < 1:
            raise InputError(f"--workers must be at least 1, got {self.workers}")
        if self.backend != "ray" and self.ray_address is not None:
            raise InputError("--ray-address needs --backend ray; add it or drop --ray-address")
        if self.cameras_per_actor < 1:
            raise InputError(f"--cameras-per-actor must be at least 1, got {self.cameras_per_actor}")


@dataclass
class Outputs:
    """Where events go: the event store (optional), the media folder and the alert sinks, built from settings.

    Attributes:
        media_root: snapshots and clips (written by the runtime's workers).
        engine: the migrated store engine, or None without a store.
        events: the event store (an EventSink), or None without a store.
        alert_sinks: MQTT and webhook sinks from the settings.
        retention: (max days, max bytes) of snapshots and clips.
        tracks: the track index's ``TrackWriter`` (with a store), which the runtime's workers fill.
    """

    media_root: Path
    engine: Engine | None = None
    events: EventStore | None = None
    alert_sinks: list[EventSink] = field(default_factory=list)
    retention: tuple[float, int] | None = None
    tracks: Any = None
    closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def sinks(self) -> list[EventSink]:
        """Every sink events go to: the store first, then the alert sinks."""
        return [*([self.events] if self.events is not None else []), *self.alert_sinks]

    def close(self) -> None:
        """Close sinks, the event store and the engine (each step even if one fails)."""
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception:  # every part must get its chance to close
                log.exception("error while closing %r", closer)
        self.closers.clear()


def build_outputs(
    settings: Settings, config: Any = None, config_path: Path | None = None, *, store: bool = True
) -> Outputs:
    """The store, media folder and alert sinks of ``settings`` (and a monitoring config's ``outputs``).

    ``safecity serve``, ``safecity demo`` and ``safecity monitor`` all build their outputs here, so a
    monitor run and the console write to the same database and media folder and send the same alerts.

    Raises:
        ConfigError: an alert setting is invalid (nothing is left open).
        StoreError: the database cannot be reached or migrated.
    """
    from safecity.alerts.setup import sinks_from_settings

    media_root = media_root_for(settings, config, config_path)
    retention_days = settings.media_retention_days
    if config is not None:
        retention_days = min(retention_days, float(config.outputs.retention_days))
    out = Outputs(media_root=media_root, retention=(retention_days, settings.media_max_bytes))
    try:
        if store:
            from safecity.store.db import connect
            from safecity.store.events import EventStore

            engine = connect(settings.db_url)
            out.engine = engine
            out.closers.append(engine.dispose)
            from safecity.search.retention import track_writer

            out.tracks = track_writer(engine)
            out.closers.append(out.tracks.close)  # after the runtime stopped, before the engine goes
            events = EventStore(
                engine,
                spool_dir=settings.home / "spool" / "events",
                media_root=media_root,
                policy=bound_policy(config),
            )
            out.events = events

            def close_events() -> None:
                if not events.close():
                    log.warning("the event store could not flush everything; the rest waits in its spool")

            out.closers.append(close_events)
        out.alert_sinks = sinks_from_settings(settings)
        from safecity.alerts.incident_payload import IncidentPublisher, IncidentTarget

        targets = [s for s in out.alert_sinks if isinstance(s, IncidentTarget)]
        if out.events is not None and out.engine is not None and targets:
            out.events.incident_listeners.append(IncidentPublisher(out.engine, targets))
        for sink in out.alert_sinks:
            closer = getattr(sink, "close", None)
            if callable(closer):
                out.closers.append(closer)
        if out.events is not None:  # closed first (closers run in reverse): its last incident
            out.closers.remove(close_events)  # messages still reach the open alert sinks
            out.closers.append(close_events)
    except BaseException:
        out.close()
        raise
    return out


def build_runtime(
    config: Any,
    sinks: Sequence[EventSink],
    *,
    media_root: Path | None,
    choice: RuntimeChoice,
    tracks: Any = None,
) -> Any:
    """The monitoring runtime of ``config`` (created, not started), local or on Ray as ``choice`` says.

    With ``tracks`` (a ``TrackWriter``, :attr:`Outputs.tracks`) the workers summarise every track
    and the records of ended tracks go to it (the track index of forensic search).

    Raises:
        InputError: a bad choice (e.g. ``--ray-address`` without ``--backend ray``).
        ConfigError: Ray is asked for but not installed.
    """
    choice.check()
    from safecity.monitor.runtime.local import RuntimeOptions

    options = RuntimeOptions(media_root=media_root, record_tracks=tracks is not None)
    if choice.backend == "ray":
        from safecity.monitor.runtime.ray_transport import ray_runtime

        hub = ray_runtime(
            config,
            sinks=sinks,
            address=choice.ray_address,
            cameras_per_actor=choice.cameras_per_actor,
            loop=choice.loop,
            realtime=choice.realtime,
            media_root=media_root,  # shared by every node: absolute, checked when it starts
            options=options,
        )
    else:
        from safecity.monitor.runtime.local import MonitorRuntime

        hub = MonitorRuntime(
            config,
            sinks=sinks,
            workers=choice.workers,
            loop=choice.loop,
            realtime=choice.realtime,
            options=options,
        )
    if tracks is not None:
        hub.add_track_sink(tracks.publish)
    return hub


def build_ptz(
    config: Any, runtime: Any, *, control: PtzControl | None = None, engine: Engine | None = None
) -> Any:
    """The PTZ side of a monitoring runtime (created, not started): patrol drivers, analytics arming, the
    hand-off sink, and, with a store ``engine``, the system's moves in the audit chain; None when
    ``config`` has no enabled PTZ camera. ``safecity serve``/``demo`` (:func:`build_services`) and
    ``safecity monitor`` both build it here (a ``safecity.ptz.runtime.PtzRuntime``; its ``control``
    holds the ONVIF clients: close it after ``stop``).

    Raises:
        ConfigError: a PTZ camera's password variable is not set.
    """
    if control is None:
        if not any(c.ptz is not None and c.enabled for c in config.cameras):
            return None
        from safecity.ptz.control import PtzControl

        control = PtzControl.from_config(config)
    from safecity.ptz.runtime import attach_ptz

    audit = None
    if engine is not None:
        from safecity.store.audit import AuditLog

        audit = AuditLog(engine)
    return attach_ptz(control, runtime, config, audit=audit)


def build_services(
    settings: Settings,
    monitor_config_path: Path | None = None,
    *,
    replay: bool = False,
    workers: int = 2,
    choice: RuntimeChoice | None = None,
) -> Services:
    """Build every service from ``settings``; with a monitoring config also the runtime.

    With ``replay`` video-file cameras loop and play at their own frame rate (demo, tests), so
    they behave like live cameras; ``workers`` is the runtime's process count (or give a whole
    ``choice``, e.g. the Ray backend).

    The runtime is created but not started: call :meth:`Services.start` (the console does so
    at application start-up) and :meth:`Services.close` at the end.

    Raises:
        ConfigError: a setting or the monitoring config is invalid.
        StoreError: the database cannot be reached or migrated.
    """
    config: Any = None
    if monitor_config_path is not None:
        from safecity.monitor.config.model import load_monitor_config

        config = load_monitor_config(monitor_config_path)
    out = build_outputs(settings, config, monitor_config_path, store=True)
    assert out.engine is not None and out.events is not None  # store=True
    services = Services(
        settings=settings,
        engine=out.engine,
        events=out.events,
        media_root=out.media_root,
        sinks=list(out.alert_sinks),
        retention=out.retention,
        tracks=out.tracks,
    )
    services._closers.append(out.close)
    try:
        if config is not None:
            choice = choice or RuntimeChoice(workers=workers, loop=replay, realtime=replay)
            services.privacy_masks = masks_from_config(config)
            services.liftable_masks = masks_from_config(config, "liftable_privacy_masks")
            services.camera_max_bytes = _camera_caps(config)
            services.live_cameras = live_cameras_from_config(config)
            services.alert_policy = config.policy
            if any(c.ptz is not None for c in config.cameras):
                from safecity.ptz.control import PtzControl

                services.ptz = PtzControl.from_config(config)
                services._closers.append(services.ptz.close)
            runtime = build_runtime(
                config, out.sinks, media_root=out.media_root, choice=choice, tracks=out.tracks
            )
            services.monitor = runtime
            services._closers.append(runtime.stop)
            if services.ptz is not None:  # patrol drivers, analytics arming, hand-off sink (as `monitor`)
                services.ptz_runtime = build_ptz(config, runtime, control=services.ptz, engine=out.engine)
            from safecity.monitor.runtime.hub import MonitorHub
            from safecity.monitor.runtime.watch import ConfigWatcher

            if isinstance(runtime, MonitorHub) and monitor_config_path is not None:
                services.config_watcher = ConfigWatcher(
                    monitor_config_path, runtime, on_applied=services.apply_config
                )
    except BaseException:
        services.close()
        raise
    return services
