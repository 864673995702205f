"""The track index on a real PostgreSQL server: the same answers as the brute-force reference."""

from __future__ import annotations

import dataclasses

from safecity.search.records import Crossing
from safecity.search.synthetic import synthetic_records
from safecity.store.db import connect
from safecity.store.tracks import TrackIndex, TrackQuery
from tests.unit.store.tracks_reference import random_queries, reference

T0 = 1_790_000_000.0
SPAN = 2 * 86400.0


def test_postgres_search_matches_the_reference(pg_url: str) -> None:
    engine = connect(pg_url)
    records = synthetic_records(3000, seed=7, cameras=20, start_s=T0, span_s=SPAN)
    idx = TrackIndex(engine)
    assert idx.write(records) == 3000
    assert idx.write(records[:10]) == 0  # stored uids are skipped
    for q in random_queries(60, seed=3, start_s=T0, span_s=SPAN, cameras=20):
        want = reference(records, q)
        assert [r["uid"] for r in idx.search(q)] == want[: q.limit], f"query {q}"
        assert idx.count(q) == len(want)
    engine.dispose()


def test_postgres_thumbnail_passages_and_purge(pg_url: str) -> None:
    engine = connect(pg_url)
    idx = TrackIndex(engine)
    (r,) = synthetic_records(1, seed=1, start_s=T0, span_s=60.0)
    r = dataclasses.replace(r, thumbnail=b"\xff\xd8x", crossings=(Crossing("door", "b_to_a", r.first_s + 1),))
    assert idx.write([r]) == 1
    assert idx.thumbnail(r.uid) == b"\xff\xd8x"
    q = TrackQuery(T0 - 10, T0 + 4000, line="door", direction="b_to_a")
    assert [x["uid"] for x in idx.search(q)] == [r.uid]
    assert idx.purge(T0 + 10_000) == 1
    assert idx.search(q) == [] and idx.thumbnail(r.uid) is None
    engine.dispose()
