"""Label files for evaluation: a clip, the monitoring config used, and its true events or MOT boxes.

A label file (``tests/data/labels/<clip>.yaml``) looks like::

    clip: ../../../data/video/intel-sample-videos/car-detection.mp4   # relative to this file
    config: car-detection.cameras.yaml      # monitoring config with the zones/lines (fractions)
    camera: car-lot                          # camera id in that config (default: its first camera)
    detect_fps: 12.5                         # optional: analyse at this rate (default: the camera's)
    method: "watched 2 fps contact sheets with a 10 % grid ..."
    events:
      - {type: line_crossing, line: mid, start_s: 6.8, end_s: 6.8, direction: b_to_a, class: car}
    gt_mot: null                             # or a MOT gt.txt: true events come from these boxes

Paths may use ``$SAFECITY_SHARED`` (default: the ``shared/`` folder next to the checkout) and are
read relative to the label file. Times are seconds from the start of the clip.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from safecity.monitor.types import Event, EventType
from safecity.yamlconf import load_model

__all__ = ["LabelEvent", "LabelFile", "Labels", "find_label_files", "load_labels", "shared_dir"]


def shared_dir() -> Path:
    """``$SAFECITY_SHARED`` or the ``shared/`` folder next to the checkout."""
    env = os.environ.get("SAFECITY_SHARED")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[4].parent / "shared"


class LabelEvent(BaseModel):
    """One true event as a person saw it in the clip."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: EventType = Field(description="Event type (intrusion, line_crossing, loitering, ...).")
    zone: str | None = Field(default=None, description="Zone name (zone events).")
    line: str | None = Field(default=None, description="Line name (line crossings).")
    start_s: float = Field(ge=0.0, description="Onset, seconds from the start of the clip.")
    end_s: float | None = Field(default=None, ge=0.0, description="End (seconds); none = instant.")
    direction: Literal["a_to_b", "b_to_a"] | None = Field(default=None, description="Crossing direction.")
    object_class: str | None = Field(default=None, alias="class", description="Object class.")
    note: str = Field(default="", description="What happens (for people reading the file).")

    @model_validator(mode="after")
    def _target(self) -> LabelEvent:
        if self.type == "line_crossing" and self.line is None:
            raise PydanticCustomError("line_required", "a line_crossing label needs `line`")
        if self.end_s is not None and self.end_s < self.start_s:
            raise PydanticCustomError("end_before_start", "end_s must not be before start_s")
        return self

    def to_event(self, camera: str, index: int) -> Event:
        """As an :class:`Event` of ``camera`` (uid ``label-<index>``)."""
        return Event(
            uid=f"label-{index}",
            type=self.type,
            camera=camera,
            start_s=self.start_s,
            last_s=self.end_s if self.end_s is not None else self.start_s,
            end_s=self.end_s if self.end_s is not None else self.start_s,
            zone=self.line if self.type == "line_crossing" else self.zone,
            object_class=self.object_class,
            direction=self.direction,
        )


class LabelFile(BaseModel):
    """The YAML document of a label file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clip: str = Field(description="Video file, relative to the label file ($SAFECITY_SHARED allowed).")
    config: str = Field(description="Monitoring config used (zones/lines), relative to the label file.")
    camera: str | None = Field(default=None, description="Camera id in the config (default: the first).")
    scene: str | None = Field(default=None, description="Name in reports (default: the file name).")
    detect_fps: float | None = Field(default=None, gt=0.0, le=60.0, description="Analysis rate override.")
    method: str = Field(default="", description="How the labels were made.")
    events: list[LabelEvent] = Field(default_factory=list, description="True events.")
    gt_mot: str | None = Field(
        default=None, description="MOT gt.txt (boxes) instead of/in addition to events."
    )
    fps: float | None = Field(
        default=None, gt=0.0, description="Frame rate of gt_mot frames (default: clip's)."
    )
    event_types: list[EventType] | None = Field(
        default=None, description="Types scored on this clip (default: the types of its rules)."
    )


class Labels:
    """A loaded label file with its paths resolved."""

    def __init__(self, path: Path, doc: LabelFile) -> None:
        self.path = path
        self.doc = doc
        base = path.parent
        self.clip = _resolve(doc.clip, base)
        self.config_path = _resolve(doc.config, base)
        self.gt_mot = _resolve(doc.gt_mot, base) if doc.gt_mot else None
        self.scene = doc.scene or path.stem

    def truth_events(self, camera: str) -> list[Event]:
        return [e.to_event(camera, i) for i, e in enumerate(self.doc.events)]


def _resolve(p: str, base: Path) -> Path:
    text = p.replace("$SAFECITY_SHARED", str(shared_dir())).replace("${SAFECITY_SHARED}", str(shared_dir()))
    path = Path(os.path.expanduser(text))
    return path if path.is_absolute() else (base / path).resolve()


def load_labels(path: str | Path) -> Labels:
    """Load and validate a label file (errors name file, line and key, as config errors do)."""
    p = Path(path)
    return Labels(p.resolve(), load_model(LabelFile, p))


def find_label_files(folder: str | Path) -> list[Path]:
    """``*.yaml`` label files of a folder (configs named ``*.cameras.yaml`` are skipped), sorted."""
    d = Path(folder)
    return sorted(f for f in d.glob("*.yaml") if not f.name.endswith(".cameras.yaml"))
