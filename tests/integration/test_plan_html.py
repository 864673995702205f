"""The HTML report renders in headless Debian chromium with the network off (no CDN, no tiles)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from safecity.plan.config import PlanConfig
from safecity.plan.report import write_outputs
from safecity.plan.sites import plan_sites

pytestmark = pytest.mark.integration


def test_map_renders_offline(tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian chromium is required for this test (apt-get install chromium)")
    plan, layers = plan_sites(area="guro", budget_krw=1.5e8, cfg=PlanConfig())
    files = write_outputs(plan, layers, tmp_path / "out")
    proc = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--proxy-server=127.0.0.1:9",  # any network request would fail
            "--virtual-time-budget=10000",
            "--dump-dom",
            files.html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = proc.stdout
    assert 'data-map-ready="1"' in dom, proc.stderr[-2000:]  # set by the last line of the map script
    assert "leaflet-interactive" in dom or "<canvas" in dom  # Leaflet drew the layers
    # one checkbox per layer: area, dongs, priority cells, existing cameras, coverage, sites
    assert dom.count('<input type="checkbox" class="leaflet-control-layers-selector"') == 6
