"""PTZ runtime end to end: two virtual cameras (real ONVIF SOAP + GStreamer RTSP processes), the local
runtime (worker process, real RTSP decoding, motion gate, tracker, rules), the patrol driver and the
hand-off sink, wired as ``safecity serve`` wires them (:func:`safecity.ptz.runtime.attach_ptz`).

* ``fixed-1`` is a virtual camera without PTZ service whose picture shows a magenta walker; its
  intrusion (severity 4, an alert) swings ``ptz-1`` to the preset ``lane`` that covers the place, and
  the wall shows both, the PTZ in the slot next to the fixed camera; after ``handoff_hold_s`` the PTZ
  goes back to its tour.
* ``ptz-1`` patrols presets ``a`` and ``b``. The same walker is seen from both presets (at a different
  place in the picture); ``in_a`` (zone ``za``) is armed only at ``a`` and ``in_b`` (zone ``zb``) only
  at ``b``, both zones the whole frame: every event of ``za`` must carry preset ``a`` and every event
  of ``zb`` preset ``b``, and no rule runs while the camera travels.

The detector is ``tests.ptz_helpers.MagentaDetector`` (through ``RuntimeOptions.detector_factory``):
the walker is a drawn figure, not a person, so a model is not what is under test here. Waits poll with
generous limits; nothing asserts a duration.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.runtime.local import MonitorRuntime, RuntimeOptions
from safecity.monitor.types import Event, EventKind
from safecity.ptz.control import PtzControl
from safecity.ptz.geometry import place_in_view
from safecity.ptz.runtime import PtzRuntime, attach_ptz
from tests.ptz_helpers import VirtualPtz

pytestmark = pytest.mark.integration

FIXED = (37.5000, 126.8800)
PTZ_AT = (37.5002, 126.8803)
PLACE = place_in_view(*FIXED, 90.0, 60.0, 0.5, 30.0)  # the walker, in the middle of fixed-1's picture
WHOLE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]


class ListSink:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[tuple[EventKind, Event]] = []

    def publish(self, kind: EventKind, event: Event) -> None:
        with self.lock:
            self.messages.append((kind, event))

    def starts(self, camera: str) -> list[Event]:
        with self.lock:
            return [e for k, e in self.messages if k == "start" and e.camera == camera]


def _config(fixed: VirtualPtz, ptz: VirtualPtz) -> MonitorConfig:
    assert fixed.rtsp_url is not None and ptz.rtsp_url is not None
    return MonitorConfig.model_validate(
        {
            "detector": {"type": "nanodet", "conf": 0.3},
            "tracker": {"high_thresh": 0.5, "new_track_thresh": 0.5, "min_hits": 2, "lost_s": 1.5},
            "selection": {"max_tiles": 4, "hold_s": 2},
            "cameras": [
                {
                    "id": "fixed-1",
                    "source": fixed.rtsp_url,
                    "detect_fps": 5,
                    "lat": FIXED[0],
                    "lon": FIXED[1],
                    "heading_deg": 90,
                    "fov_deg": 60,
                    "zones": [{"name": "yard", "polygon": WHOLE}],
                    "rules": [{"type": "intrusion", "zone": "yard", "min_s": 0.5, "severity": 4}],
                },
                {
                    "id": "ptz-1",
                    "source": ptz.rtsp_url,
                    "detect_fps": 5,
                    "lat": PTZ_AT[0],
                    "lon": PTZ_AT[1],
                    "zones": [{"name": "za", "polygon": WHOLE}, {"name": "zb", "polygon": WHOLE}],
                    "rules": [
                        {"type": "intrusion", "zone": "za", "min_s": 0.5, "name": "in_a", "severity": 2},
                        {"type": "intrusion", "zone": "zb", "min_s": 0.5, "name": "in_b", "severity": 2},
                    ],
                    "ptz": {
                        "onvif": {
                            "host": "127.0.0.1",
                            "port": ptz.port,
                            "user": ptz.user,
                            "password_env": "VPTZ_PW",
                            "timeout_s": 3.0,
                        },
                        "presets": [
                            {"name": "a", "rules": ["in_a"], "settle_s": 0.5},
                            {"name": "b", "rules": ["in_b"], "settle_s": 0.5},
                            {"name": "lane", "lat": PLACE[0], "lon": PLACE[1], "radius_m": 15},
                        ],
                        "tours": [
                            {
                                "name": "t",
                                "stops": [{"preset": "a", "dwell_s": 6}, {"preset": "b", "dwell_s": 6}],
                            }
                        ],
                        "handoff_hold_s": 20,
                        "return_after_release_s": 30,
                    },
                },
            ],
        }
    )


@pytest.fixture(scope="module")
def cameras() -> Iterator[tuple[VirtualPtz, VirtualPtz]]:
    # scene 2560 px wide, view 1280 px at zoom 0: a (pan -0.5) shows 320..1600, b (pan 0.5) 960..2240;
    # the walker at x 0.5 (1280 +- 80 px) is in both, at 3/4 of a's width and 1/4 of b's
    ptz = VirtualPtz(
        presets={"a": (-0.5, 0.0, 0.0), "b": (0.5, 0.0, 0.0), "lane": (0.0, 0.4, 0.3)},
        speed=1.5,
        walker=(0.5, 0.5),
    )
    fixed = VirtualPtz(ptz=False, walker=(0.5, 0.5))
    try:
        ptz.start()
        fixed.start()
        yield fixed, ptz
    finally:
        fixed.stop()
        ptz.stop()


def _wait(what: str, cond: Callable[[], Any], limit_s: float = 90.0) -> Any:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"waited {limit_s} s for {what}")


def test_handoff_then_patrol_with_per_preset_rules(cameras: tuple[VirtualPtz, VirtualPtz]) -> None:
    fixed, vptz = cameras
    config = _config(fixed, vptz)
    sink = ListSink()
    runtime = MonitorRuntime(
        config,
        sinks=[sink],
        workers=1,
        options=RuntimeOptions(detector_factory="tests.ptz_helpers:magenta_detector"),
    )
    control = PtzControl.from_config(config, env={"VPTZ_PW": vptz.password})
    ptz: PtzRuntime = attach_ptz(control, runtime, config)
    assert ptz.handoff is not None
    runtime.start()
    ptz.start()
    try:
        # 1. the fixed camera's intrusion swings the PTZ to 'lane' and the wall shows both, side by side
        _wait("an intrusion on fixed-1", lambda: sink.starts("fixed-1"))
        h = _wait(
            "the hand-off",
            lambda: [x for x in ptz.handoff.log if x.outcome == "swung"] if ptz.handoff else [],
        )[0]
        assert (h.fixed, h.ptz, h.target.preset if h.target else None) == ("fixed-1", "ptz-1", "lane"), (
            h.message
        )
        lease = control.leases.holder("ptz-1")
        assert lease is not None and lease.holder == "handoff"
        _wait("the driver standing aside", lambda: ptz.states()["ptz-1"].mode == "held", limit_s=15.0)

        def at_lane() -> bool:
            st = control.units["ptz-1"].camera.status()
            p = st.position
            return p is not None and not st.moving and abs(p.tilt - 0.4) < 0.02 and abs(p.zoom - 0.3) < 0.02

        _wait("the PTZ at the lane preset", at_lane)
        onset = sink.starts("fixed-1")[0].start_s
        print(
            f"hand-off: intrusion onset -> command {h.t_s - onset:.2f} s, "
            f"-> PTZ at lane {time.time() - onset:.2f} s"
        )
        tiles = {t.camera: t for t in runtime.wall().tiles}
        assert {"fixed-1", "ptz-1"} <= set(tiles), tiles
        assert abs(tiles["fixed-1"].slot - tiles["ptz-1"].slot) == 1, tiles
        assert tiles["ptz-1"].pinned_by == "ptz-handoff"

        # 2. after handoff_hold_s the tour resumes: a, b, a ... with per-preset rules. The fixed camera
        # goes dark first: each new alert there would hand off again (and renew the hold)
        fixed.stop()

        def visits() -> list[str]:
            return sorted(
                {str(e.detail.get("preset")) for e in sink.starts("ptz-1") if e.type == "intrusion"}
            )

        try:
            _wait("intrusions at both presets", lambda: visits() == ["a", "b"], limit_s=120.0)
        except AssertionError as exc:
            handoffs = [x.message for x in ptz.handoff.log]
            raise AssertionError(f"{exc}: {visits()}, {ptz.states()}, {handoffs}") from None
        assert control.leases.holder("ptz-1") is None
        with sink.lock:
            ptz_events = [(k, e) for k, e in sink.messages if e.camera == "ptz-1" and e.type == "intrusion"]
        for kind, e in ptz_events:
            want = {"za": "a", "zb": "b"}[str(e.zone)]
            assert e.detail.get("preset") == want, (kind, e.zone, e.detail)
        assert h.until_s is not None
        held = [e for k, e in ptz_events if k == "start" and h.t_s + 2.0 < e.start_s < h.until_s]
        assert not held, held  # no rule runs while the hand-off holds the PTZ at 'lane'
        assert not [e for k, e in sink.messages if e.camera == "ptz-1" and e.type == "camera_moved"]
    finally:
        ptz.stop()
        runtime.stop()
        control.close()
