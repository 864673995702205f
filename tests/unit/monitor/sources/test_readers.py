"""FileSource, RateGate, DecodedFrame and open_source on real (ffmpeg-made and Intel) videos."""

from __future__ import annotations

import itertools
import logging
import math
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safecity.errors import SourceError
from safecity.monitor.sources.readers import (
    DecodedFrame,
    FileSource,
    RateGate,
    RtspSource,
    SourceGap,
    open_source,
)
from safecity.monitor.types import Frame

REPO = Path(__file__).resolve().parents[4]
INTEL = REPO / "data" / "video" / "intel-sample-videos"


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=60)


def _testsrc(
    path: Path, *, size: str = "640x360", seconds: float = 2.0, fps: int = 10, fmt: str = "mp4"
) -> Path:
    """testsrc2 clip, H.264 Main, no B-frames, GOP 1 s."""
    _ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}", "-t", str(seconds),
        "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-bf", "0", "-g", str(fps),
        "-pix_fmt", "yuv420p", *(["-f", "mpegts"] if fmt == "ts" else []), str(path),
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    small = _testsrc(d / "a.ts", size="320x240", seconds=1.0, fmt="ts")
    large = _testsrc(d / "b.ts", size="640x360", seconds=1.0, fmt="ts")
    mixed = d / "mixed.ts"
    mixed.write_bytes(small.read_bytes() + large.read_bytes())
    junk = d / "junk.mp4"
    junk.write_bytes(np.random.default_rng(7).integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    truncated = d / "truncated.mp4"
    src = INTEL / "one-by-one-person-detection.mp4"
    truncated.write_bytes(src.read_bytes()[: src.stat().st_size // 3])
    audio = d / "audio.m4a"
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=0.5", "-c:a", "aac", str(audio))
    return {
        "clip": _testsrc(d / "clip.mp4", seconds=2.0),
        "mixed": mixed,
        "junk": junk,
        "truncated": truncated,
        "audio": audio,
    }


def _frames(src: FileSource) -> list[DecodedFrame]:
    out = [f for f in src if isinstance(f, DecodedFrame)]
    return out


@pytest.mark.parametrize(
    ("detect_fps", "expected_times"),
    [
        (None, [round(0.1 * i, 1) for i in range(20)]),  # every frame of a 10 fps, 2 s clip
        (5.0, [round(0.2 * i, 1) for i in range(10)]),  # every 2nd frame, by time
        (2.0, [0.0, 0.5, 1.0, 1.5]),  # every 5th
        (20.0, [round(0.1 * i, 1) for i in range(20)]),  # faster than the clip: all frames
    ],
)
def test_file_source_decimates_by_time(
    clips: dict[str, Path], detect_fps: float | None, expected_times: list[float]
) -> None:
    frames = _frames(FileSource(clips["clip"], camera="c1", detect_fps=detect_fps))
    assert [round(f.t_s, 1) for f in frames] == expected_times
    assert all(f.camera == "c1" and (f.width, f.height) == (640, 360) for f in frames)
    assert [f.index for f in frames] == sorted({f.index for f in frames})  # 1-based, increasing
    assert frames[0].index == 1


def test_file_source_gray_is_the_y_plane_and_bgr_is_cached(clips: dict[str, Path]) -> None:
    frame = _frames(FileSource(clips["clip"], camera="c", detect_fps=None))[3]
    with av.open(str(clips["clip"])) as c:
        ref = next(f for i, f in enumerate(c.decode(video=0)) if i == 3)
        y = ref.to_ndarray(format="yuv420p")[:360]  # planar: Y rows first
    assert frame.gray.shape == (360, 640) and frame.gray.dtype == np.uint8
    np.testing.assert_array_equal(frame.gray, y)
    bgr = frame.bgr()
    assert bgr.shape == (360, 640, 3) and bgr is frame.bgr()
    as_frame = frame.as_frame(with_bgr=True)
    assert isinstance(as_frame, Frame) and as_frame.bgr is bgr and frame.as_frame().bgr is None


@pytest.mark.parametrize(
    ("max_height", "expected_wh"),
    [
        (None, (640, 360)),  # no limit
        (720, (640, 360)),  # limit above the frame: unchanged
        (180, (320, 180)),  # halved
        (100, (178, 100)),  # odd ratio: rounded to even width
    ],
)
def test_file_source_max_height_scales_gray_and_bgr(
    clips: dict[str, Path], max_height: int | None, expected_wh: tuple[int, int]
) -> None:
    frame = _frames(FileSource(clips["clip"], camera="c", detect_fps=1.0, max_height=max_height))[0]
    w, h = expected_wh
    assert (frame.width, frame.height) == (w, h)
    assert frame.gray.shape == (h, w)
    assert frame.bgr().shape == (h, w, 3)


def test_file_source_loop_adds_the_duration(clips: dict[str, Path]) -> None:
    src = FileSource(clips["clip"], camera="c", detect_fps=None, loop=True)
    it = iter(src)
    frames = [next(it) for _ in range(45)]
    src.close()
    times = [round(f.t_s, 1) for f in frames]
    assert times == [round(0.1 * i, 1) for i in range(45)]  # 2.0, 2.1, ... continue the first round
    assert [f.index for f in frames] == list(range(1, 46))


def test_file_source_close_stops_a_realtime_loop(clips: dict[str, Path]) -> None:
    src = FileSource(clips["clip"], camera="c", detect_fps=None, loop=True, realtime=True)
    got = []
    for item in src:
        got.append(item)
        if len(got) == 3:
            src.close()
    assert len(got) == 3
    assert [round(f.t_s, 1) for f in got] == [0.0, 0.1, 0.2]


def test_file_source_resolution_change_mid_stream(clips: dict[str, Path]) -> None:
    frames = _frames(FileSource(clips["mixed"], camera="c", detect_fps=None))
    sizes = [(f.width, f.height) for f in frames]
    assert sizes[0] == (320, 240) and sizes[-1] == (640, 360)
    assert sorted(set(sizes)) == [(320, 240), (640, 360)]
    assert all(f.gray.shape == (f.height, f.width) for f in frames)
    assert frames[-1].bgr().shape == (360, 640, 3)
    times = [f.t_s for f in frames]
    assert all(b > a for a, b in itertools.pairwise(times))  # second segment's clock is stitched on


def test_file_source_truncated_file_ends_cleanly_with_a_warning(
    clips: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    full_s = 139.4
    with caplog.at_level(logging.WARNING, logger="safecity.monitor.sources.readers"):
        frames = _frames(FileSource(clips["truncated"], camera="c", detect_fps=1.0))
    assert 10 < len(frames) < full_s  # the first third of the clip
    assert any("damaged or truncated" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("junk", "cannot read .* as a video"),  # random bytes
        ("missing", "does not exist"),  # no such file
        ("audio", "has no video stream"),  # audio only
    ],
)
def test_file_source_bad_files_raise_source_error(clips: dict[str, Path], name: str, match: str) -> None:
    path = clips.get(name, clips["clip"].parent / "nope.mp4")
    with pytest.raises(SourceError, match=match):
        FileSource(path, camera="c")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"detect_fps": 0.0}, "detect_fps must be a positive"),  # zero rate
        ({"detect_fps": -5.0}, "detect_fps must be a positive"),  # negative rate
        ({"max_height": 4}, "max_height must be at least 16"),  # absurd size
    ],
)
def test_file_source_bad_settings_raise(clips: dict[str, Path], kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(SourceError, match=match):
        FileSource(clips["clip"], camera="c", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"url": "http://cam/1"}, "expected an rtsp://"),  # wrong scheme
        ({"transport": "sctp"}, "transport must be"),  # unknown transport
        ({"open_timeout_s": 0.0}, "timeouts must be positive"),  # no timeout = could hang
        ({"backoff_s": ()}, "backoff_s must be"),  # no back-off
    ],
)
def test_rtsp_source_bad_settings_raise(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"url": "rtsp://127.0.0.1:1/x", "camera": "c"} | kwargs
    url = args.pop("url")
    with pytest.raises(SourceError, match=match):
        RtspSource(url, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("rtsp://user:pw@10.0.0.1/stream1", RtspSource),  # live camera
        ("rtsps://10.0.0.1/stream1", RtspSource),  # TLS
        ("clip", FileSource),  # a file path
    ],
)
def test_open_source_picks_by_scheme(clips: dict[str, Path], target: str, kind: type) -> None:
    path = str(clips["clip"]) if target == "clip" else target
    src = open_source(path, camera="c", detect_fps=2.0, loop=False, read_timeout_s=3.0)
    assert isinstance(src, kind)
    src.close()


