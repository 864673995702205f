"""The track index: one row per ended track (:class:`~safecity.search.records.TrackRecord`), queried
by time, cameras, map area, class, colours, zone, line crossing, dwell and speed.

Tables (migration 0005): ``track_records`` (the record; colours as bit masks over the palette so that
"red and black" is ``colour_mask & m = m`` on both databases), ``track_passages`` (one row per zone
visited and line crossed, found by ``EXISTS`` on the record id), ``track_thumbs`` (the JPEG crop).

Time and area: a track matches a period when it was seen in it (``first_at <= until`` and
``last_at >= since``). A record covers at most :data:`~safecity.search.records.MAX_RECORD_S` (an
hour; longer tracks come in pieces, and :meth:`TrackIndex.write` refuses a longer record), so every
search also bounds ``first_at >= since - 1 h``: a range of the ``first_at`` index on any database,
instead of every record after ``since`` (measured: 300 ms for 50,000 records without the bound).
On SQLite the R*Tree ``track_records_rtree`` (time as Unix seconds, the camera's latitude and
longitude) answers the period and the map box at once; its 32-bit coordinates are rounded outward by
SQLite, so it is a superset filter and the exact conditions on the table follow. It is used for
searches with a map box only: measured on 1 million records (bench/search_bench.py) it made the map
search 1.9x faster at p95 (2.2x at p50), but a one-day search for cars on five cameras 1.7x slower
than the B-tree indexes alone (which start from ``(object_class, first_at)``), and with the one-hour
bound above a period alone is already a short range of ``first_at``.
On PostgreSQL plain B-tree indexes on ``first_at`` / ``last_at`` / ``(camera_key, first_at)`` are
used: the map area of a record is its camera's position, one point per camera, so an area filter is a
filter on a few hundred camera positions (a GiST/PostGIS index over millions of copies of those
points would add an extension to install and nothing to the plan); the time range carries the
selectivity.

Retention: :meth:`TrackIndex.purge` deletes records last seen before a time (like media, by age).

Example:
    >>> from safecity.store.db import connect
    >>> idx = TrackIndex(connect("sqlite:///:memory:"))
    >>> idx.search(TrackQuery(0.0, 60.0))
    []
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    and_,
    column,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    table,
)
from sqlalchemy.dialects import postgresql, sqlite

from safecity.errors import InputError
from safecity.search.palette import COLOURS, colour_mask
from safecity.search.records import MAX_RECORD_S, TrackRecord
from safecity.store.schema import track_passages, track_records, track_thumbs

__all__ = ["MAX_LIMIT", "MAX_RANGE_S", "TrackIndex", "TrackQuery", "record_row"]

MAX_LIMIT = 500
"""Most results in one page."""
MAX_RANGE_S = 31 * 86400.0
"""Longest period one search may cover (a month)."""
_COUNT_CAP = 10_000
_DIRECTIONS = ("a_to_b", "b_to_a")
_RTREE = table(
    "track_records_rtree",
    column("id"),
    column("t0"),
    column("t1"),
    column("lat0"),
    column("lat1"),
    column("lon0"),
    column("lon1"),
)
_BATCH = 5000


def _dt(t_s: float) -> datetime:
    return datetime.fromtimestamp(t_s, UTC)


@dataclass(frozen=True, slots=True)
class TrackQuery:
    """A search of the index; every field is checked when it is made.

    Attributes:
        since_s: period start (Unix seconds).
        until_s: period end; after ``since_s``, at most :data:`MAX_RANGE_S` later.
        cameras: camera keys to search (None = all; the console passes the user's cameras).
        classes: object classes (any of them); () = all.
        colours: palette keys that must all be named on the track (any part).
        upper: palette keys of which one must be named on the upper body (people).
        lower: the same for the lower body.
        zone: zone the track visited.
        line: line the track crossed.
        direction: with ``line``: ``a_to_b`` or ``b_to_a``.
        min_dwell_s: the track was seen at least this long.
        min_speed: foot-point speed at least this (frame fractions per second).
        max_speed: at most this.
        area: map box ``(south, west, north, east)`` in degrees that the camera lies in.
        limit: results per page (1..:data:`MAX_LIMIT`).
        offset: results skipped (0..100000).

    Raises:
        InputError: what was wrong, what was expected.
    """

    since_s: float
    until_s: float
    cameras: frozenset[str] | None = None
    classes: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    upper: tuple[str, ...] = ()
    lower: tuple[str, ...] = ()
    zone: str | None = None
    line: str | None = None
    direction: str | None = None
    min_dwell_s: float = 0.0
    min_speed: float | None = None
    max_speed: float | None = None
    area: tuple[float, float, float, float] | None = None
    limit: int = 100
    offset: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.since_s) and math.isfinite(self.until_s)):
            raise InputError(f"the period must be finite times, but got {self.since_s} .. {self.until_s}")
        if self.until_s <= self.since_s:
            raise InputError(
                f"empty or reversed period: until ({_dt(self.until_s).isoformat()}) must be after since "
                f"({_dt(self.since_s).isoformat()}); swap them or widen the period"
            )
        if self.until_s - self.since_s > MAX_RANGE_S:
            days = (self.until_s - self.since_s) / 86400
            raise InputError(f"the period is {days:.1f} days; search at most 31 days at a time")
        for name in (*self.colours, *self.upper, *self.lower):
            if name not in COLOURS:
                raise InputError(f"unknown colour {name!r}; expected one of {', '.join(COLOURS)}")
        if self.direction is not None and (self.direction not in _DIRECTIONS or self.line is None):
            raise InputError(
                f"direction must be a_to_b or b_to_a and needs a line, but got {self.direction!r}"
            )
        if not 1 <= self.limit <= MAX_LIMIT or not 0 <= self.offset <= 100_000:
            raise InputError(f"need 1 <= limit <= {MAX_LIMIT} and 0 <= offset <= 100000")
        for label, v in (("min_dwell_s", self.min_dwell_s), ("min_speed", self.min_speed),
                         ("max_speed", self.max_speed)):  # fmt: skip
            if v is not None and not (math.isfinite(v) and v >= 0):
                raise InputError(f"{label} must be a number >= 0, but got {v}")
        if self.area is not None:
            s, w, n, e = self.area
            if not (all(math.isfinite(v) for v in self.area) and s < n and w < e):
                msg = f"area must be (south, west, north, east), south < north, west < east; got {self.area}"
                raise InputError(msg)


def record_row(r: TrackRecord) -> dict[str, Any]:
    """The ``track_records`` row of a record (without ``id``)."""
    masks = {part: colour_mask(names) for part, names in r.colours.items()}
    return {
        "uid": r.uid,
        "camera_key": r.camera,
        "track_id": r.track_id,
        "object_class": r.object_class,
        "first_at": _dt(r.first_s),
        "last_at": _dt(r.last_s),
        "dwell_s": r.dwell_s,
        "speed": r.speed,
        "size": r.size,
        "aspect": r.aspect,
        "colour_mask": masks.get("upper", 0) | masks.get("lower", 0) | masks.get("body", 0),
        "upper_mask": masks.get("upper", 0),
        "lower_mask": masks.get("lower", 0),
        "body_mask": masks.get("body", 0),
        "colours": {k: list(v) for k, v in r.colours.items()},
        "signature": {k: list(v) for k, v in r.signature.items()},
        "box": list(r.box),
        "path": [list(p) for p in r.path],
        "zones": list(r.zones),
        "crossings": [[c.line, c.direction, c.t_s] for c in r.crossings],
        "confidence": r.confidence,
        "lat": r.lat,
        "lon": r.lon,
        "has_thumb": r.thumbnail is not None,
    }


class TrackIndex:
    """Writes and searches track records (SQLite or PostgreSQL).

    Args:
        engine: a migrated store engine.
        use_rtree: on SQLite, filter searches with a map box through the R*Tree (the default);
            False searches with the B-tree indexes alone, as on PostgreSQL (the benchmark's
            baseline). Writing always keeps the R*Tree current.
    """

    def __init__(self, engine: Engine, *, use_rtree: bool = True) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._rtree = self._sqlite and use_rtree

    # ------------------------------------------------------------------ writing
    def write(self, records: Sequence[TrackRecord]) -> int:
        """Store ``records`` in one transaction per batch of 5000; a uid already stored is skipped
        (a worker that sends a record twice changes nothing). Returns the records added.

        Raises:
            InputError: a record longer than ``MAX_RECORD_S`` or ending before it starts (nothing
                of that batch or later ones is stored).
        """
        for r in records:
            if not 0.0 <= r.last_s - r.first_s <= MAX_RECORD_S:
                raise InputError(
                    f"track record {r.uid!r} covers {r.last_s - r.first_s:.0f} s; a record must cover "
                    f"0..{MAX_RECORD_S:.0f} s (the summariser splits longer tracks)"
                )
        added = 0
        for i in range(0, len(records), _BATCH):
            added += self._write_batch(records[i : i + _BATCH])
        return added

    def _write_batch(self, records: Sequence[TrackRecord]) -> int:
        if not records:
            return 0
        by_uid = {r.uid: r for r in records}
        rows = [record_row(r) for r in by_uid.values()]
        dialect_insert = sqlite.insert if self._sqlite else postgresql.insert
        stmt = dialect_insert(track_records).on_conflict_do_nothing(index_elements=["uid"])
        with self.engine.begin() as c:
            got = c.execute(stmt.returning(track_records.c.id, track_records.c.uid), rows).all()
            ids = {str(uid): int(rid) for rid, uid in got}
            if not ids:
                return 0
            passages, thumbs, boxes = [], [], []
            for uid, rid in ids.items():
                r = by_uid[uid]
                first = _dt(r.first_s)
                passages += [{"record_id": rid, "camera_key": r.camera, "kind": "zone", "name": z,
                              "direction": None, "at": first} for z in r.zones]  # fmt: skip
                passages += [{"record_id": rid, "camera_key": r.camera, "kind": "line", "name": x.line,
                              "direction": x.direction, "at": _dt(x.t_s)} for x in r.crossings]  # fmt: skip
                if r.thumbnail is not None:
                    thumbs.append({"record_id": rid, "jpeg": r.thumbnail})
                lat, lon = (r.lat or 0.0), (r.lon or 0.0)
                boxes.append({"id": rid, "t0": r.first_s, "t1": r.last_s, "lat0": lat, "lat1": lat,
                              "lon0": lon, "lon1": lon})  # fmt: skip
            if passages:
                c.execute(insert(track_passages), passages)
            if thumbs:
                c.execute(insert(track_thumbs), thumbs)
            if self._sqlite:
                c.execute(insert(_RTREE), boxes)
        return len(ids)

    def purge(self, before_s: float) -> int:
        """Delete the records last seen before ``before_s`` (with their passages and thumbnails)."""
        removed = 0
        while True:
            with self.engine.begin() as c:
                old = select(track_records.c.id).where(track_records.c.last_at < _dt(before_s))
                ids = list(c.scalars(old.limit(_BATCH)))
                if not ids:
                    return removed
                c.execute(delete(track_passages).where(track_passages.c.record_id.in_(ids)))
                c.execute(delete(track_thumbs).where(track_thumbs.c.record_id.in_(ids)))
                if self._sqlite:
                    c.execute(delete(_RTREE).where(_RTREE.c.id.in_(ids)))
                c.execute(delete(track_records).where(track_records.c.id.in_(ids)))
                removed += len(ids)

    # ------------------------------------------------------------------ reading
    def _conditions(self, q: TrackQuery) -> list[ColumnElement[bool]]:
        t = track_records.c
        cond: list[ColumnElement[bool]] = [
            t.first_at <= _dt(q.until_s),
            t.first_at >= _dt(q.since_s - MAX_RECORD_S),
            t.last_at >= _dt(q.since_s),
        ]
        if q.area is not None:
            s, w, n, e = q.area
            cond += [t.lat >= s, t.lat <= n, t.lon >= w, t.lon <= e]
            if self._rtree:  # where it pays (module doc)
                rt = _RTREE.c
                box = [rt.t1 >= q.since_s, rt.t0 <= q.until_s, rt.lat1 >= s, rt.lat0 <= n, rt.lon1 >= w,
                       rt.lon0 <= e]  # fmt: skip
                cond.append(t.id.in_(select(rt.id).where(and_(*box))))
        if q.cameras is not None:
            cond.append(t.camera_key.in_(sorted(q.cameras)) if q.cameras else literal(False))
        if q.classes:
            cond.append(t.object_class.in_(q.classes))
        if q.colours:
            m = colour_mask(q.colours)
            cond.append(t.colour_mask.op("&")(m) == m)
        for col, names in ((t.upper_mask, q.upper), (t.lower_mask, q.lower)):
            if names:
                cond.append(col.op("&")(colour_mask(names)) != 0)
        if q.min_dwell_s:
            cond.append(t.dwell_s >= q.min_dwell_s)
        if q.min_speed is not None:
            cond.append(t.speed >= q.min_speed)
        if q.max_speed is not None:
            cond.append(t.speed <= q.max_speed)
        p = track_passages.c
        if q.zone is not None:
            cond.append(exists().where(p.record_id == t.id, p.kind == "zone", p.name == q.zone))
        if q.line is not None:
            crossed = [p.record_id == t.id, p.kind == "line", p.name == q.line]
            if q.direction is not None:
                crossed.append(p.direction == q.direction)
            cond.append(exists().where(*crossed))
        return cond

    def search(self, q: TrackQuery) -> list[dict[str, Any]]:
        """Matching records in time order (first seen, then id), one page."""
        t = track_records
        stmt = (select(t).where(*self._conditions(q)).order_by(t.c.first_at, t.c.id)
                .limit(q.limit).offset(q.offset))  # fmt: skip
        with self.engine.connect() as c:
            return [_out(dict(row._mapping)) for row in c.execute(stmt)]

    def count(self, q: TrackQuery, cap: int = _COUNT_CAP) -> int:
        """How many records match (counted up to ``cap``: a broad search stops counting there)."""
        inner = select(track_records.c.id).where(*self._conditions(q)).limit(cap).subquery()
        with self.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(inner)).scalar_one())

    def get(self, uid: str) -> dict[str, Any] | None:
        """One record by uid, or None."""
        with self.engine.connect() as c:
            row = c.execute(select(track_records).where(track_records.c.uid == uid)).first()
        return None if row is None else _out(dict(row._mapping))

    def thumbnail(self, uid: str) -> bytes | None:
        """The JPEG thumbnail of a record, or None (no record, or no frame was sampled)."""
        on = track_records.c.id == track_thumbs.c.record_id
        stmt = select(track_thumbs.c.jpeg).join(track_records, on).where(track_records.c.uid == uid)
        with self.engine.connect() as c:
            data = c.execute(stmt).scalar()
        return None if data is None else bytes(data)

    def cameras_with_records(self, cameras: Collection[str] | None = None) -> list[str]:
        """Camera keys that have records (restricted to ``cameras`` when given)."""
        stmt = select(track_records.c.camera_key).distinct()
        if cameras is not None:
            stmt = stmt.where(track_records.c.camera_key.in_(sorted(cameras)))
        with self.engine.connect() as c:
            return sorted(str(k) for k in c.scalars(stmt))


def _aware(v: Any) -> Any:
    return v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v


def _out(row: dict[str, Any]) -> dict[str, Any]:
    out = {
        "uid": row["uid"],
        "camera": row["camera_key"],
        "track_id": row["track_id"],
        "object_class": row["object_class"],
        "first_at": _aware(row["first_at"]),
        "last_at": _aware(row["last_at"]),
    }
    for k in ("dwell_s", "speed", "size", "aspect", "colours", "signature", "box", "path", "zones",
              "crossings", "confidence", "lat", "lon", "has_thumb"):  # fmt: skip
        out[k] = row[k]
    return out
