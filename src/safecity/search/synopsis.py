"""Video synopsis: the tracked objects of one camera and period shown together over its background.

What it is made of (what safecity keeps):

- **objects** from the track index: each record's foot-point path (every 0.5 s, at most 32 points),
  its median box size and aspect, and its best crop (the record's thumbnail). An object is drawn as
  its crop moving along its recorded path, framed in its own colour and labelled with the local time
  (KST) it was first seen. Every record of the period is drawn: nothing is left out, however busy
  the camera (the schedule below shows more objects at once instead).
- **background**: the per-pixel median of frames sampled from the camera's recorded event clips
  (and snapshots) around the period. safecity records video only around events, so the background
  is the scene as those clips show it; the objects themselves come from the index, which holds
  every confirmed track, with or without an event.

Schedule: each object becomes a "tube" of ``min(dwell, max_tube_s)`` seconds (longer tracks play
faster), at least ``min_tube_s``. Tubes are dealt in the order the objects were first seen to the
lane that frees first; the number of lanes (objects at once) is the smallest that fits the synopsis
into ``max_len_s`` (two minutes by default); when even ``max_lanes`` lanes cannot, tubes are
shortened (down to ``min_tube_s``), and beyond that the period is refused (ask for a shorter one).

Output: an H.264 MP4 (PyAV; browsers play it) and a JSON sidecar with each object (uid, first and
last seen, label, its time in the synopsis) and, per synopsis frame, the boxes drawn (frame
fractions), so that a click in the player finds the object under the pointer and opens the original
moment (:func:`object_at`).

Example:
    >>> tubes = schedule([0.0, 1.0, 2.0], [4.0, 4.0, 4.0], max_len_s=6.0)
    >>> [(t.lane, t.start_s) for t in tubes]
    [(0, 0.0), (1, 0.0), (0, 4.0)]
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from safecity.errors import InputError

__all__ = [
    "MAX_OBJECTS",
    "SynopsisObject",
    "SynopsisResult",
    "Tube",
    "median_background",
    "object_at",
    "render_synopsis",
    "schedule",
]

U8 = npt.NDArray[np.uint8]
MAX_OBJECTS = 5000
"""Most objects one synopsis draws (more: ask for a shorter period)."""
_PALETTE = [(66, 135, 245), (52, 199, 89), (255, 149, 0), (175, 82, 222), (255, 59, 48), (90, 200, 250),
            (255, 204, 0), (255, 45, 85), (88, 86, 214), (162, 132, 94)]  # fmt: skip


@dataclass(frozen=True, slots=True)
class SynopsisObject:
    """One tracked object to draw (from a track record).

    Attributes:
        uid: the record's uid.
        object_class: its class.
        first_s: first seen (Unix seconds).
        last_s: last seen.
        path: ``(t_s, x, y)`` foot points, frame fractions.
        size: box height, fraction of the frame height.
        aspect: box width / height in pixels.
        crop: its best crop (BGR), or None (drawn as a frame only).
    """

    uid: str
    object_class: str
    first_s: float
    last_s: float
    path: tuple[tuple[float, float, float], ...]
    size: float
    aspect: float
    crop: U8 | None = None


@dataclass(frozen=True, slots=True)
class Tube:
    """Where one object plays in the synopsis: ``lane``, from ``start_s`` for ``length_s``."""

    index: int
    lane: int
    start_s: float
    length_s: float


@dataclass(frozen=True, slots=True)
class SynopsisResult:
    """What :func:`render_synopsis` wrote."""

    video: Path
    sidecar: Path
    objects: int
    drawn: int
    duration_s: float
    frames: int
    lanes: int
    render_s: float


def schedule(
    first_s: Sequence[float],
    dwell_s: Sequence[float],
    *,
    max_len_s: float = 120.0,
    max_tube_s: float = 10.0,
    min_tube_s: float = 2.0,
    max_lanes: int = 20,
    crowded_lanes: int = 80,
) -> list[Tube]:
    """Tubes for objects first seen at ``first_s`` (any order) that fit into ``max_len_s``.

    Tubes are shortened (down to ``min_tube_s``) before more than ``max_lanes`` objects are shown
    at once; a period still too busy then gets up to ``crowded_lanes`` at once (more overlap, but
    every object is drawn).

    Raises:
        InputError: the objects do not fit even with ``crowded_lanes`` at once and the shortest tubes.
    """
    n = len(first_s)
    if n == 0:
        return []
    order = sorted(range(n), key=lambda i: first_s[i])
    tube_s = max_tube_s
    while True:
        lengths = [min(max(dwell_s[i], min_tube_s), tube_s) for i in range(n)]
        lanes = max(1, math.ceil(sum(lengths) / max_len_s))
        while lanes <= max_lanes:
            # lanes start staggered over one tube: objects at once are at different points of their
            # paths, not stacked on each other
            free = [k * tube_s / lanes for k in range(lanes)]
            tubes: list[Tube] = []
            for i in order:
                lane = min(range(lanes), key=free.__getitem__)
                tubes.append(Tube(i, lane, free[lane], lengths[i]))
                free[lane] += lengths[i]
            if max(free) <= max_len_s + 1e-9:
                return sorted(tubes, key=lambda t: t.index)
            lanes += 1
        if tube_s <= min_tube_s:
            if max_lanes < crowded_lanes:
                max_lanes = crowded_lanes
                continue
            raise InputError(
                f"{n} objects do not fit into a {max_len_s:.0f} s synopsis even with {max_lanes} at once; "
                "ask for a shorter period"
            )
        tube_s = max(min_tube_s, tube_s * 0.7)


def median_background(frames: Iterable[U8], size: tuple[int, int]) -> U8:
    """Per-pixel median of ``frames`` resized to ``size`` (width, height): moving objects vanish.

    Raises:
        InputError: no frame.
    """
    import cv2

    stack = [np.asarray(cv2.resize(f, size, interpolation=cv2.INTER_AREA), dtype=np.uint8) for f in frames]
    if not stack:
        raise InputError("no recorded frame to make the background from")
    return np.asarray(np.median(np.stack(stack), axis=0), dtype=np.uint8)


def _foot(obj: SynopsisObject, t_s: float) -> tuple[float, float]:
    pts = obj.path
    if not pts:
        return 0.5, 0.9
    ts = [p[0] for p in pts]
    x = float(np.interp(t_s, ts, [p[1] for p in pts]))
    y = float(np.interp(t_s, ts, [p[2] for p in pts]))
    return x, y


def _box(obj: SynopsisObject, t_s: float, w: int, h: int) -> tuple[int, int, int, int]:
    x, y = _foot(obj, t_s)
    bh = max(12.0, obj.size * h)
    bw = max(8.0, bh * (obj.aspect if obj.aspect > 0 else 0.5))
    x1 = round(min(max(x * w - bw / 2, 0), w - bw))
    y1 = round(min(max(y * h - bh, 0), h - bh))
    return x1, y1, round(x1 + bw), round(y1 + bh)


def _label(t_s: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(t_s, tz).strftime("%H:%M:%S")


def _tag(img: U8, text: str, x1: int, y1: int, y2: int, colour: tuple[int, int, int]) -> None:
    """The time label above the box (below it at the top edge): black text on a patch of the object's
    colour. Thin coloured strokes lose their colour in H.264's half-resolution chroma and smear; a
    filled patch keeps it and black on it stays sharp (luma)."""
    import cv2

    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.42
    (tw, th), base = cv2.getTextSize(text, font, scale, 1)
    h, w = img.shape[:2]
    top = y1 - th - base - 4 if y1 > th + base + 4 else min(y2 + 1, h - th - base - 4)
    left = min(max(x1, 0), max(w - tw - 4, 0))
    cv2.rectangle(img, (left, top), (left + tw + 4, top + th + base + 4), colour, -1)
    cv2.putText(img, text, (left + 2, top + th + 2), font, scale, (0, 0, 0), 1, cv2.LINE_AA)


class _Encoder:
    """Streams BGR frames into an H.264 MP4 (constant rate) with PyAV."""

    def __init__(self, path: Path, w: int, h: int, fps: int) -> None:
        import av

        self.container = av.open(str(path), mode="w", format="mp4")
        stream = self.container.add_stream("libx264", rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.options = {"preset": "veryfast", "crf": "26", "threads": "2", "movflags": "+faststart"}
        self.stream = stream
        self.n = 0

    def add(self, bgr: U8) -> None:
        import av

        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(bgr), format="bgr24")
        vf.pts = self.n
        self.n += 1
        for packet in self.stream.encode(vf):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        self.container.close()


def render_synopsis(
    objects: Sequence[SynopsisObject],
    background: U8,
    out_video: Path,
    out_sidecar: Path,
    *,
    fps: int = 8,
    max_len_s: float = 120.0,
    tz: str = "Asia/Seoul",
    meta: Mapping[str, Any] | None = None,
) -> SynopsisResult:
    """Draw every object over ``background`` (its size is the synopsis size, even width and height)
    into ``out_video`` (H.264 MP4) and write the sidecar JSON ``out_sidecar`` (see the module doc).

    Raises:
        InputError: no object, more than :data:`MAX_OBJECTS`, or they do not fit (see :func:`schedule`).
    """
    import cv2

    t0 = time.perf_counter()
    if not objects:
        raise InputError("no tracked object to draw: the track index holds none for this camera and period")
    if len(objects) > MAX_OBJECTS:
        raise InputError(
            f"{len(objects)} objects; a synopsis draws at most {MAX_OBJECTS}: ask for a shorter period"
        )
    zone = ZoneInfo(tz)
    h, w = background.shape[:2]
    tubes = schedule(
        [o.first_s for o in objects], [o.last_s - o.first_s for o in objects], max_len_s=max_len_s
    )
    duration = max(t.start_s + t.length_s for t in tubes)
    n_frames = max(1, math.ceil(duration * fps))
    labels = [_label(o.first_s, zone) for o in objects]
    crops: dict[int, U8] = {}
    frames: list[list[list[float]]] = []
    seen: set[int] = set()
    out_video.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_video.with_name(out_video.name + ".part")
    enc = _Encoder(tmp, w, h, fps)
    try:
        starts = sorted(tubes, key=lambda t: t.start_s)
        active: list[Tube] = []
        nxt = 0
        for f in range(n_frames):
            t = f / fps
            while nxt < len(starts) and starts[nxt].start_s <= t:
                active.append(starts[nxt])
                nxt += 1
            active = [a for a in active if t < a.start_s + a.length_s]
            img = background.copy()
            boxes: list[list[float]] = []
            for tube in sorted(
                active, key=lambda a: objects[a.index].path[-1][2] if objects[a.index].path else 0
            ):
                o = objects[tube.index]
                p = (t - tube.start_s) / tube.length_s if tube.length_s > 0 else 0.0
                x1, y1, x2, y2 = _box(o, o.first_s + p * (o.last_s - o.first_s), w, h)
                colour = _PALETTE[tube.index % len(_PALETTE)]
                if o.crop is not None and x2 > x1 and y2 > y1:
                    key = tube.index
                    if key not in crops or crops[key].shape[:2] != (y2 - y1, x2 - x1):
                        crops[key] = np.asarray(
                            cv2.resize(o.crop, (x2 - x1, y2 - y1), interpolation=cv2.INTER_AREA),
                            dtype=np.uint8,
                        )
                    img[y1:y2, x1:x2] = crops[key]
                cv2.rectangle(img, (x1, y1), (x2 - 1, y2 - 1), colour, 1)
                _tag(img, labels[tube.index], x1, y1, y2, colour)
                boxes.append(
                    [tube.index, round(x1 / w, 4), round(y1 / h, 4), round(x2 / w, 4), round(y2 / h, 4)]
                )
                seen.add(tube.index)
            for k in [k for k in crops if all(a.index != k for a in active)]:
                del crops[k]
            frames.append(boxes)
            enc.add(img)
        enc.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(out_video)
    by_index = {t.index: t for t in tubes}
    sidecar = {
        **(meta or {}),
        "fps": fps,
        "width": w,
        "height": h,
        "duration_s": round(n_frames / fps, 3),
        "timezone": tz,
        "objects": [
            {"uid": o.uid, "object_class": o.object_class, "first_s": o.first_s, "last_s": o.last_s,
             "label": labels[i], "start_s": round(by_index[i].start_s, 3),
             "end_s": round(by_index[i].start_s + by_index[i].length_s, 3)}
            for i, o in enumerate(objects)
        ],
        "frames": frames,
    }  # fmt: skip
    tmp_json = out_sidecar.with_name(out_sidecar.name + ".part")
    tmp_json.write_text(json.dumps(sidecar, separators=(",", ":")), encoding="utf-8")
    tmp_json.replace(out_sidecar)
    lanes = 1 + max(t.lane for t in tubes)
    return SynopsisResult(out_video, out_sidecar, len(objects), len(seen), n_frames / fps, n_frames, lanes,
                          time.perf_counter() - t0)  # fmt: skip


def object_at(sidecar: Mapping[str, Any], t_s: float, x: float, y: float) -> dict[str, Any] | None:
    """The object drawn at ``(x, y)`` (frame fractions) at synopsis time ``t_s`` (the one on top), or
    None: what a click in the player opens (the console does the same in the browser)."""
    frames = sidecar["frames"]
    f = min(len(frames) - 1, max(0, int(t_s * sidecar["fps"])))
    for i, x1, y1, x2, y2 in reversed(frames[f]):
        if x1 <= x <= x2 and y1 <= y <= y2:
            obj: dict[str, Any] = sidecar["objects"][int(i)]
            return obj
    return None
