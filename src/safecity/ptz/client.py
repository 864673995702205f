"""ONVIF PTZ control over onvif-zeep-async (Home Assistant's ONVIF client), with timeouts and clear errors.

:class:`AsyncOnvifPtz` is the asyncio client: one per camera, every call bounded by ``timeout_s``;
library and transport failures become :class:`~safecity.errors.PtzError` subclasses whose message
names the camera, the operation, what happened and what to do:

* :class:`~safecity.errors.PtzAuthError`: the camera answered ``ter:NotAuthorized`` (or HTTP 401);
* :class:`~safecity.errors.PtzUnreachableError`: connection refused, no route, or no answer in time
  (a camera that stops answering mid-move ends here too);
* :class:`~safecity.errors.PtzUnsupportedError`: the camera lists no PTZ service, or rejects the action;
* :class:`~safecity.errors.PtzError`: any other refusal (unknown preset token, position out of range).

The runtime is threads: use the blocking facade :class:`safecity.ptz.camera.PtzCamera`.

``onvif`` is imported when a client connects, not at import time (the library configures logging
and drops ``http_proxy`` from the environment when used).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from safecity.errors import (
    PtzAuthError,
    PtzError,
    PtzUnknownPresetError,
    PtzUnreachableError,
    PtzUnsupportedError,
)
from safecity.ptz.types import DeviceInfo, PtzPosition, PtzPreset, PtzProfile, PtzStatus

__all__ = ["AsyncOnvifPtz", "translate_error"]

T = TypeVar("T")

_PT_SPACE = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"
_Z_SPACE = "http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace"


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out and len(out) < 10:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _subcodes(exc: BaseException) -> list[str]:
    codes = getattr(exc, "subcodes", None) or []
    return [str(getattr(c, "localname", c)).rsplit(":", 1)[-1] for c in codes]


def translate_error(exc: BaseException, camera: str, op: str, timeout_s: float) -> PtzError:
    """A :class:`PtzError` subclass for an exception raised by onvif-zeep-async, zeep or aiohttp.

    Args:
        exc: what the library raised (the whole ``__cause__`` chain is looked at).
        camera: name shown in the message (camera id and address).
        op: the ONVIF operation or step (``GetStatus``, ``connect``...).
        timeout_s: the time limit of the call, quoted for timeouts.
    """
    import aiohttp
    import zeep.exceptions

    where = f"camera {camera}: {op}"
    for e in _chain(exc):
        if isinstance(e, PtzError):
            return e
        if isinstance(e, zeep.exceptions.Fault):
            subs = _subcodes(e)
            text = str(e.message or e)
            if "NotAuthorized" in subs or "not authorized" in text.lower():
                return PtzAuthError(
                    f"{where} refused the ONVIF credentials ({text}); check the user and the password "
                    "(environment variable named by ptz.onvif.password_env) and the camera's clock"
                )
            if {"ActionNotSupported", "PTZNotSupported"} & set(subs):
                return PtzUnsupportedError(f"{where} is not supported by the camera ({text})")
            if "NoToken" in subs:
                return PtzUnknownPresetError(
                    f"{where}: the camera has no such preset ({text}); list its presets first"
                )
            detail = "/".join(subs) or "fault"
            return PtzError(f"{where} refused by the camera: {text} ({detail})")
        if isinstance(e, zeep.exceptions.TransportError):
            if e.status_code == 401:
                return PtzAuthError(f"{where}: HTTP 401; check the ONVIF user and password")
            return PtzError(f"{where}: HTTP {e.status_code} from the camera")
        if isinstance(e, TimeoutError | asyncio.TimeoutError | aiohttp.ServerTimeoutError):
            return PtzUnreachableError(
                f"{where}: no answer within {timeout_s:g} s; the camera may be off, overloaded or "
                "unreachable (check power, network and ptz.onvif.host/port)"
            )
        if isinstance(e, aiohttp.ClientConnectorError | ConnectionError | OSError):
            return PtzUnreachableError(
                f"{where}: cannot connect ({e}); check that the camera is on and ptz.onvif.host/port"
            )
        if isinstance(e, aiohttp.ClientError):
            return PtzUnreachableError(f"{where}: connection failed ({e})")
        name = type(e).__name__
        if name == "ONVIFError" and "support service" in str(e).lower():
            return PtzUnsupportedError(
                f"{where}: the camera offers no PTZ service (it lists none); it is not a PTZ camera, "
                "remove its ptz block from the config"
            )
    return PtzError(f"{where} failed: {exc}")


def _f(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) else None


def _position(pos: Any) -> PtzPosition | None:
    if pos is None:
        return None
    pt, z = getattr(pos, "PanTilt", None), getattr(pos, "Zoom", None)
    pan, tilt = _f(getattr(pt, "x", None)), _f(getattr(pt, "y", None))
    zoom = _f(getattr(z, "x", None))
    if pan is None and tilt is None and zoom is None:
        return None
    return PtzPosition(pan or 0.0, tilt or 0.0, zoom or 0.0)


def _moving(state: Any) -> bool | None:
    if state is None:
        return None
    text = str(state).upper()
    return text == "MOVING" if text in ("MOVING", "IDLE") else None


def _vector(pan: float | None, tilt: float | None, zoom: float | None, pt_space: str | None = None,
            z_space: str | None = None) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {}
    if pan is not None or tilt is not None:
        out["PanTilt"] = {"x": pan or 0.0, "y": tilt or 0.0} | ({"space": pt_space} if pt_space else {})
    if zoom is not None:
        out["Zoom"] = {"x": zoom} | ({"space": z_space} if z_space else {})
    return out


class AsyncOnvifPtz:
    """One ONVIF PTZ camera (asyncio).

    Args:
        host, port: the camera's ONVIF address (``/onvif/device_service`` is asked there).
        user, password: ONVIF account (WS-Security UsernameToken digest).
        name: shown in error messages (the camera id).
        timeout_s: limit of each call, connecting included.
        profile: media profile token to use (default: the first profile with a PTZ configuration).
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
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.name = f"{name} ({host}:{port})" if name else f"{host}:{port}"
        self._user, self._password, self._want_profile = user, password, profile
        self._cam: Any = None
        self._media: Any = None
        self._ptz: Any = None
        self.profile_token: str | None = None
        self.device: DeviceInfo | None = None
        self.profiles: list[PtzProfile] = []

    async def _call(self, op: str, fn: Callable[[], Awaitable[T]]) -> T:
        try:
            return await asyncio.wait_for(fn(), self.timeout_s)
        except Exception as exc:
            raise translate_error(exc, self.name, op, self.timeout_s) from exc

    async def connect(self) -> DeviceInfo:
        """Find the services, check the credentials (GetDeviceInformation needs them), read the
        profiles and pick the PTZ one. PTZ operations then need the camera to offer a PTZ service."""
        from onvif import ONVIFCamera

        await self.close()
        self._cam = ONVIFCamera(self.host, self.port, self._user, self._password, no_cache=True)
        try:
            return await self._connect(self._cam)
        except BaseException:
            await self.close()
            raise

    async def _connect(self, cam: Any) -> DeviceInfo:
        await self._call("connect (GetServices)", cam.update_xaddrs)
        devicemgmt = await self._call("connect", cam.create_devicemgmt_service)
        info = await self._call("GetDeviceInformation", devicemgmt.GetDeviceInformation)
        self.device = DeviceInfo(
            str(info.Manufacturer), str(info.Model), str(info.FirmwareVersion), str(info.SerialNumber)
        )
        self._media = await self._call("connect (media)", cam.create_media_service)
        raw = await self._call("GetProfiles", self._media.GetProfiles)
        self.profiles = []
        for p in raw or []:
            res = getattr(getattr(p, "VideoEncoderConfiguration", None), "Resolution", None)
            self.profiles.append(
                PtzProfile(
                    token=str(p.token),
                    name=str(getattr(p, "Name", "") or ""),
                    width=int(res.Width) if res is not None else None,
                    height=int(res.Height) if res is not None else None,
                    ptz=getattr(p, "PTZConfiguration", None) is not None,
                )
            )
        if self._want_profile is not None:
            if self._want_profile not in {p.token for p in self.profiles}:
                known = ", ".join(p.token for p in self.profiles) or "none"
                raise PtzError(
                    f"camera {self.name}: profile {self._want_profile!r} does not exist; "
                    f"the camera has {known}"
                )
            self.profile_token = self._want_profile
        else:
            with_ptz = [p.token for p in self.profiles if p.ptz]
            tokens = with_ptz or [p.token for p in self.profiles]
            self.profile_token = tokens[0] if tokens else None
        return self.device

    async def close(self) -> None:
        """Close the HTTP sessions (safe to call twice)."""
        cam, self._cam, self._media, self._ptz = self._cam, None, None, None
        if cam is not None:
            with contextlib.suppress(Exception):  # closing a dead camera's sessions must not raise
                await asyncio.wait_for(cam.close(), self.timeout_s)

    def _need_cam(self) -> Any:
        if self._cam is None:
            raise PtzError(f"camera {self.name}: not connected; call connect() first")
        return self._cam

    async def _ptz_service(self) -> Any:
        cam = self._need_cam()
        if self._ptz is None:
            self._ptz = await self._call("PTZ service", cam.create_ptz_service)
        return self._ptz

    async def stream_uri(self, profile: str | None = None) -> str:
        """The RTSP URI of ``profile`` (default: the chosen PTZ profile)."""
        self._need_cam()
        req = {
            "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
            "ProfileToken": profile or self.profile_token,
        }
        res = await self._call("GetStreamUri", lambda: self._media.GetStreamUri(req))
        return str(res.Uri)

    async def _op(self, op: str, **params: Any) -> Any:
        ptz = await self._ptz_service()
        req = {"ProfileToken": self.profile_token, **params}
        return await self._call(op, lambda: getattr(ptz, op)(req))

    async def absolute_move(
        self, pan: float | None, tilt: float | None, zoom: float | None = None, speed: float | None = None
    ) -> None:
        """Move to a position (None keeps that axis); ``speed`` 0..1 of the fastest (default: camera's)."""
        params: dict[str, Any] = {"Position": _vector(pan, tilt, zoom, _PT_SPACE, _Z_SPACE)}
        if speed is not None:
            params["Speed"] = _vector(speed, speed, speed if zoom is not None else None)
        await self._op("AbsoluteMove", **params)

    async def relative_move(
        self, pan: float, tilt: float, zoom: float = 0.0, speed: float | None = None
    ) -> None:
        """Move by a translation (generic space: a pan of 2 is the whole range)."""
        params: dict[str, Any] = {"Translation": _vector(pan, tilt, zoom)}
        if speed is not None:
            params["Speed"] = _vector(speed, speed, speed)
        await self._op("RelativeMove", **params)

    async def continuous_move(
        self, pan: float, tilt: float, zoom: float = 0.0, timeout_s: float | None = None
    ) -> None:
        """Move at a velocity (-1..1 per axis) until :meth:`stop` or ``timeout_s``."""
        params: dict[str, Any] = {"Velocity": _vector(pan, tilt, zoom)}
        if timeout_s is not None:
            params["Timeout"] = dt.timedelta(seconds=timeout_s)
        await self._op("ContinuousMove", **params)

    async def stop(self, pan_tilt: bool = True, zoom: bool = True) -> None:
        await self._op("Stop", PanTilt=pan_tilt, Zoom=zoom)

    async def status(self) -> PtzStatus:
        res = await self._op("GetStatus")
        ms = getattr(res, "MoveStatus", None)
        err = getattr(res, "Error", None)
        return PtzStatus(
            position=_position(getattr(res, "Position", None)),
            pan_tilt_moving=_moving(getattr(ms, "PanTilt", None)),
            zoom_moving=_moving(getattr(ms, "Zoom", None)),
            error=str(err) if err else None,
        )

    async def presets(self) -> list[PtzPreset]:
        res = await self._op("GetPresets")
        return [
            PtzPreset(
                str(p.token), str(getattr(p, "Name", "") or ""), _position(getattr(p, "PTZPosition", None))
            )
            for p in res or []
        ]

    async def goto_preset(self, token: str, speed: float | None = None) -> None:
        params: dict[str, Any] = {"PresetToken": token}
        if speed is not None:
            params["Speed"] = _vector(speed, speed, speed)
        await self._op("GotoPreset", **params)

    async def set_preset(self, name: str, token: str | None = None) -> str:
        """Store the current position as preset ``name`` (overwrite ``token`` if given); its token."""
        params: dict[str, Any] = {"PresetName": name}
        if token is not None:
            params["PresetToken"] = token
        return str(await self._op("SetPreset", **params))

    async def remove_preset(self, token: str) -> None:
        await self._op("RemovePreset", PresetToken=token)

    async def goto_home(self, speed: float | None = None) -> None:
        params: dict[str, Any] = {}
        if speed is not None:
            params["Speed"] = _vector(speed, speed, speed)
        await self._op("GotoHomePosition", **params)
