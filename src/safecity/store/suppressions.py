"""False-alarm suppressions: an operator's "false alarm" on an incident mutes matching future events.

A suppression holds the camera, the rule (event type), the object class and the box of the incident's
best event. An event written after it was created matches while the suppression is active (not
lifted, not expired at the event's start) when camera and type are equal, the class is equal (or
the suppression has none) and its box overlaps the suppression's box: IoU >= ``min_iou`` **or**
centre distance <= ``max_centre_dist`` (fractions of the frame). An event without a box matches
a suppression without a box only.

Matching events are still stored (``events.suppressed_by``, searchable) but join no incident and ring
nothing; the suppression's ``suppressed_count`` goes up so the operator sees what it hides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from safecity.store.schema import suppressions

__all__ = ["box_iou", "centre_distance", "match_suppression", "suppression_dict"]


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``[x1, y1, x2, y2]`` boxes (0 when either is empty)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def centre_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Distance between the centres of two boxes (in the boxes' units)."""
    return math.hypot((a[0] + a[2] - b[0] - b[2]) / 2.0, (a[1] + a[3] - b[1] - b[3]) / 2.0)


def _covers(
    sup_box: Sequence[float] | None, box: Sequence[float] | None, min_iou: float, dist: float
) -> bool:
    if sup_box is None:
        return True
    if box is None:
        return False
    return box_iou(sup_box, box) >= min_iou or centre_distance(sup_box, box) <= dist


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def match_suppression(conn: Connection, ev: Mapping[str, Any], at: datetime) -> int | None:
    """The id of the oldest active suppression that matches event ``ev`` at ``at`` (count raised), or None."""
    rows = conn.execute(
        select(suppressions)
        .where(
            suppressions.c.camera_key == ev["camera"],
            suppressions.c.type == ev["type"],
            suppressions.c.expires_at > at,
            suppressions.c.lifted_at.is_(None),
        )
        .order_by(suppressions.c.id)
    ).all()
    for r in rows:
        if r.object_class is not None and r.object_class != ev["object_class"]:
            continue
        if _covers(r.box, ev["box_frac"], float(r.min_iou), float(r.max_centre_dist)):
            conn.execute(
                update(suppressions)
                .where(suppressions.c.id == r.id)
                .values(suppressed_count=suppressions.c.suppressed_count + 1)
            )
            return int(r.id)
    return None


def suppression_dict(m: Mapping[Any, Any], now: datetime) -> dict[str, Any]:
    """A suppression row as the API returns it (``active`` computed at ``now``)."""
    expires = _aware(m["expires_at"])
    lifted = _aware(m["lifted_at"])
    assert expires is not None
    return {
        "id": m["id"],
        "camera": m["camera_key"],
        "type": m["type"],
        "object_class": m["object_class"],
        "box": m["box"],
        "min_iou": m["min_iou"],
        "max_centre_dist": m["max_centre_dist"],
        "incident_id": m["incident_id"],
        "username": m["username"],
        "note": m["note"],
        "created_at": _aware(m["created_at"]),
        "expires_at": expires,
        "lifted_at": lifted,
        "lifted_by": m["lifted_by"],
        "suppressed_count": m["suppressed_count"],
        "active": lifted is None and expires > now,
    }
