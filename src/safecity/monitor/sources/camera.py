"""The source a camera worker opens: gated (compressed-domain gate) or plain, from the camera config.

``cameras[].gate.mode: auto`` (default) opens a :class:`~safecity.monitor.sources.gated.GatedSource`
for files and RTSP alike: watch mode where packet sizes say nothing moves, every frame decoded while
active, and its own fallback to decoding every frame where sizes mean nothing (the reason is in
:func:`gate_status`). ``mode: decode`` opens today's
:class:`~safecity.monitor.sources.readers.FileSource` / ``RtspSource``.

Example:
    >>> from safecity.monitor.config.model import CameraConfig
    >>> cam = CameraConfig(id="c", source="x.mp4", gate={"mode": "decode"})
    >>> gate_status(None, cam)["fallback_reason"]
    'configured'
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from safecity.monitor.sources.gate import FALLBACK_REASONS
from safecity.monitor.types import SourceGap

if TYPE_CHECKING:
    from safecity.monitor.config.model import CameraConfig
    from safecity.monitor.sources.gated import GatedSource
    from safecity.monitor.sources.readers import DecodedFrame, FileSource, RtspSource

__all__ = ["gate_status", "marked_items", "open_camera_source"]


def open_camera_source(
    cam: CameraConfig, *, loop: bool = False, realtime: bool = False
) -> FileSource | RtspSource | GatedSource:
    """The camera's source as its ``gate`` settings say (files and RTSP alike).

    Raises:
        SourceError: bad settings, or (files) the file cannot be opened.
    """
    if cam.gate.mode == "decode":
        from safecity.monitor.sources.readers import open_source

        return open_source(cam.source, camera=cam.id, detect_fps=cam.detect_fps, loop=loop,
                           realtime=realtime, max_height=cam.max_height)  # fmt: skip
    from safecity.monitor.sources.gated import GatedSource

    return GatedSource(cam.source, camera=cam.id, detect_fps=cam.detect_fps, max_height=cam.max_height,
                       loop=loop, realtime=realtime, gate=cam.gate.settings())  # fmt: skip


def marked_items(
    src: FileSource | RtspSource | GatedSource,
) -> Iterator[tuple[DecodedFrame | SourceGap, bool]]:
    """``(item, watch)`` of any camera source: ``watch`` is True only for the keyframes a gated
    source decodes in watch mode (health checks only)."""
    from safecity.monitor.sources.gated import GatedSource

    if isinstance(src, GatedSource):
        yield from src.marked()
    else:
        for item in src:
            yield item, False


def gate_status(src: object, cam: CameraConfig) -> dict[str, Any]:
    """The gate's part of the camera's status (``gate_mode``, ``fallback_reason``, ``state`` ...).

    ``src``: the camera's open source (None before it opened, or in replay without a gated source).
    """
    from safecity.monitor.sources.gated import GatedSource

    if isinstance(src, GatedSource):
        return src.status().as_dict()
    configured = cam.gate.mode == "decode"
    return {
        "gate_mode": "decode",
        "fallback_reason": "configured" if configured else None,
        "fallback_text": FALLBACK_REASONS["configured"] if configured else None,
        "state": "active",
    }
