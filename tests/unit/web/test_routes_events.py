"""Event queue, history search, acknowledge / escalate / close, snapshots and clips: roles, scoping, audit."""

from __future__ import annotations

import pytest

from tests.unit.web.conftest import EAST, WEST, Env


def test_list_is_scoped_to_the_users_groups(env: Env) -> None:
    env.add_event("ev-w", WEST)
    env.add_event("ev-e", EAST)
    uids = {
        name: {e["uid"] for e in env.client.get("/api/events", headers=env.bearer(name)).json()["events"]}
        for name in ("admin", "operator", "viewer")
    }
    assert uids == {"admin": {"ev-w", "ev-e"}, "operator": {"ev-w", "ev-e"}, "viewer": {"ev-w"}}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"camera": WEST}, {"ev-1"}),  # by camera
        ({"zone": "door"}, {"ev-2"}),  # by zone
        ({"type": "intrusion"}, {"ev-1", "ev-2", "ev-3"}),  # by type: all are intrusions
        ({"type": "fall"}, set()),  # no falls
        ({"state": "new"}, {"ev-1", "ev-2", "ev-3"}),  # nothing handled yet
        ({"since": "2026-09-21T16:00:00Z"}, {"ev-3"}),  # start time from
        ({"until": "2026-09-21T16:00:00Z"}, {"ev-1", "ev-2"}),  # start time before
    ],
)
def test_history_filters(env: Env, params: dict[str, str], expected: set[str]) -> None:
    env.add_event("ev-1", WEST, t=1_790_000_000.0)  # 2026-09-21T14:13:20Z
    env.add_event("ev-2", EAST, t=1_790_000_100.0, zone="door")
    env.add_event("ev-3", EAST, t=1_790_010_000.0)
    r = env.client.get("/api/events", params=params, headers=env.bearer("admin"))
    assert r.status_code == 200, r.text
    assert {e["uid"] for e in r.json()["events"]} == expected
    assert r.json()["total"] == len(expected)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "open"}, "query.state"),  # not a state
        ({"limit": "0"}, "query.limit"),  # below 1
        ({"since": "yesterday"}, "query.since"),  # not a datetime
    ],
)
def test_list_malformed_query_is_422_naming_the_field(env: Env, params: dict[str, str], field: str) -> None:
    r = env.client.get("/api/events", params=params, headers=env.bearer("admin"))
    assert r.status_code == 422
    assert field in r.json()["message"]


def test_viewer_filtering_a_camera_outside_groups_is_403_and_audited(env: Env) -> None:
    r = env.client.get("/api/events", params={"camera": EAST}, headers=env.bearer("viewer"))
    assert r.status_code == 403
    rows = env.audit(username="viewer", allowed="false", target_id=EAST)
    assert rows and rows[0]["action"] == "list_events"


def test_viewer_cannot_open_event_of_other_group(env: Env) -> None:
    env.add_event("ev-e", EAST)
    r = env.client.get("/api/events/ev-e", headers=env.bearer("viewer"))
    assert r.status_code == 403
    assert env.audit(username="viewer", action="view_event", allowed="false")


def test_unknown_event_is_404(env: Env) -> None:
    assert env.client.get("/api/events/nope", headers=env.bearer("admin")).status_code == 404


def test_operator_acknowledges_with_note_recorded_audited_and_unpinned(env: Env) -> None:
    env.add_event("ev-1", WEST)
    r = env.client.post("/api/events/ev-1/ack", json={"note": "guard sent"}, headers=env.bearer("operator"))
    assert r.status_code == 200, r.text
    ev = r.json()
    assert ev["state"] == "acknowledged"
    assert ev["acknowledgements"][0]["username"] == "operator"
    assert ev["acknowledgements"][0]["note"] == "guard sent"
    assert env.monitor.acked == ["ev-1"]
    row = env.audit(action="ack", target_id="ev-1")[0]
    assert (row["username"], row["allowed"], row["remote_addr"]) == ("operator", True, "10.1.2.3")
    assert "guard sent" in str(row["detail"])
    # a second acknowledgement conflicts
    again = env.client.post("/api/events/ev-1/ack", json={}, headers=env.bearer("operator"))
    assert again.status_code == 409 and "acknowledged" in again.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("ack", {"note": "x"}),  # viewers may not acknowledge
        ("escalate", {"target": "112"}),  # nor escalate
        ("close", {}),  # nor close
    ],
)
def test_viewer_may_not_change_events(env: Env, path: str, body: dict[str, str]) -> None:
    env.add_event("ev-1", WEST)
    r = env.client.post(f"/api/events/ev-1/{path}", json=body, headers=env.bearer("viewer"))
    assert r.status_code == 403
    assert "operator" in r.json()["detail"]
    assert env.audit(username="viewer", action="denied", allowed="false")


