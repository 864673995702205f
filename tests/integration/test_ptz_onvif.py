"""The real ONVIF client (onvif-zeep-async through safecity.ptz) against the virtual PTZ camera.

The camera is ``scripts/virtual_ptz/virtual_ptz.py`` in its own process: ONVIF SOAP over HTTP with
WS-Security digest auth, and an RTSP stream (GStreamer) whose view follows the head. Moves must change
the picture; faults come from outside (wrong password, nobody listening, a listener that never answers,
SIGSTOP mid-move, a camera without a PTZ service).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import av
import numpy as np
import pytest

from safecity.errors import PtzAuthError, PtzError, PtzUnreachableError, PtzUnsupportedError
from safecity.ptz.camera import PtzCamera
from safecity.ptz.types import PtzStatus
from tests.ports import free_port
from tests.ptz_helpers import VirtualPtz

pytestmark = pytest.mark.integration

PRESETS = {"gate": (-0.6, 0.2, 0.0), "road": (0.7, -0.4, 0.6)}


@pytest.fixture(scope="module")
def vcam() -> Iterator[VirtualPtz]:
    cam = VirtualPtz(presets=PRESETS, speed=0.8).start()
    yield cam
    cam.stop()


@pytest.fixture
def cam(vcam: VirtualPtz) -> Iterator[PtzCamera]:
    c = PtzCamera("127.0.0.1", vcam.port, vcam.user, vcam.password, name="ptz-test", timeout_s=3.0)
    yield c
    c.close()


def _wait_idle(cam: PtzCamera, limit_s: float = 30.0) -> tuple[PtzStatus, list[PtzStatus]]:
    seen = []
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        st = cam.status()
        seen.append(st)
        if st.moving is False:
            return st, seen
        time.sleep(0.1)
    raise AssertionError(f"camera still moving after {limit_s} s: {seen[-1]}")


def _frame(url: str, skip: int = 8) -> np.ndarray:
    """A grey frame from a fresh RTSP connection (``skip`` frames in, past the first keyframe)."""
    with av.open(url, options={"rtsp_transport": "tcp"}, timeout=(10, 10)) as c:
        for i, fr in enumerate(c.decode(video=0)):
            if i >= skip:
                return np.asarray(fr.to_ndarray(format="gray"), dtype=np.float32)
    raise AssertionError("stream ended")


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def test_connect_reads_device_profiles_stream_uri_and_presets(cam: PtzCamera, vcam: VirtualPtz) -> None:
    info = cam.connect()
    assert (info.manufacturer, info.model) == ("safecity", "virtual-ptz")
    assert [p.ptz for p in cam.client.profiles] == [True]
    assert cam.client.profiles[0].width == 640
    assert cam.stream_uri() == vcam.rtsp_url
    presets = {p.name: p for p in cam.presets()}
    assert set(presets) >= {"gate", "road"}
    gate = presets["gate"].position
    assert gate is not None and (gate.pan, gate.tilt, gate.zoom) == pytest.approx(PRESETS["gate"])


def test_set_goto_and_remove_a_preset(cam: PtzCamera) -> None:
    cam.absolute_move(0.3, 0.3, 0.2)
    _wait_idle(cam)
    token = cam.set_preset("bench")
    assert cam.preset_token("bench") == token
    cam.goto_preset(cam.preset_token("gate"))
    _wait_idle(cam)
    cam.goto_preset(token)
    st, _ = _wait_idle(cam)
    assert st.position is not None
    assert (st.position.pan, st.position.tilt, st.position.zoom) == pytest.approx((0.3, 0.3, 0.2), abs=1e-6)
    cam.remove_preset(token)
    with pytest.raises(PtzError, match=r"no preset 'bench'.*gate"):
        cam.preset_token("bench")
    with pytest.raises(PtzError, match=r"no such preset") as err:
        cam.goto_preset(token)
    assert not isinstance(err.value, PtzUnreachableError)


def test_absolute_move_is_moving_then_idle_and_changes_the_picture(cam: PtzCamera, vcam: VirtualPtz) -> None:
    assert vcam.rtsp_url is not None
    cam.absolute_move(0.0, 0.0, 0.0)
    _wait_idle(cam)
    home = _frame(vcam.rtsp_url)
    home_again = _frame(vcam.rtsp_url)
    noise = _diff(home, home_again)

    cam.goto_preset(cam.preset_token("road"))
    st, seen = _wait_idle(cam)
    assert any(s.moving for s in seen), "status never reported MOVING while travelling to the preset"
    assert st.position is not None
    assert (st.position.pan, st.position.tilt, st.position.zoom) == pytest.approx(PRESETS["road"], abs=1e-6)
    road = _frame(vcam.rtsp_url)
    assert _diff(home, road) > 10 * max(noise, 0.5), (noise, _diff(home, road))

    cam.absolute_move(0.0, 0.0, 0.0)
    _wait_idle(cam)
    back = _frame(vcam.rtsp_url)
    assert _diff(home, back) < _diff(home, road) / 5  # the same view again


def test_relative_continuous_zoom_and_stop(cam: PtzCamera) -> None:
    cam.absolute_move(-0.5, 0.0, 0.0)
    _wait_idle(cam)
    cam.relative_move(0.25, 0.1)
    st, _ = _wait_idle(cam)
    assert st.position is not None and (st.position.pan, st.position.tilt) == pytest.approx((-0.25, 0.1))
    cam.zoom(0.5)
    st, _ = _wait_idle(cam)
    assert st.position is not None and st.position.zoom == pytest.approx(0.5)
    cam.continuous_move(0.5, 0.0, 0.0, timeout_s=20)
    time.sleep(0.5)
    moving = cam.status()
    assert moving.pan_tilt_moving is True
    cam.stop()
    stopped, _ = _wait_idle(cam)
    assert stopped.position is not None and stopped.position.pan > -0.25
    time.sleep(0.3)
    later = cam.status()
    assert later.position == stopped.position  # stop really stopped it


def test_wrong_password_is_a_clear_auth_error(vcam: VirtualPtz) -> None:
    bad = PtzCamera("127.0.0.1", vcam.port, vcam.user, "not-the-password", name="ptz-bad", timeout_s=3.0)
    with pytest.raises(PtzAuthError, match=r"ptz-bad.*refused the ONVIF credentials"):
        bad.connect()
    with pytest.raises(PtzAuthError):
        bad.status()  # every call, not only connect
    bad.close()


def test_nobody_listening_is_unreachable() -> None:
    cam = PtzCamera("127.0.0.1", free_port(), "admin", "x", name="ptz-off", timeout_s=2.0)
    with pytest.raises(PtzUnreachableError, match=r"ptz-off.*cannot connect"):
        cam.connect()
    cam.close()


def test_a_listener_that_never_answers_times_out_within_the_limit() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # the kernel accepts; nobody ever answers
    port = listener.getsockname()[1]
    cam = PtzCamera("127.0.0.1", port, "admin", "x", name="ptz-mute", timeout_s=1.0)
    try:
        t0 = time.monotonic()
        with pytest.raises(PtzUnreachableError, match=r"no answer within 1 s"):
            cam.connect()
        elapsed = time.monotonic() - t0
    finally:
        cam.close()
        listener.close()
    assert elapsed < 10.0  # bounded by the 1 s limit (plus a busy CPU), not the library's 90 s default


def test_camera_that_stops_answering_mid_move(cam: PtzCamera, vcam: VirtualPtz) -> None:
    cam.absolute_move(-1.0, 0.0, 0.0)
    _wait_idle(cam)
    cam.absolute_move(1.0, 0.0, 0.0)
    assert cam.status().moving is True
    vcam.pause()
    try:
        with pytest.raises(PtzUnreachableError, match=r"ptz-test.*GetStatus: no answer within 3 s"):
            cam.status()
    finally:
        vcam.resume()
    st, _ = _wait_idle(cam)  # reconnects and finds the head at its target
    assert st.position is not None and st.position.pan == pytest.approx(1.0)


def test_ptz_command_to_a_camera_without_ptz_service() -> None:
    fixed = VirtualPtz(ptz=False, rtsp=False).start()
    cam = PtzCamera("127.0.0.1", fixed.port, fixed.user, fixed.password, name="fixed-1", timeout_s=3.0)
    try:
        info = cam.connect()
        assert info.model == "virtual-fixed"
        assert [p.ptz for p in cam.client.profiles] == [False]
        with pytest.raises(PtzUnsupportedError, match=r"fixed-1.*no PTZ service"):
            cam.absolute_move(0.1, 0.1)
    finally:
        cam.close()
        fixed.stop()
