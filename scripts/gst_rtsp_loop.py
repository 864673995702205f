#!/usr/bin/python3
"""Serve MP4 files as looping RTSP streams on loopback (GStreamer gst-rtsp-server).

Runs under Debian's ``/usr/bin/python3`` (the ``gi`` bindings live there, not in the venv)::

    /usr/bin/python3 scripts/gst_rtsp_loop.py --port 8554 cam1=/path/a.mp4 cam2=/path/b.mp4

Each mount is shared by all readers, loops its file without re-encoding (H.264 in MP4 only) and
is served over TCP and UDP. When the server is listening it prints one line per mount
(``rtsp://HOST:PORT/NAME -> PATH``) and then ``READY rtsp://HOST:PORT`` on stdout; test
fixtures wait for the ``READY`` line. Recipe and caveats: docs stack-notes.md §3.

Exit codes: 0 on SIGINT/SIGTERM, 2 on bad arguments (missing file, bad mount, port in use).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


class LoopFactory(GstRtspServer.RTSPMediaFactory):  # type: ignore[misc]
    """Shared media that loops its file.

    A probe on the parser's sink pad swallows EOS and does a flushing seek to 0 (a non-flushing
    seek after qtdemux EOS stalls; the media owns the bus, so no bus watch can be added).
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self.set_shared(True)
        self.set_launch(
            f'( filesrc location="{path}" ! qtdemux ! h264parse name=parse config-interval=-1 ! '
            "rtph264pay name=pay0 pt=96 config-interval=-1 )"
        )
        self.connect("media-configure", self._on_configure)

    def _on_configure(self, _factory: object, media: GstRtspServer.RTSPMedia) -> None:
        bin_ = media.get_element()

        def seek0() -> bool:
            bin_.get_parent().seek(
                1.0, Gst.Format.TIME, Gst.SeekFlags.FLUSH, Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1
            )
            return False

        def probe(_pad: Gst.Pad, info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
            event = info.get_event()
            if event is not None and event.type == Gst.EventType.EOS:
                GLib.idle_add(seek0)
                return Gst.PadProbeReturn.DROP
            return Gst.PadProbeReturn.OK

        bin_.get_by_name("parse").get_static_pad("sink").add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, probe)


def _parse_mount(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"mount must be NAME=/path/file.mp4, got {text!r}")
    if not os.path.isfile(path):
        raise argparse.ArgumentTypeError(f"mount {name!r}: file {path} does not exist")
    if not path.lower().endswith((".mp4", ".mov", ".m4v")):
        raise argparse.ArgumentTypeError(
            f"mount {name!r}: expected an MP4/MOV file with H.264 video, got {path}"
        )
    return name.strip("/"), os.path.abspath(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Serve MP4 (H.264) files as looping RTSP streams.")
    ap.add_argument("--port", type=int, default=8554, help="TCP port for RTSP (default 8554)")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("mounts", nargs="+", type=_parse_mount, help="NAME=/path/file.mp4 (served at /NAME)")
    args = ap.parse_args(argv)

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for name, path in args.mounts:
        mounts.add_factory("/" + name, LoopFactory(path))
        print(f"rtsp://{args.host}:{args.port}/{name} -> {path}", flush=True)
    if server.attach(None) == 0:
        print(f"error: cannot listen on {args.host}:{args.port} (port in use?)", file=sys.stderr, flush=True)
        return 2
    loop = GLib.MainLoop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"READY rtsp://{args.host}:{args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
