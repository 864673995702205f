"""Live side of the console: the event fan-out to WebSocket clients, wall JSON and MJPEG frames.

:class:`LiveHub` is an :class:`~safecity.monitor.types.EventSink` registered with the monitoring
runtime. ``publish`` is called from the runtime's threads and never blocks them: it records the
event and hands the message to the event loop with ``call_soon_threadsafe``; each WebSocket client
has a bounded queue, and a slow client loses its oldest messages instead of slowing anyone down.

Live JPEGs are encoded from the newest frame the runtime holds, at most once per frame and camera
however many browsers watch it, in a worker thread (never in the runtime's threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from safecity.monitor.geometry import points_in_polygon
from safecity.monitor.types import Event, EventKind, MonitorService, WallLayout

__all__ = [
    "JpegCache",
    "LiveHub",
    "Subscriber",
    "encode_jpeg",
    "event_json",
    "overlay_json",
    "wall_json",
]

log = logging.getLogger(__name__)

U8 = npt.NDArray[np.uint8]
Polygon = Sequence[tuple[float, float]]
_MAX_LIVE = 2000


def event_json(event: Event) -> dict[str, Any]:
    """An Event as JSON for the live queue (times in the runtime's seconds)."""
    return {
        "uid": event.uid,
        "type": event.type,
        "camera": event.camera,
        "start_s": event.start_s,
        "last_s": event.last_s,
        "end_s": event.end_s,
        "severity": event.severity,
        "zone": event.zone,
        "object_class": event.object_class,
        "direction": event.direction,
        "count": event.count,
        "track_ids": list(event.track_ids),
        "box_frac": list(event.box_frac) if event.box_frac else None,
        "live": event.live,
    }


@dataclass(eq=False)
class Subscriber:
    """One WebSocket client: its queue and the cameras it may see (None = all)."""

    allowed: frozenset[str] | None
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(maxsize=200))
    dropped: int = 0

    def offer(self, msg: dict[str, Any]) -> None:
        """Queue ``msg``; when full, drop the oldest message (the client is too slow)."""
        while True:
            try:
                self.queue.put_nowait(msg)
                return
            except asyncio.QueueFull:
                try:
                    self.queue.get_nowait()
                    self.dropped += 1
                except asyncio.QueueEmpty:  # pragma: no cover - another task emptied it
                    pass

    def sees(self, camera: str) -> bool:
        return self.allowed is None or camera in self.allowed


def wall_json(
    layout: WallLayout,
    live: Mapping[str, Event],
    allowed: Collection[str] | None,
    acked: Collection[str] = (),
    *,
    names: Mapping[str, str] | None = None,
    alert: Callable[[Event], bool] | None = None,
) -> dict[str, Any]:
    """The wall for one user: only cameras in ``allowed`` (None = all), with the events behind each tile.

    ``on_wall_s`` is how long the camera has been on the wall, from the runtime's own clock; ``slot``
    its fixed place (kept while it stays), ``name`` the camera's human (Hangul) name from ``names``;
    ``alert`` is true when an event behind the tile is not yet handled and ``alert(event)`` says its
    policy level is alert (the console pulses such tiles like pinned ones).
    """
    tiles = []
    for tile in layout.tiles:
        if allowed is not None and tile.camera not in allowed:
            continue
        events: list[dict[str, Any]] = []
        alerting = False
        for uid in tile.event_uids:
            ev = live.get(uid)
            if ev is None:
                events.append({"uid": uid})
                continue
            alerting = alerting or (alert is not None and uid not in acked and alert(ev))
            events.append(
                {
                    "uid": uid,
                    "type": ev.type,
                    "zone": ev.zone,
                    "count": ev.count,
                    "severity": ev.severity,
                    "age_s": round(max(0.0, (ev.end_s or ev.last_s) - ev.start_s), 1),
                    "live": ev.live,
                    "acknowledged": uid in acked,
                }
            )
        tiles.append(
            {
                "camera": tile.camera,
                "name": (names or {}).get(tile.camera) or tile.camera,
                "slot": tile.slot,
                "pinned_by": tile.pinned_by,
                "alert": alerting,
                "reason": tile.reason,
                "severity": tile.severity,
                "pinned": tile.pinned,
                "score": round(tile.score, 3),
                "since_s": tile.since_s,
                "on_wall_s": round(max(0.0, layout.t_s - tile.since_s), 1),
                "event_uids": list(tile.event_uids),
                "events": events,
                "mjpeg": f"/api/cameras/{tile.camera}/mjpeg",
            }
        )
    return {"t_s": layout.t_s, "tiles": tiles}


