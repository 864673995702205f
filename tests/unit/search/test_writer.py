from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from safecity.search.synthetic import synthetic_records
from safecity.search.writer import TrackWriter
from safecity.store.db import connect, upgrade
from safecity.store.tracks import TrackIndex, TrackQuery

T0 = 1_790_000_000.0


def test_records_wait_while_the_store_is_unusable_then_are_written(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'x.db'}", migrate=False)  # no tables yet: writes fail
    index = TrackIndex(engine)
    writer = TrackWriter(index, batch=10, every_s=0.05)
    records = synthetic_records(25, seed=2, cameras=3, start_s=T0, span_s=600.0)
    writer.publish(records)
    deadline = time.monotonic() + 30
    while writer.failures == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert writer.failures >= 1 and writer.written == 0
    upgrade(engine)  # the store comes back
    assert writer.flush(30)
    assert writer.written == 25 and writer.dropped == 0
    assert len(index.search(TrackQuery(T0 - 3600, T0 + 4000, limit=100))) == 25
    assert writer.close()


def test_bounded_queue_drops_the_oldest_and_refused_records_are_counted(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'x.db'}", migrate=False)
    writer = TrackWriter(TrackIndex(engine), batch=1000, every_s=3600, max_pending=10)
    writer.publish(synthetic_records(15, seed=3, start_s=T0, span_s=60.0))
    assert writer.dropped == 5
    writer.close(timeout_s=1)
    upgrade(engine)
    w2 = TrackWriter(TrackIndex(engine), every_s=0.05)
    (r,) = synthetic_records(1, seed=4, start_s=T0, span_s=60.0)
    w2.publish([dataclasses.replace(r, last_s=r.first_s + 7200)])  # longer than a record may be
    assert w2.flush(30) and w2.dropped == 1 and w2.written == 0
    assert w2.close()
