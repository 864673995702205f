"""Privacy masks, event snapshots and clips (real JPEG/MP4 files), and media retention."""

from __future__ import annotations

import os
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from safecity.errors import InputError
from safecity.media import (
    MediaExistsError,
    MediaRecorder,
    apply_privacy_masks,
    enforce_retention,
    media_paths,
    safe_name,
    write_clip,
    write_jpeg,
)
from safecity.monitor.types import Event

# ------------------------------------------------------------------ privacy masks

frac = st.floats(0.0, 1.0, allow_nan=False)
polygon = st.lists(st.tuples(frac, frac), min_size=3, max_size=6)


@settings(max_examples=80, deadline=None)
@given(
    img=arrays(np.uint8, st.tuples(st.integers(8, 32), st.integers(8, 32), st.just(3))),
    polys=st.lists(polygon, max_size=3),
)
def test_masks_black_inside_unchanged_outside_input_untouched(
    img: np.ndarray, polys: list[list[tuple[float, float]]]
) -> None:
    before = img.copy()
    out = apply_privacy_masks(img, polys)
    assert np.array_equal(img, before)  # input not mutated
    assert out is not img and out.shape == img.shape and out.dtype == np.uint8
    changed = (out != img).any(axis=2)
    assert (out[changed] == 0).all()  # every changed pixel is black
    h, w = img.shape[:2]
    # signed distance of each pixel to the nearest polygon edge (positive inside), best over polygons
    depth = np.full((h, w), -np.inf)
    for poly in polys:
        pts = (np.asarray(poly) * [w - 1, h - 1]).astype(np.float32)
        for y in range(h):
            for x in range(w):
                depth[y, x] = max(depth[y, x], cv2.pointPolygonTest(pts, (float(x), float(y)), True))
    assert (out[depth > 1.5] == 0).all()  # well inside a polygon: black
    outside = depth < -1.5
    assert np.array_equal(out[outside], img[outside])  # well outside every polygon: unchanged


@pytest.mark.parametrize(
    ("img", "polys", "match"),
    [
        (np.zeros((4, 4), np.uint8), [], "BGR uint8"),  # gray image
        (np.zeros((4, 4, 3), np.float32), [], "BGR uint8"),  # float image
        (np.zeros((4, 4, 3), np.uint8), [[(0.0, 0.0), (1.0, 1.0)]], "at least 3"),  # a line, not a polygon
        (np.zeros((4, 4, 3), np.uint8), [[(0.0, 0.0), (2.0, 0.0), (0.0, 1.0)]], "fractions"),  # pixels
    ],
)
def test_masks_reject_bad_input(img: np.ndarray, polys: list[list[tuple[float, float]]], match: str) -> None:
    with pytest.raises(InputError, match=match):
        apply_privacy_masks(img, polys)


@pytest.mark.parametrize(
    ("camera", "uid", "snap"),
    [
        ("cam1", "e-1", "cam1/e-1.jpg"),  # plain ids
        ("../etc", "x/y", "_._etc/x_y.jpg"),  # no way out of the media root
        ("카메라 1", "u", "____1/u.jpg"),  # non-ASCII ids are replaced
    ],
)
def test_media_paths_are_deterministic_and_safe(camera: str, uid: str, snap: str) -> None:
    s, c = media_paths(Path("root"), camera, uid)
    assert s.relative_to("root").as_posix() == snap
    assert c == s.with_suffix(".mp4")
    with pytest.raises(InputError):
        safe_name("")


# ------------------------------------------------------------------ recorder


def _frame(t: float, w: int = 640, h: int = 360) -> np.ndarray:
    img = np.full((h, w, 3), 200, np.uint8)
    x = int(t * 40) % (w - 40)
    img[100:140, x : x + 40] = (0, 255, 0)  # a moving square
    return img


