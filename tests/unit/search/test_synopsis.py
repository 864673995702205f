"""Video synopsis (safecity.search.synopsis): schedule, rendering, and that no object is lost.

The busy hour: 600 seeded tracks over one hour of one camera (10 a minute, 5..90 s each). Each
object's crop is a solid colour of its own; the rendered H.264 file is decoded again and every
object is counted as drawn when, in one of the frames the sidecar places it in, the pixel at the
centre of its box has its colour (the background is grey).
"""

from __future__ import annotations

import colorsys
import json
from pathlib import Path

import numpy as np
import pytest

from safecity.errors import InputError
from safecity.search.synopsis import SynopsisObject, median_background, object_at, render_synopsis, schedule

T0 = 1_790_000_000.0


def _busy_hour(n: int = 600, seed: int = 7) -> list[SynopsisObject]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        first = T0 + float(rng.uniform(0, 3600))
        dwell = float(rng.uniform(5, 90))
        y = float(rng.uniform(0.35, 0.95))
        r, g, b = colorsys.hsv_to_rgb((i * 0.61803) % 1.0, 1.0, 1.0)
        crop = np.zeros((96, 40, 3), np.uint8)
        crop[:] = (int(b * 255), int(g * 255), int(r * 255))
        path = ((first, 0.05, y), (first + dwell, 0.95, y))
        out.append(SynopsisObject(f"cam-{i}-{int(first * 1000)}", "person", first, first + dwell, path,
                                  0.25, 0.4, crop))  # fmt: skip
    return out


def test_schedule_fits_the_length_and_keeps_every_object() -> None:
    first = [float(i) for i in range(100)]
    tubes = schedule(first, [30.0] * 100, max_len_s=60.0, max_tube_s=10.0)
    assert sorted(t.index for t in tubes) == list(range(100))
    assert max(t.start_s + t.length_s for t in tubes) <= 60.0
    lanes = 1 + max(t.lane for t in tubes)
    assert 17 <= lanes <= 20  # ceil(100 x 10 s / 60 s) = 17 at least, a few more for the staggered starts
    with pytest.raises(InputError, match="shorter period"):
        schedule([0.0] * 5000, [60.0] * 5000, max_len_s=60.0, max_lanes=10, crowded_lanes=40)
    crowded = schedule([0.0] * 1000, [60.0] * 1000, max_len_s=60.0, max_lanes=10, crowded_lanes=40)
    assert len(crowded) == 1000 and 1 + max(t.lane for t in crowded) <= 40  # busier: more at once


def test_one_busy_hour_in_at_most_two_minutes_with_no_object_lost(tmp_path: Path) -> None:
    import av

    objects = _busy_hour()
    bg = np.full((180, 320, 3), 128, np.uint8)
    res = render_synopsis(objects, bg, tmp_path / "s.mp4", tmp_path / "s.json", fps=8, max_len_s=120.0)
    side = json.loads((tmp_path / "s.json").read_text())
    assert res.duration_s <= 120.0 and res.objects == 600 and res.drawn == 600
    assert len(side["objects"]) == 600 and len(side["frames"]) == res.frames
    # decode the file: the frames the browser will show
    with av.open(str(tmp_path / "s.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
    assert len(frames) == res.frames
    found: set[int] = set()
    for f, boxes in enumerate(side["frames"]):
        for i, x1, y1, x2, y2 in boxes:
            if int(i) in found:
                continue
            cx, cy = int((x1 + x2) / 2 * 320), int((y1 + y2) / 2 * 180)
            want = objects[int(i)].crop
            assert want is not None
            if np.abs(frames[f][cy, cx].astype(int) - want[0, 0].astype(int)).max() < 60:
                found.add(int(i))
    assert len(found) == 600, f"{600 - len(found)} objects never seen in the decoded video"
    # every object is labelled with its first-seen time in KST and sits in the synopsis' time range
    labels = {o["label"] for o in side["objects"]}
    assert all(len(lbl) == 8 and lbl[2] == ":" for lbl in labels)
    assert all(0 <= o["start_s"] < o["end_s"] <= side["duration_s"] + 1e-6 for o in side["objects"])


def test_a_click_finds_the_object_and_its_original_moment(tmp_path: Path) -> None:
    objs = _busy_hour(3, seed=1)
    bg = np.full((120, 160, 3), 90, np.uint8)
    render_synopsis(objs, bg, tmp_path / "s.mp4", tmp_path / "s.json", max_len_s=30.0)
    side = json.loads((tmp_path / "s.json").read_text())
    i, x1, y1, x2, y2 = side["frames"][0][0]
    hit = object_at(side, 0.0, (x1 + x2) / 2, (y1 + y2) / 2)
    assert hit is not None and hit["uid"] == objs[int(i)].uid and hit["first_s"] == objs[int(i)].first_s
    assert object_at(side, 0.0, 2.0, 2.0) is None  # outside the picture


def test_median_background_removes_a_moving_object() -> None:
    frames = []
    for k in range(5):
        f = np.full((40, 80, 3), 100, np.uint8)
        f[10:30, k * 15 : k * 15 + 10] = 255  # a bright block in another place each frame
        frames.append(f)
    bg = median_background(frames, (80, 40))
    assert int(bg.max()) == 100 and bg.shape == (40, 80, 3)
    with pytest.raises(InputError, match="no recorded frame"):
        median_background([], (80, 40))


def test_nothing_to_draw_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no tracked object"):
        render_synopsis([], np.zeros((10, 10, 3), np.uint8), tmp_path / "a.mp4", tmp_path / "a.json")
    assert not (tmp_path / "a.mp4").exists()
