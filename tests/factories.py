"""Builders of monitoring values for tests: readable boxes in, validated dataclasses out.

Example:
    >>> d = make_detections([(0, 0, 10, 20)], classes=["person"])
    >>> len(d), d.class_name[0]
    (1, np.str_('person'))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from safecity.monitor.types import Detections, Event, EventType, Tracks

__all__ = ["box_at", "make_detections", "make_event", "make_tracks"]

Box = tuple[float, float, float, float]


def box_at(cx: float, cy: float, w: float = 20.0, h: float = 50.0) -> Box:
    """A box (x1, y1, x2, y2) in pixels centred on (cx, cy)."""
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _classes(n: int, classes: str | Sequence[str]) -> np.ndarray[Any, np.dtype[np.str_]]:
    names = [classes] * n if isinstance(classes, str) else list(classes)
    if len(names) != n:
        raise ValueError(f"need {n} class names, got {len(names)}")
    return np.array(names, dtype="<U16").reshape(n)


def make_detections(
    boxes: Sequence[Box] = (),
    *,
    conf: float | Sequence[float] = 0.9,
    classes: str | Sequence[str] = "person",
) -> Detections:
    """Detections from pixel boxes; ``conf`` and ``classes`` are one value for all or one per box."""
    n = len(boxes)
    xyxy = np.array(boxes, dtype=np.float32).reshape(n, 4)
    c = np.full(n, conf, np.float32) if isinstance(conf, (int, float)) else np.array(conf, np.float32)
    return Detections(xyxy, c.reshape(n), _classes(n, classes))


def make_tracks(
    t_s: float,
    boxes: Sequence[Box] = (),
    *,
    ids: Sequence[int] | None = None,
    classes: str | Sequence[str] = "person",
    conf: float = 0.9,
    first_seen_s: float | Sequence[float] | None = None,
) -> Tracks:
    """Tracks at ``t_s``; ids default to 1..n, ``first_seen_s`` to ``t_s``."""
    n = len(boxes)
    tid = np.arange(1, n + 1, dtype=np.int64) if ids is None else np.array(ids, np.int64).reshape(n)
    if first_seen_s is None:
        first = np.full(n, t_s, np.float64)
    elif isinstance(first_seen_s, (int, float)):
        first = np.full(n, first_seen_s, np.float64)
    else:
        first = np.array(first_seen_s, np.float64).reshape(n)
    return Tracks(
        t_s,
        tid,
        np.array(boxes, dtype=np.float32).reshape(n, 4),
        np.full(n, conf, np.float32),
        _classes(n, classes),
        first,
    )


def make_event(
    *,
    uid: str = "cam1-intrusion-gate-0000010.000-1",
    type: EventType = "intrusion",
    camera: str = "cam1",
    start_s: float = 10.0,
    last_s: float | None = None,
    end_s: float | None = None,
    severity: int = 3,
    zone: str | None = "gate",
    track_ids: tuple[int, ...] = (1,),
    object_class: str | None = "person",
    **kw: Any,
) -> Event:
    """An event with sensible defaults; any other Event field can be given by keyword."""
    return Event(
        uid=uid,
        type=type,
        camera=camera,
        start_s=start_s,
        last_s=start_s if last_s is None else last_s,
        end_s=end_s,
        severity=severity,
        zone=zone,
        track_ids=track_ids,
        object_class=object_class,
        **kw,
    )