def test_rtsp_gap_reason_hides_the_password() -> None:
    src = RtspSource("rtsp://admin:secret@127.0.0.1:1/x", camera="c", open_timeout_s=1.0, backoff_s=(0.0,))
    gap = next(iter(src))
    src.close()
    assert isinstance(gap, SourceGap)
    assert "secret" not in gap.reason and gap.down_since_s == gap.t_s


@settings(max_examples=60, deadline=None)
@given(
    fps_in=st.floats(5.0, 60.0),
    fps_out=st.floats(0.5, 30.0),
    seconds=st.floats(2.0, 30.0),
)
def test_rate_gate_keeps_the_target_rate(fps_in: float, fps_out: float, seconds: float) -> None:
    gate = RateGate(fps_out)
    times = [i / fps_in for i in range(int(seconds * fps_in))]
    kept = [t for t in times if gate.keep(t)]
    duration = len(times) / fps_in
    expected = duration * min(fps_in, fps_out)
    assert kept[0] == 0.0
    # The schedule advances one period per kept frame: never more than due (+1 for the frame at 0),
    # and only a few % short from rounding to the input's frame grid (3000 random cases: >= 0.966).
    assert math.floor(expected * 0.95) - 1 <= len(kept) <= math.ceil(expected) + 1


def test_rate_gate_restarts_after_a_gap() -> None:
    gate = RateGate(5.0)
    assert [gate.keep(t) for t in (0.0, 0.2, 10.0, 10.1, 10.2, 10.4)] == [True, True, True, False, True, True]
    gate.reset()
    assert gate.keep(10.41)


def test_file_source_iterates_again_from_the_start_and_close_before_use(clips: dict[str, Path]) -> None:
    src = FileSource(clips["clip"], camera="c", detect_fps=2.0)
    first = [f.t_s for f in _frames(src)]
    assert first == [f.t_s for f in _frames(src)] == [0.0, 0.5, 1.0, 1.5]
    unused = FileSource(clips["clip"], camera="c")
    unused.close()
    assert list(unused) == []
