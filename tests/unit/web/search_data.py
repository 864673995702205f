"""Recorded data of the search tests (synopsis, cases): track records of the west camera, one of
the east camera, and one west event with a real clip on disk."""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np

from safecity.media import media_paths, write_clip
from safecity.search.records import TrackRecord
from safecity.store.tracks import TrackIndex

from .conftest import EAST, WEST, Env

__all__ = ["T0", "iso", "record_tracks_and_clip", "track_record"]

T0 = 1_790_000_000.0


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _thumb(bgr: tuple[int, int, int]) -> bytes:
    img = np.zeros((96, 40, 3), np.uint8)
    img[:] = bgr
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return bytes(buf.tobytes())


def track_record(i: int, cam: str, t: float) -> TrackRecord:
    """A person walking left to right for 20 s (uid ``<cam>-<i>-<t ms>``), with a red crop."""
    return TrackRecord(f"{cam}-{i}-{int(t * 1000)}", cam, i, "person", t, t + 20,
                       ((t, 0.1, 0.8), (t + 20, 0.9, 0.8)), (0.1, 0.8, 0.9, 0.8), size=0.3, aspect=0.4,
                       thumbnail=_thumb((0, 0, 255)))  # fmt: skip


def record_tracks_and_clip(env: Env) -> Env:
    """12 west tracks a minute apart from T0, one east track, event ``west-ev-1`` with a clip."""
    TrackIndex(env.services.engine).write([track_record(i, WEST, T0 + 60 * i) for i in range(12)])
    TrackIndex(env.services.engine).write([track_record(1, EAST, T0)])
    env.add_event("west-ev-1", WEST, t=T0 + 30)
    _, clip = media_paths(env.media_root, WEST, "west-ev-1")
    write_clip(clip, [(k / 5, np.full((180, 320, 3), 120, np.uint8)) for k in range(10)])
    return env
