"""Run a command (``safecity demo``) with a virtual PTZ camera on patrol; stop the camera with it.

``make demo`` runs::

    .venv/bin/python scripts/virtual_ptz/demo.py -- .venv/bin/safecity demo

It starts ``virtual_ptz.py`` (real ONVIF SOAP + a GStreamer RTSP view, presets from
``configs/demo-ptz.yaml``) on free local ports with a random password, writes the demo config plus the
PTZ camera (``configs/demo-cameras.yaml`` + ``configs/demo-ptz.yaml``, sources made absolute) to
``$SAFECITY_HOME/demo-cameras-ptz.yaml`` (or ``./var/``), and runs the command with ``--config`` that
file and ``SAFECITY_DEMO_PTZ_PASSWORD`` set. When the command ends (or on Ctrl-C / SIGTERM, passed on
to it) the camera is stopped. If the virtual camera cannot start (no GStreamer RTSP server: run
``scripts/install-system-deps.sh``), the command runs with the plain demo config and a warning.

Exit code: the command's.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PASSWORD_ENV = "SAFECITY_DEMO_PTZ_PASSWORD"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _say(msg: str) -> None:
    print(f"[demo-ptz] {msg}", file=sys.stderr, flush=True)


def merged_config(demo: Path, ptz: Path, rtsp_url: str, onvif_port: int) -> dict[str, Any]:
    """The demo config with the PTZ camera(s) of ``ptz`` appended and hand-off headings added."""
    base = yaml.safe_load(demo.read_text(encoding="utf-8"))
    text = ptz.read_text(encoding="utf-8").replace('"{onvif_port}"', str(onvif_port))
    extra = yaml.safe_load(text.replace("{rtsp_url}", rtsp_url))
    for cam in base.get("cameras", []):
        src = str(cam.get("source", ""))
        if "://" not in src and not Path(src).is_absolute():
            cam["source"] = str((demo.parent / src).resolve())
        cam.update(extra.get("fixed", {}).get(cam.get("id"), {}))
    base["cameras"] = [*base.get("cameras", []), *extra.get("cameras", [])]
    return dict(base)


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def start_camera(
    presets: dict[str, list[float]], password: str, timeout_s: float = 120.0
) -> tuple[subprocess.Popen[str], int, str]:
    """Start the virtual PTZ; (process, ONVIF port, RTSP URL). Raises RuntimeError if it does not come up."""
    port, rtsp_port = _free_port(), _free_port()
    cmd = [sys.executable, str(HERE / "virtual_ptz.py"), "--port", str(port), "--rtsp-port", str(rtsp_port),
           "--user", "admin", "--password", password, "--speed", "0.6", "--walker", "0.5,0.5"]  # fmt: skip
    for name, (p, t, z) in presets.items():
        cmd += ["--preset", f"{name}={p},{t},{z}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=timeout_s)
        except queue.Empty:
            stop_camera(proc)
            raise RuntimeError(f"no READY within {timeout_s:g} s") from None
        seen.append(line)
        if line.startswith("READY"):
            return proc, port, line.split("rtsp=", 1)[1].strip()
        if proc.poll() is not None:
            raise RuntimeError("".join(seen)[-800:].strip() or f"exit code {proc.returncode}")


def stop_camera(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--config", type=Path, default=REPO / "configs" / "demo-cameras.yaml", help="demo cameras"
    )
    ap.add_argument(
        "--ptz", type=Path, default=REPO / "configs" / "demo-ptz.yaml", help="the PTZ camera to add"
    )
    ap.add_argument(
        "--out", type=Path, help="merged config (default: $SAFECITY_HOME or ./var, demo-cameras-ptz.yaml)"
    )
    ap.add_argument(
        "command", nargs=argparse.REMAINDER, help="-- COMMAND ... (e.g. -- .venv/bin/safecity demo)"
    )
    args = ap.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        ap.error("give the command to run after --, e.g. -- .venv/bin/safecity demo")
    for path in (args.config, args.ptz):
        if not path.is_file():
            ap.error(f"{path} does not exist")
    password = secrets.token_urlsafe(12)
    presets = yaml.safe_load(args.ptz.read_text(encoding="utf-8")).get("virtual_presets", {})
    camera: subprocess.Popen[str] | None = None
    config = args.config
    try:
        camera, port, rtsp_url = start_camera(presets, password)
        home = Path(os.environ.get("SAFECITY_HOME") or REPO / "var")
        out = args.out or home / "demo-cameras-ptz.yaml"
        out.parent.mkdir(parents=True, exist_ok=True)
        merged = merged_config(args.config, args.ptz, rtsp_url, port)
        out.write_text(yaml.safe_dump(merged, allow_unicode=True, sort_keys=False), encoding="utf-8")
        config = out
        _say(f"virtual PTZ on patrol: ONVIF http://127.0.0.1:{port}, video {rtsp_url} (pid {camera.pid})")
        _say(f"demo config with the PTZ camera: {out}")
    except (RuntimeError, OSError) as exc:
        _say(f"the virtual PTZ could not start ({exc}); the demo runs without it "
             "(scripts/install-system-deps.sh installs GStreamer's RTSP server)")  # fmt: skip
    env = {**os.environ, PASSWORD_ENV: password}
    child = subprocess.Popen([*command, "--config", str(config)], env=env)

    def forward(sig: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, forward)
    try:
        rc = child.wait()
    finally:
        if child.poll() is None:
            child.terminate()
            child.wait(timeout=30)
        if camera is not None:
            stop_camera(camera)
            _say("virtual PTZ stopped")
    return rc


if __name__ == "__main__":
    sys.exit(main())
