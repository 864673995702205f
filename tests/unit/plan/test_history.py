"""The control room's events as a priority layer: weights, decay, and a cell with many past incidents
rising in priority; an events layer with no events is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import insert

from safecity.errors import PlanningError
from safecity.geo import lonlat_to_xy
from safecity.plan.areas import load_area
from safecity.plan.config import EventHistoryConfig, PlanConfig
from safecity.plan.data import Requests
from safecity.plan.history import PastEvent, event_layer, event_weight, load_events
from safecity.plan.sites import build_inputs
from safecity.store.db import connect
from safecity.store.schema import cameras, events, incidents

NOW = datetime(2026, 12, 1, tzinfo=UTC)
LAT, LON = 37.4954, 126.8875  # Guro-gu office


def test_weight_by_type_severity_and_age() -> None:
    cfg = EventHistoryConfig()
    assert event_weight("fight", 3, age_days=0, cfg=cfg) == pytest.approx(1.2)
    assert event_weight("intrusion", 3, age_days=360, cfg=cfg) == pytest.approx(0.25)  # two half-lives
    assert event_weight("intrusion", 1, age_days=0, cfg=cfg) == pytest.approx(1 / 3)
    assert event_weight("camera_health", 5, age_days=0, cfg=cfg) == 0.0
    assert event_weight("unknown_type", 3, age_days=0, cfg=cfg) == cfg.default_type_weight
    assert event_weight("intrusion", 3, age_days=0, cfg=cfg, escalated=True) == pytest.approx(2.0)
    assert event_weight("intrusion", 3, age_days=0, cfg=cfg, false_alarm=True) == 0.0


def test_no_events_is_a_clear_error() -> None:
    with pytest.raises(PlanningError, match="event_history: the store has no events"):
        event_layer(np.zeros((3, 2)) + 1e6, [], EventHistoryConfig())


def test_cell_with_many_past_incidents_rises_in_priority() -> None:
    area = load_area("guro")
    cfg = PlanConfig()
    past = [PastEvent("intrusion", 4, NOW - timedelta(days=d), LAT, LON) for d in range(0, 60, 2)]
    past.append(PastEvent("loitering", 2, NOW - timedelta(days=400), 37.49, 126.85))  # one old, elsewhere
    base = build_inputs(area, cfg, cameras=[], requests=Requests.empty())
    with_ev = build_inputs(area, cfg, cameras=[], requests=Requests.empty(), past_events=past)
    x, y = lonlat_to_xy([LON], [LAT])
    cell = int(np.argmin(np.hypot(base.grid.xy[:, 0] - x[0], base.grid.xy[:, 1] - y[0])))
    before, after = base.scores.score, with_ev.scores.score
    assert with_ev.scores.layers["event_history"][cell] == pytest.approx(1.0)
    assert after[cell] == pytest.approx(before[cell] + cfg.weights.event_history)
    rank_before = int((before > before[cell]).sum())
    rank_after = int((after > after[cell]).sum())
    assert rank_after < rank_before and rank_after == 0


def _incident(c: object, state: str, reason: str | None) -> int:
    from sqlalchemy.engine import Connection

    assert isinstance(c, Connection)
    row = dict(
        camera_key="cam-1",
        zone_key="",
        level="alert",
        state=state,
        needs_ack=False,
        rings=1,
        severity=3,
        first_at=NOW,
        last_at=NOW,
        event_count=1,
        open_events=0,
        types=["intrusion"],
        object_classes=[],
        track_ids=[],
        best_score=3.0,
        closed_reason=reason,
        updated_at=NOW,
    )
    return int(c.execute(insert(incidents).values(**row).returning(incidents.c.id)).scalar_one())


def test_load_events_joins_camera_positions_and_incidents(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    with engine.begin() as c:
        c.execute(insert(cameras).values(camera_key="cam-1", count=1, ptz=False, lat=LAT, lon=LON))
        c.execute(insert(cameras).values(camera_key="cam-2", count=1, ptz=False, lat=None, lon=None))
        esc, fa = _incident(c, "escalated", None), _incident(c, "closed", "false_alarm")
        rows = [("cam-1", None), ("cam-2", None), ("cam-x", None), ("cam-1", esc), ("cam-1", fa)]
        for i, (key, inc) in enumerate(rows):
            c.execute(
                insert(events).values(
                    uid=f"e{i}",
                    camera_key=key,
                    type="intrusion",
                    severity=3,
                    start_at=NOW,
                    state="new",
                    updated_at=NOW,
                    incident_id=inc,
                )
            )
    got = load_events(engine)
    engine.dispose()
    # events on cameras without a position are left out; the incident flags come along
    assert [(e.lat, e.lon, e.escalated, e.false_alarm) for e in got] == [
        (LAT, LON, False, False),
        (LAT, LON, True, False),
        (LAT, LON, False, True),
    ]
