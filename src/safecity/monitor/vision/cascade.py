"""Tiered detection: a cheap first pass on every crop, the stronger model only where it matters.

:class:`CascadeDetector` runs the first pass (default the uint8 SSD MobileNetV2, ~10-23 ms of CPU
per crop here) at a low threshold on every picture. A picture goes on to the confirmation model
(default NanoDet-m, ~40-60 ms) only when

* the first pass found one of the wanted classes below ``accept`` and not on a live track
  (unsure and new: NanoDet decides; a weak box on a tracked object only extends its track, as
  ByteTrack's low-confidence stage does), or
* a live track lies in it that the first pass did not find again (no first-pass box centre inside
  the track's box; ``track_boxes`` from :func:`~safecity.monitor.vision.detect.detect_regions`), so an
  object the cheap pass loses is still seen, while one it keeps seeing costs nothing more; or
* the caller forces it (``confirm_hints``).

Pictures where the first pass found nothing (motion from leaves, shadows, light) or only
confident boxes (``>= accept``) cost the first pass alone. When both ran, their boxes are merged
by class-wise NMS (the better-scored box of a pair wins), so an object only one of the models
sees is kept.

With ``confirm_when="in_zones"`` a picture is confirmed only if the caller marks it as touching
a zone (``confirm_allowed``; :func:`~safecity.monitor.vision.detect.detect_regions` does so from
``zones_frac``); a lost track still forces confirmation. Without zone information every picture may
be confirmed, as with ``"any"``.

Configured as ``detector: {type: cascade, first_pass: {type, model, conf}, confirm: {...},
confirm_when: any | in_zones}``. This module imports nothing from ``detect`` at import time
(``detect`` re-exports :class:`CascadeDetector`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from safecity.errors import ModelError
from safecity.monitor.types import Detections
from safecity.monitor.vision.base import Detector, nms

__all__ = ["CascadeDetector", "ConfirmWhen", "load_cascade"]

U8 = npt.NDArray[np.uint8]
ConfirmWhen = Literal["any", "in_zones"]


class CascadeDetector:
    """Cheap first pass everywhere, confirmation where the first pass is unsure or tracks are.

    Args:
        first_pass: the cheap detector (its own threshold is the low one).
        confirm: the stronger detector.
        accept: first-pass boxes at or above this score need no confirmation.
        nms_iou: IoU for merging the two models' boxes.
        confirm_when: ``"any"`` or ``"in_zones"`` (see the module docstring).

    Attributes:
        calls: pictures seen; ``confirm_calls``: pictures sent on to ``confirm``.
    """

    name = "cascade"
    wants_confirm_hints = True

    def __init__(
        self,
        first_pass: Detector,
        confirm: Detector,
        *,
        accept: float = 0.6,
        nms_iou: float = 0.5,
        confirm_when: ConfirmWhen = "any",
    ) -> None:
        if not 0.0 < accept <= 1.0:
            raise ModelError(f"cascade accept must be in (0, 1], got {accept}")
        if confirm_when not in ("any", "in_zones"):
            raise ModelError(f"cascade confirm_when must be 'any' or 'in_zones', got {confirm_when!r}")
        self.confirm_when: ConfirmWhen = confirm_when
        self.first_pass = first_pass
        self.confirm = confirm
        self.accept = accept
        self.nms_iou = nms_iou
        self.input_size = confirm.input_size
        self.calls = 0
        self.confirm_calls = 0

    def detect_batch(
        self,
        images_bgr: Sequence[U8],
        confirm_hints: Sequence[bool] | None = None,
        confirm_allowed: Sequence[bool] | None = None,
        track_boxes: Sequence[npt.NDArray[np.float32]] | None = None,
    ) -> list[Detections]:
        """Detections in pixels of each picture.

        Args:
            images_bgr: the pictures.
            confirm_hints: ``True`` forces confirmation of that picture (a live track is in it).
            confirm_allowed: with ``confirm_when="in_zones"``: ``False`` = the picture touches no
                zone, keep the first pass alone (unless hinted). Ignored with ``"any"``.
            track_boxes: per picture, (k, 4) pixel boxes of live tracks in it: a track without a
                first-pass box centre inside forces confirmation.
        """
        n = len(images_bgr)
        hints = list(confirm_hints) if confirm_hints is not None else [False] * n
        allowed = list(confirm_allowed) if confirm_allowed is not None else [True] * n
        tracks = list(track_boxes) if track_boxes is not None else [np.zeros((0, 4), np.float32)] * n
        if len(hints) != n or len(allowed) != n or len(tracks) != n:
            raise ValueError(
                f"{len(hints)} confirm hints / {len(allowed)} allowed flags / {len(tracks)} track box "
                f"sets for {n} pictures"
            )
        if self.confirm_when == "any":
            allowed = [True] * n
        first = self.first_pass.detect_batch(images_bgr)
        hints = [h or _lost_track(t, d) for h, t, d in zip(hints, tracks, first, strict=True)]
        todo = [
            i
            for i, d in enumerate(first)
            if hints[i]
            or (allowed[i] and bool(((d.confidence < self.accept) & ~_on_track(tracks[i], d)).any()))
        ]
        self.calls += len(images_bgr)
        self.confirm_calls += len(todo)
        confirmed = self.confirm.detect_batch([images_bgr[i] for i in todo]) if todo else []
        out = list(first)
        for i, second in zip(todo, confirmed, strict=True):
            out[i] = _merge(first[i], second, self.nms_iou)
        return out


def _on_track(tracks: npt.NDArray[np.float32], found: Detections) -> npt.NDArray[np.bool_]:
    """Per first-pass box: its centre lies in a live track's box (a weak box there only extends
    the track, as ByteTrack's low stage does, and needs no confirmation)."""
    if len(tracks) == 0 or len(found) == 0:
        return np.zeros(len(found), bool)
    c = (found.xyxy_px[:, :2] + found.xyxy_px[:, 2:]) / 2
    inside = (c[:, None, :] >= tracks[None, :, :2]) & (c[:, None, :] <= tracks[None, :, 2:])
    return np.asarray(np.any(np.all(inside, axis=2), axis=1), bool)