def overlay_json(camera: Any, events: Sequence[Event], masks: Sequence[Polygon] = ()) -> dict[str, Any]:
    """What the console may draw over a camera's tile: its zones and lines (from ``camera``, a
    ``CameraConfig``) and the boxes of its live events, in frame fractions.

    Boxes whose centre lies inside a privacy mask in force for this viewer (``masks``) are left out:
    a box must not tell what the mask hides.
    """
    boxes = []
    for ev in events:
        if ev.end_s is not None or not ev.box_frac or ev.type.startswith("camera_"):
            continue
        x1, y1, x2, y2 = (float(v) for v in ev.box_frac)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        if any(points_in_polygon([(cx, cy)], m)[0] for m in masks):
            continue
        boxes.append(
            {
                "box": [round(v, 4) for v in (x1, y1, x2, y2)],
                "class": ev.object_class,
                "type": ev.type,
                "severity": ev.severity,
                "uid": ev.uid,
            }
        )
    zones = [{"name": z.name, "polygon": [list(p) for p in z.polygon]} for z in getattr(camera, "zones", [])]
    lines = [
        {"name": ln.name, "a": list(ln.a), "b": list(ln.b), "direction": ln.direction}
        for ln in getattr(camera, "lines", [])
    ]
    return {"zones": zones, "lines": lines, "boxes": boxes}


def encode_jpeg(bgr: U8, *, masks: Sequence[Polygon] = (), max_width: int = 640, quality: int = 75) -> bytes:
    """Privacy-mask, downscale to ``max_width`` and JPEG-encode a BGR frame."""
    import cv2

    from safecity.media import apply_privacy_masks

    img: Any = apply_privacy_masks(bgr, masks) if masks else bgr
    h, w = img.shape[:2]
    if w > max_width:
        img = cv2.resize(img, (max_width, max(1, round(h * max_width / w))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - cv2 fails only on invalid arrays
        raise ValueError(f"cannot JPEG-encode a frame of shape {bgr.shape}")
    return bytes(buf.tobytes())


class JpegCache:
    """Newest privacy-masked JPEG per camera, re-encoded only when the runtime has a new picture.

    A runtime that already keeps JPEG tiles (``latest_jpeg(camera) -> bytes | None``, as
    :class:`safecity.monitor.runtime.local.MonitorRuntime` does) is used as is for cameras without
    privacy masks; masked cameras are decoded, masked and encoded once per new tile.
    """

    def __init__(
        self,
        monitor: MonitorService,
        masks: Mapping[str, Sequence[Polygon]],
        liftable: Mapping[str, Sequence[Polygon]] | None = None,
    ) -> None:
        self._monitor = monitor
        self._masks = masks
        self._liftable = liftable if liftable is not None else {}
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, bool], tuple[object, bytes]] = {}
        latest_jpeg = getattr(monitor, "latest_jpeg", None)
        self._latest_jpeg: Callable[[str], bytes | None] | None = (
            latest_jpeg if callable(latest_jpeg) else None
        )

    def _cached(self, camera: tuple[str, bool], source: object) -> bytes | None:
        with self._lock:
            hit = self._cache.get(camera)
        return hit[1] if hit is not None and hit[0] is source else None

    def _store(self, camera: tuple[str, bool], source: object, jpg: bytes) -> bytes:
        with self._lock:
            self._cache[camera] = (source, jpg)
        return jpg

    def latest(self, camera: str, *, lifted: bool = False) -> bytes | None:
        """JPEG of the camera's newest picture (None before its first one); call from a worker thread.

        Every mask is applied, the camera's liftable masks too unless ``lifted`` (the caller checked
        that this user holds an active lift of this camera: :class:`safecity.store.mask_lifts.MaskLifts`).
        """
        masks = [*self._masks.get(camera, ()), *(() if lifted else self._liftable.get(camera, ()))]
        key = (camera, lifted)
        if self._latest_jpeg is not None:
            raw = self._latest_jpeg(camera)
            if raw is None or not masks:
                return raw
            hit = self._cached(key, raw)
            if hit is not None:
                return hit
            import cv2

            bgr = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
            if bgr is None:
                return None
            return self._store(key, raw, encode_jpeg(np.asarray(bgr, np.uint8), masks=masks))
        frame = self._monitor.latest_frame(camera)
        if frame is None:
            return None
        hit = self._cached(key, frame)
        if hit is not None:
            return hit
        return self._store(key, frame, encode_jpeg(frame, masks=masks))


