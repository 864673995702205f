"""ONVIF SOAP over HTTP for the virtual PTZ camera, driven by the WSDLs that onvif-zeep-async ships.

Requests are parsed and responses built by zeep from the ONVIF WSDLs (devicemgmt, media, ptz): the
operation is found from the Body's first element, its input message deserialized, and the handler's
result serialized with the operation's output message, so every answer is what the WSDL says and a
real client (zeep/onvif-zeep-async) reads it like a camera's. Errors are SOAP 1.2 faults with ONVIF
subcodes (``ter:NotAuthorized``, ``ter:InvalidArgVal``/``ter:NoToken``/``ter:NoProfile``,
``ter:ActionNotSupported``). Authentication is WS-Security UsernameToken with PasswordDigest
(``Base64(SHA1(nonce + created + password))``, created within 5 minutes, nonces not reused); as on
cameras, GetSystemDateAndTime, GetServices, GetCapabilities and GetServiceCapabilities are open.
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import hashlib
import hmac
import os
import threading
from collections.abc import Callable
from typing import Any

from lxml import etree
from mechanics import PtzHead
from zeep import Client, Settings
from zeep.transports import Transport

__all__ = ["OnvifDevice", "SoapFault"]

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TER = "http://www.onvif.org/ver10/error"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
NS_DEVICE = "http://www.onvif.org/ver10/device/wsdl"
NS_MEDIA = "http://www.onvif.org/ver10/media/wsdl"
NS_PTZ = "http://www.onvif.org/ver20/ptz/wsdl"
PT_SPACE = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"
Z_SPACE = "http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace"
PT_VEL = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace"
Z_VEL = "http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace"
PT_TRANS = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/TranslationGenericSpace"
Z_TRANS = "http://www.onvif.org/ver10/tptz/ZoomSpaces/TranslationGenericSpace"
PT_SPEED = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/GenericSpeedSpace"
Z_SPEED = "http://www.onvif.org/ver10/tptz/ZoomSpaces/ZoomGenericSpeedSpace"
OPEN_OPS = {"GetSystemDateAndTime", "GetServices", "GetCapabilities", "GetServiceCapabilities"}
PROFILE = "profile_main"
PTZ_CFG = "ptz_cfg"
NODE = "ptz_node"
MAX_PRESETS = 64


class SoapFault(Exception):
    def __init__(self, reason: str, *subcodes: str, sender: bool = True, status: int = 400) -> None:
        super().__init__(reason)
        self.reason, self.subcodes, self.sender, self.status = reason, subcodes, sender, status


def _fault_xml(f: SoapFault) -> bytes:
    env = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"env": SOAP12, "ter": TER})
    fault = etree.SubElement(etree.SubElement(env, f"{{{SOAP12}}}Body"), f"{{{SOAP12}}}Fault")
    code = etree.SubElement(fault, f"{{{SOAP12}}}Code")
    etree.SubElement(code, f"{{{SOAP12}}}Value").text = "env:Sender" if f.sender else "env:Receiver"
    parent = code
    for sub in f.subcodes:
        node = etree.SubElement(parent, f"{{{SOAP12}}}Subcode")
        etree.SubElement(node, f"{{{SOAP12}}}Value").text = f"ter:{sub}"
        parent = node
    reason = etree.SubElement(fault, f"{{{SOAP12}}}Reason")
    text = etree.SubElement(reason, f"{{{SOAP12}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = f.reason
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


class _Endpoint:
    def __init__(self, wsdl: str, binding: str) -> None:
        settings = Settings(strict=False, xml_huge_tree=True)
        client = Client(wsdl, settings=settings, transport=Transport(cache=None))
        self.ops = {op.input.body.qname.text: op for op in client.wsdl.bindings[binding].all().values()}


def _get(obj: Any, *path: str) -> Any:
    for p in path:
        if obj is None:
            return None
        obj = obj[p] if isinstance(obj, dict) else getattr(obj, p, None)
    return obj


class OnvifDevice:
    """Device, Media and PTZ services of one virtual camera.

    Args:
        head: the PTZ mechanics (None: the camera offers no PTZ service, like a fixed camera).
        base_url: ``http://host:port`` the services are reached at (for XAddrs).
        rtsp_url: the stream URI GetStreamUri returns.
        users: username -> password.
    """

    def __init__(
        self,
        head: PtzHead | None,
        base_url: str,
        rtsp_url: str,
        users: dict[str, str],
        size: tuple[int, int] = (640, 360),
        status: bool = True,
    ) -> None:
        wsdl_dir = os.path.join(os.path.dirname(__import__("onvif").__file__), "wsdl")
        self.head, self.base, self.rtsp_url, self.users, self.size = head, base_url, rtsp_url, users, size
        self.status = status  # False: GetStatus reports neither position nor move status (some cameras)
        device = _Endpoint(os.path.join(wsdl_dir, "devicemgmt.wsdl"), f"{{{NS_DEVICE}}}DeviceBinding")
        media = _Endpoint(os.path.join(wsdl_dir, "media.wsdl"), f"{{{NS_MEDIA}}}MediaBinding")
        self.endpoints = {"/onvif/device_service": device, "/onvif/media_service": media}
        if head is not None:
            self.endpoints["/onvif/ptz_service"] = _Endpoint(
                os.path.join(wsdl_dir, "ptz.wsdl"), f"{{{NS_PTZ}}}PTZBinding"
            )
        self._nonces: collections.deque[str] = collections.deque(maxlen=4096)
        self._lock = threading.Lock()
        self.handlers: dict[str, Callable[[Any], dict[str, Any]]] = {
            name: getattr(self, name) for name in dir(self) if name[:1].isupper()
        }

    # -- transport ---------------------------------------------------------------------------
    def handle(self, path: str, body: bytes) -> tuple[int, bytes]:
        """(HTTP status, SOAP envelope) for one POSTed request."""
        try:
            endpoint = self.endpoints.get(path)
            if endpoint is None:
                raise SoapFault(f"no ONVIF service at {path}", "ActionNotSupported", status=404)
            parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
            try:
                env = etree.fromstring(body, parser=parser)
            except etree.XMLSyntaxError as exc:
                raise SoapFault(f"not XML: {exc}", "WellFormed") from None
            soap_body = env.find(f"{{{SOAP12}}}Body")
            if soap_body is None or len(soap_body) == 0:
                raise SoapFault("no SOAP 1.2 Body", "WellFormed")
            op = endpoint.ops.get(soap_body[0].tag)
            if op is None or op.name not in self.handlers:
                raise SoapFault(f"action {soap_body[0].tag} is not supported", "ActionNotSupported")
            if op.name not in OPEN_OPS:
                self._authenticate(env.find(f"{{{SOAP12}}}Header"))
            args = op.input.deserialize(env)
            names = [name for name, _el in op.input.body.type.elements]
            if len(names) == 1 and not hasattr(args, "__values__"):
                args = {names[0]: args}  # zeep unwraps single-element messages
            result = self.handlers[op.name](args)
            out = op.output.serialize(**result)
            return 200, bytes(etree.tostring(out.content, xml_declaration=True, encoding="utf-8"))
        except SoapFault as fault:
            return fault.status, _fault_xml(fault)

    def _authenticate(self, header: Any) -> None:
        token = None if header is None else header.find(f".//{{{WSSE}}}UsernameToken")
        if token is None:
            raise SoapFault("Sender not Authorized: no WS-Security UsernameToken", "NotAuthorized")
        user = token.findtext(f"{{{WSSE}}}Username") or ""
        pw_el = token.find(f"{{{WSSE}}}Password")
        nonce = token.findtext(f"{{{WSSE}}}Nonce") or ""
        created = token.findtext(f"{{{WSU}}}Created") or ""
        expected = self.users.get(user)
        if expected is None or pw_el is None or not nonce or not created:
            raise SoapFault("Sender not Authorized", "NotAuthorized")
        try:
            when = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
            raw_nonce = base64.b64decode(nonce)
        except ValueError:
            raise SoapFault("Sender not Authorized: bad Created or Nonce", "NotAuthorized") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        if abs((dt.datetime.now(dt.UTC) - when).total_seconds()) > 300:
            raise SoapFault("Sender not Authorized: Created is more than 5 minutes off", "NotAuthorized")
        digest = base64.b64encode(hashlib.sha1(raw_nonce + created.encode() + expected.encode()).digest())
        if not hmac.compare_digest(digest.decode(), (pw_el.text or "").strip()):
            raise SoapFault("Sender not Authorized", "NotAuthorized")
        with self._lock:
            if nonce in self._nonces:
                raise SoapFault("Sender not Authorized: nonce reused", "NotAuthorized")
            self._nonces.append(nonce)

    # -- device ------------------------------------------------------------------------------
    def GetSystemDateAndTime(self, _a: Any) -> dict[str, Any]:
        n = dt.datetime.now(dt.UTC)
        return {
            "SystemDateAndTime": {
                "DateTimeType": "Manual",
                "DaylightSavings": False,
                "TimeZone": {"TZ": "UTC0"},
                "UTCDateTime": {
                    "Date": {"Year": n.year, "Month": n.month, "Day": n.day},
                    "Time": {"Hour": n.hour, "Minute": n.minute, "Second": n.second},
                },
            }
        }

    def GetDeviceInformation(self, _a: Any) -> dict[str, Any]:
        return {
            "Manufacturer": "safecity",
            "Model": "virtual-ptz" if self.head is not None else "virtual-fixed",
            "FirmwareVersion": "1.0",
            "SerialNumber": "VPTZ-0001",
            "HardwareId": "virtual",
        }

    def _xaddrs(self) -> list[tuple[str, str]]:
        out = [(NS_DEVICE, "/onvif/device_service"), (NS_MEDIA, "/onvif/media_service")]
        if self.head is not None:
            out.append((NS_PTZ, "/onvif/ptz_service"))
        return out

    def GetServices(self, _a: Any) -> dict[str, Any]:
        return {
            "Service": [
                {"Namespace": ns, "XAddr": self.base + path, "Version": {"Major": 2, "Minor": 60}}
                for ns, path in self._xaddrs()
            ]
        }

    def GetCapabilities(self, _a: Any) -> dict[str, Any]:
        caps: dict[str, Any] = {
            "Device": {"XAddr": self.base + "/onvif/device_service"},
            "Media": {
                "XAddr": self.base + "/onvif/media_service",
                "StreamingCapabilities": {"RTPMulticast": False, "RTP_TCP": True, "RTP_RTSP_TCP": True},
            },
        }
        if self.head is not None:
            caps["PTZ"] = {"XAddr": self.base + "/onvif/ptz_service"}
        return {"Capabilities": caps}

    # -- media -------------------------------------------------------------------------------
    def _check_profile(self, token: Any) -> None:
        if token != PROFILE:
            raise SoapFault(f"profile {token!r} does not exist", "InvalidArgVal", "NoProfile")

    def GetProfiles(self, _a: Any) -> dict[str, Any]:
        w, h = self.size
        profile: dict[str, Any] = {
            "token": PROFILE,
            "fixed": True,
            "Name": "main",
            "VideoSourceConfiguration": {
                "token": "vsc", "Name": "video", "UseCount": 1, "SourceToken": "vs",
                "Bounds": {"x": 0, "y": 0, "width": w, "height": h},
            },
            "VideoEncoderConfiguration": {
                "token": "vec", "Name": "h264", "UseCount": 1, "Encoding": "H264",
                "Resolution": {"Width": w, "Height": h}, "Quality": 5.0,
                "RateControl": {"FrameRateLimit": 10, "EncodingInterval": 1, "BitrateLimit": 1024},
                "Multicast": {
                    "Address": {"Type": "IPv4", "IPv4Address": "0.0.0.0"}, "Port": 0, "TTL": 1,
                    "AutoStart": False,
                },
                "SessionTimeout": dt.timedelta(seconds=60),
            },
        }  # fmt: skip
        if self.head is not None:
            profile["PTZConfiguration"] = self._ptz_config()
        return {"Profiles": [profile]}

    def GetStreamUri(self, a: Any) -> dict[str, Any]:
        self._check_profile(_get(a, "ProfileToken"))
        return {
            "MediaUri": {
                "Uri": self.rtsp_url,
                "InvalidAfterConnect": False,
                "InvalidAfterReboot": False,
                "Timeout": dt.timedelta(0),
            }
        }

    # -- ptz ---------------------------------------------------------------------------------
    def _need_head(self) -> PtzHead:
        if self.head is None:
            raise SoapFault("this device has no PTZ", "ActionNotSupported", "PTZNotSupported")
        return self.head

    def _ptz_config(self) -> dict[str, Any]:
        return {
            "token": PTZ_CFG,
            "Name": "ptz",
            "UseCount": 1,
            "NodeToken": NODE,
            "DefaultAbsolutePantTiltPositionSpace": PT_SPACE,
            "DefaultAbsoluteZoomPositionSpace": Z_SPACE,
            "DefaultRelativePanTiltTranslationSpace": PT_TRANS,
            "DefaultRelativeZoomTranslationSpace": Z_TRANS,
            "DefaultContinuousPanTiltVelocitySpace": PT_VEL,
            "DefaultContinuousZoomVelocitySpace": Z_VEL,
            "DefaultPTZSpeed": {
                "PanTilt": {"x": 1.0, "y": 1.0, "space": PT_SPEED},
                "Zoom": {"x": 1.0, "space": Z_SPEED},
            },
            "DefaultPTZTimeout": dt.timedelta(seconds=5),
            "PanTiltLimits": {
                "Range": {
                    "URI": PT_SPACE,
                    "XRange": {"Min": -1.0, "Max": 1.0},
                    "YRange": {"Min": -1.0, "Max": 1.0},
                }
            },
            "ZoomLimits": {"Range": {"URI": Z_SPACE, "XRange": {"Min": 0.0, "Max": 1.0}}},
        }

    def GetConfigurations(self, _a: Any) -> dict[str, Any]:
        self._need_head()
        return {"PTZConfiguration": [self._ptz_config()]}

    def GetConfiguration(self, a: Any) -> dict[str, Any]:
        self._need_head()
        if _get(a, "PTZConfigurationToken") != PTZ_CFG:
            raise SoapFault("no such PTZ configuration", "InvalidArgVal", "NoConfig")
        return {"PTZConfiguration": self._ptz_config()}

    def _node(self) -> dict[str, Any]:
        r1 = {"Min": -1.0, "Max": 1.0}
        r0 = {"Min": 0.0, "Max": 1.0}
        return {
            "token": NODE,
            "FixedHomePosition": False,
            "Name": "virtual head",
            "SupportedPTZSpaces": {
                "AbsolutePanTiltPositionSpace": [{"URI": PT_SPACE, "XRange": r1, "YRange": r1}],
                "AbsoluteZoomPositionSpace": [{"URI": Z_SPACE, "XRange": r0}],
                "RelativePanTiltTranslationSpace": [{"URI": PT_TRANS, "XRange": r1, "YRange": r1}],
                "RelativeZoomTranslationSpace": [{"URI": Z_TRANS, "XRange": r1}],
                "ContinuousPanTiltVelocitySpace": [{"URI": PT_VEL, "XRange": r1, "YRange": r1}],
                "ContinuousZoomVelocitySpace": [{"URI": Z_VEL, "XRange": r1}],
                "PanTiltSpeedSpace": [{"URI": PT_SPEED, "XRange": r0}],
                "ZoomSpeedSpace": [{"URI": Z_SPEED, "XRange": r0}],
            },
            "MaximumNumberOfPresets": MAX_PRESETS,
            "HomeSupported": True,
        }

    def GetNodes(self, _a: Any) -> dict[str, Any]:
        self._need_head()
        return {"PTZNode": [self._node()]}

    def GetNode(self, a: Any) -> dict[str, Any]:
        self._need_head()
        if _get(a, "NodeToken") != NODE:
            raise SoapFault("no such PTZ node", "InvalidArgVal", "NoEntity")
        return {"PTZNode": self._node()}

    @staticmethod
    def _vec(v: Any, default: float | None) -> tuple[float | None, float | None, float | None]:
        return (
            _get(v, "PanTilt", "x") if _get(v, "PanTilt") is not None else default,
            _get(v, "PanTilt", "y") if _get(v, "PanTilt") is not None else default,
            _get(v, "Zoom", "x") if _get(v, "Zoom") is not None else default,
        )

    def _speed(self, a: Any) -> tuple[float, float, float] | None:
        s = _get(a, "Speed")
        if s is None:
            return None
        p, t, z = self._vec(s, None)
        return (
            abs(p) if p is not None else 1.0,
            abs(t) if t is not None else 1.0,
            abs(z) if z is not None else 1.0,
        )

    @staticmethod
    def _check_range(v: tuple[float | None, ...], what: str) -> None:
        for x, lo, hi in zip(v, (-1.0, -1.0, 0.0), (1.0, 1.0, 1.0), strict=True):
            if x is not None and not lo <= x <= hi:
                raise SoapFault(f"{what} {x} is outside {lo}..{hi}", "InvalidArgVal", "InvalidPosition")

    def AbsoluteMove(self, a: Any) -> dict[str, Any]:
        head = self._need_head()
        self._check_profile(_get(a, "ProfileToken"))
        target = self._vec(_get(a, "Position"), None)
        self._check_range(target, "position")
        head.move_to(target, self._speed(a))
        return {}

    def RelativeMove(self, a: Any) -> dict[str, Any]:
        head = self._need_head()
        self._check_profile(_get(a, "ProfileToken"))
        p, t, z = self._vec(_get(a, "Translation"), 0.0)
        head.move_by((p or 0.0, t or 0.0, z or 0.0), self._speed(a))
        return {}

    def ContinuousMove(self, a: Any) -> dict[str, Any]:
        head = self._need_head()
        self._check_profile(_get(a, "ProfileToken"))
        p, t, z = self._vec(_get(a, "Velocity"), 0.0)
        timeout = _get(a, "Timeout")
        secs = timeout.total_seconds() if isinstance(timeout, dt.timedelta) else None
        if secs is None and timeout is not None and hasattr(timeout, "totimedelta"):
            secs = timeout.totimedelta(start=dt.datetime.now()).total_seconds()
        head.move_continuous((p or 0.0, t or 0.0, z or 0.0), secs)
        return {}

    def Stop(self, a: Any) -> dict[str, Any]:
        head = self._need_head()
        self._check_profile(_get(a, "ProfileToken"))
        pt, z = _get(a, "PanTilt"), _get(a, "Zoom")
        head.stop(pan_tilt=pt is None or bool(pt), zoom=z is None or bool(z))
        return {}

    def GetStatus(self, a: Any) -> dict[str, Any]:
        head = self._need_head()
        self._check_profile(_get(a, "ProfileToken"))
        head.tick()
        p, t, z = head.position
        pt_moving, z_moving = head.moving()
        if not self.status:
            return {"PTZStatus": {"UtcTime": dt.datetime.now(dt.UTC)}}
        return {
            "PTZStatus": {
                "Position": {
                    "PanTilt": {"x": p, "y": t, "space": PT_SPACE},
                    "Zoom": {"x": z, "space": Z_SPACE},
                },
                "MoveStatus": {
                    "PanTilt": "MOVING" if pt_moving else "IDLE",
                    "Zoom": "MOVING" if z_moving else "IDLE",
                },
                "UtcTime": dt.datetime.now(dt.UTC),
            }
        }

    def GetPresets(self, a: Any) -> dict[str, Any]:
        head = self._need_head()
        self._check_profile(_get(a, "ProfileToken"))
        return {
            "Preset": [
                {
                    "token": pr.token,
                    "Name": pr.name,
                    "PTZPosition": {
                        "PanTilt": {"x": pr.position[0], "y": pr.position[1], "space": PT_SPACE},
                        "Zoom": {"x": pr.position[2], "space": Z_SPACE},
                    },
                }
                for pr in list(head.presets.values())
            ]
        }

    def _preset(self, head: PtzHead, token: Any) -> Any:
        pr = head.presets.get(str(token))
        if pr is None:
            raise SoapFault(f"preset token {token!r} does not exist", "InvalidArgVal", "NoToken")
        return pr

    def GotoPreset(self, a: Any) -> dict[str, Any]:
        head = self._need_head()
        self._check_profile(_get(a, "ProfileToken"))
        pr = self._preset(head, _get(a, "PresetToken"))
        head.move_to(pr.position, self._speed(a))
        return {}

    def SetPreset(self, a: Any) -> dict[str, Any]:
        head = self._need_head()
        self._check_profile(_get(a, "ProfileToken"))
        token, name = _get(a, "PresetToken"), _get(a, "PresetName")
        if token is not None:
            self._preset(head, token)
        elif len(head.presets) >= MAX_PRESETS:
            raise SoapFault("too many presets", "Action", "TooManyPresets", sender=False)
        if name and any(p.name == name and p.token != token for p in head.presets.values()):
            raise SoapFault(f"a preset named {name!r} exists", "InvalidArgVal", "PresetExist")
        head.tick()
        return {"PresetToken": head.set_preset(name or "preset", token)}

    def RemovePreset(self, a: Any) -> dict[str, Any]:
        head = self._need_head()
        self._check_profile(_get(a, "ProfileToken"))
        pr = self._preset(head, _get(a, "PresetToken"))
        head.presets.pop(pr.token, None)
        return {}

    def GotoHomePosition(self, a: Any) -> dict[str, Any]:
        head = self._need_head()
        self._check_profile(_get(a, "ProfileToken"))
        head.move_to(head.home, self._speed(a))
        return {}

    def SetHomePosition(self, a: Any) -> dict[str, Any]:
        head = self._need_head()
        self._check_profile(_get(a, "ProfileToken"))
        head.tick()
        head.home = head.position
        return {}
