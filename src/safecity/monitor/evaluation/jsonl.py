"""Plain-text outputs of the engine: events as JSON lines and tracks in MOTChallenge format.

Event lines (the interface other tools read; one JSON object per line)::

    {"kind": "end", "uid": "...", "type": "line_crossing", "camera": "cam1", "line": "door",
     "zone": null, "start_s": 18.4, "end_s": 19.4, "last_s": 18.4, "track_ids": [3],
     "class": "person", "direction": "a_to_b", "severity": 3, "count": 1, "box_frac": [...],
     "detail": {}}

``start_s``/``end_s``/``last_s`` are seconds from the start of the file in replay and ISO-8601
wall-clock strings in live mode (``live=True``: the event times are Unix seconds); live lines also
carry ``start_unix``. A line crossing names its line in ``line`` and leaves ``zone`` empty; every
other event names its zone (or none).

Track lines (MOTChallenge): ``frame,id,x,y,w,h,conf,-1,-1,-1`` with 1-based frame numbers of the
source file, so py-motmetrics or TrackEval can score them.

Ground truth (:func:`read_mot_gt`) comes in two layouts: MOT16/17/20 ``gt.txt`` has 9 columns
``frame,id,x,y,w,h,consider,class,visibility``; the 2D MOT 2015 sequences (and py-motmetrics'
bundled TUD files) have 10, ``frame,id,x,y,w,h,conf,wx,wy,wz`` with world coordinates (or -1) where
MOT17 has class and visibility. Read as MOT17, such a file loses almost every row (a world x of
4.5 becomes class 4, a wz of 0 becomes visibility 0), so the layout is detected from the column
count (or given), MOT15 rows become class 1 / visibility 1 / consider = conf > 0, and a file of
which (almost) no scored rows remain is refused with the reason.

Example:
    >>> import io
    >>> from safecity.monitor.types import Event
    >>> buf = io.StringIO()
    >>> w = JsonlEventWriter(buf, only_final=False)
    >>> w.publish("start", Event("u1", "intrusion", "cam1", 1.0, 1.0, zone="gate", track_ids=(4,)))
    >>> json.loads(buf.getvalue())["zone"], json.loads(buf.getvalue())["start_s"]
    ('gate', 1.0)
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import numpy.typing as npt

from safecity.errors import InputError
from safecity.monitor.types import Event, EventKind, Tracks

__all__ = [
    "JsonlEventWriter",
    "MOT_FORMATS",
    "MotFormat",
    "MotRow",
    "MotWriter",
    "event_from_json",
    "event_to_json",
    "read_events_jsonl",
    "read_mot",
    "read_mot_gt",
]

MotFormat = Literal["auto", "mot15", "mot17"]
MOT_FORMATS: tuple[str, ...] = ("auto", "mot15", "mot17")
_MIN_SCORED_SHARE = 0.1  # below this share of scored rows a gt file is refused


def _iso(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, tz=UTC).isoformat(timespec="milliseconds")


def event_to_json(kind: EventKind, event: Event, *, live: bool = False) -> dict[str, Any]:
    """The JSON object of one event message (see the module docstring for the fields).

    Args:
        kind: ``start``, ``update`` or ``end``.
        event: the event.
        live: event times are Unix seconds; write them as ISO-8601 UTC strings.
    """
    is_line = event.type == "line_crossing"

    def t(v: float | None) -> float | str | None:
        if v is None:
            return None
        return _iso(v) if live else round(float(v), 3)

    out: dict[str, Any] = {
        "kind": kind,
        "uid": event.uid,
        "type": event.type,
        "camera": event.camera,
        "zone": None if is_line else event.zone,
        "line": event.zone if is_line else None,
        "start_s": t(event.start_s),
        "end_s": t(event.end_s),
        "last_s": t(event.last_s),
        "track_ids": [int(i) for i in event.track_ids],
        "class": event.object_class,
        "direction": event.direction,
        "severity": int(event.severity),
        "count": int(event.count),
        "box_frac": [round(float(v), 4) for v in event.box_frac] if event.box_frac else None,
        "detail": dict(event.detail),
    }
    if live:
        out["start_unix"] = round(float(event.start_s), 3)
    return out


def _num(v: Any, key: str, line_no: int, source: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return datetime.fromisoformat(v).timestamp()
        except ValueError:
            pass
    raise InputError(f"{source}:{line_no}: {key} must be seconds or an ISO-8601 time, got {v!r}")


def event_from_json(obj: dict[str, Any], *, line_no: int = 0, source: str = "<events>") -> Event:
    """Inverse of :func:`event_to_json` (live ISO times come back as Unix seconds).

    Raises:
        InputError: a required field is missing or has the wrong type.
    """
    try:
        start = _num(obj["start_s"], "start_s", line_no, source)
        typ = obj["type"]
        camera = obj["camera"]
    except KeyError as exc:
        raise InputError(
            f"{source}:{line_no}: event has no {exc.args[0]!r}; expected the fields written by "
            "`safecity replay --events-jsonl`"
        ) from None
    if start is None:
        raise InputError(f"{source}:{line_no}: start_s is empty")
    end = _num(obj.get("end_s"), "end_s", line_no, source)
    last = _num(obj.get("last_s"), "last_s", line_no, source)
    box = obj.get("box_frac")
    return Event(
        uid=str(obj.get("uid", f"line{line_no}")),
        type=typ,
        camera=str(camera),
        start_s=start,
        last_s=last if last is not None else start,
        end_s=end,
        severity=int(obj.get("severity", 2)),
        zone=obj.get("line") if typ == "line_crossing" else obj.get("zone"),
        track_ids=tuple(int(i) for i in obj.get("track_ids", ())),
        object_class=obj.get("class"),
        direction=obj.get("direction"),
        count=int(obj.get("count", 0)),
        box_frac=(float(box[0]), float(box[1]), float(box[2]), float(box[3])) if box else None,
        detail=dict(obj.get("detail") or {}),
    )


def read_events_jsonl(path: str | Path) -> list[Event]:
    """Events of a JSON-lines file; with start/update/end messages, the last message of each uid wins."""
    p = Path(path)
    by_uid: dict[str, Event] = {}
    with p.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"{p}:{n}: not JSON ({exc.msg}); expected one event object per line"
                ) from None
            ev = event_from_json(obj, line_no=n, source=str(p))
            by_uid[ev.uid] = ev
    return list(by_uid.values())


class JsonlEventWriter:
    """An :class:`~safecity.monitor.types.EventSink` that appends events to a JSON-lines file.

    Args:
        target: a path (opened for append) or an open text stream.
        only_final: write one line per event when it ends (replay output); live events left at
            :meth:`close` are written with their last state. False writes every start/update/end.
        live: event times are Unix seconds (written as ISO-8601).
    """

    def __init__(self, target: str | Path | IO[str], *, only_final: bool = True, live: bool = False) -> None:
        if isinstance(target, (str, Path)):
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh: IO[str] = path.open("a", encoding="utf-8")
            self._owns = True
        else:
            self._fh = target
            self._owns = False
        self.only_final = only_final
        self.live = live
        self._pending: dict[str, Event] = {}
        self._lock = threading.Lock()
        self.written = 0

    def _write(self, kind: EventKind, event: Event) -> None:
        self._fh.write(json.dumps(event_to_json(kind, event, live=self.live), ensure_ascii=False) + "\n")
        self.written += 1

    def publish(self, kind: EventKind, event: Event) -> None:
        """Write (or hold until its end) one event message."""
        with self._lock:
            if not self.only_final:
                self._write(kind, event)
                self._fh.flush()
                return
            if kind == "end":
                self._pending.pop(event.uid, None)
                self._write("end", event)
                self._fh.flush()
            else:
                self._pending[event.uid] = event

    def close(self) -> None:
        """Write events that never ended (their ``end_s`` stays empty) and close an owned file."""
        with self._lock:
            for ev in sorted(self._pending.values(), key=lambda e: e.start_s):
                self._write("update", ev)
            self._pending.clear()
            self._fh.flush()
            if self._owns:
                self._fh.close()


class MotWriter:
    """Writes tracks as MOTChallenge rows ``frame,id,x,y,w,h,conf,-1,-1,-1``.

    Example:
        >>> import io
        >>> buf = io.StringIO()
        >>> t = Tracks(0.0, np.array([7]), np.array([[10, 20, 40, 80]], np.float32),
        ...            np.array([0.9], np.float32), np.array(["person"]), np.array([0.0]))
        >>> MotWriter(buf).write(1, t)
        >>> buf.getvalue()
        '1,7,10.00,20.00,30.00,60.00,0.900,-1,-1,-1\\n'
    """

    def __init__(self, target: str | Path | IO[str]) -> None:
        if isinstance(target, (str, Path)):
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh: IO[str] = path.open("w", encoding="utf-8")
            self._owns = True
        else:
            self._fh = target
            self._owns = False
        self.rows = 0

    def write(self, frame: int, tracks: Tracks) -> None:
        """Rows of one frame (1-based ``frame`` number of the source)."""
        if frame < 1:
            raise ValueError(f"MOT frame numbers start at 1, got {frame}")
        for tid, box, conf in zip(tracks.track_id, tracks.xyxy_px, tracks.confidence, strict=True):
            x1, y1, x2, y2 = (float(v) for v in box)
            w, h = x2 - x1, y2 - y1
            self._fh.write(
                f"{frame},{int(tid)},{x1:.2f},{y1:.2f},{w:.2f},{h:.2f},{float(conf):.3f},-1,-1,-1\n"
            )
            self.rows += 1

    def close(self) -> None:
        self._fh.flush()
        if self._owns:
            self._fh.close()


@dataclass(frozen=True, slots=True)
class MotRow:
    """Rows of one frame of a MOT file: ids, boxes (x1, y1, x2, y2 px) and the extra columns."""

    frame: int
    ids: npt.NDArray[np.int64]
    xyxy_px: npt.NDArray[np.float32]
    conf: npt.NDArray[np.float32]  # column 7: confidence (predictions) or "consider" flag (MOT17 gt)
    cls: npt.NDArray[np.int64]  # column 8: class (MOT17 gt), -1 for predictions
    visibility: npt.NDArray[np.float32]  # column 9: visibility (MOT17 gt), -1 for predictions


def read_mot(path: str | Path) -> dict[int, MotRow]:
    """Read a MOTChallenge text file (predictions or MOT17 ``gt.txt``) into rows per frame.

    Raises:
        InputError: the file is missing or a line is not ``frame,id,x,y,w,h[,...]``.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"MOT file {p} does not exist; expected a MOTChallenge gt.txt / tracks file")
    rows: dict[int, list[list[float]]] = {}
    with p.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            s = line.strip()
            if not s:
                continue
            parts = s.split(",")
            try:
                vals = [float(v) for v in parts]
            except ValueError:
                raise InputError(
                    f"{p}:{n}: not numbers ({s[:60]!r}); expected frame,id,x,y,w,h,..."
                ) from None
            if len(vals) < 6:
                raise InputError(f"{p}:{n}: {len(vals)} columns; expected at least frame,id,x,y,w,h")
            vals += [-1.0] * (9 - len(vals))
            rows.setdefault(int(vals[0]), []).append(vals[:9])
    out: dict[int, MotRow] = {}
    for frame, rs in sorted(rows.items()):
        a = np.asarray(rs, dtype=np.float64)
        xyxy = np.stack([a[:, 2], a[:, 3], a[:, 2] + a[:, 4], a[:, 3] + a[:, 5]], axis=1).astype(np.float32)
        out[frame] = MotRow(
            frame=frame,
            ids=a[:, 1].astype(np.int64),
            xyxy_px=xyxy,
            conf=a[:, 6].astype(np.float32),
            cls=a[:, 7].astype(np.int64),
            visibility=a[:, 8].astype(np.float32),
        )
    return out


