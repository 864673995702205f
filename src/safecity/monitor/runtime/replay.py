"""Replay of one video file through the hub, in this thread: :func:`replay_clip` and :class:`InlineTransport`.

::

    FileSource ─► InlineTransport.step(item): CameraWorker.step in this thread, clock = the item's time
                      └─► MonitorHub.deliver (live events, health, sinks fed in this thread)
                  MonitorHub.select() once per second of video ─► layouts

Replay (``safecity replay``, the evaluation suite) uses the same worker and hub as the live runtime, so
the live-event, health and wall bookkeeping exists once. The clock is the video's: events keep
seconds from the file start, and the wall is chosen once per second of video. It runs as fast as
the file decodes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from safecity.monitor.config.model import CameraConfig, MonitorConfig
from safecity.monitor.pipeline import StepResult
from safecity.monitor.runtime.hub import MonitorHub
from safecity.monitor.runtime.transport import HubInbox
from safecity.monitor.runtime.worker import CameraWorker, RuntimeOptions
from safecity.monitor.types import Detections, Event, EventKind, EventSink, SourceGap, Tracks, WallLayout

if TYPE_CHECKING:
    from safecity.monitor.sources.gated import GatedSource
    from safecity.monitor.sources.readers import DecodedFrame
    from safecity.monitor.vision.base import Detector

__all__ = ["InlineTransport", "ReplayResult", "TrackWriter", "replay_clip"]


class TrackWriter(Protocol):
    """Receives the tracks of every frame (e.g. :class:`~safecity.monitor.evaluation.jsonl.MotWriter`)."""

    def write(self, frame: int, tracks: Tracks) -> None: ...


class InlineTransport:
    """One camera's :class:`CameraWorker` stepped in the calling thread, on the video's clock.

    Args:
        config: the config of the one camera (detector, tracker, motion, time zone).
        camera: the camera.
        detector: the detector (replay builds it once and may reuse it).
    """

    name = "inline"

    def __init__(self, config: MonitorConfig, camera: CameraConfig, detector: Detector) -> None:
        self.config = config
        self.camera = camera
        self.detector = detector
        self.now = 0.0
        self.source: GatedSource | None = None  # the gated source items come from (set before start)
        self._worker: CameraWorker | None = None

    def clock(self) -> float:
        """The time of the item being stepped (seconds from the file start)."""
        return self.now

    def start(self, inbox: HubInbox) -> None:
        self._worker = CameraWorker(
            self.config,
            [self.camera],
            RuntimeOptions(),
            inbox.deliver,
            detector=self.detector,
            clock=self.clock,
        )
        self._worker.open(self.camera.id, self.source)

    def step(self, item: DecodedFrame | SourceGap, *, watch: bool = False) -> StepResult:
        """Run one item through the camera's pipeline; its messages reach the hub before this returns
        (``watch``: a gated source's watch-mode keyframe, health checks only)."""
        if self._worker is None:
            raise RuntimeError("InlineTransport.step before start(): start the hub first")
        self.now = float(item.t_s)
        return self._worker.step(self.camera.id, item, watch=watch)

    def finish(self) -> None:
        """End the camera's live events (the end of the file)."""
        if self._worker is not None:
            self._worker.finish(self.camera.id)

    def want_tiles(self, cameras: frozenset[str]) -> None:
        """Replay makes no tiles."""

    def placement(self) -> Mapping[str, str]:
        return {self.camera.id: "inline"}

    def stop(self, timeout_s: float) -> None:
        """Nothing to wait for: every message was delivered in :meth:`step`."""


@dataclass(slots=True)
class ReplayResult:
    """Everything a replay produced (events in their final state, tracks and detections per frame)."""

    camera: str
    events: list[Event]
    tracks: dict[int, Tracks]  # frame -> Tracks
    detections: dict[int, Detections]  # frame -> Detections (frames where the detector ran)
    layouts: list[WallLayout]
    counters: dict[str, int]
    frame_wh: tuple[int, int]
    duration_s: float
    wall_s: float
    gate: dict[str, Any] = field(default_factory=dict)  # the source's gate status at the end


class _FinalEvents:
    """A sink keeping the last message of every event (its final state)."""

    def __init__(self) -> None:
        self.events: dict[str, Event] = {}

    def publish(self, kind: EventKind, event: Event) -> None:
        self.events[event.uid] = event


def replay_clip(
    camera: CameraConfig,
    clip: str | Path,
    detector: Detector,
    *,
    detect_fps: float | None = 5.0,
    config: MonitorConfig | None = None,
    sinks: Sequence[EventSink] = (),
    mot_out: TrackWriter | None = None,
    on_frame: Callable[[DecodedFrame, StepResult, list[Event]], None] | None = None,
    progress: Callable[[float], None] | None = None,
    gate: bool = False,
) -> ReplayResult:
    """Run one camera's pipeline over a video file as fast as it decodes, through a :class:`MonitorHub`.

    Args:
        camera: the ``CameraConfig`` (its zones, lines, rules; its ``source`` is ignored).
        clip: the video file.
        detector: the detector.
        detect_fps: frames per second analysed (None = every frame).
        config: the ``MonitorConfig`` (tracker, motion and selection settings), optional; without
            it no wall is chosen (``layouts`` is empty).
        sinks: receive every event message (start/update/end) in order, in this thread.
        mot_out: receives the tracks of every frame (e.g. a ``MotWriter``), optional.
        on_frame: called with ``(decoded frame, step result, live events)`` for every frame
            (e.g. to write an annotated video).
        progress: called with the clip time of each frame.
        gate: read the clip through the compressed-domain gate as the live worker does (the
            camera's ``gate`` settings; ``gate.mode: decode`` decodes every frame anyway); the
            gate's status is in ``ReplayResult.gate``. False: decode every frame.
    """
    from safecity.monitor.sources.camera import gate_status, marked_items
    from safecity.monitor.sources.gated import GatedSource
    from safecity.monitor.sources.readers import FileSource

    cam = camera if camera.enabled else camera.model_copy(update={"enabled": True})
    base = config if config is not None else MonitorConfig(cameras=[cam])
    one = base.model_copy(update={"cameras": [cam]})
    transport = InlineTransport(one, cam, detector)
    final = _FinalEvents()
    hub = MonitorHub(one, transport, sinks=[final, *sinks], select_every_s=None, clock=transport.clock,
                     sink_threads=False)  # fmt: skip
    src: FileSource | GatedSource
    if gate and cam.gate.mode == "auto":
        src = transport.source = GatedSource(
            clip, camera=cam.id, detect_fps=detect_fps, max_height=cam.max_height, gate=cam.gate.settings()
        )
    else:
        src = FileSource(clip, camera=cam.id, detect_fps=detect_fps, max_height=cam.max_height)
    tracks: dict[int, Tracks] = {}
    dets: dict[int, Detections] = {}
    layouts: list[WallLayout] = []
    next_select = 0.0
    t_last = 0.0
    wh = (0, 0)
    t0 = time.perf_counter()
    hub.start()
    try:
        for item, watch in marked_items(src):
            res = transport.step(item, watch=watch)
            t_last = res.t_s
            if res.frame_index is not None and not isinstance(item, SourceGap):
                wh = res.frame_wh
                tracks[res.frame_index] = res.tracks
                if res.detections is not None:
                    dets[res.frame_index] = res.detections
                if mot_out is not None:
                    mot_out.write(res.frame_index, res.tracks)
                if on_frame is not None:
                    on_frame(item, res, hub.live_events())
            if config is not None and res.t_s >= next_select:
                layouts.append(hub.select())
                next_select = res.t_s + 1.0
            if progress is not None:
                progress(res.t_s)
        transport.finish()
    finally:
        src.close()
        hub.stop()
    return ReplayResult(
        camera=cam.id,
        events=sorted(final.events.values(), key=lambda e: e.start_s),
        tracks=tracks,
        detections=dets,
        layouts=layouts,
        counters=hub.stats()["cameras"].get(cam.id, {}),
        frame_wh=wh,
        duration_s=t_last,
        wall_s=time.perf_counter() - t0,
        gate=gate_status(transport.source, cam),
    )
