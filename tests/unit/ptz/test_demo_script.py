"""scripts/virtual_ptz/demo.py (what ``make demo`` runs): the merged demo config is valid with the PTZ
camera on a tour and hand-off headings; the virtual camera starts before the command, the command gets
``--config`` and the password, and the camera is stopped when the command ends (its exit code is kept)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from safecity.monitor.config.model import load_monitor_config

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "virtual_ptz" / "demo.py"


def _merged(tmp_path: Path) -> Path:
    spec = importlib.util.spec_from_file_location("virtual_ptz_demo", SCRIPT)
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)

    merged = demo.merged_config(REPO / "configs" / "demo-cameras.yaml", REPO / "configs" / "demo-ptz.yaml",
                                "rtsp://127.0.0.1:18554/ptz", 18080)  # fmt: skip
    out = tmp_path / "merged.yaml"
    out.write_text(yaml.safe_dump(merged, allow_unicode=True), encoding="utf-8")
    return out


def test_the_merged_demo_config_is_valid(tmp_path: Path) -> None:
    cfg = load_monitor_config(_merged(tmp_path))
    cams = {c.id: c for c in cfg.cameras}
    ptz = cams["guro-lot-ptz"]
    assert ptz.ptz is not None and ptz.ptz.onvif.port == 18080 and ptz.source == "rtsp://127.0.0.1:18554/ptz"
    assert [s.preset for s in ptz.ptz.tours[0].stops] == ["plaza", "road"]
    assert cams["guro-lot-west"].heading_deg == 45
    assert Path(cams["guro-lot-west"].source).is_absolute() and Path(cams["guro-lot-west"].source).is_file()


@pytest.mark.integration
def test_the_camera_runs_as_long_as_the_command(tmp_path: Path) -> None:
    check = tmp_path / "check.py"
    check.write_text(
        textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(REPO)!r})
        from safecity.monitor.config.model import load_monitor_config
        from safecity.ptz.control import PtzControl
        cfg = load_monitor_config(sys.argv[sys.argv.index("--config") + 1])
        control = PtzControl.from_config(cfg)
        unit = control.units["guro-lot-ptz"]
        print("PRESETS", sorted(p.name for p in unit.camera.presets()), flush=True)
        control.close()
        sys.exit(7)
    """)
    )
    env = {**os.environ, "SAFECITY_HOME": str(tmp_path / "home")}
    r = subprocess.run([sys.executable, str(SCRIPT), "--", sys.executable, str(check)],
                       capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert r.returncode == 7, r.stdout + r.stderr
    assert "PRESETS ['lot', 'plaza', 'road']" in r.stdout, r.stdout + r.stderr
    assert "virtual PTZ on patrol" in r.stderr and "virtual PTZ stopped" in r.stderr, r.stderr
    assert (tmp_path / "home" / "demo-cameras-ptz.yaml").is_file()
    pid = int(r.stderr.split("(pid ", 1)[1].split(")", 1)[0])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the camera is gone
