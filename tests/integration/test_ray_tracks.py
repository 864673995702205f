"""The Ray transport fills the track index too (issue 14): a real local Ray (1 CPU), one camera
group actor with ``record_tracks``; the records of its ended tracks come back with the driver's
polls as ``TracksMsg`` and reach the hub's track sink (a TrackWriter on SQLite). The detector is the
blob fake (importable on the node), the clip a block walking left to right (one person)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.runtime.ray_transport import ray_runtime
from safecity.monitor.runtime.worker import RuntimeOptions
from safecity.search.retention import track_writer
from safecity.store.db import connect
from safecity.store.tracks import TrackIndex, TrackQuery
from tests.integration.ray_helpers import BLOB, wait_for, write_walking_clip

pytestmark = pytest.mark.integration

ZONE = {"name": "right", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}


def test_ray_actor_tracks_reach_the_index(tmp_path: Path) -> None:
    clip = write_walking_clip(tmp_path / "walk.mp4")
    cam = {"id": "walk", "source": str(clip), "detect_fps": 5, "zones": [ZONE],
           "rules": [{"type": "intrusion", "zone": "right", "min_s": 0.2}]}  # fmt: skip
    cfg = MonitorConfig.model_validate(
        {"cameras": [cam], "tracker": {"high_thresh": 0.5, "new_track_thresh": 0.5, "lost_s": 1.0}}
    )
    engine = connect(f"sqlite:///{tmp_path / 'db.sqlite'}")
    writer = track_writer(engine)
    hub = ray_runtime(cfg, num_cpus=1, options=RuntimeOptions(detector_factory=BLOB, record_tracks=True))
    hub.add_track_sink(writer.publish)
    t0 = time.time()
    hub.start()
    try:
        wait_for(lambda: "walk" in hub.stats()["ended"], "the file camera to end in its actor")
    finally:
        hub.stop()
    assert writer.close()
    assert writer.written == 1 and TrackIndex(engine).cameras_with_records() == ["walk"]
    (rec,) = TrackIndex(engine).search(TrackQuery(t0 - 60, time.time() + 60))  # on the worker's clock
    assert rec["object_class"] == "person" and rec["zones"] == ["right"] and rec["has_thumb"]
