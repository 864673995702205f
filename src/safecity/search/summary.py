"""TrackSummariser: fed each analysed frame's confirmed tracks, it emits one TrackRecord per track
when the track ends.

Per frame it moves each track's foot point (bottom centre of its box, frame fractions) through the
camera's zones and lines; every ``sample_every_s`` per track it also samples the picture (when the
caller gives one): the colours of the body parts (:func:`safecity.search.palette.classify`, summed
over the samples) and, when the crop is the best so far (box area x confidence, halved when the box
touches the frame edge), a small JPEG thumbnail. Detector boxes are loose: a part's histogram has
the histogram of a band around the box (30 % of the box size on each side) subtracted, so that
asphalt, floor or wall showing in the box do not name the object; when less than 20 % is left the
part looks like its surroundings and keeps its own histogram (measured on the 31 labelled parts of
bench/colour_bench.py: dominant colour right on 58 % without this, 77 % with it). The frame is asked
for (a callable) only when a track is due for a sample, so frames without a due track cost no colour
conversion.

A track seen for longer than :data:`~safecity.search.records.MAX_RECORD_S` (an hour) is recorded in
pieces: its record is emitted and a new one starts (uids differ by their first-seen time).
A track ends when it has not been reported for ``end_after_s`` (longer than the tracker's
``lost_s``; ids are never reused, so a late id is a new track) or at :meth:`TrackSummariser.finish`.
State per track is bounded: the path keeps at most ``2 x max_path`` points (thinned by half when
full, first and last kept), crossings at most :data:`MAX_CROSSINGS`, zones at most the camera's
zones; all of it is dropped when the track ends.

Example:
    >>> import numpy as np
    >>> from safecity.monitor.types import Tracks
    >>> s = TrackSummariser("cam", end_after_s=1.0)
    >>> def tr(t, x):
    ...     return Tracks(t, np.array([7]), np.array([[x, 10, x + 20, 60]], np.float32),
    ...                   np.array([0.8], np.float32), np.array(["person"]), np.array([0.0]))
    >>> for i in range(5):
    ...     _ = s.update(tr(i * 0.5, 10.0 + 20 * i), (200, 100))
    >>> [r.uid for r in s.update(Tracks.empty(4.0), (200, 100))]
    ['cam-7-0']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from safecity.monitor.config.model import CameraConfig, LineConfig, ZoneConfig
from safecity.monitor.geometry import crossing_direction, point_line_side, points_in_polygon
from safecity.monitor.types import Tracks
from safecity.search.palette import classify, names_of
from safecity.search.records import MAX_RECORD_S, Crossing, TrackRecord, parts_for

__all__ = [
    "MAX_CROSSINGS",
    "PART_REGIONS",
    "TrackSummariser",
]

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]
FrameGetter = Callable[[], U8 | None]

MAX_CROSSINGS = 32
"""Crossings kept per track (a track pacing on a line would otherwise grow without bound)."""
PART_REGIONS: dict[str, tuple[float, float, float, float]] = {
    "upper": (0.25, 0.15, 0.75, 0.50),
    "lower": (0.25, 0.55, 0.75, 0.90),
    "body": (0.15, 0.15, 0.85, 0.85),
}
"""Where in its box each part is sampled: (x1, y1, x2, y2) as fractions of the box (the head, the
feet and the box edges, mostly background, are left out)."""
_HYSTERESIS = 0.01  # frame fractions: a foot point this close to a line is on neither side
_MIN_CROP_PX = (8, 16)  # width, height: smaller boxes are too blurred to name a colour
_THUMB_HEIGHT = 96
_THUMB_MARGIN = 0.1
_RING = 0.3  # the band around a box sampled as its background, fraction of the box size per side
_MIN_OBJECT_SHARE = 0.2  # below this, the part looks like its surroundings: keep its own histogram


@dataclass(slots=True)
class _State:
    track_id: int
    first_s: float
    last_s: float
    classes: Counter[str] = field(default_factory=Counter)
    path: list[tuple[float, float, float]] = field(default_factory=list)
    sizes: list[tuple[float, float]] = field(default_factory=list)  # (height frac, aspect) per path point
    dist: float = 0.0
    tail: tuple[float, float, float] | None = None  # the newest foot point (may be between path points)
    zones: list[str] = field(default_factory=list)
    crossings: list[Crossing] = field(default_factory=list)
    sides: dict[str, tuple[float, float]] = field(default_factory=dict)  # line -> last point off the line
    hist: dict[str, F64] = field(default_factory=dict)
    samples: int = 0
    last_sample_s: float = float("-inf")
    best_score: float = -1.0
    thumbnail: bytes | None = None
    confidence: float = 0.0


class TrackSummariser:
    """Summarise the tracks of one camera into :class:`~safecity.search.records.TrackRecord` values.

    Args:
        camera: camera id.
        zones: the camera's zones (visits are recorded by name).
        lines: the camera's lines (crossings are recorded by name and direction).
        lat: camera latitude, copied into the records.
        lon: camera longitude.
        end_after_s: a track unseen this long has ended.
        path_every_s: spacing of the recorded path points.
        max_path: path points in a record (the path is thinned to at most this).
        sample_every_s: colour and thumbnail sampling period per track.
        max_record_s: a record covers at most this long (at most :data:`MAX_RECORD_S`).
        discount_background: subtract the colours around the box (see the module doc).
    """

    def __init__(
        self,
        camera: str,
        zones: Sequence[ZoneConfig] = (),
        lines: Sequence[LineConfig] = (),
        *,
        lat: float | None = None,
        lon: float | None = None,
        end_after_s: float = 4.0,
        path_every_s: float = 0.5,
        max_path: int = 32,
        sample_every_s: float = 1.0,
        max_record_s: float = MAX_RECORD_S,
        discount_background: bool = True,
    ) -> None:
        if not 0 < max_record_s <= MAX_RECORD_S:
            raise ValueError(f"need 0 < max_record_s <= {MAX_RECORD_S}, but got {max_record_s}")
        if end_after_s <= 0 or path_every_s < 0 or max_path < 2 or sample_every_s < 0:
            raise ValueError(
                f"need end_after_s > 0, path_every_s >= 0, max_path >= 2 and sample_every_s >= 0, but got "
                f"end_after_s={end_after_s}, path_every_s={path_every_s}, max_path={max_path}, "
                f"sample_every_s={sample_every_s}"
            )
        self.camera = camera
        self.zones = list(zones)
        self.lines = list(lines)
        self.lat, self.lon = lat, lon
        self.end_after_s = end_after_s
        self.path_every_s = path_every_s
        self.max_path = max_path
        self.sample_every_s = sample_every_s
        self.max_record_s = max_record_s
        self.discount_background = discount_background
        self._live: dict[int, _State] = {}

    @classmethod
    def for_camera(cls, cam: CameraConfig, *, end_after_s: float = 4.0) -> TrackSummariser:
        """A summariser with ``cam``'s zones, lines and position."""
        return cls(cam.id, cam.zones, cam.lines, lat=cam.lat, lon=cam.lon, end_after_s=end_after_s)

    @property
    def live_tracks(self) -> int:
        """Tracks being summarised now (bounded by the tracks alive in the last ``end_after_s``)."""
        return len(self._live)

    @property
    def held_items(self) -> int:
        """Path points and crossings held for the live tracks (the bounded part of the state)."""
        return sum(len(st.path) + len(st.crossings) for st in self._live.values())

    def update(
        self, tracks: Tracks, frame_wh: tuple[int, int], frame: U8 | FrameGetter | None = None
    ) -> list[TrackRecord]:
        """Take one frame's confirmed tracks; returns the records of the tracks that ended.

        Args:
            tracks: confirmed tracks at ``tracks.t_s`` (pixels of a ``frame_wh`` frame).
            frame_wh: frame size in pixels; ignored when there are no tracks.
            frame: the BGR frame, or a callable returning it (called only when a track is due for
                a colour sample), or None (no colours or thumbnails).
        """
        t = float(tracks.t_s)
        out = []
        due = [k for k, st in self._live.items() if t - st.first_s >= self.max_record_s]
        if due:  # an hour-long piece ends; a track still seen goes on in a new record
            seen = set(tracks.track_id.tolist())
            out += [self._record(self._live.pop(k)) for k in due if k in seen]
        if len(tracks):
            self._observe(tracks, frame_wh, frame)
        ended = [k for k, s in self._live.items() if t - s.last_s > self.end_after_s]
        return out + [self._record(self._live.pop(k)) for k in ended]

    def finish(self) -> list[TrackRecord]:
        """End every live track (the source ended or the pipeline stops)."""
        out = [self._record(s) for s in self._live.values()]
        self._live.clear()
        return out

    # ------------------------------------------------------------------ per frame
    def _observe(self, tracks: Tracks, frame_wh: tuple[int, int], frame: U8 | FrameGetter | None) -> None:
        w, h = frame_wh
        if w <= 0 or h <= 0:
            raise ValueError(f"frame_wh must be positive (width, height), but got {frame_wh}")
        t = float(tracks.t_s)
        boxes = tracks.xyxy_px.astype(np.float64)
        feet = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2.0 / w, boxes[:, 3] / h], axis=1).clip(0.0, 1.0)
        inside = [points_in_polygon(feet, z.polygon) for z in self.zones]
        sides = [point_line_side(feet, _pt(ln.a), _pt(ln.b)) for ln in self.lines]
        img: U8 | None = None
        asked = False
        for i in range(len(tracks)):
            tid = int(tracks.track_id[i])
            st = self._live.get(tid)
            if st is None:
                first = float(tracks.first_seen_s[i])
                first = t if t - first >= self.max_record_s else first  # a later piece of a long track
                st = self._live[tid] = _State(tid, first, t)
            st.last_s = t
            cls = str(tracks.class_name[i])
            if len(st.classes) < 8 or cls in st.classes:
                st.classes[cls] += 1
            conf = float(tracks.confidence[i])
            st.confidence = max(st.confidence, conf)
            x, y = float(feet[i, 0]), float(feet[i, 1])
            bw, bh = float(boxes[i, 2] - boxes[i, 0]), float(boxes[i, 3] - boxes[i, 1])
            self._add_path(st, t, x, y, bh / h, bw / bh if bh > 0 else 0.0)
            for z, mask in zip(self.zones, inside, strict=True):
                if bool(mask[i]) and z.name not in st.zones:
                    st.zones.append(z.name)
            for ln, d in zip(self.lines, sides, strict=True):
                self._cross(st, ln, float(d[i]), (x, y), t)
            if frame is None or t - st.last_sample_s < self.sample_every_s:
                continue
            if bw < _MIN_CROP_PX[0] or bh < _MIN_CROP_PX[1]:
                continue
            if not asked:
                asked = True
                img = frame() if callable(frame) else frame
            if img is not None:
                st.last_sample_s = t
                self._sample(st, img, boxes[i], cls, conf)

    def _add_path(self, st: _State, t: float, x: float, y: float, h_frac: float, aspect: float) -> None:
        st.tail = (t, x, y)
        if st.path and t - st.path[-1][0] < self.path_every_s:
            return
        if st.path:
            _, px, py = st.path[-1]
            st.dist += float(np.hypot(x - px, y - py))
        st.path.append((t, x, y))
        st.sizes.append((h_frac, aspect))
        if len(st.path) > 2 * self.max_path:  # thin by half, keep the first and the newest
            st.path = [*st.path[:-1:2], st.path[-1]]
            st.sizes = [*st.sizes[:-1:2], st.sizes[-1]]

    def _cross(self, st: _State, ln: LineConfig, d: float, p: tuple[float, float], t: float) -> None:
        if abs(d) <= _HYSTERESIS:
            return
        prev = st.sides.get(ln.name)
        st.sides[ln.name] = p
        if prev is None or len(st.crossings) >= MAX_CROSSINGS:
            return
        sign = crossing_direction(prev, p, _pt(ln.a), _pt(ln.b), _HYSTERESIS)
        if sign:
            st.crossings.append(Crossing(ln.name, "a_to_b" if sign > 0 else "b_to_a", t))

    def _sample(self, st: _State, img: U8, box: F64, cls: str, conf: float) -> None:
        ih, iw = img.shape[:2]
        x1, y1, x2, y2 = (float(v) for v in box)
        bw, bh = x2 - x1, y2 - y1
        bg = _surround(img, (x1, y1, x2, y2)) if self.discount_background else None
        for part in parts_for(cls):
            fx1, fy1, fx2, fy2 = PART_REGIONS[part]
            c = img[max(0, int(y1 + fy1 * bh)) : min(ih, int(y1 + fy2 * bh)),
                    max(0, int(x1 + fx1 * bw)) : min(iw, int(x1 + fx2 * bw))]  # fmt: skip
            if c.shape[0] < 2 or c.shape[1] < 2:
                continue
            h = np.asarray(classify(c)[1], np.float64)
            if bg is not None:  # what the surroundings also show is most likely background
                rest = np.clip(h - bg, 0.0, None)
                if rest.sum() >= _MIN_OBJECT_SHARE:
                    h = rest / rest.sum()
            acc = st.hist.get(part)
            st.hist[part] = h if acc is None else acc + h
        st.samples += 1
        edge = x1 <= 1 or y1 <= 1 or x2 >= iw - 1 or y2 >= ih - 1
        score = bw * bh * conf * (0.5 if edge else 1.0)
        if score > st.best_score:
            st.best_score = score
            st.thumbnail = _thumbnail(img, (x1, y1, x2, y2))

    # ------------------------------------------------------------------ the record
    def _record(self, st: _State) -> TrackRecord:
        if st.tail is not None and st.path and st.tail != st.path[-1]:
            _, px, py = st.path[-1]
            st.dist += float(np.hypot(st.tail[1] - px, st.tail[2] - py))
            st.path.append(st.tail)
        path = st.path
        if len(path) > self.max_path:
            idx = np.unique(np.linspace(0, len(path) - 1, self.max_path).round().astype(int))
            path = [path[int(i)] for i in idx]
        xs = [p[1] for p in st.path] or [0.0]
        ys = [p[2] for p in st.path] or [0.0]
        span = st.path[-1][0] - st.path[0][0] if len(st.path) > 1 else 0.0
        sizes = np.asarray(st.sizes or [(0.0, 0.0)], np.float64)
        cls = st.classes.most_common(1)[0][0] if st.classes else "object"
        colours: dict[str, tuple[str, ...]] = {}
        signature: dict[str, tuple[float, ...]] = {}
        for part, acc in st.hist.items():
            total = float(acc.sum())
            if total <= 0 or part not in parts_for(cls):  # samples taken while the class was another
                continue
            sig = acc / total
            colours[part] = names_of(sig)
            signature[part] = tuple(round(float(v), 4) for v in sig)
        return TrackRecord(
            uid=f"{self.camera}-{st.track_id}-{round(st.first_s * 1000)}",
            camera=self.camera,
            track_id=st.track_id,
            object_class=cls,
            first_s=st.first_s,
            last_s=st.last_s,
            path=tuple((round(t, 3), round(x, 4), round(y, 4)) for t, x, y in path),
            box=(round(min(xs), 4), round(min(ys), 4), round(max(xs), 4), round(max(ys), 4)),
            zones=tuple(st.zones),
            crossings=tuple(st.crossings),
            speed=round(st.dist / span, 5) if span > 0 else 0.0,
            size=round(float(np.median(sizes[:, 0])), 4),
            aspect=round(float(np.median(sizes[:, 1])), 3),
            colours=colours,
            signature=signature,
            confidence=round(st.confidence, 3),
            lat=self.lat,
            lon=self.lon,
            thumbnail=st.thumbnail,
        )


