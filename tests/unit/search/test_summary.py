from __future__ import annotations

import numpy as np
import pytest

from safecity.monitor.config.model import LineConfig, ZoneConfig
from safecity.monitor.types import Tracks
from safecity.search.records import TrackRecord
from safecity.search.summary import MAX_CROSSINGS, TrackSummariser

from .conftest import read_frame

W, H = 400, 200


def _tracks(t: float, rows: list[tuple[int, float, float, float, float, str]]) -> Tracks:
    return Tracks(
        t,
        np.array([r[0] for r in rows], np.int64),
        np.array([r[1:5] for r in rows], np.float32).reshape(-1, 4),
        np.full(len(rows), 0.8, np.float32),
        np.array([r[5] for r in rows]),
        np.full(len(rows), 0.0, np.float64),
    )


def _walk(
    s: TrackSummariser, n: int, *, tid: int = 1, dt: float = 0.2, step: float = 8.0
) -> list[TrackRecord]:
    out: list[TrackRecord] = []
    for i in range(n):  # foot point walks right along y = 150 px (0.75)
        x = 10.0 + step * i
        out += s.update(_tracks(i * dt, [(tid, x, 100.0, x + 20.0, 150.0, "person")]), (W, H))
    return out


def test_zone_line_direction_speed_and_end_after_the_gap() -> None:
    zone = ZoneConfig(name="right", polygon=[(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)])
    line = LineConfig(name="mid", a=(0.5, 0.0), b=(0.5, 1.0))  # vertical, drawn downwards
    s = TrackSummariser("cam", [zone], [line], lat=37.5, lon=126.9, end_after_s=1.0, path_every_s=0.0)
    assert _walk(s, 40) == []  # x from 10 to 322 px: crosses x = 200 px
    assert s.live_tracks == 1
    ended = s.update(Tracks.empty(7.9 + 1.01), (W, H))
    assert len(ended) == 1 and s.live_tracks == 0
    r = ended[0]
    assert (r.uid, r.camera, r.object_class, r.first_s) == ("cam-1-0", "cam", "person", 0.0)
    assert r.last_s == pytest.approx(7.8)
    assert r.zones == ("right",)
    # moving right across a line drawn downwards goes from its right side to its left: b_to_a
    assert [(c.line, c.direction) for c in r.crossings] == [("mid", "b_to_a")]
    assert r.crossings[0].t_s == pytest.approx(4.6)  # foot x = 20 + 8 i passes 200 px at i = 23
    assert r.speed == pytest.approx(8.0 / W / 0.2, rel=1e-3)  # 0.1 frame widths per second
    assert r.size == pytest.approx(50 / H) and r.aspect == pytest.approx(20 / 50)
    assert r.box == pytest.approx((0.05, 0.75, 0.83, 0.75), abs=1e-3)
    assert (r.lat, r.lon, r.thumbnail, r.colours) == (37.5, 126.9, None, {})
    assert r.dwell_s == pytest.approx(7.8)


def test_state_is_bounded_for_a_long_track_pacing_on_a_line() -> None:
    line = LineConfig(name="l", a=(0.5, 0.0), b=(0.5, 1.0))
    s = TrackSummariser("cam", [], [line], max_path=16, path_every_s=0.0)
    for i in range(2000):  # back and forth across the line every frame
        x = 150.0 if i % 2 else 230.0
        s.update(_tracks(i * 0.2, [(5, x, 100.0, x + 20.0, 150.0, "person")]), (W, H))
    assert s.held_items <= 2 * 16 + MAX_CROSSINGS
    (r,) = s.finish()
    assert len(r.crossings) == MAX_CROSSINGS
    assert len(r.path) <= 16 and r.path[0][0] == 0.0 and r.path[-1][0] == pytest.approx(1999 * 0.2)
    assert s.live_tracks == 0


