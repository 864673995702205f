"""`safecity monitor` on a real clip writes its events to the database (SQLite here) via EventStore."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from safecity.store.db import connect
from safecity.store.events import EventStore
from tests.integration.monitor_clips import lot_camera_config

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO / "data" / "video" / "intel-sample-videos" / "person-bicycle-car-detection.mp4"


def test_monitor_writes_events_to_the_store(tmp_path: Path) -> None:
    cfg = lot_camera_config(tmp_path)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    env = {**os.environ, "SAFECITY_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-m", "safecity.cli", "monitor", "--config", str(cfg), "--database-url", url,
         "--duration", "120"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    store = EventStore(connect(url), spool_dir=tmp_path / "spool", start=False)
    rows = store.list_events(camera="lot", type="intrusion")
    assert len(rows) == 1, rows  # the cyclist
    assert rows[0]["zone"] == "bays"
