"""TrackRecordingWorker: the worker hook of the track index, on a real file source and store."""

from __future__ import annotations

from pathlib import Path

from safecity.monitor.runtime.messages import EndedMsg
from safecity.monitor.runtime.worker import RuntimeOptions, TrackRecordingWorker
from safecity.search.records import TrackRecord
from safecity.search.writer import TrackWriter
from safecity.store.db import connect
from safecity.store.tracks import TrackIndex, TrackQuery
from tests.unit.monitor.runtime.test_local import _write_clip
from tests.unit.monitor.runtime.test_worker import Inbox, _cam, _config, _wait
from tests.unit.monitor.test_pipeline import BlobDetector


def test_ended_tracks_reach_the_index_on_the_worker_clock(tmp_path: Path) -> None:
    clip = _write_clip(tmp_path / "c.mp4")
    cfg = _config(_cam("good", clip))
    index = TrackIndex(connect(f"sqlite:///{tmp_path / 'safecity.db'}"))
    writer = TrackWriter(index, every_s=0.1)
    got: list[TrackRecord] = []

    def on_records(records: list[TrackRecord]) -> None:
        got.extend(records)
        writer.publish(records)

    inbox = Inbox()
    w = TrackRecordingWorker(cfg, cfg.cameras, RuntimeOptions(), inbox.emit, detector=BlobDetector(),
                             on_records=on_records)  # fmt: skip
    w.start()
    _wait(lambda: bool(inbox.of(EndedMsg)), "the end of the file")
    w.stop()
    assert writer.close()
    assert len(got) == 1, got  # one block walked through the picture
    r = got[0]
    assert r.first_s > 1e9 and r.uid == f"good-{r.track_id}-{round(r.first_s * 1000)}"  # Unix time
    assert r.zones == ("right",) and r.colours == {"upper": ("white",), "lower": ("white",)}
    assert r.box[0] < 0.3 and r.box[2] > 0.7  # walked left to right
    stored = index.search(TrackQuery(r.first_s - 1, r.last_s + 1, zone="right", upper=("white",)))
    assert [s["uid"] for s in stored] == [r.uid]
    assert index.thumbnail(r.uid) is not None and writer.written == 1 and writer.dropped == 0
