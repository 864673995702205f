"""Hot-path values of the monitoring pipeline: frozen, slotted dataclasses of numpy arrays.

Coordinates of boxes are pixels of the frame they came from (``xyxy_px``) unless the name says
``_frac`` (fractions of width/height, 0..1, origin top-left). Times are seconds (``t_s``): seconds
from the start of a file in replay, Unix wall-clock seconds live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from safecity.health import HealthState

__all__ = [
    "COCO_CLASSES",
    "CameraScore",
    "Detections",
    "EVENT_TYPES",
    "Event",
    "EventKind",
    "EventSink",
    "EventType",
    "Frame",
    "HealthState",
    "MonitorService",
    "SourceGap",
    "Tracks",
    "WallLayout",
    "WallTile",
]

EventType = Literal[
    "intrusion",
    "line_crossing",
    "loitering",
    "crowding",
    "fall",
    "abandoned_object",
    "camera_offline",
    "camera_frozen",
    "camera_covered",
    "camera_blurred",
    "camera_moved",
]
EVENT_TYPES: tuple[EventType, ...] = (
    "intrusion",
    "line_crossing",
    "loitering",
    "crowding",
    "fall",
    "abandoned_object",
    "camera_offline",
    "camera_frozen",
    "camera_covered",
    "camera_blurred",
    "camera_moved",
)
COCO_CLASSES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip
"""The 80 COCO class names the bundled detectors report."""

EventKind = Literal["start", "update", "end"]

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]


def _check_rows(name: str, arr: npt.NDArray[np.generic], n: int, cols: int | None = None) -> None:
    if arr.shape[0] != n or (cols is not None and (arr.ndim != 2 or arr.shape[1] != cols)):
        want = f"({n}, {cols})" if cols is not None else f"({n},)"
        raise ValueError(f"{name} must have shape {want}, but got shape {arr.shape}")


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded picture. ``gray`` is the Y plane (always there); ``bgr`` only when asked for."""

    camera: str
    t_s: float
    index: int  # 1-based frame number in the source (for MOT output); not a clock
    width: int
    height: int
    gray: U8
    bgr: U8 | None = None


@dataclass(frozen=True, slots=True)
class Detections:
    """Detector output for one frame: n boxes in pixels, confidences and class names."""

    xyxy_px: F32
    confidence: F32
    class_name: npt.NDArray[np.str_]

    def __post_init__(self) -> None:
        n = self.xyxy_px.shape[0]
        _check_rows("xyxy_px", self.xyxy_px, n, 4)
        _check_rows("confidence", self.confidence, n)
        _check_rows("class_name", self.class_name, n)

    def __len__(self) -> int:
        return int(self.xyxy_px.shape[0])

    def __getitem__(self, mask: npt.NDArray[np.bool_] | I64) -> Detections:
        return Detections(self.xyxy_px[mask], self.confidence[mask], self.class_name[mask])

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, dtype="<U16"))


@dataclass(frozen=True, slots=True)
class Tracks:
    """Confirmed tracks alive at time ``t_s``: ids are never reused within a tracker's life."""

    t_s: float
    track_id: I64
    xyxy_px: F32
    confidence: F32
    class_name: npt.NDArray[np.str_]
    first_seen_s: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        n = self.track_id.shape[0]
        _check_rows("xyxy_px", self.xyxy_px, n, 4)
        _check_rows("confidence", self.confidence, n)
        _check_rows("class_name", self.class_name, n)
        _check_rows("first_seen_s", self.first_seen_s, n)

    def __len__(self) -> int:
        return int(self.track_id.shape[0])

    def __getitem__(self, mask: npt.NDArray[np.bool_] | I64) -> Tracks:
        return Tracks(
            self.t_s,
            self.track_id[mask],
            self.xyxy_px[mask],
            self.confidence[mask],
            self.class_name[mask],
            self.first_seen_s[mask],
        )

    @classmethod
    def empty(cls, t_s: float) -> Tracks:
        return cls(
            t_s,
            np.zeros(0, np.int64),
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, dtype="<U16"),
            np.zeros(0, np.float64),
        )


@dataclass(frozen=True, slots=True)
class Event:
    """A rule's finding. ``uid`` is stable across its start/update/end messages."""

    uid: str
    type: EventType
    camera: str
    start_s: float
    last_s: float
    end_s: float | None = None  # None while the event is live
    severity: int = 2  # 1 info, 2 low, 3 medium, 4 high, 5 critical
    zone: str | None = None  # zone or line name
    track_ids: tuple[int, ...] = ()
    object_class: str | None = None
    direction: str | None = None  # line crossings: "a_to_b" or "b_to_a"
    count: int = 0  # objects involved (crowding count)
    box_frac: tuple[float, float, float, float] | None = None  # snapshot box, fractions of the frame
    detail: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return self.end_s is None


@dataclass(frozen=True, slots=True)
class SourceGap:
    """A live source is down: yielded on every failed (re)connect or read.

    Attributes:
        camera: camera id.
        t_s: Unix time of this retry.
        reason: what failed, for the operator ("open timed out after 5.0 s", ...).
        down_since_s: Unix time the outage began (the same for every gap of one outage).
    """

    camera: str
    t_s: float
    reason: str
    down_since_s: float


class EventSink(Protocol):
    """Anything that receives event messages (store writer, alert sinks, the console's live queue)."""

    def publish(self, kind: EventKind, event: Event) -> None: ...


@dataclass(frozen=True, slots=True)
class CameraScore:
    """How much a camera deserves the wall right now, and why (one line per contribution)."""

    camera: str
    t_s: float
    score: float
    reasons: tuple[str, ...] = ()
    pinned: bool = False  # an unacknowledged severe event pins the camera


@dataclass(frozen=True, slots=True)
class WallTile:
    camera: str
    score: float
    reason: str  # human text: "intrusion in zone 'gate', 2 persons, 14 s"
    severity: int
    pinned: bool
    since_s: float  # when this camera went on the wall
    event_uids: tuple[str, ...] = ()
    slot: int = -1  # fixed place on the wall (0 .. max_tiles-1) while the camera stays; -1 = none
    pinned_by: str = ""  # who pinned the camera to its slot ("" = chosen by the selector)


@dataclass(frozen=True, slots=True)
class WallLayout:
    t_s: float
    tiles: tuple[WallTile, ...]


class MonitorService(Protocol):
    """What the console needs from a running monitoring runtime."""

    def cameras(self) -> list[str]: ...

    def wall(self) -> WallLayout: ...

    def health(self) -> dict[str, HealthState]: ...

    def latest_frame(self, camera: str) -> U8 | None:
        """Newest BGR frame of the camera (for live tiles), or None if none yet."""
        ...

    def acknowledge(self, event_uid: str) -> None:
        """Tell the selector the operator acknowledged the event (unpins its camera)."""
        ...

    def add_sink(self, sink: EventSink) -> None: ...
