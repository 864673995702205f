"""Typed messages between camera workers and the hub (picklable, small; frames never travel).

Worker -> hub: :class:`EventMsg`, :class:`HealthMsg`, :class:`StatsMsg`, :class:`FailureMsg`,
:class:`EndedMsg` (the :data:`WorkerMessage` union) on the ordered event path, and :class:`TileMsg` on the
lossy tile path (newest wins). Hub -> worker: :class:`TileWish` (which cameras should send tiles).

Example:
    >>> from safecity.monitor.types import Event
    >>> m = EventMsg("start", Event("u1", "intrusion", "cam1", 10.0, 10.0), emitted_s=10.2)
    >>> m.camera
    'cam1'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from safecity.health import HealthState
from safecity.monitor.types import Event, EventKind
from safecity.search.records import TrackRecord

__all__ = [
    "ArmAnalytics",
    "EndedMsg",
    "EventMsg",
    "FailureMsg",
    "HealthMsg",
    "StatsMsg",
    "TileMsg",
    "TileWish",
    "TracksMsg",
    "WorkerMessage",
]


@dataclass(frozen=True, slots=True)
class EventMsg:
    """An event message (start/update/end) of one camera; ``emitted_s`` is the worker's wall clock."""

    kind: EventKind
    event: Event
    emitted_s: float

    @property
    def camera(self) -> str:
        return self.event.camera


@dataclass(frozen=True, slots=True)
class HealthMsg:
    """A camera's health changed."""

    camera: str
    state: HealthState


@dataclass(frozen=True, slots=True)
class StatsMsg:
    """A camera's pipeline counters (about once a second), the tiles its worker dropped and its
    source's compressed-domain gate status (``gate_mode``, ``fallback_reason``, ``state`` ...;
    :func:`safecity.monitor.sources.camera.gate_status`)."""

    camera: str
    counters: Mapping[str, int] = field(default_factory=dict)
    tiles_dropped: int = 0
    gate: Mapping[str, object] | None = None


@dataclass(frozen=True, slots=True)
class FailureMsg:
    """A camera cannot run or failed (its worker restarts it with back-off); ``reason`` is for people."""

    camera: str
    reason: str


@dataclass(frozen=True, slots=True)
class EndedMsg:
    """A camera's source ended (a file camera without ``loop``)."""

    camera: str
    reason: str


@dataclass(frozen=True, slots=True)
class TileMsg:
    """The newest small JPEG of a camera that is on the wall or was asked for."""

    camera: str
    t_s: float
    jpeg: bytes


@dataclass(frozen=True, slots=True)
class ArmAnalytics:
    """Hub -> worker (PTZ): ``preset`` None pauses the camera's motion gate and rules (it moves or is
    steered); a preset arms them with that preset's rules after re-calibration; ``wait_still``: the
    camera reports no move status, so the picture must be still first (:mod:`safecity.ptz.arming`)."""

    camera: str
    preset: str | None
    wait_still: bool = False


@dataclass(frozen=True, slots=True)
class TileWish:
    """Hub -> worker: the cameras (of that worker) that should send tiles now."""

    cameras: frozenset[str]


@dataclass(frozen=True, slots=True)
class TracksMsg:
    """Records of a camera's ended tracks for the track index (issue 14; workers with ``record_tracks``)."""

    camera: str
    records: tuple[TrackRecord, ...]


WorkerMessage = EventMsg | HealthMsg | StatsMsg | FailureMsg | EndedMsg | TracksMsg
"""Everything on the ordered worker -> hub path."""
