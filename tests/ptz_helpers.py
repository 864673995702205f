"""Start the virtual ONVIF PTZ camera (``scripts/virtual_ptz``) as a real process for tests.

It speaks ONVIF SOAP over HTTP (and, unless ``rtsp=False``, serves RTSP through GStreamer); tests talk to
it with the real client. Faults are injected from outside: SIGSTOP (a camera that stops answering),
kill, or ``--no-ptz`` (a camera without a PTZ service).
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from safecity.monitor.types import Detections
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "virtual_ptz" / "virtual_ptz.py"


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


class VirtualPtz:
    """One virtual camera process; ``start()`` waits for its READY line."""

    def __init__(
        self,
        *,
        user: str = "admin",
        password: str = "s3cret-pw",
        presets: dict[str, tuple[float, float, float]] | None = None,
        speed: float = 0.5,
        rtsp: bool = True,
        ptz: bool = True,
        walker: tuple[float, float] | None = None,
        status: bool = True,
    ) -> None:
        self.user, self.password, self.speed = user, password, speed
        self.port = free_port()
        self.rtsp_port = free_port()
        self.presets = presets or {}
        self.rtsp, self.ptz, self.walker, self.status = rtsp, ptz, walker, status
        self.proc: subprocess.Popen[str] | None = None
        self.rtsp_url: str | None = None
        self._lines: queue.Queue[str] = queue.Queue()

    def start(self, timeout_s: float = 40.0) -> VirtualPtz:
        cmd = [
            sys.executable, str(SCRIPT), "--port", str(self.port), "--rtsp-port", str(self.rtsp_port),
            "--user", self.user, "--password", self.password, "--speed", str(self.speed),
        ]  # fmt: skip
        for name, (p, t, z) in self.presets.items():
            cmd += ["--preset", f"{name}={p},{t},{z}"]
        if not self.rtsp:
            cmd.append("--no-rtsp")
        if not self.ptz:
            cmd.append("--no-ptz")
        if not self.status:
            cmd.append("--no-status")
        if self.walker is not None:
            cmd += ["--walker", f"{self.walker[0]},{self.walker[1]}"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        threading.Thread(target=_pump, args=(self.proc.stdout, self._lines), daemon=True).start()
        seen: list[str] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            seen.append(line)
            if line.startswith("READY"):
                rtsp = line.split("rtsp=", 1)[1].strip()
                self.rtsp_url = None if rtsp == "none" else rtsp
                return self
        self.stop()
        raise RuntimeError(f"virtual PTZ did not print READY in {timeout_s} s: {''.join(seen)[-3000:]}")

    def pause(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class MagentaDetector:
    """Finds the virtual camera's magenta walker (``--walker``) as one ``person`` per picture: a
    stand-in detector for runtime tests (``RuntimeOptions.detector_factory``), no model needed."""

    name = "magenta"
    input_size = (64, 64)

    def detect_batch(self, images_bgr: Sequence[npt.NDArray[np.uint8]]) -> list[Detections]:
        out = []
        for img in images_bgr:
            b, g, r = (img[..., i].astype(np.int16) for i in range(3))
            ys, xs = np.nonzero((r > 170) & (b > 170) & (g < 90))
            if len(xs) < 6:
                out.append(Detections.empty())
                continue
            box = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32)
            out.append(Detections(box, np.array([0.9], np.float32), np.array(["person"], dtype="<U16")))
        return out


def magenta_detector(_cfg: object) -> MagentaDetector:
    """``RuntimeOptions.detector_factory = "tests.ptz_helpers:magenta_detector"``."""
    return MagentaDetector()
