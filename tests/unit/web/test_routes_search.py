from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pytest

from safecity.search.records import TrackRecord
from safecity.store.tracks import TrackIndex

from .conftest import EAST, WEST, Env

T0 = 1_790_000_000.0
RED = tuple(1.0 if i == 3 else 0.0 for i in range(13))
BLUE = tuple(1.0 if i == 7 else 0.0 for i in range(13))


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _rec(
    uid: str, cam: str, t: float, *, upper: tuple[float, ...] = RED, cls: str = "person",
    lat: float | None = 37.49, lon: float | None = 126.85, thumb: bytes | None = b"\xff\xd8thumb",
) -> TrackRecord:  # fmt: skip
    colour = "red" if upper is RED else "blue"
    return TrackRecord(
        uid, cam, 1, cls, t, t + 20, ((t, 0.1, 0.9), (t + 20, 0.9, 0.9)), (0.1, 0.9, 0.9, 0.9),
        zones=("gate",), speed=0.04, size=0.3, aspect=0.4,
        colours={"upper": (colour,), "lower": ("black",)},
        signature={"upper": upper, "lower": tuple(1.0 if i == 0 else 0.0 for i in range(13))},
        lat=lat, lon=lon, thumbnail=thumb,
    )  # fmt: skip


@pytest.fixture
def index(env: Env) -> TrackIndex:
    idx = TrackIndex(env.services.engine)
    idx.write([
        _rec("w-red", WEST, T0),
        _rec("w-blue", WEST, T0 + 100, upper=BLUE),
        _rec("e-red", EAST, T0 + 200, lat=37.4905),  # ~55 m north of west, 180 s later
        _rec("e-blue", EAST, T0 + 210, upper=BLUE, lat=37.4905),
        _rec("e-car", EAST, T0 + 220, cls="car", lat=37.4905, thumb=None),
    ])  # fmt: skip
    return idx


def _search(env: Env, who: str, **params: object) -> tuple[int, dict[str, object]]:
    base = {"since": _iso(T0 - 60), "until": _iso(T0 + 3600)}
    r = env.client.get("/api/search/tracks", params={**base, **params}, headers=env.bearer(who))
    return r.status_code, r.json()


def test_search_by_colour_and_class_in_time_order_and_audited(env: Env, index: TrackIndex) -> None:
    status, body = _search(env, "operator", colour="red", **{"class": "person"})
    assert status == 200, body
    assert [r["uid"] for r in body["results"]] == ["w-red", "e-red"]  # type: ignore[index]
    assert body["total"] == 2
    first = body["results"][0]  # type: ignore[index]
    assert first["thumbnail_url"] == "/api/search/tracks/w-red/thumbnail"
    entries = env.audit(action="search_tracks")
    assert entries and entries[0]["username"] == "operator" and entries[0]["allowed"]
    assert "colour=red" in str(entries[0]["detail"]) and "2 results" in str(entries[0]["detail"])