@pytest.mark.parametrize("target", ["112", "119", "district"])
def test_escalate_records_target_who_and_when(env: Env, target: str) -> None:
    env.add_event("ev-1", WEST)
    r = env.client.post(
        "/api/events/ev-1/escalate", json={"target": target, "note": "fight"}, headers=env.bearer("operator")
    )
    assert r.status_code == 200, r.text
    esc = r.json()["escalations"][0]
    assert (esc["target"], esc["username"], esc["note"]) == (target, "operator", "fight")
    assert esc["at"]
    assert f"to {target}" in str(env.audit(action="escalate")[0]["detail"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target": "911"}, "body.target"),  # not a Korean emergency target
        ({}, "body.target"),  # missing
        ({"target": "112", "note": "x" * 2001}, "body.note"),  # note too long
    ],
)
def test_escalate_malformed_is_422(env: Env, body: dict[str, str], field: str) -> None:
    env.add_event("ev-1", WEST)
    r = env.client.post("/api/events/ev-1/escalate", json=body, headers=env.bearer("operator"))
    assert r.status_code == 422
    assert field in r.json()["message"]


def test_close_then_no_more_actions(env: Env) -> None:
    env.add_event("ev-1", WEST)
    h = env.bearer("operator")
    assert env.client.post("/api/events/ev-1/close", json={"note": "false alarm"}, headers=h).json()[
        "state"
    ] == ("closed")
    assert env.client.post("/api/events/ev-1/escalate", json={"target": "112"}, headers=h).status_code == 409


def test_snapshot_and_clip_served_with_audit_or_404(env: Env) -> None:
    env.add_event("ev-1", WEST)
    h = env.bearer("viewer")
    assert env.client.get("/api/events/ev-1/snapshot", headers=h).status_code == 404  # not written yet
    snap = env.media_root / WEST / "ev-1.jpg"
    snap.parent.mkdir(parents=True)
    snap.write_bytes(b"\xff\xd8jpeg")
    (env.media_root / WEST / "ev-1.mp4").write_bytes(b"mp4")
    r = env.client.get("/api/events/ev-1/snapshot", headers=h)
    assert r.status_code == 200 and r.content == b"\xff\xd8jpeg" and r.headers["content-type"] == "image/jpeg"
    r = env.client.get("/api/events/ev-1/clip", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
    actions = {(e["action"], e["allowed"]) for e in env.audit(username="viewer", target_id="ev-1")}
    assert ("view_snapshot", True) in actions
    for _ in range(3):  # the <video> asks again (range requests): still one playback session
        env.clock.t += 5
        assert env.client.get("/api/events/ev-1/clip", headers=h).status_code == 200
    sessions = env.client.get("/api/audit/sessions", headers=env.bearer("admin")).json()["sessions"]
    assert [(s["camera"], s["username"], s["how"], s["detail"]) for s in sessions] == [
        (WEST, "viewer", "playback", "ev-1")
    ]
    assert len(env.audit(username="viewer", action="view_start", camera=WEST)) == 1


def test_clip_of_other_group_is_403_and_audited(env: Env) -> None:
    env.add_event("ev-e", EAST)
    r = env.client.get("/api/events/ev-e/clip", headers=env.bearer("viewer"))
    assert r.status_code == 403
    assert env.audit(username="viewer", action="view_clip", allowed="false")


def test_events_carry_camera_name_incident_and_suppression(env: Env) -> None:
    env.add_event("n-1", WEST)
    h = env.bearer("operator")
    listed = env.client.get("/api/events", headers=h).json()["events"]
    (ev,) = [e for e in listed if e["uid"] == "n-1"]
    assert ev["camera_name"] == "West gate" and ev["suppressed_by"] is None
    inc_id = env.client.get("/api/incidents", headers=h).json()["incidents"][0]["id"]
    assert ev["incident_id"] == inc_id
    r = env.client.post(f"/api/incidents/{inc_id}/false-alarm", json={"duration_s": 600}, headers=h)
    assert r.status_code == 200, r.text
    env.add_event("n-2", WEST, t=1_790_000_050.0)  # the same camera, rule, class and box: suppressed
    one = env.client.get("/api/events/n-2", headers=h).json()
    assert one["suppressed_by"] == r.json()["suppression"]["id"] and one["incident_id"] is None
    assert one["camera_name"] == "West gate"


def test_event_detail_gives_the_clips_recorded_start_for_seeking(env: Env) -> None:
    import datetime as dt

    import numpy as np

    from safecity.media import write_clip

    env.add_event("ev-1", WEST, t=1_790_000_000.0)
    h = env.bearer("viewer")
    assert env.client.get("/api/events/ev-1", headers=h).json()["clip_start_at"] is None  # not on disk
    clip = env.media_root / WEST / "ev-1.mp4"
    clip.parent.mkdir(parents=True)
    t0 = 1_790_000_000.0 - 2.0  # the recorder held only 2 s before the start, not the usual 5
    write_clip(clip, [(t0 + i / 5, np.full((64, 96, 3), 40 * (i % 5), np.uint8)) for i in range(20)])
    body = env.client.get("/api/events/ev-1", headers=h).json()
    assert dt.datetime.fromisoformat(body["clip_start_at"]).timestamp() == pytest.approx(t0, abs=0.01)
    assert 3.5 <= body["clip_duration_s"] <= 4.5
