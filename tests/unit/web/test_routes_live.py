"""Wall JSON, /ws/live pushes, MJPEG tiles and single frames, cameras with health, map boundaries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import cv2
import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.selection.wall import Pin, Selector
from safecity.monitor.types import WallLayout, WallTile
from tests.unit.web.conftest import EAST, WEST, Env, FakeMonitor, make_event


def _layout() -> WallLayout:
    return WallLayout(
        120.0,
        (
            WallTile(WEST, 3.0, "intrusion in zone 'gate', 2 persons, 14 s", 4, True, 100.0, ("ev-w",)),
            WallTile(EAST, 1.0, "camera covered, 30 s", 3, False, 110.0, ()),
        ),
    )


@pytest.mark.parametrize(
    ("user", "cameras"),
    [
        ("admin", [WEST, EAST]),  # admins see every tile
        ("operator", [WEST, EAST]),  # in both groups
        ("viewer", [WEST]),  # only the west group
    ],
)
def test_wall_is_scoped_and_explains_each_tile(env: Env, user: str, cameras: list[str]) -> None:
    env.monitor.layout = _layout()
    env.monitor.emit("start", make_event("ev-w", WEST))
    wall = env.client.get("/api/wall", headers=env.bearer(user)).json()
    assert [t["camera"] for t in wall["tiles"]] == cameras
    west = wall["tiles"][0]
    assert west["reason"].startswith("intrusion in zone 'gate'")
    assert (west["severity"], west["pinned"], west["on_wall_s"]) == (4, True, 20.0)
    assert west["events"][0] == {
        "uid": "ev-w",
        "type": "intrusion",
        "zone": "gate",
        "count": 2,
        "severity": 4,
        "age_s": 1.0,
        "live": True,
        "acknowledged": False,
    }
    assert west["mjpeg"] == f"/api/cameras/{WEST}/mjpeg"


def test_websocket_pushes_wall_and_events_for_allowed_cameras_only(env: Env) -> None:
    env.login("viewer")  # cookie on the client
    with env.client.websocket_connect("/ws/live") as ws:
        assert ws.receive_json()["type"] == "hello"
        wall = {"t_s": 0.0, "tiles": [], "monitor": True, "slots": 9}
        assert ws.receive_json() == {"type": "wall", "wall": wall}
        env.monitor.emit("start", make_event("ev-e", EAST))  # not the viewer's camera: not sent
        env.monitor.emit("start", make_event("ev-w", WEST))
        msg = ws.receive_json()
        assert (msg["type"], msg["kind"], msg["event"]["uid"]) == ("event", "start", "ev-w")
        env.monitor.layout = _layout()
        msg = ws.receive_json()
        while msg["type"] == "incident":  # the incident the event folded into comes first
            msg = ws.receive_json()
        assert msg["type"] == "wall"
        assert [t["camera"] for t in msg["wall"]["tiles"]] == [WEST]


def test_websocket_without_session_is_closed_4401_and_audited(env: Env) -> None:
    with env.client.websocket_connect("/ws/live") as ws, pytest.raises(WebSocketDisconnect) as exc:
        ws.receive_json()
    assert exc.value.code == 4401
    assert env.audit(action="unauthenticated", target_id="/ws/live")


def test_mjpeg_streams_masked_downscaled_jpegs_and_audits(env: Env) -> None:
    r = env.client.get(
        f"/api/cameras/{EAST}/mjpeg", params={"frames": 2, "fps": 10}, headers=env.bearer("operator")
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "multipart/x-mixed-replace; boundary=frame"
    parts = [p for p in r.content.split(b"--frame\r\n") if p]
    assert len(parts) == 2
    head, jpg = parts[0].split(b"\r\n\r\n", 1)
    assert b"Content-Type: image/jpeg" in head
    img = cv2.imdecode(np.frombuffer(jpg.rstrip(b"\r\n"), np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (180, 640, 3)  # 1280x360 scaled to 640 wide
    assert img[:80, :300].max() < 20  # top-left quarter is the privacy mask: black
    assert img[100:, 400:, 1].mean() > 0  # the rest keeps the picture
    # one viewing session for the stream, not a row per frame: its start (and end) in the audit log
    assert env.audit(action="view_camera", target_id=EAST, allowed="true") == []
    rows = env.audit(action="view_start", target_id=EAST)
    assert [r["username"] for r in rows] == ["operator"] and "session" in str(rows[0]["detail"])
    ends = env.audit(action="view_end", target_id=EAST)
    assert [r["username"] for r in ends] == ["operator"]  # the stream ended after its 2 frames


@pytest.mark.parametrize("path", ["mjpeg", "frame.jpg"])
def test_viewer_refused_a_camera_outside_their_group(env: Env, path: str) -> None:
    r = env.client.get(f"/api/cameras/{EAST}/{path}", headers=env.bearer("viewer"))
    assert r.status_code == 403
    assert "outside the user's camera groups" in r.json()["detail"]
    row = env.audit(action="view_camera", target_id=EAST)[0]
    assert (row["username"], row["allowed"], row["remote_addr"]) == ("viewer", False, "10.1.2.3")


def test_frame_jpeg_and_unknown_camera(env: Env) -> None:
    h = env.bearer("admin")
    r = env.client.get(f"/api/cameras/{WEST}/frame.jpg", headers=h)
    assert r.status_code == 200 and r.content[:2] == b"\xff\xd8"
    assert env.client.get("/api/cameras/nope/frame.jpg", headers=h).status_code == 404


def test_cameras_lists_live_cameras_with_health_groups_and_last_event(env: Env) -> None:
    env.add_event("ev-w", WEST)
    cams = env.client.get("/api/cameras", headers=env.bearer("viewer")).json()["cameras"]
    assert [c["key"] for c in cams] == [WEST]
    c = cams[0]
    assert (c["name"], c["health"], c["groups"], c["lat"]) == ("West gate", "online", ["west"], 37.49)
    assert c["last_event"]["uid"] == "ev-w"


def test_cameras_show_the_compressed_domain_gate_of_each_live_camera(env: Env) -> None:
    h = env.bearer("viewer")
    assert env.client.get("/api/cameras", headers=h).json()["cameras"][0]["gate"] is None  # not reported yet
    status = {"gate_mode": "decode", "fallback_reason": "constant_bitrate", "state": "active"}
    env.monitor.gate_status = lambda: {WEST: status}  # type: ignore[attr-defined]  # MonitorHub.gate_status
    assert env.client.get("/api/cameras", headers=h).json()["cameras"][0]["gate"] == status


def test_boundaries_are_guro_and_its_dongs(env: Env) -> None:
    gj = env.client.get("/api/map/boundaries", headers=env.bearer("viewer")).json()
    levels = [f["properties"]["level"] for f in gj["features"]]
    assert levels.count("gu") == 1 and levels.count("dong") == 15
    assert gj["features"][0]["properties"]["name"] == "구로구"
    r = env.client.get("/api/map/boundaries", params={"district": "atlantis"}, headers=env.bearer("viewer"))
    assert r.status_code == 404 and "Guro-gu" in r.json()["detail"]


def test_tiles_websocket_sends_masked_jpegs_of_allowed_cameras_and_audits(env: Env) -> None:
    env.login("viewer")
    with env.client.websocket_connect("/ws/tiles") as ws:
        ws.send_json({"cameras": [WEST, EAST, "nope"], "fps": 10})
        assert ws.receive_json() == {"type": "subscribed", "cameras": [WEST], "denied": [EAST, "nope"]}
        data = ws.receive_bytes()
    n = int.from_bytes(data[:2], "big")
    assert data[2 : 2 + n].decode() == WEST
    img = cv2.imdecode(np.frombuffer(data[2 + n :], np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (180, 640, 3)
    rows = {(e["target_id"], e["allowed"]) for e in env.audit(username="viewer", action="view_camera")}
    assert rows == {(EAST, False), ("nope", False)}  # refusals, one row each
    # the allowed camera is a viewing session from subscription to the socket's end
    assert [e["target_id"] for e in env.audit(username="viewer", action="view_start")] == [WEST]
    assert [e["target_id"] for e in env.audit(username="viewer", action="view_end")] == [WEST]


def test_tiles_websocket_without_session_is_closed(env: Env) -> None:
    with env.client.websocket_connect("/ws/tiles") as ws, pytest.raises(WebSocketDisconnect) as exc:
        ws.receive_bytes()
    assert exc.value.code == 4401


def test_live_websocket_closes_when_the_session_expires(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    import safecity.web.routes_live as routes_live

    monkeypatch.setattr(routes_live, "_RECHECK_SESSION_S", 0.0)  # check on every turn
    env.login("operator")
    with env.client.websocket_connect("/ws/live") as ws:
        assert ws.receive_json()["type"] == "hello"
        assert ws.receive_json()["type"] == "wall"
        env.clock.t += 8 * 3600 + 1
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == 4401


# ---- the wall an operator can learn: names, slots, alert level, pins, overlays -------------------


class PinningMonitor(FakeMonitor):
    """FakeMonitor whose wall comes from a real Selector (slots and pins), with a monitoring config."""

    def __init__(self, keys: list[str], clock: Callable[[], float]) -> None:
        super().__init__(keys)
        self.clock = clock
        self.selector = Selector(max_tiles=2, hold_s=0)
        gate = {"name": "gate", "polygon": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]}
        cams = [
            {"id": WEST, "source": "west.mp4", "zones": [gate],
             "lines": [{"name": "door", "a": [0.1, 0.5], "b": [0.9, 0.5]}]},
            {"id": EAST, "source": "east.mp4"},
        ]  # fmt: skip
        self.config = MonitorConfig.model_validate({"cameras": cams, "selection": {"max_tiles": 2}})

    def wall(self) -> WallLayout:
        return self.selector.select([], self.health(), self.clock())

    def pin(self, camera: str, slot: int | None = None, *, until_s: float | None = None, by: str = "") -> Pin:
        return self.selector.pin(camera, slot, until_s=until_s, by=by, now=self.clock())

    def unpin(self, camera: str) -> bool:
        return self.selector.unpin(camera)

    def pins(self) -> list[Pin]:
        return self.selector.pins(self.clock())


@pytest.fixture
def pinning(env: Env) -> PinningMonitor:
    monitor = PinningMonitor([WEST, EAST], env.clock)
    monitor.sinks = env.monitor.sinks
    env.services.monitor = monitor
    return monitor


def test_wall_tiles_carry_hangul_name_slot_and_alert_level(env: Env) -> None:
    env.monitor.layout = WallLayout(
        120.0,
        (
            WallTile(WEST, 3.0, "intrusion", 4, False, 100.0, ("ev-w",), slot=1),
            WallTile(EAST, 1.0, "line", 2, False, 110.0, ("ev-l",), slot=0),
        ),
    )
    env.monitor.emit("start", make_event("ev-w", WEST))
    line = replace(make_event("ev-l", EAST, sev=2), type="line_crossing")
    env.monitor.emit("start", line)
    tiles = {t["camera"]: t for t in env.client.get("/api/wall", headers=env.bearer("admin")).json()["tiles"]}
    assert (tiles[WEST]["name"], tiles[WEST]["slot"], tiles[WEST]["alert"]) == ("West gate", 1, True)
    # a severity-2 line crossing is record level by the default policy: no alert pulse; no name: the key
    assert (tiles[EAST]["name"], tiles[EAST]["slot"], tiles[EAST]["alert"]) == (EAST, 0, False)


def test_operator_pins_and_unpins_a_camera_audited(env: Env, pinning: PinningMonitor) -> None:
    op = env.bearer("operator")
    r = env.client.post("/api/wall/pins", json={"camera": EAST, "slot": 1, "minutes": 5}, headers=op)
    assert r.status_code == 200, r.text
    assert r.json() == {"camera": EAST, "name": EAST, "slot": 1, "by": "operator",
                        "until_s": env.clock() + 300}  # fmt: skip
    tiles = env.client.get("/api/wall", headers=op).json()["tiles"]
    assert [(t["camera"], t["slot"], t["pinned_by"]) for t in tiles] == [(EAST, 1, "operator")]
    assert env.client.get("/api/wall/pins", headers=op).json()["pins"][0]["camera"] == EAST
    # the pin survives a page reload: it lives in the runtime, not in the page
    assert env.client.get("/api/wall", headers=env.bearer("admin")).json()["tiles"][0]["slot"] == 1
    # a viewer sees only their cameras' pins and may not pin
    assert env.client.get("/api/wall/pins", headers=env.bearer("viewer")).json()["pins"] == []
    r = env.client.post("/api/wall/pins", json={"camera": WEST}, headers=env.bearer("viewer"))
    assert r.status_code == 403
    # the slot is taken by EAST: 409 with the reason; outside the wall: 409; not live (admin): 404
    r = env.client.post("/api/wall/pins", json={"camera": WEST, "slot": 1}, headers=op)
    assert r.status_code == 409 and "pinned to camera" in r.json()["detail"]
    assert env.client.post("/api/wall/pins", json={"camera": WEST, "slot": 5}, headers=op).status_code == 409
    r = env.client.post("/api/wall/pins", json={"camera": "nope"}, headers=env.bearer("admin"))
    assert r.status_code == 404
    assert env.client.post("/api/wall/pins", json={"camera": WEST, "slot": -1}, headers=op).status_code == 422
    assert env.client.delete(f"/api/wall/pins/{EAST}", headers=op).json() == {
        "camera": EAST,
        "unpinned": True,
    }
    assert env.client.delete(f"/api/wall/pins/{EAST}", headers=op).status_code == 404
    rows = env.audit(action="wall_pin") + env.audit(action="wall_unpin")
    assert {(r["action"], r["username"], r["allowed"], r["target_id"]) for r in rows} == {
        ("wall_pin", "operator", True, EAST),
        ("wall_pin", "operator", False, WEST),
        ("wall_unpin", "operator", True, EAST),
    }
    assert env.audit(action="denied", username="viewer", target_id="/api/wall/pins")  # the role refusal
    assert any(r["detail"] == "slot 1 for 5 min" for r in rows)


def test_overlays_give_zones_lines_and_live_boxes_outside_masks(env: Env, pinning: PinningMonitor) -> None:
    env.monitor.emit("start", make_event("ev-w", WEST))
    env.monitor.emit("start", make_event("ev-e", EAST))  # its box centre (0.2, 0.3) is under EAST's mask
    got = env.client.get(
        "/api/wall/overlays", params={"cameras": f"{WEST},{EAST},nope"}, headers=env.bearer("operator")
    ).json()["cameras"]
    assert got[WEST]["zones"] == [
        {"name": "gate", "polygon": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]}
    ]
    assert got[WEST]["lines"] == [{"name": "door", "a": [0.1, 0.5], "b": [0.9, 0.5], "direction": "both"}]
    assert [b["box"] for b in got[WEST]["boxes"]] == [[0.1, 0.2, 0.3, 0.4]]
    assert got[EAST]["boxes"] == [] and "nope" not in got
    viewer = env.client.get(
        "/api/wall/overlays", params={"cameras": f"{WEST},{EAST}"}, headers=env.bearer("viewer")
    ).json()["cameras"]
    assert list(viewer) == [WEST]