def test_search_is_limited_to_the_users_cameras(env: Env, index: TrackIndex) -> None:
    # restrict the operator to the west group (the viewer may not search at all)
    env.client.app.state.console.users.set_user_groups("operator", ["west"])  # type: ignore[attr-defined]
    status, body = _search(env, "operator")
    assert status == 200
    assert {r["camera"] for r in body["results"]} == {WEST}  # type: ignore[index]
    status, body = _search(env, "operator", camera=EAST)
    assert status == 403 and "outside the user's camera groups" in str(body["detail"])
    denied = env.audit(action="search_tracks", allowed="false")
    assert denied and denied[0]["target_id"] == EAST
    status, _ = _search(env, "viewer")
    assert status == 403


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"since": _iso(T0), "until": _iso(T0)}, 400, "empty or reversed period"),
        ({"since": _iso(T0 + 10), "until": _iso(T0)}, 400, "empty or reversed period"),
        ({"since": _iso(T0), "until": _iso(T0 + 40 * 86400)}, 400, "at most 31 days"),
        ({"colour": "mauve"}, 400, "unknown colour 'mauve'"),
        ({"class": "dragon"}, 400, "unknown class 'dragon'"),
        ({"upper": "teal"}, 400, "unknown upper colour 'teal'"),
        ({"bbox": "37.6,126.8,37.5,126.9"}, 400, "south < north"),
        ({"bbox": "1,2,3,4"}, 400, "within the district"),
        ({"bbox": "north-ish"}, 400, "south,west,north,east"),
        ({"direction": "a_to_b"}, 400, "needs a line"),
        ({"polygon": "37.49,126.85;37.5,126.86"}, 400, "at least 3 corners"),
        ({"polygon": "1,2;3,4;5,1"}, 400, "outside the district"),
        ({"polygon": "37.49,126.85;37.5,126.86;37.51,126.87"}, 400, "no area"),
        ({"polygon": "37.49,126.85;37.5,x;37.51,126.87"}, 400, "'latitude,longitude'"),
        ({"polygon": "37.4,126.8;37.4,126.9;37.5,126.9", "bbox": "37.4,126.8,37.5,126.9"}, 400, "not both"),
        ({"group": "nobody"}, 400, "unknown camera group 'nobody'"),
        ({"direction": "up"}, 422, ""),
        ({"limit": 100000}, 422, ""),
        ({"since": "yesterday"}, 422, ""),
    ],
)
def test_bad_input_is_a_clear_4xx_and_audited(
    env: Env, index: TrackIndex, params: dict[str, object], status: int, message: str
) -> None:
    got, body = _search(env, "operator", **params)
    assert got == status, body
    if status == 400:
        assert message in str(body["detail"])
        denied = env.audit(action="search_tracks", allowed="false")
        assert denied and message in str(denied[0]["detail"])


def test_thumbnail_record_and_scope(env: Env, index: TrackIndex) -> None:
    op = env.bearer("operator")
    r = env.client.get("/api/search/tracks/w-red/thumbnail", headers=op)
    assert (
        r.status_code == 200 and r.content == b"\xff\xd8thumb" and r.headers["content-type"] == "image/jpeg"
    )
    assert env.client.get("/api/search/tracks/e-car/thumbnail", headers=op).status_code == 404
    assert env.client.get("/api/search/tracks/nope", headers=op).status_code == 404
    r = env.client.get("/api/search/tracks/w-red", headers=op)
    assert r.status_code == 200 and r.json()["events"] == []
    env.client.app.state.console.users.set_user_groups("operator", ["west"])  # type: ignore[attr-defined]
    assert env.client.get("/api/search/tracks/e-red/thumbnail", headers=op).status_code == 403


def test_where_else_ranks_same_colour_on_other_cameras_first(env: Env, index: TrackIndex) -> None:
    r = env.client.get("/api/search/tracks/w-red/where-else", headers=env.bearer("operator"))
    assert r.status_code == 200, r.text
    cands = r.json()["candidates"]
    assert [c["record"]["uid"] for c in cands] == ["e-red", "e-blue"]  # no car, not its own camera
    assert cands[0]["score"] > cands[1]["score"]
    assert 50 < cands[0]["distance_m"] < 60 and cands[0]["gap_s"] == 180.0
    assert "m/s" in cands[0]["reason"]
    assert env.audit(action="search_where_else")


def test_where_else_drops_impossible_moves(env: Env) -> None:
    idx = TrackIndex(env.services.engine)
    far = dataclasses.replace(_rec("e-far", EAST, T0 + 30), lat=37.60)  # 12 km in 10 s
    idx.write([_rec("w-src", WEST, T0), far])
    r = env.client.get("/api/search/tracks/w-src/where-else", headers=env.bearer("admin"))
    assert r.status_code == 200 and r.json()["candidates"] == []


SQUARE_WEST = "37.48,126.84;37.48,126.86;37.50,126.86;37.50,126.84"  # around the west camera only


