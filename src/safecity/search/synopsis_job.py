"""A synopsis of one camera and period from what safecity stored: the track index (objects) and the
recorded event clips (background); see :mod:`safecity.search.synopsis` for the picture itself.

Files: ``<media root>/synopses/<camera>/<id>.mp4`` and ``<id>.json`` (the sidecar, which also names
the camera, the period and who asked; the web layer checks the camera against the user's groups
before serving either). Retention treats the folder like any other media folder (by age and size).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from safecity.errors import InputError
from safecity.media import safe_name
from safecity.search.synopsis import (
    MAX_OBJECTS,
    SynopsisObject,
    SynopsisResult,
    median_background,
    render_synopsis,
)
from safecity.store.tracks import MAX_LIMIT, TrackIndex, TrackQuery

__all__ = ["MAX_PERIOD_S", "SYNOPSIS_DIR", "background_frames", "make_synopsis", "synopsis_files"]

MAX_PERIOD_S = 6 * 3600.0
"""Longest period of one synopsis."""
SYNOPSIS_DIR = "synopses"
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,160}$")
_AROUND_S = 6 * 3600.0  # clips this long before/after the period still show the scene
_MAX_BG_FRAMES = 40


def synopsis_files(media_root: Path, camera: str, synopsis_id: str) -> tuple[Path, Path]:
    """``(video, sidecar)`` of a synopsis id.

    Raises:
        InputError: a malformed id.
    """
    if not _ID.match(synopsis_id):
        raise InputError(f"synopsis id must be 1-160 letters, digits or . _ -, got {synopsis_id[:40]!r}")
    folder = media_root / SYNOPSIS_DIR / safe_name(camera)
    return folder / f"{synopsis_id}.mp4", folder / f"{synopsis_id}.json"


def background_frames(clips: Sequence[Path], limit: int = _MAX_BG_FRAMES) -> list[np.ndarray[Any, Any]]:
    """Up to ``limit`` frames spread over ``clips`` (each clip: evenly spaced frames)."""
    import cv2

    out: list[np.ndarray[Any, Any]] = []
    per_clip = max(1, limit // max(1, len(clips)))
    for clip in clips[:limit]:
        cap = cv2.VideoCapture(str(clip))
        try:
            n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            for k in range(per_clip):
                if n > 1:
                    cap.set(cv2.CAP_PROP_POS_FRAMES, int((k + 0.5) * n / per_clip))
                ok, frame = cap.read()
                if ok:
                    out.append(np.asarray(frame, dtype=np.uint8))
        finally:
            cap.release()
    return out


def _objects(index: TrackIndex, camera: str, since_s: float, until_s: float) -> list[SynopsisObject]:
    import cv2

    out: list[SynopsisObject] = []
    offset = 0
    while True:
        page = index.search(
            TrackQuery(since_s, until_s, cameras=frozenset({camera}), limit=MAX_LIMIT, offset=offset)
        )
        for r in page:
            crop = None
            if r.get("has_thumb"):
                data = index.thumbnail(str(r["uid"]))
                if data:
                    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
                    crop = None if img is None else np.asarray(img, dtype=np.uint8)
            path = tuple((float(t), float(x), float(y)) for t, x, y in (r.get("path") or ()))
            out.append(SynopsisObject(str(r["uid"]), str(r["object_class"]), r["first_at"].timestamp(),
                                      r["last_at"].timestamp(), path, float(r.get("size") or 0.1),
                                      float(r.get("aspect") or 0.5), crop))  # fmt: skip
        if len(page) < MAX_LIMIT:
            return out
        offset += MAX_LIMIT
        if offset >= MAX_OBJECTS:
            raise InputError(f"more than {MAX_OBJECTS} objects in the period; ask for a shorter period")


def make_synopsis(
    engine: Any,
    media_root: Path,
    camera: str,
    since_s: float,
    until_s: float,
    clips_of: Callable[[str, float, float], list[Path]],
    *,
    tz: str = "Asia/Seoul",
    max_width: int = 640,
    max_len_s: float = 120.0,
    fps: int = 8,
    requested_by: str = "",
) -> tuple[str, SynopsisResult]:
    """Render the synopsis of ``camera`` in ``[since_s, until_s]``; returns its id and the result.

    ``clips_of(camera, since_s, until_s)`` lists the camera's recorded clips (absolute paths) whose
    events started in that range (the event store knows them).

    Raises:
        InputError: an empty, reversed or too long period, no tracked object in it, or no recording
            of the camera around it to draw the background from.
    """
    if not until_s > since_s:
        raise InputError("empty or reversed period: until must be after since")
    if until_s - since_s > MAX_PERIOD_S:
        raise InputError(
            f"a synopsis covers at most {MAX_PERIOD_S / 3600:.0f} hours; ask for a shorter period"
        )
    objects = _objects(TrackIndex(engine), camera, since_s, until_s)
    if not objects:
        raise InputError(
            f"no tracked object of camera {camera!r} in the period: nothing was recorded there then "
            "(the track index holds the tracks the engine saw while it ran); pick another period"
        )
    clips = [p for p in clips_of(camera, since_s, until_s) if p.is_file()]
    if not clips:
        clips = [p for p in clips_of(camera, since_s - _AROUND_S, until_s + _AROUND_S) if p.is_file()]
    frames = background_frames(clips)
    if not frames:
        raise InputError(
            f"no recording of camera {camera!r} within {_AROUND_S / 3600:.0f} h of the period to draw the "
            "background from (clips are recorded around events); pick a period with events"
        )
    h0, w0 = frames[0].shape[:2]
    scale = min(1.0, max_width / w0)
    size = (max(2, int(w0 * scale) // 2 * 2), max(2, int(h0 * scale) // 2 * 2))
    bg = median_background(frames, size)
    sid = f"{safe_name(camera)}-{int(since_s)}-{int(until_s)}-{secrets.token_hex(4)}"
    video, sidecar = synopsis_files(media_root, camera, sid)
    meta = {"id": sid, "camera": camera, "since_s": since_s, "until_s": until_s, "requested_by": requested_by,
            "background_clips": len(clips), "background_frames": len(frames)}  # fmt: skip
    res = render_synopsis(objects, bg, video, sidecar, fps=fps, max_len_s=max_len_s, tz=tz, meta=meta)
    return sid, res
