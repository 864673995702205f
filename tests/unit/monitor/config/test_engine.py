"""Engine-cost settings on the camera config: the gate and detection on demand."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from safecity.monitor.config.engine import DetectionConfig, GateConfig
from safecity.monitor.config.model import CameraConfig


def test_defaults_gate_on_and_detection_on_motion_regions() -> None:
    cam = CameraConfig(id="c", source="x.mp4")
    assert cam.gate.mode == "auto"
    assert cam.detection.mode == "motion"


def test_gate_settings_carry_every_key_to_the_gate() -> None:
    g = GateConfig(learn_s=2.0, quiet_s=3.0, health_every_s=7.0, k_on=4.0, rel_on=0.3, min_on_bps=900.0,
                   max_buffer_mb=1.0)  # fmt: skip
    s = g.settings()
    assert (s.learn_s, s.quiet_s, s.health_every_s, s.k_on, s.rel_on, s.min_on_bps) == (
        2.0,
        3.0,
        7.0,
        4.0,
        0.3,
        900.0,
    )
    assert s.max_buffer_bytes == 1024 * 1024


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"gate": {"mode": "sometimes"}}, "gate.mode"),
        ({"gate": {"max_buffer_mb": 0.01}}, "gate.max_buffer_mb"),
        ({"gate": {"quiet": 5}}, "gate.quiet"),
        ({"detection": {"mode": "always"}}, "detection.mode"),
        ({"detection": {"reverify_s": 0}}, "detection.reverify_s"),
    ],
)
def test_bad_engine_keys_are_refused_with_their_place(doc: dict[str, object], where: str) -> None:
    with pytest.raises(ValidationError) as err:
        CameraConfig.model_validate({"id": "c", "source": "x.mp4", **doc})
    assert where in str(err.value).replace(" ", "")


def test_stationary_interval_may_not_be_shorter_than_the_moving_one() -> None:
    with pytest.raises(ValidationError, match="stationary_reverify_s must not be shorter"):
        DetectionConfig(mode="on_demand", reverify_s=2.0, stationary_reverify_s=1.0)
