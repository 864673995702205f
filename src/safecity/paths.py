"""Where the bundled data, models and sample videos are.

The repository ships the data the demo needs (``data/``, ``models/``) next to ``src/``. Set
``SAFECITY_DATA_DIR`` / ``SAFECITY_MODELS_DIR`` to use copies elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from safecity.errors import InputError

__all__ = ["bundled_data_dir", "bundled_models_dir", "seoul_data_dir", "video_dir"]


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _checked(path: Path, env: str) -> Path:
    if not path.is_dir():
        raise InputError(
            f"bundled folder {path} is missing; run safecity from its source checkout, or set {env} "
            "to a folder with the same layout"
        )
    return path


def bundled_data_dir() -> Path:
    """``data/`` of the checkout (Seoul data and sample videos, each file with its SOURCE.md)."""
    return _checked(Path(os.environ.get("SAFECITY_DATA_DIR", _repo_root() / "data")), "SAFECITY_DATA_DIR")


def seoul_data_dir() -> Path:
    return bundled_data_dir() / "seoul"


def video_dir() -> Path:
    return bundled_data_dir() / "video"


def bundled_models_dir() -> Path:
    """``models/`` of the checkout (ONNX detectors with their licences)."""
    return _checked(
        Path(os.environ.get("SAFECITY_MODELS_DIR", _repo_root() / "models")), "SAFECITY_MODELS_DIR"
    )