class LiveHub:
    """Event sink for the runtime and fan-out to the console's WebSocket clients.

    Args:
        clock: wall-clock seconds (used for the event-to-wall latency it keeps).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subs: set[Subscriber] = set()
        self._live: dict[str, Event] = {}
        self._published_at: dict[str, float] = {}
        self._on_wall: set[str] = set()
        self._handled: dict[str, str] = {}
        self.wall_latency_s: deque[float] = deque(maxlen=1000)
        self.last_wall: WallLayout | None = None

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._loop = loop

    # ------------------------------------------------------------ EventSink (runtime threads)
    def publish(self, kind: EventKind, event: Event) -> None:
        """Record the event and pass it to the event loop; never blocks the caller."""
        with self._lock:
            # ended events stay known (bounded) so the wall can still say what a pinned tile is about
            self._live.pop(event.uid, None)
            self._live[event.uid] = event
            self._published_at.setdefault(event.uid, self._clock())
            while len(self._live) > _MAX_LIVE:
                old = next(iter(self._live))
                self._live.pop(old)
                self._published_at.pop(old, None)
                self._on_wall.discard(old)
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        msg = {"type": "event", "kind": kind, "event": event_json(event)}
        with contextlib.suppress(RuntimeError):  # loop closed between the check and the call
            loop.call_soon_threadsafe(self._fanout, msg, event.camera)

    def note_state(self, uid: str, camera: str, state: str) -> None:
        """An operator changed an event's state (called from request threads)."""
        with self._lock:
            self._handled[uid] = state
            while len(self._handled) > _MAX_LIVE:
                self._handled.pop(next(iter(self._handled)))
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        msg = {"type": "state", "uid": uid, "camera": camera, "state": state}
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._fanout, msg, camera)

    def broadcast(self, msg: dict[str, Any], camera: str) -> None:
        """Send ``msg`` about ``camera`` to the subscribers who may see it (from any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._fanout, msg, camera)

    def handled(self) -> frozenset[str]:
        """Uids of events an operator acknowledged, escalated or closed (recently)."""
        with self._lock:
            return frozenset(self._handled)

    def live_events(self) -> dict[str, Event]:
        """Recent events by uid (live ones and the last ended ones), oldest first."""
        with self._lock:
            return dict(self._live)

    # ------------------------------------------------------------ event loop side
    def subscribe(self, allowed: frozenset[str] | None) -> Subscriber:
        sub = Subscriber(allowed)
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subs.discard(sub)

    @property
    def n_subscribers(self) -> int:
        return len(self._subs)

    def _fanout(self, msg: dict[str, Any], camera: str) -> None:
        for sub in list(self._subs):
            if sub.sees(camera):
                sub.offer(msg)

    def note_wall(self, layout: WallLayout) -> None:
        """Remember the newest wall and the time from each event's publication to its first tile."""
        now = self._clock()
        with self._lock:
            self.last_wall = layout
            for tile in layout.tiles:
                for uid in tile.event_uids:
                    if uid in self._on_wall:
                        continue
                    self._on_wall.add(uid)
                    t0 = self._published_at.get(uid)
                    if t0 is not None:
                        self.wall_latency_s.append(now - t0)

    def push_wall(self, build: Callable[[Subscriber], dict[str, Any]]) -> None:
        """Send each subscriber its own view of the wall (built by ``build``)."""
        for sub in list(self._subs):
            sub.offer({"type": "wall", "wall": build(sub)})
