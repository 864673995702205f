"""What media retention must keep: files of open events and of evidence exports.

:func:`protected_media` lists the snapshot and clip paths (relative to the media root, as the store
records them) of every event that is not closed, and every media file an evidence export was made
from; :func:`safecity.media.enforce_retention` gets them as ``keep``.

Example:
    >>> from safecity.store.db import connect
    >>> sorted(protected_media(connect("sqlite:///:memory:")))
    []
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from safecity.store.schema import events, evidence_exports

__all__ = ["protected_media"]


def protected_media(engine: Engine) -> set[str]:
    """Media paths (relative, POSIX) that retention must not delete."""
    keep: set[str] = set()
    with engine.connect() as c:
        for snap, clip in c.execute(
            select(events.c.snapshot_path, events.c.clip_path).where(events.c.state != "closed")
        ):
            keep.update(p for p in (snap, clip) if p)
        for (media,) in c.execute(select(evidence_exports.c.media)):
            keep.update(str(p) for p in media or ())
    return keep