def test_polygon_selects_the_cameras_whose_position_lies_inside(env: Env, index: TrackIndex) -> None:
    status, body = _search(env, "operator", polygon=SQUARE_WEST)
    assert status == 200, body
    assert {r["camera"] for r in body["results"]} == {WEST}  # type: ignore[index]
    status, body = _search(env, "operator", polygon="36.0,127.0;36.0,127.1;36.1,127.1")  # no camera there
    assert status == 200 and body["results"] == [] and body["total"] == 0
    entries = env.audit(action="search_tracks", allowed="true")
    assert entries and "polygon=" in str(entries[0]["detail"])


def test_polygon_goes_by_the_cameras_position_not_the_records_copy(env: Env) -> None:
    # written while the west camera had no position: the polygon still finds it by its camera
    TrackIndex(env.services.engine).write([_rec("w-nopos", WEST, T0, lat=None, lon=None)])
    status, body = _search(env, "operator", polygon=SQUARE_WEST)
    assert status == 200 and [r["uid"] for r in body["results"]] == ["w-nopos"]  # type: ignore[index]


def test_camera_groups_as_a_search_parameter(env: Env, index: TrackIndex) -> None:
    status, body = _search(env, "operator", group="east")
    assert status == 200 and {r["camera"] for r in body["results"]} == {EAST}  # type: ignore[index]
    env.client.app.state.console.users.set_user_groups("operator", ["west"])  # type: ignore[attr-defined]
    status, body = _search(env, "operator", group="east")
    assert status == 403 and "not one of the user's groups" in str(body["detail"])
    denied = env.audit(action="search_tracks", allowed="false")
    assert denied and "403" in str(denied[0]["detail"])
    status, body = _search(env, "operator", group="west")
    assert status == 200 and {r["camera"] for r in body["results"]} == {WEST}  # type: ignore[index]


def test_a_record_opens_its_clip_at_the_moment(env: Env, index: TrackIndex) -> None:
    """The record's event clip comes with its absolute start and the offset of the moment in it:
    first seen by default, or the moment asked for (a click in a synopsis)."""
    from safecity.media import media_paths, write_clip

    rec = dataclasses.replace(_rec("w-ev", WEST, T0 + 27.0), track_id=3)  # the event's track
    index.write([rec])
    env.add_event("w-ev-1", WEST, t=T0 + 30.0)  # track 3; recorded from T0 + 25.5 (first buffered frame)
    _, clip = media_paths(env.media_root, WEST, "w-ev-1")
    write_clip(clip, [(T0 + 25.5 + k * 0.25, np.full((48, 64, 3), 90, np.uint8)) for k in range(41)])
    op = env.bearer("operator")
    body = env.client.get("/api/search/tracks/w-ev", headers=op).json()
    (ev,) = body["events"]
    assert body["clip_event"] == "w-ev-1" and ev["clip_url"] == "/api/events/w-ev-1/clip"
    assert datetime.fromisoformat(ev["clip_start_at"]).timestamp() == pytest.approx(T0 + 25.5, abs=1e-3)
    assert ev["clip_start_exact"] is True and ev["clip_duration_s"] == pytest.approx(10.0, abs=0.3)
    assert ev["seek_s"] == pytest.approx(1.5, abs=1e-3)  # first seen T0 + 27
    body = env.client.get("/api/search/tracks/w-ev", params={"at": _iso(T0 + 31.2)}, headers=op).json()
    assert body["events"][0]["seek_s"] == pytest.approx(5.7, abs=1e-3)
    assert datetime.fromisoformat(body["moment_at"]).timestamp() == pytest.approx(T0 + 31.2)
    assert body["camera_name"] == "West gate"  # the Hangul/display name of the config, not the key
    bad = env.client.get("/api/search/tracks/w-ev", params={"at": "yesterday"}, headers=op)
    assert bad.status_code == 422
