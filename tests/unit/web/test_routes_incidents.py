"""/api/incidents and /api/suppressions: scoping, roles, actions on incidents and their events, audit."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.web.conftest import EAST, WEST, Env, make_event


def _incidents(env: Env, who: str, **params: object) -> dict[str, object]:
    r = env.client.get("/api/incidents", params=params, headers=env.bearer(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_events_fold_into_incidents_scoped_by_camera_group(env: Env) -> None:
    env.add_event("w1", WEST, t=1_790_000_000.0)
    env.add_event("w2", WEST, t=1_790_000_030.0, sev=5)
    env.add_event("e1", EAST, t=1_790_000_010.0)
    op = _incidents(env, "operator")
    assert op["total"] == 2
    assert op["counts"] == {"new": 2, "acknowledged": 0, "escalated": 0, "closed": 0, "needs_ack": 2}
    west = next(i for i in op["incidents"] if i["camera"] == WEST)  # type: ignore[attr-defined]
    assert west["event_count"] == 2 and west["severity"] == 5 and west["best_event"] == "w2"
    assert west["camera_name"] == "West gate" and west["needs_ack"] and west["level"] == "alert"
    viewer = _incidents(env, "viewer")
    assert [i["camera"] for i in viewer["incidents"]] == [WEST]  # type: ignore[attr-defined]
    r = env.client.get(f"/api/incidents/{west['id']}", headers=env.bearer("operator"))
    assert r.status_code == 200 and [e["uid"] for e in r.json()["timeline"]] == ["w1", "w2"]
    east_id = next(i["id"] for i in op["incidents"] if i["camera"] == EAST)  # type: ignore[attr-defined]
    r = env.client.get(f"/api/incidents/{east_id}", headers=env.bearer("viewer"))
    assert r.status_code == 403
    assert env.audit(action="view_incident", allowed=False)
    assert env.client.get("/api/incidents/99999", headers=env.bearer("admin")).status_code == 404
    assert (
        env.client.get("/api/incidents", params={"state": "bogus"}, headers=env.bearer("admin")).status_code
        == 422
    )


def test_acknowledge_escalate_close_act_on_the_incident_and_its_events(env: Env) -> None:
    env.add_event("a1", WEST)
    env.add_event("a2", WEST, t=1_790_000_005.0)
    inc_id = _incidents(env, "operator")["incidents"][0]["id"]  # type: ignore[index]
    h = env.bearer("operator")
    r = env.client.post(f"/api/incidents/{inc_id}/ack", json={"note": "guard sent"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "acknowledged" and not r.json()["needs_ack"]
    assert {e["state"] for e in r.json()["timeline"]} == {"acknowledged"}
    assert env.client.post(f"/api/incidents/{inc_id}/ack", json={}, headers=h).status_code == 409
    r = env.client.post(
        f"/api/incidents/{inc_id}/escalate", json={"target": "112", "note": "fight"}, headers=h
    )
    assert r.status_code == 200 and r.json()["state"] == "escalated"
    assert (
        env.client.post(f"/api/incidents/{inc_id}/escalate", json={"target": "110"}, headers=h).status_code
        == 422
    )
    r = env.client.post(f"/api/incidents/{inc_id}/close", json={"note": "police on site"}, headers=h)
    assert r.status_code == 200 and r.json()["state"] == "closed" and r.json()["closed_reason"] == "operator"
    assert [a["action"] for a in r.json()["actions"]] == ["ack", "escalate", "close"]
    ev = env.client.get("/api/events/a2", headers=h).json()
    assert ev["state"] == "closed" and ev["escalations"][0]["target"] == "112"
    rows = env.audit(action="incident_escalate")
    assert rows and "to 112 fight" in str(rows[0]["detail"]) and rows[0]["username"] == "operator"
    assert set(env.monitor.acked) == {"a1", "a2"}
    r = env.client.post(f"/api/incidents/{inc_id}/ack", json={}, headers=env.bearer("viewer"))
    assert r.status_code == 403


def test_false_alarm_suppresses_matching_events_until_lifted(env: Env) -> None:
    env.add_event("f1", WEST)
    inc_id = _incidents(env, "operator")["incidents"][0]["id"]  # type: ignore[index]
    r = env.client.post(
        f"/api/incidents/{inc_id}/false-alarm", json={"note": "shadow"}, headers=env.bearer("viewer")
    )
    assert r.status_code == 403
    assert env.audit(allowed=False, target_id=f"/api/incidents/{inc_id}/false-alarm")
    r = env.client.post(
        f"/api/incidents/{inc_id}/false-alarm",
        json={"duration_s": 600, "note": "shadow"},
        headers=env.bearer("operator"),
    )
    assert r.status_code == 200, r.text
    sup = r.json()["suppression"]
    assert r.json()["incident"]["closed_reason"] == "false_alarm" and sup["active"] and sup["camera"] == WEST
    base = make_event("f2", WEST, t=1_790_000_100.0)
    near = replace(base, box_frac=(0.11, 0.21, 0.31, 0.41))
    far = replace(make_event("f3", WEST, t=1_790_000_101.0), box_frac=(0.7, 0.7, 0.9, 0.9))
    env.monitor.emit("start", near)
    env.monitor.emit("start", far)
    assert env.events.flush(10)
    sups = env.client.get("/api/suppressions", headers=env.bearer("admin")).json()["suppressions"]
    assert sups[0]["suppressed_count"] == 1
    after = _incidents(env, "operator", state="new")
    assert after["total"] == 1 and after["incidents"][0]["best_event"] == "f3"  # type: ignore[index]
    assert env.client.get("/api/events/f2", headers=env.bearer("operator")).status_code == 200  # still stored
    assert env.client.get("/api/suppressions", headers=env.bearer("viewer")).status_code == 403
    assert (
        env.client.delete(f"/api/suppressions/{sup['id']}", headers=env.bearer("viewer")).status_code == 403
    )
    r = env.client.delete(f"/api/suppressions/{sup['id']}", headers=env.bearer("admin"))
    assert r.status_code == 200 and not r.json()["active"] and r.json()["lifted_by"] == "admin"
    assert env.client.delete(f"/api/suppressions/{sup['id']}", headers=env.bearer("admin")).status_code == 409
    assert env.audit(action="lift_suppression")
    env.monitor.emit("start", replace(near, uid="f4", start_s=1_790_000_200.0, last_s=1_790_000_200.0))
    assert env.events.flush(10)
    got = env.client.get("/api/events/f4", headers=env.bearer("operator")).json()
    assert got["state"] == "new"
    assert _incidents(env, "operator", state="new")["total"] == 1  # f4 joined f3's open incident


def test_false_alarm_duration_is_bounded(env: Env) -> None:
    env.add_event("b1", WEST)
    inc_id = _incidents(env, "operator")["incidents"][0]["id"]  # type: ignore[index]
    r = env.client.post(
        f"/api/incidents/{inc_id}/false-alarm", json={"duration_s": 5}, headers=env.bearer("operator")
    )
    assert r.status_code == 422
    r = env.client.post(
        f"/api/incidents/{inc_id}/false-alarm",
        json={"duration_s": 29 * 86400},
        headers=env.bearer("operator"),
    )
    assert r.status_code == 409 and "between 60 s and 604800 s" in r.json()["detail"]


def test_openapi_documents_the_incident_routes(env: Env) -> None:
    spec = env.client.get("/openapi.json").json()
    assert "/api/incidents/{incident_id}/false-alarm" in spec["paths"]
    assert "IncidentDetail" in spec["components"]["schemas"]
    assert "SuppressionOut" in spec["components"]["schemas"]


def test_list_filters_by_how_an_incident_was_closed(env: Env) -> None:
    env.add_event("c1", WEST)
    env.add_event("c2", EAST, zone="yard")
    h = env.bearer("operator")
    ids = {i["camera"]: i["id"] for i in _incidents(env, "operator")["incidents"]}  # type: ignore[index]
    assert env.client.post(f"/api/incidents/{ids[WEST]}/false-alarm", json={}, headers=h).status_code == 200
    assert env.client.post(f"/api/incidents/{ids[EAST]}/close", json={}, headers=h).status_code == 200
    fa = _incidents(env, "operator", closed_reason="false_alarm")
    assert fa["total"] == 1 and fa["incidents"][0]["id"] == ids[WEST]  # type: ignore[index]
    assert _incidents(env, "operator", closed_reason="operator")["incidents"][0]["id"] == ids[EAST]  # type: ignore[index]
    assert _incidents(env, "operator", closed_reason="auto")["total"] == 0
    r = env.client.get("/api/incidents", params={"closed_reason": "bogus"}, headers=h)
    assert r.status_code == 422 and "closed_reason" in r.text