def test_recorder_writes_masked_snapshot_and_clip_spanning_pre_and_post(tmp_path: Path) -> None:
    mask = [(0.0, 0.0), (0.25, 0.0), (0.25, 0.25), (0.0, 0.25)]
    rec = MediaRecorder(tmp_path, masks={"cam1": [mask]}, pre_s=2.0, post_s=3.0, fps=5.0, max_height=180)
    ev = Event(
        uid="ev1", type="intrusion", camera="cam1", start_s=10.0, last_s=10.0, box_frac=(0.5, 0.5, 0.7, 0.8)
    )
    t = 0.0
    while t <= 20.0:  # 10 fps source
        rec.add_frame("cam1", t, _frame(t))
        if abs(t - 10.0) < 1e-6:
            rec.publish("start", ev)
        t = round(t + 0.1, 3)
    assert rec.flush(30)
    rec.close()
    snap = cv2.imread(str(rec.snapshot_path(ev)))
    assert snap.shape == (360, 640, 3)  # snapshots keep the full frame
    assert snap[:80, :150].max() < 20  # the privacy mask is black
    assert snap[200:260, 200:260].min() > 150  # the rest is the picture
    assert (snap[int(0.5 * 359) - 1 : int(0.5 * 359) + 2, 350:440, 2] > 150).any()  # red event box
    with av.open(str(rec.clip_path(ev))) as c:
        stream = c.streams.video[0]
        assert (stream.width, stream.height) == (320, 180)
        assert stream.codec_context.name in ("h264", "mpeg4")
        frames = [(float(f.time or 0.0), f.to_ndarray(format="bgr24")) for f in c.decode(video=0)]
    # 5 fps from 8.0 to 13.0 s: about pre_s + post_s seconds, first frame 0
    assert 20 <= len(frames) <= 27
    assert frames[0][0] == 0.0
    assert 4.6 <= frames[-1][0] <= 5.2
    assert max(f[:40, :75].max() for _, f in frames) < 25  # mask in every clip frame


def test_recorder_ignores_updates_and_camera_offline(tmp_path: Path) -> None:
    rec = MediaRecorder(tmp_path, pre_s=1, post_s=1)
    off = Event(uid="off", type="camera_offline", camera="cam1", start_s=1.0, last_s=1.0)
    rec.add_frame("cam1", 0.0, _frame(0))
    rec.publish("start", off)
    rec.publish("update", Event(uid="u", type="fall", camera="cam1", start_s=0.0, last_s=0.0))
    rec.close()
    assert not list(tmp_path.rglob("*.jpg")) and not list(tmp_path.rglob("*.mp4"))


