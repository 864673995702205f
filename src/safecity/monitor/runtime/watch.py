"""Apply a camera config file that changes while the runtime runs: :class:`ConfigWatcher`.

The watcher reads the file's content every ``every_s`` seconds. When it changed and is a valid
config, it calls :meth:`~safecity.monitor.runtime.hub.MonitorHub.update_config` (changed cameras
restart, new ones start, removed ones stop, the others run on). When the new content is not a valid
config, the running config stays and the error (file, key, line) is reported once per content; when
the transport cannot change cameras while running, the message says to restart.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from safecity.errors import SafecityError
from safecity.monitor.config.model import MonitorConfig, load_monitor_config
from safecity.monitor.runtime.hub import MonitorHub

__all__ = ["ConfigWatcher", "WatchOutcome"]

log = logging.getLogger(__name__)

WatchOutcome = Literal["unchanged", "applied", "rejected"]


class ConfigWatcher:
    """Watches one config file and applies its changes to a running hub.

    Args:
        path: the YAML config the hub was started with.
        hub: the running :class:`~safecity.monitor.runtime.hub.MonitorHub`.
        every_s: seconds between two reads of the file.
        load: the config loader (default :func:`~safecity.monitor.config.model.load_monitor_config`).
        report: receives the message of a rejected change (default: a logged warning).
        on_applied: called with the new config after the hub applied it (e.g. the console's privacy
            masks and camera names follow the file too).
    """

    def __init__(
        self,
        path: str | Path,
        hub: MonitorHub,
        *,
        every_s: float = 2.0,
        load: Callable[[Path], MonitorConfig] = load_monitor_config,
        report: Callable[[str], None] | None = None,
        on_applied: Callable[[MonitorConfig], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.hub = hub
        self.every_s = every_s
        self._load = load
        self._report = report or (lambda msg: log.warning("%s", msg))
        self._on_applied = on_applied
        self._seen = self._digest()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def _digest(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def check(self) -> WatchOutcome:
        """Read the file once; apply it if it changed and is valid."""
        digest = self._digest()
        if digest is None or digest == self._seen:
            return "unchanged"
        self._seen = digest  # a bad version is reported once, not every poll
        try:
            config = self._load(self.path)
            self.hub.update_config(config)
        except SafecityError as exc:
            self.last_error = (
                f"config {self.path} changed but was not applied (the running config stays): {exc}"
            )
            self._report(self.last_error)
            return "rejected"
        self.last_error = None
        if self._on_applied is not None:
            self._on_applied(config)
        log.warning("config %s changed: applied (%d cameras)", self.path, len(self.hub.cameras()))
        return "applied"

    def start(self) -> None:
        """Check the file every ``every_s`` seconds in a daemon thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="safecity-config-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.check()
