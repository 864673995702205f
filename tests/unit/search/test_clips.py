"""A clip's absolute span (written into the MP4 by the recorder) and where a moment falls in it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from safecity.media import MediaRecorder, read_clip_start, write_clip
from safecity.search.clips import DEFAULT_PRE_S, ClipSpan, clip_span, nearest_clip
from tests.factories import make_event

T0 = 1_790_000_000.0


def _frames(t0: float, n: int, step: float = 0.25) -> list[tuple[float, np.ndarray]]:
    return [(t0 + k * step, np.full((48, 64, 3), 10 * (k % 20), np.uint8)) for k in range(n)]


def test_write_clip_records_the_absolute_time_of_its_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "c.mp4"
    write_clip(path, _frames(T0 + 25.5, 40))  # 40 frames, 0.25 s apart
    start, duration = read_clip_start(path)
    assert start == pytest.approx(T0 + 25.5, abs=1e-3)
    assert duration == pytest.approx(39 * 0.25, abs=0.3)


def test_the_recorder_clip_starts_at_its_first_buffered_frame_not_at_the_nominal_pre_roll(
    tmp_path: Path,
) -> None:
    # the camera started 2 s before the event: the clip cannot hold the 5 s pre-roll
    rec = MediaRecorder(tmp_path, pre_s=5.0, post_s=3.0, fps=4.0, codec="libx264")
    img = np.full((48, 64, 3), 90, np.uint8)
    ev = make_event(uid="ev-1", camera="cam1", start_s=T0 + 2.0)
    for k in range(9):  # T0 .. T0 + 2
        rec.add_frame("cam1", T0 + k * 0.25, img)
    rec.publish("start", ev)
    for k in range(9, 25):
        rec.add_frame("cam1", T0 + k * 0.25, img)
    rec.close()
    span = clip_span(rec.clip_path(ev), ev.start_s)
    assert span is not None and span.exact
    assert span.start_s == pytest.approx(T0, abs=1e-3)  # not T0 + 2 - 5
    assert span.seek(T0 + 3.0) == pytest.approx(3.0, abs=1e-3)


def test_a_clip_without_the_tag_is_estimated_from_the_event_start(tmp_path: Path) -> None:
    import av

    path = tmp_path / "old.mp4"
    with av.open(str(path), mode="w", format="mp4") as c:  # as clips were written before the tag
        s = c.add_stream("libx264", rate=4)
        assert isinstance(s, av.VideoStream)
        s.width, s.height, s.pix_fmt, s.time_base = 64, 48, "yuv420p", Fraction(1, 4)
        for k, (_, img) in enumerate(_frames(0.0, 8)):
            vf = av.VideoFrame.from_ndarray(img, format="bgr24")
            vf.pts = k
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    assert read_clip_start(path)[0] is None
    span = clip_span(path, T0 + 30.0)
    assert span is not None and not span.exact
    assert span.start_s == T0 + 30.0 - DEFAULT_PRE_S
    assert clip_span(tmp_path / "missing.mp4", T0) is None
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    assert clip_span(tmp_path / "junk.mp4", T0) is None


def test_seek_is_clamped_and_the_nearest_clip_is_the_one_showing_the_moment() -> None:
    a, b = ClipSpan(T0, 10.0, True), ClipSpan(T0 + 8.0, 10.0, True)
    assert a.seek(T0 + 4.25) == 4.25 and a.seek(T0 - 3) == 0.0 and a.seek(T0 + 60) == 10.0
    assert nearest_clip([a, b], T0 + 3.0) == 0
    assert nearest_clip([a, b], T0 + 15.0) == 1
    assert nearest_clip([a, None, b], T0 + 9.5) == 2  # in both: the one where it is not at the edge
    assert nearest_clip([a, b], T0 + 40.0) == 1  # in neither: the nearer
    assert nearest_clip([None], T0) is None
