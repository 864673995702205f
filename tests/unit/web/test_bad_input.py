"""No 500s from bad input: bounded integers, out-of-range times, malformed WebSocket messages, Origin."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.unit.web.conftest import WEST, Env

BIG = str(2**63)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/events", {"offset": BIG}, "query.offset"),
        ("/api/audit", {"offset": BIG}, "query.offset"),
        ("/api/events", {"offset": "1000000001"}, "query.offset"),
        ("/api/events", {"since": "9999-12-31T23:59:59-01:00"}, "query.since"),
        ("/api/events", {"until": "0001-01-01T00:00:00+01:00"}, "query.until"),
        ("/api/audit", {"since": "9999-12-31T23:59:59-01:00"}, "query.since"),
        (f"/api/plans/{BIG}", {}, "path.plan_id"),
        (f"/api/incidents/{BIG}", {}, "path.incident_id"),
        (f"/api/cameras/{WEST}/mjpeg", {"frames": BIG}, "query.frames"),
    ],
)
def test_out_of_range_parameters_are_422_naming_the_field(
    env: Env, path: str, params: dict[str, str], field: str
) -> None:
    r = env.client.get(path, params=params, headers=env.bearer("admin"))
    assert r.status_code == 422, r.text
    assert field in r.json()["message"]


def test_out_of_range_ids_of_actions_are_422(env: Env) -> None:
    h = env.bearer("admin")
    r = env.client.post(f"/api/incidents/{BIG}/ack", json={}, headers=h)
    assert r.status_code == 422 and "path.incident_id" in r.json()["message"]
    r = env.client.delete(f"/api/suppressions/{BIG}", headers=h)
    assert r.status_code == 422 and "path.suppression_id" in r.json()["message"]


def test_extreme_but_valid_times_are_answered(env: Env) -> None:
    h = env.bearer("admin")
    for since in ("9998-12-31T23:59:59-01:00", "0001-01-02T00:00:00+01:00", "2026-01-01T00:00:00"):
        assert env.client.get("/api/events", params={"since": since}, headers=h).status_code == 200
        assert env.client.get("/api/audit", params={"since": since}, headers=h).status_code == 200


@pytest.mark.parametrize(
    ("send", "needle"),
    [
        ({"cameras": 5}, "cameras: Input should be a valid array"),
        ({"cameras": [WEST], "fps": "abc"}, "fps: Input should be a valid number"),
        ({"cameras": [WEST], "fps": 0}, "fps: Input should be greater than or equal to 0.2"),
        ({"cameras": [WEST] * 65}, "cameras: List should have at most 64 items"),
        ({"cams": [WEST]}, "cams: Extra inputs are not permitted"),
        ([1, 2, 3], "Input should be an object"),
        ("not json", "Invalid JSON"),
        (b"\x00\x01", "binary messages are not accepted"),
    ],
)
def test_tiles_malformed_message_gets_an_error_frame_and_the_socket_lives_on(
    env: Env, send: object, needle: str
) -> None:
    env.login("viewer")
    with env.client.websocket_connect("/ws/tiles") as ws:
        if isinstance(send, bytes):
            ws.send_bytes(send)
        elif isinstance(send, str):
            ws.send_text(send)
        else:
            ws.send_json(send)
        err = ws.receive_json()
        assert err["type"] == "error" and needle in err["message"], err
        assert "cameras" in err["expected"]
        ws.send_json({"cameras": [WEST], "fps": 10})  # still usable
        assert ws.receive_json() == {"type": "subscribed", "cameras": [WEST], "denied": []}


def test_tiles_closes_after_too_many_bad_messages(env: Env) -> None:
    env.login("viewer")
    with env.client.websocket_connect("/ws/tiles") as ws:
        for _ in range(20):
            ws.send_text("{")
            assert ws.receive_json()["type"] == "error"
        ws.send_text("{")
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == 1008


def test_live_socket_answers_ping_and_rejects_other_messages(env: Env) -> None:
    env.login("viewer")
    with env.client.websocket_connect("/ws/live") as ws:
        assert ws.receive_json()["type"] == "hello"
        assert ws.receive_json()["type"] == "wall"
        ws.send_text("]]")
        err = ws.receive_json()
        assert err["type"] == "error" and "Invalid JSON" in err["message"]
        ws.send_json({"type": "subscribe", "cameras": 5})
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}


@pytest.mark.parametrize("path", ["/ws/live", "/ws/tiles"])
def test_websocket_from_a_foreign_origin_is_refused_and_audited(env: Env, path: str) -> None:
    env.login("admin")
    headers = {"Origin": "https://evil.example"}
    with env.client.websocket_connect(path, headers=headers) as ws, pytest.raises(WebSocketDisconnect) as exc:
        ws.receive_json()
    assert exc.value.code == 4403
    rows = env.audit(action="denied", target_id=path)
    assert rows and "origin 'https://evil.example' is not allowed" in str(rows[0]["detail"])


def test_websocket_own_and_listed_origins_are_allowed(env: Env) -> None:
    from safecity.settings import Settings

    env.login("viewer")
    with env.client.websocket_connect("/ws/live", headers={"Origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "hello"
    console = env.client.app.state.console  # type: ignore[attr-defined]
    console.settings = Settings(
        home=console.settings.home, secret_key="k" * 40, allowed_origins="https://wall.example:8443"
    )
    with env.client.websocket_connect("/ws/live", headers={"Origin": "https://wall.example:8443"}) as ws:
        assert ws.receive_json()["type"] == "hello"
