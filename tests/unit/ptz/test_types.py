from __future__ import annotations

from safecity.ptz.types import PtzPosition, PtzStatus, clamp_position


def test_clamp_position_keeps_each_axis_in_its_range() -> None:
    assert clamp_position(1.5, -2.0, 1.2) == PtzPosition(1.0, -1.0, 1.0)
    assert clamp_position(-0.2, 0.3, -0.1) == PtzPosition(-0.2, 0.3, 0.0)


def test_status_moving_is_unknown_when_the_camera_does_not_say() -> None:
    pos = PtzPosition(0, 0, 0)
    assert PtzStatus(pos, None, None).moving is None
    assert PtzStatus(pos, False, None).moving is False
    assert PtzStatus(pos, False, True).moving is True
    assert PtzStatus(pos, True, False).moving is True