def _surround(img: U8, box: tuple[float, float, float, float]) -> F64 | None:
    """Palette histogram of a band around the box (``_RING`` of its size on each side), or None."""
    ih, iw = img.shape[:2]
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * _RING, (y2 - y1) * _RING
    a, b, c, d = max(0, int(x1 - mx)), max(0, int(y1 - my)), min(iw, int(x2 + mx)), min(ih, int(y2 + my))
    ix1, iy1, ix2, iy2 = max(0, int(x1)), max(0, int(y1)), min(iw, int(x2)), min(ih, int(y2))
    strips = [img[b:iy1, a:c], img[iy2:d, a:c], img[iy1:iy2, a:ix1], img[iy1:iy2, ix2:c]]
    acc, total = np.zeros(13, np.float64), 0
    for s in strips:
        if s.shape[0] >= 2 and s.shape[1] >= 2:
            n = s.shape[0] * s.shape[1]
            acc += n * np.asarray(classify(s)[1], np.float64)
            total += n
    return acc / total if total else None


def _pt(p: Sequence[float]) -> tuple[float, float]:
    return (float(p[0]), float(p[1]))


def _thumbnail(img: U8, box: tuple[float, float, float, float]) -> bytes | None:
    import cv2

    ih, iw = img.shape[:2]
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * _THUMB_MARGIN, (y2 - y1) * _THUMB_MARGIN
    a, b = max(0, int(x1 - mx)), max(0, int(y1 - my))
    c, d = min(iw, int(x2 + mx) + 1), min(ih, int(y2 + my) + 1)
    crop = img[b:d, a:c]
    if crop.size == 0:
        return None
    if crop.shape[0] > _THUMB_HEIGHT:
        size = (max(1, round(crop.shape[1] * _THUMB_HEIGHT / crop.shape[0])), _THUMB_HEIGHT)
        crop = np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return bytes(buf.tobytes()) if ok else None
