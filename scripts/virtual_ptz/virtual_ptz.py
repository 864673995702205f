"""A virtual ONVIF PTZ camera: real ONVIF SOAP over HTTP and an RTSP stream whose view follows the head.

Run with the project's venv Python (it needs zeep, lxml, aiohttp, numpy and OpenCV from the ``ptz`` and
``monitor`` extras; the RTSP part also loads Debian's GStreamer bindings from /usr/lib/python3)::

    .venv/bin/python scripts/virtual_ptz/virtual_ptz.py --port 8080 --rtsp-port 8554 \\
        --user admin --password secret --preset gate=-0.6,0.1,0 --preset road=0.5,-0.2,0.4

ONVIF services: ``http://HOST:PORT/onvif/device_service`` (GetSystemDateAndTime, GetDeviceInformation,
GetServices, GetCapabilities), ``/onvif/media_service`` (GetProfiles, GetStreamUri) and
``/onvif/ptz_service`` (Absolute/Relative/ContinuousMove, Stop, GetStatus, Get/Set/Goto/RemovePreset,
Goto/SetHomePosition, GetNodes/GetNode, GetConfigurations/GetConfiguration), WS-Security digest auth
(see onvif_soap.py). ``--no-ptz`` offers no PTZ service (a fixed camera). The picture (H.264, 640x360 at
10 fps, ``rtsp://HOST:RTSP_PORT/ptz``) is a crop of a wide scene (``--image``, or a generated test scene)
centred by pan/tilt and narrowed by zoom; the head moves at ``--speed`` units per second, so status is
MOVING while it travels. ``--no-rtsp`` serves ONVIF only (no GStreamer needed).

When listening it prints ``READY onvif=http://HOST:PORT rtsp=rtsp://HOST:RTSP_PORT/ptz`` on stdout.
Exit codes: 0 on SIGINT/SIGTERM, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
from aiohttp import web
from mechanics import Preset, PtzHead, make_scene, render
from onvif_soap import OnvifDevice


def _preset(text: str) -> tuple[str, tuple[float, float, float]]:
    name, sep, rest = text.partition("=")
    try:
        p, t, z = (float(x) for x in rest.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"preset must be NAME=PAN,TILT,ZOOM, got {text!r}") from None
    if not sep or not name or not (-1 <= p <= 1 and -1 <= t <= 1 and 0 <= z <= 1):
        raise argparse.ArgumentTypeError(
            f"preset must be NAME=PAN,TILT,ZOOM (-1..1, -1..1, 0..1), got {text!r}"
        )
    return name, (p, t, z)


def _point(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"walker must be X,Y (fractions of the scene), got {text!r}"
        ) from None
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise argparse.ArgumentTypeError(f"walker X,Y must be within 0..1, got {text!r}")
    return x, y


def _serve_http(device: OnvifDevice, host: str, port: int, ready: threading.Event) -> None:
    async def on_post(request: web.Request) -> web.Response:
        body = await request.content.read(1_000_000)
        status, data = device.handle(request.path, body)
        return web.Response(status=status, body=data, content_type="application/soap+xml", charset="utf-8")

    async def main() -> None:
        app = web.Application(client_max_size=1_000_000)
        app.router.add_post("/onvif/{service}", on_post)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def _ticker(head: PtzHead) -> None:
    while True:
        head.tick()
        time.sleep(0.02)


def _rtsp(
    head: PtzHead,
    scene: np.ndarray,
    host: str,
    port: int,
    max_zoom: float,
    walker: tuple[float, float] | None,
) -> tuple[object, object]:
    sys.path.append("/usr/lib/python3/dist-packages")  # Debian's python3-gi (not installable from PyPI)
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer

    Gst.init(None)
    w, h, fps = 640, 360, 10

    class Factory(GstRtspServer.RTSPMediaFactory):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.set_shared(True)
            self.set_launch(
                f"( appsrc name=src is-live=true format=time do-timestamp=true "
                f"caps=video/x-raw,format=BGR,width={w},height={h},framerate={fps}/1 ! videoconvert ! "
                f"video/x-raw,format=I420 ! openh264enc gop-size={fps} bitrate=1000000 complexity=low ! "
                "h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
            )
            self.connect("media-configure", self._configure)

        def _configure(self, _f: object, media: object) -> None:
            src = media.get_element().get_by_name("src")  # type: ignore[attr-defined]

            def push() -> bool:
                frame = render(scene, head.position, (w, h), max_zoom, walker, time.monotonic())
                buf = Gst.Buffer.new_wrapped(frame.tobytes())
                return bool(src.emit("push-buffer", buf) == Gst.FlowReturn.OK)

            GLib.timeout_add(1000 // fps, push)

    server = GstRtspServer.RTSPServer()
    server.set_address(host)
    server.set_service(str(port))
    server.get_mount_points().add_factory("/ptz", Factory())
    if server.attach(None) == 0:
        raise OSError(f"cannot listen for RTSP on {host}:{port} (port in use?)")
    return GLib.MainLoop(), GLib


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Virtual ONVIF PTZ camera (ONVIF SOAP + RTSP).")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080, help="ONVIF HTTP port")
    ap.add_argument("--rtsp-port", type=int, default=8554)
    ap.add_argument("--user", default="admin")
    ap.add_argument("--password", default="admin")
    ap.add_argument("--speed", type=float, default=0.5, help="pan/tilt/zoom units per second at full speed")
    ap.add_argument("--max-zoom", type=float, default=4.0)
    ap.add_argument("--image", type=Path, help="wide scene picture (default: a generated test scene)")
    ap.add_argument("--preset", type=_preset, action="append", default=[], help="NAME=PAN,TILT,ZOOM")
    ap.add_argument("--no-ptz", action="store_true", help="offer no PTZ service (a fixed camera)")
    ap.add_argument("--no-rtsp", action="store_true", help="ONVIF only, no video")
    ap.add_argument(
        "--no-status", action="store_true", help="GetStatus reports no position and no move status"
    )
    ap.add_argument(
        "--walker", type=_point, help="X,Y (scene fractions): a magenta figure walks to and fro there"
    )
    args = ap.parse_args(argv)
    if args.image is not None:
        scene = cv2.imread(str(args.image))
        if scene is None:
            ap.error(f"cannot read image {args.image}")
    else:
        scene = make_scene()
    head = None
    if not args.no_ptz:
        head = PtzHead(speed=args.speed, zoom_speed=args.speed)
        for i, (name, pos) in enumerate(args.preset, 1):
            head.presets[f"preset-{i}"] = Preset(f"preset-{i}", name, pos)
        threading.Thread(target=_ticker, args=(head,), daemon=True).start()
    rtsp_url = f"rtsp://{args.host}:{args.rtsp_port}/ptz"
    device = OnvifDevice(
        head,
        f"http://{args.host}:{args.port}",
        rtsp_url,
        {args.user: args.password},
        status=not args.no_status,
    )
    ready = threading.Event()
    threading.Thread(target=_serve_http, args=(device, args.host, args.port, ready), daemon=True).start()
    if not ready.wait(15):
        print(f"error: cannot listen on {args.host}:{args.port}", file=sys.stderr, flush=True)
        return 2
    if args.no_rtsp:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        print(f"READY onvif=http://{args.host}:{args.port} rtsp=none", flush=True)
        stop.wait()
        return 0
    try:
        loop, glib = _rtsp(head or PtzHead(), scene, args.host, args.rtsp_port, args.max_zoom, args.walker)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    for sig in (signal.SIGINT, signal.SIGTERM):
        glib.unix_signal_add(glib.PRIORITY_DEFAULT, sig, loop.quit)  # type: ignore[attr-defined]
    print(f"READY onvif=http://{args.host}:{args.port} rtsp={rtsp_url}", flush=True)
    loop.run()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
