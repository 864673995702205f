"""RtspSource against a real GStreamer RTSP server on loopback, with faults injected.

The server is ``scripts/gst_rtsp_loop.py`` under Debian's ``/usr/bin/python3`` (it needs ``gi``);
clips are made with ffmpeg at fixture time. Faults: the server killed mid-stream and restarted
on the same port, the server stopped (SIGSTOP) and resumed, a TCP listener that never answers,
and no server at all.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from safecity.monitor.sources.readers import DecodedFrame, RtspSource, SourceGap
from tests.ports import free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SERVER = REPO / "scripts" / "gst_rtsp_loop.py"
SYSTEM_PYTHON = "/usr/bin/python3"


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


class RtspServer:
    """One gst_rtsp_loop.py process serving ``clip`` at ``/cam`` on ``port``."""

    def __init__(self, clip: Path, port: int) -> None:
        self.clip = clip
        self.port = port
        self.url = f"rtsp://127.0.0.1:{port}/cam"
        self.proc: subprocess.Popen[str] | None = None
        self._pump: threading.Thread | None = None

    def start(self, timeout_s: float = 15.0) -> None:
        self.proc = subprocess.Popen(
            [SYSTEM_PYTHON, str(SERVER), "--port", str(self.port), f"cam={self.clip}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        # A thread reads the pipe: select() on a buffered text pipe can miss lines already buffered.
        self._pump = threading.Thread(target=_pump, args=(self.proc.stdout, lines), daemon=True)
        self._pump.start()
        deadline = time.monotonic() + timeout_s
        seen: list[str] = []
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            seen.append(line)
            if line.startswith("READY"):
                return
        self.stop()
        pytest.fail(f"RTSP server did not print READY within {timeout_s} s; output: {''.join(seen)!r}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._close_pipe()

    def _close_pipe(self) -> None:
        if self._pump is not None:
            self._pump.join(timeout=5)  # ends at EOF, once the process is gone
            self._pump = None
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGCONT)  # in case a test left it stopped
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._close_pipe()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rtsp") / "cam.mp4"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=10", "-t", "3",
            "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-bf", "0", "-g", "10",
            "-pix_fmt", "yuv420p", str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path


@pytest.fixture
def server(clip: Path) -> Iterator[RtspServer]:
    srv = RtspServer(clip, free_port())
    srv.start()
    yield srv
    srv.stop()


def _source(url: str, **kw: object) -> RtspSource:
    args: dict[str, object] = {"open_timeout_s": 2.0, "read_timeout_s": 1.0, "backoff_s": (0.3, 0.6)} | kw
    return RtspSource(url, camera="cam", **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("max_height", "expected_wh"),
    [
        (None, (640, 360)),  # native size
        (180, (320, 180)),  # downscaled on receipt
    ],
)
def test_rtsp_frames_carry_wall_clock_time_at_the_detect_rate(
    server: RtspServer, max_height: int | None, expected_wh: tuple[int, int]
) -> None:
    src = _source(server.url, detect_fps=5.0, max_height=max_height)
    t_start = time.time()
    frames: list[DecodedFrame] = []
    for item in src:
        assert isinstance(item, DecodedFrame), f"unexpected gap: {item}"
        frames.append(item)
        if len(frames) == 8:
            break
    src.close()
    t_end = time.time()
    assert all(t_start <= f.t_s <= t_end for f in frames)
    assert all((f.width, f.height) == expected_wh and f.gray.shape == expected_wh[::-1] for f in frames)
    assert frames[3].bgr().shape == (*expected_wh[::-1], 3)
    steps = [b.t_s - a.t_s for a, b in itertools.pairwise(frames)]
    # 10 fps stream decimated to 5 fps by arrival time: about every second frame (0.2 s apart).
    assert min(steps) >= 0.15
    indices = [f.index for f in frames]
    assert indices == sorted(indices) and indices[-1] - indices[0] >= 12


def test_rtsp_server_dropped_then_restarted_gives_gaps_then_frames(server: RtspServer) -> None:
    src = _source(server.url, detect_fps=None)
    items: list[DecodedFrame | SourceGap] = []
    killed = restarted = False
    for item in src:
        items.append(item)
        n_frames = sum(isinstance(i, DecodedFrame) for i in items)
        if not killed and n_frames >= 5:
            server.kill()  # drop mid-stream
            killed = True
        gaps = [i for i in items if isinstance(i, SourceGap)]
        if killed and not restarted and len(gaps) >= 3:
            server.start()  # same port again
            restarted = True
        if restarted and isinstance(item, DecodedFrame):
            break
    src.close()
    gaps = [i for i in items if isinstance(i, SourceGap)]
    assert len(gaps) >= 3
    assert len({g.down_since_s for g in gaps}) == 1  # one outage
    assert any("refused" in g.reason.lower() for g in gaps)  # server gone: connection refused
    assert isinstance(items[-1], DecodedFrame) and items[-1].t_s > gaps[-1].t_s


def test_rtsp_stalled_server_times_out_and_recovers(server: RtspServer) -> None:
    assert server.proc is not None
    src = _source(server.url, detect_fps=None)
    items: list[DecodedFrame | SourceGap] = []
    stopped = False
    resume: threading.Timer | None = None
    for item in src:
        items.append(item)
        if not stopped and len(items) >= 5:
            os.kill(server.proc.pid, signal.SIGSTOP)  # stall: the socket stays open, nothing arrives
            stopped = True
        if stopped and resume is None and isinstance(item, SourceGap):
            resume = threading.Timer(0.5, os.kill, (server.proc.pid, signal.SIGCONT))
            resume.start()
        if resume is not None and isinstance(item, DecodedFrame):
            break
    src.close()
    gaps = [i for i in items if isinstance(i, SourceGap)]
    assert gaps and "timed out" in gaps[0].reason
    assert isinstance(items[-1], DecodedFrame)


def test_rtsp_listener_that_never_answers_gives_a_gap_within_open_timeout() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # the kernel accepts connections; nobody ever answers
    port = listener.getsockname()[1]
    try:
        src = _source(f"rtsp://127.0.0.1:{port}/cam", open_timeout_s=1.0, backoff_s=(0.1,))
        t0 = time.time()
        it = iter(src)
        first, second = next(it), next(it)
        src.close()
    finally:
        listener.close()
    assert isinstance(first, SourceGap) and isinstance(second, SourceGap)
    assert "no answer within 1 s" in first.reason
    # Bounded, not hung: the first gap comes after the open timeout (1 s) plus margin for a busy CPU.
    assert first.t_s - t0 < 5.0
    assert second.down_since_s == first.down_since_s


def test_rtsp_no_server_gaps_and_close_cuts_the_back_off_short() -> None:
    src = _source(f"rtsp://127.0.0.1:{free_port()}/cam", backoff_s=(60.0,))
    it = iter(src)
    gap = next(it)
    assert isinstance(gap, SourceGap) and "refused" in gap.reason.lower()
    threading.Timer(0.2, src.close).start()
    rest = list(it)  # would wait 60 s for the next attempt without close()
    assert rest == []
