"""The debounced life of one event (:class:`Episode`) and restart-safe event uids (:class:`UidMaker`).

Shared by the object rules (:mod:`safecity.monitor.rules.objects`) and the camera-health monitor
(:mod:`safecity.monitor.rules.health`). Event uids are ``<camera>-<type>-<zone>-<start ms>-<run>-<n>``:
readable, and unique across processes, restarts and nodes because ``run`` is a random token drawn
when the maker is built.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass, replace
from typing import Any

from safecity.monitor.types import Event, EventKind, EventType

__all__ = ["Emission", "Episode", "MIN_CHANGE_UPDATE_S", "UID_MAX_LEN", "UidMaker"]

Emission = tuple[EventKind, Event]
MIN_CHANGE_UPDATE_S = 1.0  # updates for a changed set of objects come at most this often
_SLUG = re.compile(r"[^A-Za-z0-9_.\-]+")


UID_MAX_LEN = 64  # the store's events.uid column


class UidMaker:
    """Event uids ``<camera>-<type>-<zone>-<start ms>-<run>-<n>`` (safe as a file name, at most 64
    characters: a long camera/zone prefix is shortened, the unique tail never).

    ``run`` (default: 8 random hex digits from :mod:`secrets`) makes uids of different runs,
    processes and nodes differ; ``n`` counts this maker's events.

    >>> UidMaker("cam 1", "intrusion", "정문", run="ab12cd34")(12.5)
    'cam_1-intrusion-_-12500-ab12cd34-1'
    """

    def __init__(self, camera: str, type_: EventType, zone: str | None, *, run: str | None = None) -> None:
        self._prefix = f"{_SLUG.sub('_', camera)}-{type_}-{_SLUG.sub('_', zone or 'frame')}"
        self.run = _SLUG.sub("_", run) if run is not None else secrets.token_hex(4)
        self._n = 0

    def __call__(self, start_s: float) -> str:
        """The uid of an event starting at ``start_s``."""
        self._n += 1
        tail = f"-{round(start_s * 1000)}-{self.run}-{self._n}"
        return self._prefix[: max(1, UID_MAX_LEN - len(tail))] + tail


@dataclass(slots=True)
class Episode:
    """Debounced start / periodic update / delayed end of one event.

    ``step(t, cond, fields)`` starts an event once ``cond`` has held for ``min_s`` (its ``start_s`` is
    when the condition began), sends an update when the involved objects change (at most every
    ``MIN_CHANGE_UPDATE_S``, so a crowd with flickering ids does not flood the sinks) or every
    ``update_every_s``, and ends it once ``cond`` has been false for ``end_after_s`` (``end_s`` is when
    it turned false).
    """

    base: Event  # template: uid, start_s, last_s are replaced
    uid: UidMaker
    min_s: float
    end_after_s: float
    update_every_s: float
    cond_since: float | None = None
    false_since: float | None = None
    event: Event | None = None
    last_emit_s: float = -math.inf
    signature: tuple[Any, ...] = ()

    def step(self, t_s: float, cond: bool, fields: dict[str, Any] | None = None) -> list[Emission]:
        """Advance to ``t_s`` with the condition ``cond``; ``fields`` are Event fields of the objects."""
        fields = fields or {}
        sig = (fields.get("track_ids"), fields.get("count"), fields.get("direction"))
        if cond:
            self.false_since = None
            if self.event is None:
                if self.cond_since is None:
                    self.cond_since = t_s
                if t_s - self.cond_since < self.min_s:
                    return []
                start = self.cond_since
                self.event = replace(self.base, uid=self.uid(start), start_s=start, last_s=t_s, **fields)
                self.last_emit_s, self.signature = t_s, sig
                return [("start", self.event)]
            self.event = replace(self.event, last_s=t_s, **fields)
            since = t_s - self.last_emit_s
            if (sig != self.signature and since >= MIN_CHANGE_UPDATE_S) or since >= self.update_every_s:
                self.last_emit_s, self.signature = t_s, sig
                return [("update", self.event)]
            return []
        self.cond_since = None
        if self.event is None:
            return []
        if self.false_since is None:
            self.false_since = t_s
        if t_s - self.false_since >= self.end_after_s:
            return self.finish(self.false_since)
        return []

    def finish(self, end_s: float) -> list[Emission]:
        """End the live event now (if any) with ``end_s``."""
        if self.event is None:
            return []
        ev = replace(self.event, end_s=max(end_s, self.event.start_s))
        self.event = None
        self.false_since = None
        self.cond_since = None
        return [("end", ev)]
