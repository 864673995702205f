"""The track index in a running service: the writer the workers fill and the retention by age.

:func:`track_writer` is what :func:`safecity.service.build_outputs` builds next to the event store;
:func:`purge_tracks` is what the service's hourly retention sweep calls, next to the media retention
(records, their passages and thumbnails last seen more than ``max_days`` ago).

Example:
    >>> from safecity.store.db import connect
    >>> engine = connect("sqlite:///:memory:")
    >>> purge_tracks(engine, 30.0, now=1e9)
    0
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Engine

from safecity.search.writer import TrackWriter
from safecity.store.tracks import TrackIndex

__all__ = ["purge_tracks", "track_writer"]

log = logging.getLogger(__name__)


def track_writer(engine: Engine) -> TrackWriter:
    """A started :class:`~safecity.search.writer.TrackWriter` over the track index of ``engine``."""
    return TrackWriter(TrackIndex(engine))


def purge_tracks(engine: Engine, max_days: float, *, now: float | None = None) -> int:
    """Delete track records last seen more than ``max_days`` before ``now`` (default: the time now),
    with their passages and thumbnails; returns how many records were deleted."""
    before = (time.time() if now is None else now) - max_days * 86400.0
    removed = TrackIndex(engine).purge(before)
    if removed:
        log.info("retention: removed %d track records", removed)
    return removed