def test_snapshot_waits_for_the_first_frame(tmp_path: Path) -> None:
    rec = MediaRecorder(tmp_path, pre_s=0, post_s=0.5, fps=10)
    ev = Event(uid="e", type="fall", camera="cam9", start_s=0.0, last_s=0.0)
    rec.publish("start", ev)  # no frame of cam9 yet
    for i in range(8):
        rec.add_frame("cam9", i * 0.1, _frame(i * 0.1))
    rec.close()
    assert rec.snapshot_path(ev).is_file() and rec.clip_path(ev).is_file()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fps": 0}, "fps > 0"),  # no frames at all
        ({"pre_s": -1}, "pre_s >= 0"),  # negative pre-roll
        ({"masks": {"cam1": [[(0.0, 0.0), (1.0, 1.0)]]}}, "at least 3"),  # bad mask found at start
    ],
)
def test_recorder_rejects_bad_settings(tmp_path: Path, kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        MediaRecorder(tmp_path, **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------ retention

NOW = 1_800_000_000.0
DAY = 86400.0


@pytest.mark.parametrize(
    ("files", "max_days", "max_bytes", "deleted"),
    [
        # (name, age in days, size); nothing too old or too big
        ([("a.jpg", 1, 100), ("b.mp4", 2, 100)], 30, 1000, []),
        # too old
        ([("a.jpg", 40, 100), ("b.mp4", 2, 100)], 30, 1000, ["a.jpg"]),
        # too big: oldest first until it fits
        ([("a.jpg", 3, 400), ("b.mp4", 2, 400), ("c.mp4", 1, 400)], 30, 900, ["a.jpg"]),
        # both: age first, then size
        (
            [("a.jpg", 40, 10), ("b.mp4", 5, 500), ("c.mp4", 4, 500), ("d.jpg", 1, 10)],
            30,
            600,
            ["a.jpg", "b.mp4"],
        ),
        # other files are never touched, even if old
        ([("notes.txt", 400, 10_000), ("a.jpg", 400, 1)], 30, 0, ["a.jpg"]),
    ],
)
def test_enforce_retention(
    tmp_path: Path, files: list[tuple[str, float, int]], max_days: float, max_bytes: int, deleted: list[str]
) -> None:
    for name, age_d, size in files:
        p = tmp_path / "cam1" / name
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"x" * size)
        os.utime(p, (NOW - age_d * DAY, NOW - age_d * DAY))
    gone = enforce_retention(tmp_path, max_days, max_bytes, now=NOW)
    assert [p.name for p in gone] == deleted
    left = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert left == sorted(n for n, _, _ in files if n not in deleted)


def test_enforce_retention_removes_empty_camera_folders(tmp_path: Path) -> None:
    p = tmp_path / "cam1" / "a.jpg"
    p.parent.mkdir()
    p.write_bytes(b"x")
    os.utime(p, (NOW - 90 * DAY, NOW - 90 * DAY))
    assert enforce_retention(tmp_path, 30, 10**9, now=NOW) == [p]
    assert not (tmp_path / "cam1").exists()
    with pytest.raises(InputError, match="max_days"):
        enforce_retention(tmp_path, 0, 1)


def test_doctests() -> None:
    import doctest

    import safecity.media

    assert doctest.testmod(safecity.media).failed == 0


def test_wants_frame_thins_by_time(tmp_path: Path) -> None:
    rec = MediaRecorder(tmp_path, fps=4.0)
    assert rec.wants_frame("cam1", 0.0)  # nothing buffered yet
    rec.add_frame("cam1", 0.0, _frame(0))
    assert not rec.wants_frame("cam1", 0.1)  # 0.1 s < 1/fps
    assert rec.wants_frame("cam1", 0.25)
    assert rec.wants_frame("cam2", 0.1)  # other cameras are independent
    rec.close()


def test_camera_without_frames_does_not_pile_up_clips(tmp_path: Path) -> None:
    rec = MediaRecorder(tmp_path, pre_s=1, post_s=2)
    for i in range(300):  # events every 10 s on a camera whose frames never reach this recorder
        rec.publish(
            "start", Event(uid=f"e{i}", type="fall", camera="cam1", start_s=10.0 * i, last_s=10.0 * i)
        )
    assert sum(len(v) for v in rec._pending.values()) == 1  # only the last clip's window is open
    assert len(rec._waiting_snapshots["cam1"]) == 100  # bounded
    rec.close()
    assert not list(tmp_path.rglob("*.mp4"))  # no frames: no clip files


def test_recorder_enforces_retention_after_writing_a_clip(tmp_path: Path) -> None:
    old = tmp_path / "cam0" / "old.mp4"
    old.parent.mkdir()
    old.write_bytes(b"x" * 1000)
    ninety_days_ago = time.time() - 90 * DAY  # the recorder uses the real clock
    os.utime(old, (ninety_days_ago, ninety_days_ago))
    rec = MediaRecorder(tmp_path, pre_s=0, post_s=0.5, fps=10, max_days=30, max_bytes=10**9)
    ev = Event(uid="e", type="fall", camera="cam1", start_s=0.0, last_s=0.0)
    rec.add_frame("cam1", 0.0, _frame(0))
    rec.publish("start", ev)
    for i in range(1, 8):
        rec.add_frame("cam1", i * 0.1, _frame(i * 0.1))
    rec.close()
    assert rec.clip_path(ev).is_file() and rec.snapshot_path(ev).is_file()
    assert rec.deleted == [old] and not old.exists()


def test_recorder_retention_needs_both_limits(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="give both max_days"):
        MediaRecorder(tmp_path, max_days=30)


# ------------------------------------------------------------------ never overwritten (issue 11, item 1)


def test_write_jpeg_and_clip_refuse_to_overwrite(tmp_path: Path) -> None:
    snap, clip = media_paths(tmp_path, "cam1", "ev-1")
    write_jpeg(snap, _frame(0))
    first = snap.read_bytes()
    with pytest.raises(MediaExistsError, match="never overwritten"):
        write_jpeg(snap, _frame(5))
    assert snap.read_bytes() == first
    write_clip(clip, [(0.0, _frame(0)), (0.25, _frame(0.25))], codec="mpeg4")
    size = clip.stat().st_size
    with pytest.raises(MediaExistsError):
        write_clip(clip, [(0.0, _frame(3))], codec="mpeg4")
    assert clip.stat().st_size == size
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]  # no temporary file left behind


