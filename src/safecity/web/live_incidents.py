"""Incident changes pushed to the console's ``/ws/live`` clients (the operator queue and its alarm).

:class:`IncidentFeed` is an incident listener of the event store (called by its writer thread after
each committed batch, and by the console after an operator action) and an event sink of the runtime
(it notes when the runtime published each event). For every changed incident it sends one
``{"type": "incident", ...}`` message to the subscribers who may see the camera, with:

- ``incident``: the summary of ``GET /api/incidents`` (camera name included);
- ``published_at``: Unix seconds when the server sent the message;
- ``event_published_at``: Unix seconds when the runtime published the incident's newest event (None
  when it is unknown, e.g. events written by another process): the start of the alarm latency that
  the console measures (``alert reaching the console -> sound and flash``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select

from safecity.monitor.types import Event, EventKind
from safecity.store.incident_store import IncidentStore
from safecity.store.schema import events
from safecity.web.live import LiveHub

if TYPE_CHECKING:
    from safecity.web.deps import Console

__all__ = ["IncidentFeed", "attach_incident_feed", "incident_message"]

log = logging.getLogger(__name__)

_MAX_SEEN = 5000


def incident_message(
    incident: Mapping[str, Any], name: str | None, published_at: float, event_published_at: float | None
) -> dict[str, Any]:
    """The ``/ws/live`` message for one changed incident (times as ISO 8601 strings, like the REST API)."""
    summary = {k: v for k, v in incident.items() if k not in ("timeline", "actions", "suppressions")}
    for key, value in summary.items():
        if hasattr(value, "isoformat"):
            summary[key] = value.isoformat()
    summary["camera_name"] = name
    return {
        "type": "incident",
        "incident": summary,
        "published_at": published_at,
        "event_published_at": event_published_at,
    }


class IncidentFeed:
    """Incident listener + event sink that pushes incident summaries to the live hub.

    Args:
        hub: the console's live hub (fan-out to WebSocket clients by camera).
        engine: the store the incidents are read from.
        names: camera key -> display name (Hangul) or None.
        clock: Unix seconds.
    """

    def __init__(
        self,
        hub: LiveHub,
        engine: Engine,
        names: Callable[[str], str | None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._hub = hub
        self._store = IncidentStore(engine)
        self._engine = engine
        self._names = names
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, float] = OrderedDict()

    # ------------------------------------------------------------ EventSink (runtime threads)
    def publish(self, kind: EventKind, event: Event) -> None:
        """Note when the runtime published the event (first message only)."""
        with self._lock:
            if event.uid in self._seen:
                return
            self._seen[event.uid] = self._clock()
            while len(self._seen) > _MAX_SEEN:
                self._seen.popitem(last=False)

    def published_at(self, uid: str) -> float | None:
        """When the runtime published event ``uid`` (None if not seen or forgotten)."""
        with self._lock:
            return self._seen.get(uid)

    # ------------------------------------------------------------ incident listener
    def __call__(self, changed: list[int]) -> None:
        """Push one message per changed incident (called after the change was committed)."""
        if not self._hub.n_subscribers:
            return
        for incident_id in changed:
            try:
                inc = self._store.get_incident(incident_id, timeline_limit=0)
                if inc is None:
                    continue
                with self._engine.connect() as conn:
                    newest = conn.execute(
                        select(events.c.uid)
                        .where(events.c.incident_id == incident_id)
                        .order_by(events.c.id.desc())
                        .limit(1)
                    ).scalar()
                camera = str(inc["camera"])
                msg = incident_message(
                    inc,
                    self._names(camera),
                    self._clock(),
                    None if newest is None else self.published_at(str(newest)),
                )
                self._hub.broadcast(msg, camera)
            except Exception:  # one unreadable incident must not stop the others
                log.exception("could not push incident %s to the console", incident_id)


def attach_incident_feed(console: Console) -> IncidentFeed:
    """Make an :class:`IncidentFeed` for the console: the event store's incident listener and a sink of
    the monitoring runtime (if any). Camera names follow the live config (hot reload)."""
    services = console.services

    def name(key: str) -> str | None:
        cam = services.live_cameras.get(key)
        return cam.name if cam is not None else None

    feed = IncidentFeed(console.hub, services.engine, name, console.clock)
    services.events.incident_listeners.append(feed)
    if services.monitor is not None:
        services.monitor.add_sink(feed)
    return feed
