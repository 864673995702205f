"""`safecity monitor` with a store on a real clip fills the track index (issue 14): the local
runtime's worker process summarises every confirmed track (real NanoDet) and the records reach the
database through the hub and the TrackWriter, on the events' clock, with thumbnails."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from safecity.store.db import connect
from safecity.store.events import EventStore
from safecity.store.tracks import TrackIndex, TrackQuery
from tests.integration.monitor_clips import lot_camera_config

pytestmark = pytest.mark.integration


def test_monitor_writes_track_records(tmp_path: Path) -> None:
    cfg = lot_camera_config(tmp_path)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    env = {**os.environ, "SAFECITY_HOME": str(tmp_path / "home")}
    env.pop("SAFECITY_DATABASE_URL", None)
    t0 = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "safecity.cli", "monitor", "--config", str(cfg), "--database-url", url,
         "--duration", "120"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    engine = connect(url)
    records = TrackIndex(engine).search(TrackQuery(t0 - 60, time.time() + 60, limit=500))
    classes = {r["object_class"] for r in records}
    assert "car" in classes and classes & {"person", "bicycle"}, classes  # the white car, the cyclist
    assert all(r["camera"] == "lot" and r["first_at"].timestamp() >= t0 - 5 for r in records)
    assert all(TrackIndex(engine).thumbnail(r["uid"]) for r in records if r["has_thumb"])
    # every intrusion event (the cyclist in the bays) names a track the index holds
    store = EventStore(engine, spool_dir=tmp_path / "spool", start=False)
    events = store.list_events(camera="lot", type="intrusion")
    by_track = {r["track_id"] for r in records}
    assert events and all(set(e["track_ids"] or []) & by_track for e in events), (events, by_track)
