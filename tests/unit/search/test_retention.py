"""Track index retention and the writer the service builds (safecity.search.retention)."""

from __future__ import annotations

from pathlib import Path

from safecity.search.retention import purge_tracks, track_writer
from safecity.search.synthetic import synthetic_records
from safecity.store.db import connect
from safecity.store.tracks import TrackIndex, TrackQuery

DAY = 86400.0


def test_purge_removes_only_records_older_than_the_retention(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'db.sqlite'}")
    now = 1_750_000_000.0
    recs = synthetic_records(40, seed=3, start_s=now - 40 * DAY, span_s=40 * DAY, cameras=4)
    writer = track_writer(engine)
    writer.publish(recs)
    assert writer.close() and writer.written == 40
    old = {r.uid for r in recs if r.last_s < now - 30 * DAY}
    assert 0 < len(old) < 40  # the seeded spread puts records on both sides of the cut
    assert purge_tracks(engine, 30.0, now=now) == len(old)
    index = TrackIndex(engine)
    left = {r["uid"] for r in index.search(TrackQuery(now - 31 * DAY, now, limit=500))}
    assert left == {r.uid for r in recs} - old
    assert all(index.thumbnail(u) is None for u in old if index.get(u) is None)
    assert purge_tracks(engine, 30.0, now=now) == 0  # nothing stored is lost twice
