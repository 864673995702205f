"""Where a moment falls in the recorded event clips: what "open the clip at that moment" seeks to.

safecity records video around events: each clip runs from ``clip_pre_s`` before its event's start to
``clip_post_s`` after it (:class:`safecity.media.MediaRecorder`), from the first buffered frame of
that window. :func:`safecity.media.write_clip` stores the absolute time of the first frame in the
MP4 (``comment`` tag), so a clip's span is exact; for clips written before that, the span is
estimated from the event's start and the recorder's default pre-roll (``exact`` False).

Example:
    >>> span = ClipSpan(start_s=100.0, duration_s=10.0, exact=True)
    >>> span.seek(103.5), span.seek(90.0), span.seek(130.0)
    (3.5, 0.0, 10.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from safecity.errors import InputError
from safecity.media import read_clip_start

__all__ = ["ClipSpan", "DEFAULT_PRE_S", "clip_span", "nearest_clip"]

DEFAULT_PRE_S = 5.0
"""The recorder's default pre-roll (``outputs.clip_pre_s``): the estimate for clips without a start tag."""


@dataclass(frozen=True, slots=True)
class ClipSpan:
    """A clip's absolute start (Unix seconds, the events' clock), its length, and whether the start
    was read from the file (True) or estimated from the event's start (False)."""

    start_s: float
    duration_s: float
    exact: bool

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def distance(self, moment_s: float) -> float:
        """Seconds from ``moment_s`` to the clip (0 inside it)."""
        return max(self.start_s - moment_s, moment_s - self.end_s, 0.0)

    def seek(self, moment_s: float) -> float:
        """Where the player seeks to show ``moment_s``: its offset in the clip, clamped to the clip."""
        return round(min(max(moment_s - self.start_s, 0.0), self.duration_s), 3)


def clip_span(path: Path, event_start_s: float, pre_s: float = DEFAULT_PRE_S) -> ClipSpan | None:
    """The span of the clip at ``path`` (None when it is missing or unreadable)."""
    if not path.is_file():
        return None
    try:
        start, duration = read_clip_start(path)
    except InputError:
        return None
    if start is None:
        return ClipSpan(event_start_s - pre_s, duration, False)
    return ClipSpan(start, duration, True)


def nearest_clip(spans: Sequence[ClipSpan | None], moment_s: float) -> int | None:
    """Index of the clip that shows ``moment_s`` (or comes nearest to it; on a tie the one where the
    moment is furthest from the edges), None when there is no clip.

    >>> nearest_clip([ClipSpan(0, 10, True), None, ClipSpan(8, 10, True)], 9.0)
    2
    """
    best: tuple[float, float] | None = None
    pick: int | None = None
    for i, span in enumerate(spans):
        if span is None:
            continue
        key = (span.distance(moment_s), -min(moment_s - span.start_s, span.end_s - moment_s))
        if best is None or key < best:
            best, pick = key, i
    return pick
