"""The control room's own history as a priority layer: events near a cell, by type, severity and age.

Events live in the store (``events``), each on a camera whose position is in ``cameras``. An event of type
t and severity s that started d days ago weighs ``type_weight[t] · (s / 3) ** severity_exponent ·
0.5 ** (d / half_life_days)`` and counts for every cell within ``radius_m`` of its camera. The layer is the
sum per cell, scaled to 0..1. Incidents (migration 0004) refine it: an event whose incident was escalated
(or the event itself) weighs ``escalated_factor`` times more, one whose incident was closed as a false
alarm and one matched by a suppression weigh nothing.

Example:
    >>> from safecity.plan.config import EventHistoryConfig
    >>> event_weight("intrusion", 3, age_days=180.0, cfg=EventHistoryConfig())
    0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, select

from safecity.errors import PlanningError
from safecity.geo import lonlat_to_xy
from safecity.plan.config import EventHistoryConfig
from safecity.store.schema import cameras, events, incidents

__all__ = ["PastEvent", "event_layer", "event_weight", "load_events"]

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PastEvent:
    """One stored event at its camera's position (WGS84)."""

    type: str
    severity: int
    start_at: datetime
    lat: float
    lon: float
    escalated: bool = False
    false_alarm: bool = False


def event_weight(
    kind: str,
    severity: int,
    *,
    age_days: float,
    cfg: EventHistoryConfig,
    escalated: bool = False,
    false_alarm: bool = False,
) -> float:
    """Weight of one event (see the module docstring)."""
    if false_alarm:
        return 0.0
    tw = cfg.type_weights.get(kind, cfg.default_type_weight) * (cfg.escalated_factor if escalated else 1.0)
    sev = (max(0, severity) / 3.0) ** cfg.severity_exponent
    decay = 0.5 ** (max(0.0, age_days) / cfg.half_life_days)
    return float(tw * sev * decay)


def load_events(engine: Engine) -> list[PastEvent]:
    """Events whose camera has a position in the registry (others cannot be placed on the map), with
    their incident's escalation and false-alarm flags; suppressed events are left out."""
    q = (
        select(
            events.c.type,
            events.c.severity,
            events.c.start_at,
            cameras.c.lat,
            cameras.c.lon,
            events.c.state,
            incidents.c.state,
            incidents.c.closed_reason,
        )
        .join(cameras, cameras.c.camera_key == events.c.camera_key)
        .outerjoin(incidents, incidents.c.id == events.c.incident_id)
        .where(cameras.c.lat.is_not(None), cameras.c.lon.is_not(None), events.c.suppressed_by.is_(None))
        .order_by(events.c.id)
    )
    with engine.connect() as c:
        rows = c.execute(q).all()
    return [
        PastEvent(
            str(t),
            int(s),
            at,
            float(la),
            float(lo),
            escalated="escalated" in (ev_state, inc_state),
            false_alarm=reason == "false_alarm",
        )
        for t, s, at, la, lo, ev_state, inc_state, reason in rows
    ]


def event_layer(
    cells_xy: F64, past: Sequence[PastEvent], cfg: EventHistoryConfig, *, now: datetime | None = None
) -> F64:
    """Per-cell weighted, decayed event sum within ``cfg.radius_m``, scaled to 0..1.

    Raises:
        PlanningError: ``past`` is empty (the caller asked for the layer, so say there is nothing).
    """
    if not past:
        raise PlanningError(
            "event_history: the store has no events with a camera position; run the monitoring first, "
            "import the registry of the cameras that raised events, or plan with --events none"
        )
    t_now = now or datetime.now(UTC)
    lon = np.array([e.lon for e in past], dtype=np.float64)
    lat = np.array([e.lat for e in past], dtype=np.float64)
    x, y = lonlat_to_xy(lon, lat)
    wts = np.array(
        [
            event_weight(
                e.type,
                e.severity,
                age_days=(t_now - _aware(e.start_at)).total_seconds() / 86400.0,
                cfg=cfg,
                escalated=e.escalated,
                false_alarm=e.false_alarm,
            )
            for e in past
        ]
    )
    out = np.zeros(len(cells_xy))
    if len(cells_xy) == 0:
        return out
    from scipy.spatial import cKDTree  # lazy: a cached plan needs no KD-tree

    near = cKDTree(cells_xy).query_ball_point(np.column_stack([x, y]), r=cfg.radius_m)
    for wt, idx in zip(wts, near, strict=True):
        out[idx] += wt
    top = float(out.max())
    return out / top if top > 0 else out


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
