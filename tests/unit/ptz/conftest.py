"""The virtual ONVIF PTZ camera the hand-off, audit and runtime-config tests share (one per test
module): presets ``patrol`` and ``lane``, no RTSP. test_driver.py defines its own ``vcam``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ptz_helpers import VirtualPtz


@pytest.fixture(scope="module")
def vcam() -> Iterator[VirtualPtz]:
    cam = VirtualPtz(presets={"patrol": (-0.5, 0.0, 0.0), "lane": (0.3, -0.1, 0.5)}, rtsp=False, speed=4.0)
    cam.start()
    yield cam
    cam.stop()
