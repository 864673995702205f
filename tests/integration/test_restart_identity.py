"""Issue 11, item 1: two monitor runs of the same clip into one store keep every event (scripts/repro)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_two_monitor_runs_into_one_store_keep_every_event(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "repro" / "restart_identity.py"), "--runs", "2",
         "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["starts_per_run"] == [1, 1]  # the cyclist, once per run
    assert out["distinct_events"] == out["starts_total"] == out["distinct_uids"] == 2
    # each event has its own snapshot and clip: nothing was overwritten
    assert out["media_files"] == 4