def _column_counts(path: Path) -> dict[int, int]:
    """How many lines have each number of comma-separated columns."""
    counts: dict[int, int] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                n = line.count(",") + 1
                counts[n] = counts.get(n, 0) + 1
    return counts


def read_mot_gt(path: str | Path, fmt: MotFormat = "auto") -> dict[int, MotRow]:
    """Read a MOTChallenge ground-truth file as MOT17 rows (consider, class, visibility).

    Args:
        path: ``gt.txt``.
        fmt: ``mot17`` (9 columns: ``..., consider, class, visibility``), ``mot15`` (10 columns:
            ``..., conf, wx, wy, wz``), or ``auto``: 9 columns -> mot17, 10 -> mot15.

    Raises:
        InputError: the file is missing or malformed, its column count fits neither layout, the
            class / visibility columns of a mot17 reading are not classes and visibilities, or fewer
            than 10 % of its rows are scored pedestrians (``consider == 1``, class 1) under the
            chosen layout: the message says which layout was used, what the columns held and
            which ``--gt-format`` to try.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "gt.txt").write_text("1,1,10,20,30,60,1,4.48,5.50,0\\n2,1,12,20,30,60,1,4.50,5.52,0\\n")
        >>> rows = read_mot_gt(d / "gt.txt")  # MOT15: 10 columns
        >>> int(rows[1].cls[0]), float(rows[1].visibility[0])
        (1, 1.0)
    """
    p = Path(path)
    rows = read_mot(p)
    counts = _column_counts(p)
    cols = max(counts, key=lambda k: counts[k]) if counts else 0
    layout = fmt
    if fmt == "auto":
        if cols == 9:
            layout = "mot17"
        elif cols == 10:
            layout = "mot15"
        else:
            raise InputError(
                f"{p}: {cols} columns per line; expected a MOTChallenge ground truth with 9 columns "
                "(MOT16/17/20: frame,id,x,y,w,h,consider,class,visibility) or 10 (2D MOT 2015: "
                "frame,id,x,y,w,h,conf,wx,wy,wz); pass --gt-format mot15 or mot17 if you know the layout"
            )
    total = sum(len(r.ids) for r in rows.values())
    if layout == "mot15" and cols != 10:
        raise InputError(
            f"{p}: read as 2D MOT 2015 ground truth (10 columns: frame,id,x,y,w,h,conf,wx,wy,wz), but it "
            f"has {cols}; a MOT16/17/20 gt.txt has 9: pass --gt-format mot17 (or auto)"
        )
    if layout == "mot15":
        rows = {
            f: MotRow(
                f,
                r.ids,
                r.xyxy_px,
                (r.conf > 0).astype(np.float32),
                np.ones(len(r.ids), np.int64),
                np.ones(len(r.ids), np.float32),
            )
            for f, r in rows.items()
        }
    else:
        cls = np.concatenate([r.cls for r in rows.values()]) if rows else np.zeros(0, np.int64)
        vis = np.concatenate([r.visibility for r in rows.values()]) if rows else np.zeros(0, np.float32)
        if cols == 10 or (vis.size and ((vis < 0) | (vis > 1)).mean() > 0.5):
            raise InputError(
                f"{p}: read as MOT17 ground truth, but it has {cols} columns and columns 8-9 hold "
                f"{_sample(cls)} / {_sample(vis)}, not class ids and visibilities in 0..1; a 2D MOT 2015 "
                "file (frame,id,x,y,w,h,conf,wx,wy,wz) looks like this: pass --gt-format mot15 (or auto)"
            )
    scored = sum(int(((r.conf > 0) & (r.cls == 1)).sum()) for r in rows.values())
    if total == 0 or scored < _MIN_SCORED_SHARE * total:
        raise InputError(
            f"{p}: only {scored} of {total} rows are scored pedestrians (consider/conf > 0 and class 1) "
            f"when read as {layout}; nothing meaningful would be measured. Expected a MOTChallenge "
            "gt.txt of pedestrians; check the file, or its layout with --gt-format mot15 / mot17"
        )
    return rows


def _sample(a: npt.NDArray[Any]) -> str:
    vals = sorted({round(float(v), 2) for v in a[:200]})
    shown = ", ".join(f"{v:g}" for v in vals[:5])
    return f"[{shown}{', ...' if len(vals) > 5 else ''}]"
