"""The track record: one confirmed track, summarised when it ended (pure values, no I/O).

Coordinates are fractions of the frame (0..1, origin top-left); times are seconds on the events'
clock (Unix time live). Colours are palette keys (:mod:`safecity.search.palette`), per body part:
``upper`` and ``lower`` for people, ``body`` for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

__all__ = [
    "Crossing",
    "MAX_RECORD_S",
    "PART_NAMES",
    "TrackRecord",
    "parts_for",
    "shifted",
]

MAX_RECORD_S = 3600.0
"""The longest period one record covers: a longer track (a parked car) is recorded in pieces of at
most this, so that a search for a period only looks at records that started at most this long before
it (a bounded index range on every database)."""

PART_NAMES: tuple[str, ...] = ("body", "lower", "upper")
"""Body parts whose colours are recorded."""


def parts_for(object_class: str) -> tuple[str, ...]:
    """The parts coloured for a class: upper and lower body for a person, the body otherwise.

    >>> parts_for("person"), parts_for("car")
    (('upper', 'lower'), ('body',))
    """
    return ("upper", "lower") if object_class == "person" else ("body",)


@dataclass(frozen=True, slots=True)
class Crossing:
    """A line the track crossed: name, direction (``a_to_b`` or ``b_to_a``) and when."""

    line: str
    direction: str
    t_s: float


@dataclass(frozen=True, slots=True)
class TrackRecord:
    """What the index keeps of one track.

    Attributes:
        uid: stable id: ``<camera>-<track id>-<first seen, ms>``.
        camera: camera id.
        track_id: the tracker's id (unique within one tracker's life).
        object_class: the class most often detected for the track.
        first_s: first confirmed sighting.
        last_s: last sighting.
        path: ``(t_s, x, y)`` foot points, at most ``max_path`` of them, first and last kept.
        box: extent of the path ``(x1, y1, x2, y2)`` (where in the picture it went).
        zones: zones the foot point was inside, in order of the first visit.
        crossings: lines crossed, in time order.
        speed: foot-point speed along the path, fractions of the frame per second.
        size: median box height as a fraction of the frame height.
        aspect: median box width / height (in pixels).
        colours: part -> named palette colours, largest share first (one or two).
        signature: part -> 13-bin palette histogram (shares).
        confidence: the best detection confidence of the track.
        lat: camera latitude (WGS84) when the camera has a position, else None.
        lon: camera longitude.
        thumbnail: best crop as a small JPEG (None when no frame was sampled).
    """

    uid: str
    camera: str
    track_id: int
    object_class: str
    first_s: float
    last_s: float
    path: tuple[tuple[float, float, float], ...]
    box: tuple[float, float, float, float]
    zones: tuple[str, ...] = ()
    crossings: tuple[Crossing, ...] = ()
    speed: float = 0.0
    size: float = 0.0
    aspect: float = 0.0
    colours: dict[str, tuple[str, ...]] = field(default_factory=dict)
    signature: dict[str, tuple[float, ...]] = field(default_factory=dict)
    confidence: float = 0.0
    lat: float | None = None
    lon: float | None = None
    thumbnail: bytes | None = None

    @property
    def dwell_s(self) -> float:
        """Seconds between the first and last sighting."""
        return max(0.0, self.last_s - self.first_s)


def shifted(r: TrackRecord, offset_s: float) -> TrackRecord:
    """``r`` with every time moved by ``offset_s`` (file seconds -> the worker's clock) and its uid
    renamed after the new first-seen time.

    >>> r = TrackRecord("c-1-0", "c", 1, "car", 0.0, 2.0, ((0.0, 0.1, 0.1),), (0.1, 0.1, 0.1, 0.1))
    >>> s = shifted(r, 100.0)
    >>> s.uid, s.first_s, s.path[0][0]
    ('c-1-100000', 100.0, 100.0)
    """
    first = r.first_s + offset_s
    return replace(
        r,
        uid=f"{r.camera}-{r.track_id}-{round(first * 1000)}",
        first_s=first,
        last_s=r.last_s + offset_s,
        path=tuple((t + offset_s, x, y) for t, x, y in r.path),
        crossings=tuple(replace(c, t_s=c.t_s + offset_s) for c in r.crossings),
    )
