"""Registry records as plain values (shared by import, stats, planning and the console)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CameraRecord"]


@dataclass(frozen=True, slots=True)
class CameraRecord:
    """One registry record: ``count`` cameras of one purpose/type at one site."""

    camera_key: str
    site_key: str | None
    district: str | None
    purpose: str | None
    count: int
    megapixels: float | None
    ptz: bool
    installed_ym: str | None  # "YYYY-MM"
    retention_days: int | None
    lat: float | None
    lon: float | None
    name: str | None = None
    address: str | None = None
