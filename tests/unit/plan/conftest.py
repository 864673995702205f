"""Planning tests keep the prepared-instance cache in their own temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _plan_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFECITY_PLAN_CACHE_DIR", str(tmp_path / "plan-cache"))
