"""The audit page's API: viewing sessions, the camera filter, CSV export of a period (itself audited)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.unit.web.conftest import EAST, WEST, Env


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _seed_sessions(env: Env) -> None:
    viewing = env.client.app.state.console.viewing  # type: ignore[attr-defined]
    t0 = env.clock.t
    a = viewing.open(WEST, "operator", "wall", remote_addr="10.0.0.7")
    env.clock.t += 125
    viewing.close(a)
    viewing.open(EAST, "viewer", "on_demand")
    env.clock.t = t0 + 200


def test_sessions_listed_with_names_durations_and_filters(env: Env) -> None:
    _seed_sessions(env)
    h = env.bearer("admin")
    r = env.client.get("/api/audit/sessions", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2 and body["timezone"] == "Asia/Seoul"
    latest, first = body["sessions"]
    assert (first["camera"], first["camera_name"], first["username"], first["how_label"]) == (
        WEST,
        "West gate",
        "operator",
        "wall tile",
    )
    assert first["duration_s"] == 125.0 and first["end_reason"] == "closed" and not first["open"]
    assert first["started_local"].endswith(" KST") and first["started_local"][11:13].isdigit()
    assert latest["open"] and latest["camera_name"] == EAST and latest["how"] == "on_demand"
    q = env.client.get("/api/audit/sessions", params={"username": "viewer"}, headers=h).json()
    assert [s["camera"] for s in q["sessions"]] == [EAST]
    q = env.client.get("/api/audit/sessions", params={"open": "false"}, headers=h).json()
    assert [s["camera"] for s in q["sessions"]] == [WEST]
    q = env.client.get("/api/audit/sessions", params={"how": "playback"}, headers=h).json()
    assert q["total"] == 0
    assert env.client.get("/api/audit/sessions", params={"how": "tile"}, headers=h).status_code == 422
    # the log: each start and end is one row; filter by camera
    rows = env.audit(camera=WEST)
    assert [e["action"] for e in rows] == ["view_end", "view_start"]
    assert {e["camera_name"] for e in rows} == {"West gate"}
    assert rows[0]["detail"].startswith("wall tile, session ")  # type: ignore[union-attr]


def test_sessions_are_admin_only(env: Env) -> None:
    r = env.client.get("/api/audit/sessions", headers=env.bearer("operator"))
    assert r.status_code == 403
    r = env.client.get(
        "/api/audit/export", params={"since": _iso(0), "until": _iso(60)}, headers=env.bearer("viewer")
    )
    assert r.status_code == 403


def test_csv_export_of_a_period_with_kst_times_is_audited(env: Env) -> None:
    _seed_sessions(env)
    h = env.bearer("admin")
    t = env.clock.t
    period = {"since": _iso(t - 3600), "until": _iso(t + 60)}
    r = env.client.get("/api/audit/export", params=period, headers=h)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="safecity-audit-log-' in r.headers["content-disposition"]
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    actions = [row["action"] for row in rows]
    assert actions[:3] == ["view_start", "view_end", "view_start"]  # oldest first (chain order)
    assert "login" in actions
    local = rows[0]["at_local"]
    assert len(local) == len("2026-09-22 02:53:20 KST") and local.endswith(" KST")
    for row in rows:  # the local time is the UTC time in Asia/Seoul (UTC+9), zero-padded
        kst = datetime.fromisoformat(row["at_utc"]).astimezone(ZoneInfo("Asia/Seoul"))
        assert row["at_local"] == f"{kst:%Y-%m-%d %H:%M:%S} KST"
    # the export itself is audited, with the period in KST and the row count
    audit_rows = env.audit(action="audit_export")
    assert len(audit_rows) == 1
    assert audit_rows[0]["target_id"] == "log"
    assert f"CSV of {len(rows)} rows" in str(audit_rows[0]["detail"])
    assert "KST .. " in str(audit_rows[0]["detail"])
    # sessions as CSV, filtered by camera
    r = env.client.get("/api/audit/export", params={**period, "what": "sessions", "camera": WEST}, headers=h)
    srows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8").lstrip("\ufeff"))))
    assert [(s["camera"], s["camera_name"], s["how"], s["duration_s"]) for s in srows] == [
        (WEST, "West gate", "wall tile", "125")
    ]
    assert "camera=cam-west" in str(env.audit(action="audit_export")[0]["detail"])


@pytest.mark.parametrize(
    ("since", "until", "needle"),
    [
        (1000.0, 1000.0, "until must be after since"),
        (0.0, 400 * 86400.0, "export at most 366 days"),
    ],
)
def test_export_period_is_bounded(env: Env, since: float, until: float, needle: str) -> None:
    r = env.client.get(
        "/api/audit/export", params={"since": _iso(since), "until": _iso(until)}, headers=env.bearer("admin")
    )
    assert r.status_code == 400 and needle in r.json()["detail"]
    assert env.audit(action="audit_export") == []
    r = env.client.get("/api/audit/export", params={"since": _iso(since)}, headers=env.bearer("admin"))
    assert r.status_code == 422 and "until" in r.json()["message"]
