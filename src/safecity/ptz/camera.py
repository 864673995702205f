"""Blocking facade of :class:`~safecity.ptz.client.AsyncOnvifPtz` for the threaded runtime and the web routes.

All cameras of a process share one event-loop thread (started on first use, a daemon); each call
submits a coroutine there and waits for it, bounded by the camera's ``timeout_s`` (plus a margin for
the loop itself). Calls on one camera are serialized by a lock, so two threads never interleave
commands on it.

Example (against a virtual camera, see ``scripts/virtual_ptz``)::

    cam = PtzCamera("127.0.0.1", 8080, "admin", "secret", name="ptz-1", timeout_s=3)
    cam.connect()
    cam.goto_preset(cam.preset_token("gate"))
    while cam.status().moving: ...
    cam.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from safecity.errors import PtzError, PtzUnknownPresetError, PtzUnreachableError
from safecity.ptz.client import AsyncOnvifPtz
from safecity.ptz.types import DeviceInfo, PtzPreset, PtzStatus

__all__ = ["PtzCamera"]

T = TypeVar("T")

_LOOP: asyncio.AbstractEventLoop | None = None
_LOOP_LOCK = threading.Lock()


def _loop() -> asyncio.AbstractEventLoop:
    """The shared PTZ event loop, started in a daemon thread on first use."""
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None or _LOOP.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="safecity-ptz-loop", daemon=True).start()
            _LOOP = loop
        return _LOOP


class PtzCamera:
    """A PTZ camera controlled over ONVIF, with blocking methods.

    Args: as :class:`~safecity.ptz.client.AsyncOnvifPtz`.

    Raises (every method): :class:`~safecity.errors.PtzError` and its subclasses; see
    :mod:`safecity.ptz.client`.
    """

    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        password: str,
        *,
        name: str | None = None,
        timeout_s: float = 5.0,
        profile: str | None = None,
    ) -> None:
        self.client = AsyncOnvifPtz(
            host, port, user, password, name=name, timeout_s=timeout_s, profile=profile
        )
        self._lock = threading.Lock()
        self._connected = False

    @property
    def name(self) -> str:
        return self.client.name

    @property
    def connected(self) -> bool:
        """Whether the last connect succeeded (and no call since found the camera unreachable)."""
        return self._connected

    def _run(self, coro: Coroutine[Any, Any, T], what: str) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, _loop())
        try:
            # every library call inside is bounded by timeout_s; the margin covers a connect (several calls)
            return future.result(self.client.timeout_s * 6 + 5)
        except TimeoutError:
            future.cancel()
            raise PtzUnreachableError(f"camera {self.name}: {what}: no answer in time") from None

    def _ensure(self) -> None:
        if not self._connected:
            self._run(self.client.connect(), "connect")
            self._connected = True

    def _do(self, what: str, make: Any) -> Any:
        with self._lock:
            self._ensure()
            try:
                return self._run(make(), what)
            except PtzUnreachableError:
                self._connected = False  # reconnect on the next call
                raise

    def connect(self) -> DeviceInfo:
        """(Re)connect: services, credentials, profiles. Other methods connect on first use."""
        with self._lock:
            self._connected = False
            info = self._run(self.client.connect(), "connect")
            self._connected = True
            return info

    def close(self) -> None:
        with self._lock:
            self._connected = False
            with contextlib.suppress(PtzError):
                self._run(self.client.close(), "close")

    def stream_uri(self, profile: str | None = None) -> str:
        result: str = self._do("GetStreamUri", lambda: self.client.stream_uri(profile))
        return result

    def absolute_move(
        self, pan: float | None, tilt: float | None, zoom: float | None = None, speed: float | None = None
    ) -> None:
        self._do("AbsoluteMove", lambda: self.client.absolute_move(pan, tilt, zoom, speed))

    def relative_move(self, pan: float, tilt: float, zoom: float = 0.0, speed: float | None = None) -> None:
        self._do("RelativeMove", lambda: self.client.relative_move(pan, tilt, zoom, speed))

    def continuous_move(
        self, pan: float, tilt: float, zoom: float = 0.0, timeout_s: float | None = None
    ) -> None:
        self._do("ContinuousMove", lambda: self.client.continuous_move(pan, tilt, zoom, timeout_s))

    def zoom(self, zoom: float, speed: float | None = None) -> None:
        """Absolute zoom (0 wide .. 1 tele), pan and tilt unchanged."""
        self.absolute_move(None, None, zoom, speed)

    def stop(self, pan_tilt: bool = True, zoom: bool = True) -> None:
        self._do("Stop", lambda: self.client.stop(pan_tilt, zoom))

    def status(self) -> PtzStatus:
        result: PtzStatus = self._do("GetStatus", self.client.status)
        return result

    def presets(self) -> list[PtzPreset]:
        result: list[PtzPreset] = self._do("GetPresets", self.client.presets)
        return result

    def preset_token(self, name: str) -> str:
        """The token of the camera's preset called ``name`` (or whose token is ``name``).

        Raises:
            PtzUnknownPresetError: no such preset (the message lists the camera's presets).
        """
        presets = self.presets()
        for p in presets:
            if p.name == name or p.token == name:
                return p.token
        known = ", ".join(f"{p.name} ({p.token})" for p in presets) or "none"
        raise PtzUnknownPresetError(f"camera {self.name} has no preset {name!r}; its presets: {known}")

    def goto_preset(self, token: str, speed: float | None = None) -> None:
        self._do("GotoPreset", lambda: self.client.goto_preset(token, speed))

    def set_preset(self, name: str, token: str | None = None) -> str:
        result: str = self._do("SetPreset", lambda: self.client.set_preset(name, token))
        return result

    def remove_preset(self, token: str) -> None:
        self._do("RemovePreset", lambda: self.client.remove_preset(token))

    def goto_home(self, speed: float | None = None) -> None:
        self._do("GotoHomePosition", lambda: self.client.goto_home(speed))