def test_recorder_second_event_with_same_uid_keeps_the_first_files(tmp_path: Path) -> None:
    rec = MediaRecorder(tmp_path, pre_s=0, post_s=0.2, fps=10, codec="mpeg4")
    ev = Event(uid="dup", type="fall", camera="cam1", start_s=0.0, last_s=0.0)
    rec.add_frame("cam1", 0.0, _frame(0))
    rec.publish("start", ev)
    for i in range(1, 4):
        rec.add_frame("cam1", i * 0.1, _frame(i * 0.1))
    rec.flush()
    snap_before = rec.snapshot_path(ev).read_bytes()
    again = Event(uid="dup", type="fall", camera="cam1", start_s=1.0, last_s=1.0)
    rec.add_frame("cam1", 1.0, _frame(9))
    rec.publish("start", again)
    for i in range(1, 4):
        rec.add_frame("cam1", 1.0 + i * 0.1, _frame(9))
    rec.close()
    assert rec.snapshot_path(ev).read_bytes() == snap_before


# ------------------------------------------------------------------ retention per camera, kept files


def _media(root: Path, rel: str, age_d: float, size: int) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"x" * size)
    os.utime(p, (NOW - age_d * DAY, NOW - age_d * DAY))
    return p


def test_retention_per_camera_cap_deletes_only_that_cameras_oldest(tmp_path: Path) -> None:
    for i in range(5):
        _media(tmp_path, f"busy/e{i}.mp4", 10 - i, 1000)  # 5000 bytes, e0 oldest
    _media(tmp_path, "quiet/q0.mp4", 20, 1000)  # older than all, but its camera is under its cap
    gone = enforce_retention(tmp_path, 30, 10**9, camera_max_bytes={"busy": 2500}, now=NOW)
    assert [p.relative_to(tmp_path).as_posix() for p in gone] == ["busy/e0.mp4", "busy/e1.mp4", "busy/e2.mp4"]
    assert (tmp_path / "quiet/q0.mp4").exists()


def test_retention_never_deletes_kept_media(tmp_path: Path) -> None:
    _media(tmp_path, "cam1/open.mp4", 90, 1000)  # an open event's clip, far too old
    _media(tmp_path, "cam1/exported.jpg", 5, 1000)  # part of an evidence export
    _media(tmp_path, "cam1/other.mp4", 4, 1000)
    gone = enforce_retention(
        tmp_path,
        30,
        0,
        camera_max_bytes={"cam1": 0},
        keep={"cam1/open.mp4", "cam1/exported.jpg"},
        now=NOW,
    )
    assert [p.name for p in gone] == ["other.mp4"]
    assert (tmp_path / "cam1/open.mp4").exists() and (tmp_path / "cam1/exported.jpg").exists()


def test_retention_per_camera_cap_rejects_negative(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="size caps"):
        enforce_retention(tmp_path, 30, 10, camera_max_bytes={"cam1": -1})
