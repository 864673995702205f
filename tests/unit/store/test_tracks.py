from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select, text

from safecity.errors import InputError
from safecity.search.records import Crossing, TrackRecord
from safecity.search.synthetic import synthetic_records
from safecity.store.db import connect
from safecity.store.schema import track_passages, track_records, track_thumbs
from safecity.store.tracks import TrackIndex, TrackQuery

from .tracks_reference import random_queries, reference

T0 = 1_790_000_000.0
SPAN = 2 * 86400.0


def _rec(uid: str, first: float, last: float, **kw: object) -> TrackRecord:
    base = TrackRecord(uid, "cam-a", 1, "person", first, last, ((first, 0.1, 0.9), (last, 0.8, 0.9)),
                       (0.1, 0.9, 0.8, 0.9))  # fmt: skip
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("use_rtree", [True, False])
def test_search_matches_a_brute_force_reference_on_random_queries(sqlite_url: str, use_rtree: bool) -> None:
    records = synthetic_records(3000, seed=7, cameras=20, start_s=T0, span_s=SPAN)
    idx = TrackIndex(connect(sqlite_url), use_rtree=use_rtree)
    assert idx.write(records) == 3000
    for q in random_queries(60, seed=3, start_s=T0, span_s=SPAN, cameras=20):
        want = reference(records, q)
        got = [r["uid"] for r in idx.search(q)]
        assert got == want[: q.limit], f"query {q}"
        assert idx.count(q) == len(want)


def test_write_skips_stored_uids_and_keeps_passages_and_thumbnails(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    idx = TrackIndex(engine)
    r = _rec("cam-a-1-0", T0, T0 + 30, zones=("gate",), crossings=(Crossing("door", "a_to_b", T0 + 10),),
             thumbnail=b"\xff\xd8jpeg", colours={"upper": ("red",), "lower": ("black", "blue")})  # fmt: skip
    assert idx.write([r, r]) == 1
    assert idx.write([r]) == 0
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(track_passages)).scalar() == 2
        assert c.execute(select(func.count()).select_from(track_thumbs)).scalar() == 1
    got = idx.get("cam-a-1-0")
    assert got is not None
    assert got["colours"] == {"upper": ["red"], "lower": ["black", "blue"]}
    assert got["first_at"].timestamp() == T0 and got["crossings"] == [["door", "a_to_b", T0 + 10]]
    assert idx.thumbnail("cam-a-1-0") == b"\xff\xd8jpeg"
    assert idx.thumbnail("nope") is None and idx.get("nope") is None
    q = TrackQuery(T0, T0 + 60)
    assert [x["uid"] for x in idx.search(dataclasses.replace(q, line="door", direction="a_to_b"))] == [
        "cam-a-1-0"
    ]
    assert idx.search(dataclasses.replace(q, line="door", direction="b_to_a")) == []
    assert [x["uid"] for x in idx.search(dataclasses.replace(q, lower=("blue",), colours=("red",)))] == [
        "cam-a-1-0"
    ]
    assert idx.search(dataclasses.replace(q, upper=("blue",))) == []


def test_a_track_alive_across_the_period_start_is_found(sqlite_url: str) -> None:
    idx = TrackIndex(connect(sqlite_url))
    idx.write([_rec("long", T0, T0 + 3600), _rec("before", T0, T0 + 10), _rec("after", T0 + 7200, T0 + 7300)])
    assert [r["uid"] for r in idx.search(TrackQuery(T0 + 1800, T0 + 1900))] == ["long"]


def test_area_excludes_cameras_without_position_and_empty_scope_finds_nothing(sqlite_url: str) -> None:
    idx = TrackIndex(connect(sqlite_url))
    idx.write([_rec("here", T0, T0 + 5, lat=37.5, lon=126.9), _rec("nowhere", T0, T0 + 5)])
    q = TrackQuery(T0, T0 + 60, area=(37.4, 126.8, 37.6, 127.0))
    assert [r["uid"] for r in idx.search(q)] == ["here"]
    assert idx.search(TrackQuery(T0, T0 + 60, cameras=frozenset())) == []


def test_purge_removes_old_records_with_their_rows(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    idx = TrackIndex(engine)
    idx.write([_rec("old", T0, T0 + 5, zones=("z",), thumbnail=b"x"), _rec("new", T0 + 100, T0 + 105)])
    assert idx.purge(T0 + 50) == 1
    assert [r["uid"] for r in idx.search(TrackQuery(T0 - 10, T0 + 200))] == ["new"]
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(track_records)).scalar() == 1
        assert c.execute(select(func.count()).select_from(track_passages)).scalar() == 0
        assert c.execute(select(func.count()).select_from(track_thumbs)).scalar() == 0
        assert c.execute(text("SELECT count(*) FROM track_records_rtree")).scalar() == 1


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"since_s": T0, "until_s": T0}, "empty or reversed period"),
        ({"since_s": T0, "until_s": T0 - 5}, "empty or reversed period"),
        ({"since_s": T0, "until_s": T0 + 40 * 86400}, "at most 31 days"),
        ({"since_s": T0, "until_s": T0 + 1, "colours": ("mauve",)}, "unknown colour 'mauve'"),
        ({"since_s": T0, "until_s": T0 + 1, "direction": "a_to_b"}, "needs a line"),
        ({"since_s": T0, "until_s": T0 + 1, "limit": 0}, "limit"),
        ({"since_s": T0, "until_s": T0 + 1, "min_speed": -1.0}, "min_speed"),
        ({"since_s": T0, "until_s": T0 + 1, "area": (38.0, 126.0, 37.0, 127.0)}, "south < north"),
        ({"since_s": float("nan"), "until_s": T0}, "finite"),
    ],
)
def test_bad_queries_are_clear_errors(kw: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        TrackQuery(**kw)  # type: ignore[arg-type]


def test_a_record_longer_than_an_hour_is_refused(sqlite_url: str) -> None:
    idx = TrackIndex(connect(sqlite_url))
    with pytest.raises(InputError, match=r"must cover 0\.\.3600 s"):
        idx.write([_rec("ok", T0, T0 + 5), _rec("long", T0, T0 + 3601)])
    assert idx.search(TrackQuery(T0 - 10, T0 + 100)) == []  # nothing of the batch stored
