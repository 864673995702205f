"""Engine-cost settings of a camera: the compressed-domain gate and detection on demand.

``cameras[].gate`` (:class:`GateConfig`) decides whether the camera is decoded only while its
packet sizes say something moves (``mode: auto``, the default: the gate with its fallbacks, see
:mod:`safecity.monitor.sources.gated`) or every frame (``mode: decode``, the path before issue 9).

``cameras[].detection`` (:class:`DetectionConfig`) decides where the detector runs on an analysed
frame: on every motion region and every live track (``mode: motion``, today's path) or only where
motion is not explained by confirmed tracks, with tracked objects re-verified at an interval and
carried between detections by their motion and a Kalman prediction (``mode: on_demand``, see
:mod:`safecity.monitor.vision.regions`).

Example:
    >>> GateConfig().settings().health_every_s
    5.0
    >>> DetectionConfig(mode="on_demand").reverify_s
    0.4
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

if TYPE_CHECKING:
    from safecity.monitor.sources.gate import GateConfig as GateSettings

__all__ = ["DetectionConfig", "GateConfig"]

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class GateConfig(BaseModel):
    """Compressed-domain gate of a camera (decode only while packet sizes say something moves)."""

    model_config = _FROZEN

    mode: Literal["auto", "decode"] = Field(
        default="auto",
        description="`auto`: judge activity from packet sizes and decode only while active (falls back "
        "to decoding every frame on streams where sizes mean nothing: constant bitrate, all-intra, "
        "long GOPs, corrupt packets, a resolution change; the reason shows in the camera's status); "
        "`decode`: decode every frame.",
    )
    learn_s: float = Field(
        default=4.0, gt=0.0, le=600.0, description="Seconds after a start in which every frame is decoded."
    )
    quiet_s: float = Field(
        default=5.0, gt=0.0, le=600.0, description="Quiet this long (and no live track) = back to watch mode."
    )
    health_every_s: float = Field(
        default=5.0,
        gt=0.0,
        le=600.0,
        description="Watch mode: a keyframe is decoded this often (health).",
    )
    k_on: float = Field(
        default=6.0, gt=0.0, le=100.0, description="Trigger margin in sigmas of the floor ..."
    )
    rel_on: float = Field(default=0.5, ge=0.0, le=100.0, description="... or as a multiple of the floor ...")
    min_on_bps: float = Field(
        default=2000.0, ge=0.0, le=1e8, description="... or in bytes per second, whichever is largest."
    )
    max_buffer_mb: float = Field(
        default=16.0, ge=0.0625, le=1024.0, description="Memory for the packets since the last keyframe."
    )
    hold_s: float = Field(
        default=5.0,
        ge=0.0,
        le=600.0,
        description="The gate stays active this long after the last frame with live tracks or open events.",
    )

    def settings(self) -> GateSettings:
        """The :class:`safecity.monitor.sources.gate.GateConfig` of these settings."""
        from safecity.monitor.sources.gate import GateConfig as GateSettings

        return GateSettings(
            learn_s=self.learn_s, quiet_s=self.quiet_s, health_every_s=self.health_every_s,
            k_on=self.k_on, rel_on=self.rel_on, min_on_bps=self.min_on_bps,
            max_buffer_bytes=round(self.max_buffer_mb * 1024 * 1024),
        )  # fmt: skip


class DetectionConfig(BaseModel):
    """Where the detector runs on an analysed frame."""

    model_config = _FROZEN

    mode: Literal["motion", "on_demand"] = Field(
        default="motion",
        description="`motion`: on every motion region and every live track, each analysed frame; "
        "`on_demand`: only on motion that confirmed tracks do not explain, plus each track every "
        "`reverify_s` (`stationary_reverify_s` when it stands still); tracks are carried in between "
        "by their motion and a Kalman prediction.",
    )
    reverify_s: float = Field(
        default=0.4,
        gt=0.0,
        le=30.0,
        description="`on_demand`: a moving object is re-detected this often.",
    )
    stationary_reverify_s: float = Field(
        default=1.0, gt=0.0, le=300.0, description="`on_demand`: ... and a stationary one this often."
    )
    stationary_speed: float = Field(
        default=0.1,
        ge=0.0,
        le=10.0,
        description="`on_demand`: below this speed (box heights per second) with no motion on it, an object "
        "is stationary.",
    )
    explained_share: float = Field(
        default=0.8,
        gt=0.0,
        le=1.0,
        description="`on_demand`: a motion region this much covered by tracked objects needs no detector.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> DetectionConfig:
        if self.stationary_reverify_s < self.reverify_s:
            raise PydanticCustomError(
                "bad_interval", "stationary_reverify_s must not be shorter than reverify_s"
            )
        return self
