"""ConfigWatcher: a changed config file is applied, a bad one is reported once and the old one stays."""

from __future__ import annotations

from pathlib import Path

from safecity.monitor.config.model import load_monitor_config
from safecity.monitor.runtime.hub import MonitorHub
from safecity.monitor.runtime.watch import ConfigWatcher
from tests.unit.monitor.runtime.test_hub import ReconfigurableTransport, RecordingTransport

TEXT = """
cameras:
  - id: a
    source: a.mp4
"""


def _setup(
    tmp_path: Path, transport: RecordingTransport
) -> tuple[Path, MonitorHub, ConfigWatcher, list[str]]:
    path = tmp_path / "cams.yaml"
    path.write_text(TEXT)
    hub = MonitorHub(load_monitor_config(path), transport, select_every_s=None)
    errors: list[str] = []
    return path, hub, ConfigWatcher(path, hub, report=errors.append), errors


def test_watcher_applies_a_valid_change(tmp_path: Path) -> None:
    t = ReconfigurableTransport()
    path, hub, watcher, errors = _setup(tmp_path, t)
    assert watcher.check() == "unchanged"
    path.write_text(TEXT + "  - id: b\n    source: b.mp4\n")
    assert watcher.check() == "applied"
    assert hub.cameras() == ["a", "b"] and [c.id for c in t.configs[-1].cameras] == ["a", "b"]
    assert watcher.check() == "unchanged" and errors == []


def test_watcher_keeps_the_running_config_when_the_file_is_bad(tmp_path: Path) -> None:
    t = ReconfigurableTransport()
    path, hub, watcher, errors = _setup(tmp_path, t)
    path.write_text(TEXT + "    detect_fps: -1\n")
    assert watcher.check() == "rejected"
    assert watcher.check() == "unchanged"  # reported once per content
    assert len(errors) == 1 and "cams.yaml" in errors[0] and "detect_fps" in errors[0]
    assert "cams.yaml:5:" in errors[0] and "running config stays" in errors[0]  # file:line
    assert t.configs == [] and hub.cameras() == ["a"]


def test_watcher_says_to_restart_when_the_transport_cannot_reconfigure(tmp_path: Path) -> None:
    path, _, watcher, errors = _setup(tmp_path, RecordingTransport())
    path.write_text(TEXT + "  - id: b\n    source: b.mp4\n")
    assert watcher.check() == "rejected"
    assert "restart the monitoring runtime" in errors[0]
