"""IncidentFeed: changed incidents reach /ws/live subscribers of their camera, with the publish times."""

from __future__ import annotations

from typing import Any

from tests.unit.web.conftest import EAST, WEST, Env, make_event


def _next_of(ws: Any, kind: str) -> dict[str, Any]:
    for _ in range(20):
        msg: dict[str, Any] = ws.receive_json()
        if msg["type"] == kind:
            return msg
    raise AssertionError(f"no {kind!r} message in 20")


def test_a_new_incident_is_pushed_to_who_sees_its_camera_with_times(env: Env) -> None:
    env.client.cookies.clear()
    env.login("viewer")  # the viewer sees only WEST
    with env.client.websocket_connect("/ws/live") as ws:
        assert ws.receive_json()["type"] == "hello"
        env.add_event("e-1", EAST)  # not the viewer's camera: no incident message
        env.clock.t += 2.5
        env.add_event("w-1", WEST)
        msg = _next_of(ws, "incident")
    inc = msg["incident"]
    assert inc["camera"] == WEST and inc["camera_name"] == "West gate"
    assert inc["needs_ack"] and inc["level"] == "alert" and inc["event_count"] == 1
    assert isinstance(inc["first_at"], str) and "timeline" not in inc
    # the runtime published w-1 at the (fake) clock's time, the message went out at the same time
    assert msg["event_published_at"] == env.clock.t == msg["published_at"]


def test_an_operator_action_pushes_the_changed_incident(env: Env) -> None:
    env.add_event("w-1", WEST)
    inc_id = env.client.get("/api/incidents", headers=env.bearer("operator")).json()["incidents"][0]["id"]
    env.client.cookies.clear()
    env.login("operator")
    with env.client.websocket_connect("/ws/live") as ws:
        assert ws.receive_json()["type"] == "hello"
        r = env.client.post(f"/api/incidents/{inc_id}/ack", json={"note": "seen"})
        assert r.status_code == 200, r.text
        msg = _next_of(ws, "incident")
    assert msg["incident"]["id"] == inc_id and msg["incident"]["state"] == "acknowledged"
    assert not msg["incident"]["needs_ack"]


def test_no_subscriber_no_work(env: Env) -> None:
    feed = next(f for f in env.events.incident_listeners if type(f).__name__ == "IncidentFeed")
    env.monitor.emit("start", make_event("w-9", WEST))
    assert env.events.flush(10)
    assert feed.published_at("w-9") == env.clock.t  # noted even so, for a later subscriber
    assert feed.published_at("nope") is None
