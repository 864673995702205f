"""The object detector of a camera (``detector:`` at the top level or per camera) and its classes.

``type`` picks the model family (``nanodet``, the default; ``ssd``; ``onnx-yolo`` with your own
export; ``cascade`` = a cheap first pass confirmed by a second model), ``precision`` picks the
bundled NanoDet's int8 or float model.

Example:
    >>> DetectorConfig().kind, DetectorConfig().precision
    ('nanodet', 'int8')
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from safecity.monitor.config.problems import ClassName

__all__ = [
    "BAG_CLASSES",
    "CascadeStageConfig",
    "DEFAULT_DETECT_CLASSES",
    "DETECTOR_KINDS",
    "DetectorConfig",
]

_FROZEN = ConfigDict(extra="forbid", frozen=True)


BAG_CLASSES: tuple[str, ...] = ("backpack", "handbag", "suitcase")
DEFAULT_DETECT_CLASSES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "bus", "truck", *BAG_CLASSES,
)  # fmt: skip


DETECTOR_KINDS: dict[str, str] = {
    "nanodet": "nanodet",
    "ssd": "ssd",
    "onnx-yolo": "yolo",
    "cascade": "cascade",
}
"""Config ``type`` -> ``safecity.monitor.vision.detect.load_detector`` kind (the one place they meet)."""


def _yolo_needs_model(type_: str, model: Path | None) -> None:
    if type_ == "onnx-yolo" and model is None:
        raise PydanticCustomError(
            "model_required", "type onnx-yolo has no bundled model: set `model` to your ONNX export"
        )


class CascadeStageConfig(BaseModel):
    """One stage of a `cascade` detector (threads and classes come from the detector)."""

    model_config = _FROZEN

    type: Literal["nanodet", "ssd", "onnx-yolo"] = Field(description="Model family of this stage.")
    model: Path | None = Field(default=None, description="ONNX file; none = the bundled model of `type`.")
    conf: float = Field(gt=0.0, lt=1.0, description="Minimum detection confidence of this stage.")

    @property
    def kind(self) -> str:
        """The ``load_detector`` kind of this stage's ``type``."""
        return DETECTOR_KINDS[self.type]

    @model_validator(mode="after")
    def _model_given(self) -> CascadeStageConfig:
        _yolo_needs_model(self.type, self.model)
        return self


class DetectorConfig(BaseModel):
    """Object detector (top level: every camera's; a camera's own `detector` overrides it)."""

    model_config = _FROZEN

    type: Literal["nanodet", "ssd", "onnx-yolo", "cascade"] = Field(
        default="nanodet",
        description="Model family; `cascade` = `first_pass` everywhere, `confirm` re-checks its boxes.",
    )
    model: Path | None = Field(default=None, description="ONNX file; none = the bundled model of `type`.")
    conf: float = Field(
        default=0.2, gt=0.0, lt=1.0,
        description="Minimum detection confidence; weaker boxes than the tracker's `new_track_thresh` only "
        "continue tracks (NanoDet scores a person lying on the floor 0.2-0.35).",
    )  # fmt: skip
    precision: Literal["int8", "fp32"] = Field(
        default="int8",
        description="`nanodet` with the bundled model only: `int8` = the quantised model at the picture's "
        "aspect (416 x 256 for 16:9; models/nanodet-m-416-coco/SOURCE.md), `fp32` = the float model at "
        "416 x 416.",
    )
    nms_iou: float = Field(default=0.6, gt=0.0, lt=1.0, description="IoU above which boxes are merged.")
    threads: int = Field(default=1, ge=1, le=64, description="onnxruntime intra-op threads.")
    classes: list[ClassName] = Field(
        default_factory=lambda: list(DEFAULT_DETECT_CLASSES), min_length=1, description="Classes kept."
    )
    pose: bool = Field(default=False, description="Run the bundled MoveNet on people to confirm falls.")
    first_pass: CascadeStageConfig = Field(
        default_factory=lambda: CascadeStageConfig(type="ssd", conf=0.4),
        description="`cascade` only: the cheap detector run on every motion region.",
    )
    confirm: CascadeStageConfig = Field(
        default_factory=lambda: CascadeStageConfig(type="nanodet", conf=0.35),
        description="`cascade` only: the detector that confirms the first pass.",
    )
    confirm_when: Literal["any", "in_zones"] = Field(
        default="any",
        description="`cascade` only: confirm every first-pass box, or only boxes inside a zone.",
    )

    @property
    def kind(self) -> str:
        """The ``load_detector`` kind of ``type`` (``onnx-yolo`` -> ``yolo``)."""
        return DETECTOR_KINDS[self.type]

    @model_validator(mode="after")
    def _yolo_needs_model(self) -> DetectorConfig:
        _yolo_needs_model(self.type, self.model)
        return self