def _lost_track(tracks: npt.NDArray[np.float32], found: Detections) -> bool:
    """True when some track box holds no centre of a first-pass box."""
    if len(tracks) == 0:
        return False
    if len(found) == 0:
        return True
    c = (found.xyxy_px[:, :2] + found.xyxy_px[:, 2:]) / 2
    inside = (c[None, :, :] >= tracks[:, None, :2]) & (c[None, :, :] <= tracks[:, None, 2:])
    refound = np.any(np.all(inside, axis=2), axis=1)
    return not bool(np.all(refound))


def _merge(a: Detections, b: Detections, iou: float) -> Detections:
    xyxy = np.concatenate([a.xyxy_px, b.xyxy_px]).astype(np.float32).reshape(-1, 4)
    scores = np.concatenate([a.confidence, b.confidence]).astype(np.float32)
    names = np.concatenate([a.class_name, b.class_name]).astype("<U16")
    if len(scores) == 0:
        return Detections.empty()
    _, cls = np.unique(names, return_inverse=True)
    keep = nms(xyxy, scores, cls.astype(np.int64), iou)
    return Detections(xyxy[keep], scores[keep], names[keep])


def _field(cfg: Any, key: str, default: Any) -> Any:
    if cfg is None:
        return default
    value = cfg.get(key, default) if isinstance(cfg, Mapping) else getattr(cfg, key, default)
    return default if value is None else value


def load_cascade(
    first_pass: Any,
    confirm: Any,
    *,
    conf: float | None,
    threads: int,
    classes: Sequence[str],
    build: Callable[..., Detector],
    confirm_when: ConfirmWhen = "any",
) -> CascadeDetector:
    """A :class:`CascadeDetector` from two sub-configs: mappings or objects with ``type`` (or
    ``kind``), ``model`` (or ``model_path``), ``conf`` and optionally ``accept`` on ``first_pass``;
    ``None`` = defaults (SSD at 0.3 then NanoDet at ``conf`` or 0.25). ``build`` is ``load_detector``.

    Raises:
        ModelError: a pass that is itself a cascade, or any error of building a pass.
    """
    passes: list[Detector] = []
    for cfg, kind, score in ((first_pass, "ssd", 0.3), (confirm, "nanodet", conf or 0.25)):
        k = str(_field(cfg, "kind", None) or _field(cfg, "type", kind))
        if k == "cascade":
            raise ModelError("a cascade pass cannot itself be a cascade; use nanodet, ssd or onnx-yolo")
        passes.append(
            build(
                k,
                _field(cfg, "model_path", None) or _field(cfg, "model", None),
                conf=float(_field(cfg, "conf", score)),
                threads=threads,
                classes=classes,
            )
        )
    return CascadeDetector(
        passes[0],
        passes[1],
        accept=float(_field(first_pass, "accept", 0.6)),
        confirm_when=confirm_when,
    )
