"""Detectors from the config: :func:`build_detector` maps a ``DetectorConfig`` to a :class:`Detector`.

The ONNX models are imported only when a detector is built, so importing this module is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from safecity.monitor.config.detector import CascadeStageConfig, DetectorConfig

if TYPE_CHECKING:
    from safecity.monitor.vision.base import Detector

__all__ = ["build_detector"]


def _stage(stage: CascadeStageConfig) -> dict[str, object]:
    """A cascade stage as ``load_detector`` arguments: ``kind``, ``model_path``, ``conf``."""
    return {"kind": stage.kind, "model_path": stage.model, "conf": stage.conf}


def build_detector(cfg: DetectorConfig) -> Detector:
    """The :class:`~safecity.monitor.vision.base.Detector` of a ``DetectorConfig``.

    The config ``type`` is mapped to the ``load_detector`` kind by ``DetectorConfig.kind`` (the one
    place: ``onnx-yolo`` -> ``yolo``). A ``cascade`` gets ``first_pass`` and ``confirm`` as dicts of
    ``load_detector`` arguments (``kind``, ``model_path``, ``conf``) and ``confirm_when``; ``precision``
    picks the bundled NanoDet (int8 or float), also as a cascade stage.

    Raises:
        ModelError: a model file is missing or does not fit its kind.
    """
    from safecity.monitor.vision.detect import load_detector

    if cfg.kind == "cascade":
        return load_detector(
            cfg.kind, cfg.model, conf=cfg.conf, threads=cfg.threads, classes=list(cfg.classes),
            first_pass=_stage(cfg.first_pass), confirm=_stage(cfg.confirm), confirm_when=cfg.confirm_when,
            precision=cfg.precision,
        )  # fmt: skip
    return load_detector(
        cfg.kind, cfg.model, conf=cfg.conf, threads=cfg.threads, classes=list(cfg.classes),
        precision=cfg.precision,
    )  # fmt: skip