def test_frame_is_fetched_only_when_a_track_is_due_for_a_sample() -> None:
    calls = []

    def frame() -> np.ndarray:
        calls.append(1)
        img = np.zeros((H, W, 3), np.uint8)
        img[:, :] = (40, 30, 200)
        return img

    s = TrackSummariser("cam", sample_every_s=1.0, path_every_s=0.0)
    for i in range(26):  # 5 s at 5 fps
        s.update(_tracks(i * 0.2, [(1, 100.0, 50.0, 140.0, 150.0, "car")]), (W, H), frame)
    assert len(calls) == 6  # t = 0, 1, 2, 3, 4, 5
    (r,) = s.finish()
    assert r.colours == {"body": ("red",)}
    assert r.thumbnail is not None and r.thumbnail[:2] == b"\xff\xd8"


def test_real_red_car_crop_gives_a_red_record_with_a_thumbnail() -> None:
    import cv2

    frame = read_frame("car-detection.mp4", 17.4)
    h, w = frame.shape[:2]
    box = (0.41 * w, 0.06 * h, 0.60 * w, 0.59 * h)
    s = TrackSummariser("car-lot", sample_every_s=0.0)
    for i in range(3):
        s.update(_tracks(17.4 + i * 0.2, [(3, *box, "car")]), (w, h), frame)
    (r,) = s.finish()
    assert r.colours["body"][0] == "red"
    thumb = cv2.imdecode(np.frombuffer(r.thumbnail or b"", np.uint8), cv2.IMREAD_COLOR)
    assert thumb is not None and thumb.shape[0] == 96


def test_person_gets_upper_and_lower_colours_and_majority_class() -> None:
    img = np.zeros((H, W, 3), np.uint8)
    img[:100] = (40, 30, 200)  # red above y = 100
    img[100:] = (90, 40, 30)  # navy below
    s = TrackSummariser("cam", sample_every_s=0.0)
    rows = ["person", "person", "bicycle"]
    for i, cls in enumerate(rows):
        s.update(_tracks(i * 0.2, [(2, 180.0, 40.0, 220.0, 160.0, cls)]), (W, H), img)
    (r,) = s.finish()
    assert r.object_class == "person"
    assert r.colours == {"upper": ("red",), "lower": ("navy",)}


def test_bad_arguments_are_clear() -> None:
    with pytest.raises(ValueError, match="end_after_s > 0"):
        TrackSummariser("cam", end_after_s=0.0)
    s = TrackSummariser("cam")
    with pytest.raises(ValueError, match="frame_wh must be positive"):
        s.update(_tracks(0.0, [(1, 0.0, 0.0, 5.0, 5.0, "car")]), (0, 0))


def test_a_track_longer_than_max_record_s_is_recorded_in_pieces() -> None:
    s = TrackSummariser("cam", max_record_s=10.0, end_after_s=1.0)
    out = []
    for i in range(126):  # 25 s at 5 fps
        out += s.update(_tracks(i * 0.2, [(9, 100.0, 50.0, 140.0, 150.0, "car")]), (W, H))
    out += s.finish()
    assert [round(r.first_s, 1) for r in out] == [0.0, 10.0, 20.0]
    assert all(r.dwell_s <= 10.0 for r in out) and len({r.uid for r in out}) == 3
    with pytest.raises(ValueError, match="max_record_s"):
        TrackSummariser("cam", max_record_s=7200.0)


@pytest.mark.parametrize(("discount", "want"), [(True, ("white",)), (False, ("gray", "white"))])
def test_the_surroundings_colour_is_discounted_from_a_loose_box(
    discount: bool, want: tuple[str, ...]
) -> None:
    img = np.full((H, W, 3), 128, np.uint8)  # grey asphalt
    img[60:140, 160:200] = 245  # a white object 40 px wide
    s = TrackSummariser("cam", sample_every_s=0.0, discount_background=discount)
    loose = (4, 110.0, 50.0, 250.0, 150.0, "car")  # its body region is 60 % asphalt
    s.update(_tracks(0.0, [loose]), (W, H), img)
    (r,) = s.finish()
    assert r.colours["body"] == want
