"""Plain values of the PTZ package: positions, status, presets, profiles, device information.

Positions are in ONVIF's generic spaces, which nearly every PTZ camera supports: pan and tilt
-1..1 (the camera's whole range), zoom 0..1 (wide .. tele). Speeds are 0..1 of the camera's fastest.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DeviceInfo", "PtzPosition", "PtzPreset", "PtzProfile", "PtzStatus", "clamp_position"]


@dataclass(frozen=True, slots=True)
class PtzPosition:
    """Pan, tilt (-1..1) and zoom (0..1) in ONVIF generic position space."""

    pan: float
    tilt: float
    zoom: float


def clamp_position(pan: float, tilt: float, zoom: float) -> PtzPosition:
    """The position with each axis clamped to its range.

    >>> clamp_position(1.5, -2.0, 0.3)
    PtzPosition(pan=1.0, tilt=-1.0, zoom=0.3)
    """
    return PtzPosition(max(-1.0, min(1.0, pan)), max(-1.0, min(1.0, tilt)), max(0.0, min(1.0, zoom)))


@dataclass(frozen=True, slots=True)
class PtzStatus:
    """What ``GetStatus`` reported.

    Attributes:
        position: where the head is (None if the camera does not report it).
        pan_tilt_moving / zoom_moving: True while moving, None when the camera does not say.
        error: the camera's own error text, if any.
    """

    position: PtzPosition | None
    pan_tilt_moving: bool | None
    zoom_moving: bool | None
    error: str | None = None

    @property
    def moving(self) -> bool | None:
        """True if any axis moves, False if all are idle, None if the camera reports no move status."""
        states = [s for s in (self.pan_tilt_moving, self.zoom_moving) if s is not None]
        return any(states) if states else None


@dataclass(frozen=True, slots=True)
class PtzPreset:
    """A preset stored in the camera: its token (the camera's id), name and position (if reported)."""

    token: str
    name: str
    position: PtzPosition | None = None


@dataclass(frozen=True, slots=True)
class PtzProfile:
    """A media profile: token, name, video size and whether it carries a PTZ configuration."""

    token: str
    name: str
    width: int | None
    height: int | None
    ptz: bool


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """``GetDeviceInformation``: who made the camera and which firmware it runs."""

    manufacturer: str
    model: str
    firmware: str
    serial: str
