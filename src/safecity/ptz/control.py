"""The PTZ cameras of one process, as the console and the runtime share them.

:class:`PtzControl` holds, per PTZ camera of the monitoring config, its ``ptz`` settings and a
:class:`~safecity.ptz.camera.PtzCamera` (connected on first use), plus the operators'
:class:`~safecity.ptz.lease.LeaseBook`. ONVIF passwords come from the environment variables that the
config names (``ptz.onvif.password_env``), never from the file.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from safecity.errors import ConfigError, PtzError, PtzUnknownPresetError
from safecity.monitor.config.model import CameraConfig, MonitorConfig
from safecity.monitor.config.ptz import PtzConfig
from safecity.ptz.camera import PtzCamera
from safecity.ptz.lease import LeaseBook

__all__ = ["PtzControl", "PtzUnit", "unit_from_config"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PtzUnit:
    """One PTZ camera: its id, display name, ``ptz`` config and ONVIF client."""

    key: str
    name: str
    config: PtzConfig
    camera: PtzCamera

    def preset_token(self, preset: str) -> str:
        """The camera's token of the configured preset ``preset`` (its ``token``, else looked up by name).

        Raises:
            PtzUnknownPresetError: ``preset`` is not configured, or the camera has no preset of that name.
        """
        try:
            cfg = self.config.preset(preset)
        except KeyError:
            known = ", ".join(p.name for p in self.config.presets) or "none"
            raise PtzUnknownPresetError(
                f"preset {preset!r} is not configured for camera {self.key}; its presets: {known}"
            ) from None
        return cfg.token if cfg.token is not None else self.camera.preset_token(cfg.name)


def unit_from_config(cam: CameraConfig, env: Mapping[str, str] | None = None) -> PtzUnit:
    """The :class:`PtzUnit` of one camera with a ``ptz`` block (no network until first use).

    Raises:
        ConfigError: the camera's password variable is not set.
    """
    assert cam.ptz is not None
    env = os.environ if env is None else env
    o = cam.ptz.onvif
    password = env.get(o.password_env)
    if password is None:
        raise ConfigError(
            f"camera {cam.id}: environment variable {o.password_env} (ptz.onvif.password_env) is "
            "not set; set it to the camera's ONVIF password before starting"
        )
    client = PtzCamera(
        o.host, o.port, o.user, password, name=cam.id, timeout_s=o.timeout_s, profile=o.profile
    )
    return PtzUnit(cam.id, cam.name or cam.id, cam.ptz, client)


class PtzControl:
    """PTZ cameras by id, and who steers which."""

    def __init__(self, units: Iterable[PtzUnit], clock: Callable[[], float] = time.time) -> None:
        self.units = {u.key: u for u in units}
        self.leases = LeaseBook(clock)
        self._warming: set[str] = set()
        self._warm_lock = threading.Lock()

    @classmethod
    def from_config(
        cls,
        config: MonitorConfig,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> PtzControl:
        """Build the cameras of ``config`` that have a ``ptz`` block (no network until first use).

        Raises:
            ConfigError: a camera's password variable is not set.
        """
        units = [unit_from_config(cam, env) for cam in config.cameras if cam.ptz is not None and cam.enabled]
        return cls(units, clock)

    def warm(self, keys: Iterable[str]) -> None:
        """Connect the cameras of ``keys`` that are not connected, each in a background thread, so that
        an operator's first command does not wait for the connection (a few ONVIF round trips)."""
        for key in keys:
            unit = self.units.get(key)
            if unit is None or unit.camera.connected:
                continue
            with self._warm_lock:
                if key in self._warming:
                    continue
                self._warming.add(key)
            threading.Thread(
                target=self._connect, args=(unit,), name=f"ptz-connect-{key}", daemon=True
            ).start()

    def _connect(self, unit: PtzUnit) -> None:
        try:
            unit.camera.connect()
        except PtzError as exc:  # the next command reports it to the operator
            log.warning("PTZ camera %s: %s", unit.key, exc)
        finally:
            with self._warm_lock:
                self._warming.discard(unit.key)

    def close(self) -> None:
        for u in self.units.values():
            u.camera.close()
