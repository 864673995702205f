from __future__ import annotations

import pytest

from safecity.errors import ConfigError, PtzUnknownPresetError
from safecity.monitor.config.model import MonitorConfig
from safecity.ptz.control import PtzControl

CONFIG = {
    "cameras": [
        {
            "id": "ptz-1",
            "name": "정문 PTZ",
            "source": "rtsp://10.0.0.7/s",
            "ptz": {
                "onvif": {"host": "10.0.0.7", "port": 8080, "user": "admin", "password_env": "PTZ1_PW"},
                "presets": [{"name": "gate", "token": "7"}, {"name": "road"}],
            },
        },
        {"id": "fixed-1", "source": "rtsp://10.0.0.8/s", "heading_deg": 90},
    ]
}


def test_from_config_builds_ptz_cameras_only_with_passwords_from_the_environment() -> None:
    control = PtzControl.from_config(MonitorConfig.model_validate(CONFIG), env={"PTZ1_PW": "pw"})
    assert list(control.units) == ["ptz-1"]
    unit = control.units["ptz-1"]
    assert unit.name == "정문 PTZ" and unit.camera.client.port == 8080
    assert unit.preset_token("gate") == "7"  # the configured token: no camera call
    with pytest.raises(
        PtzUnknownPresetError, match=r"'pier' is not configured for camera ptz-1; its presets: gate, road"
    ):
        unit.preset_token("pier")


def test_a_missing_password_variable_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"camera ptz-1: environment variable PTZ1_PW .* is not set"):
        PtzControl.from_config(MonitorConfig.model_validate(CONFIG), env={})
