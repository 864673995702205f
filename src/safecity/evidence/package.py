"""Build a signed evidence package: watermarked media, event records, a signed manifest of hashes.

A package is a folder ``<exports>/<export_id>/`` (and the same files in ``<export_id>.zip`` beside it)::

    manifest.json   format, export id, who, when (UTC and KST), why, camera, time range, audit chain
                    head, the public key, and {path, sha256, bytes} of every other file
    manifest.sig    base64 Ed25519 signature of the exact bytes of manifest.json
    events.json     the exported events with their updates, acknowledgements and escalations
    media/<uid>.jpg the event snapshots, watermarked
    media/<uid>.mp4 the event clips, every frame re-encoded with the watermark

The watermark (user, export time in KST, camera) is drawn on every frame; OpenCV's built-in font has
no Hangul, so non-ASCII characters appear as ``\\uXXXX`` escapes (the manifest keeps the exact name).
Media that is missing (not written yet, removed by retention) or unreadable is listed under
``missing`` with the reason instead of failing the export.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from safecity.errors import InputError
from safecity.media import safe_name, write_clip, write_jpeg

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "ExportRequest",
    "ExportResult",
    "FORMAT",
    "KST",
    "MAX_RANGE_S",
    "add_event_media",
    "build_package",
    "file_sha256",
    "seal_package",
    "watermark",
]

log = logging.getLogger(__name__)

FORMAT = "safecity-evidence/1"
KST = timezone(timedelta(hours=9), "KST")
MAX_RANGE_S = 24 * 3600.0  # a time-range export covers at most one day
MAX_REASON = 2000
U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What to export and why: one event (``event_uid``) or a camera's time range ``[start, end)``."""

    username: str
    reason: str
    camera: str
    start: datetime
    end: datetime
    event_uid: str | None = None

    def __post_init__(self) -> None:
        if not self.username:
            raise InputError("an evidence export needs the exporting user's name")
        if not self.reason.strip() or len(self.reason) > MAX_REASON:
            raise InputError(
                f"an evidence export needs a reason of 1 to {MAX_REASON} characters (e.g. the police "
                f"request number), got {len(self.reason.strip())} characters"
            )
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InputError("export start and end must be timezone-aware times")
        span = (self.end - self.start).total_seconds()
        if not 0 < span <= MAX_RANGE_S:
            raise InputError(
                f"the export range must be longer than 0 and at most {MAX_RANGE_S / 3600:.0f} h, got "
                f"{self.start.isoformat()} to {self.end.isoformat()}; export longer periods in parts"
            )


@dataclass(frozen=True, slots=True)
class ExportResult:
    export_id: str
    folder: Path
    zip_path: Path
    manifest_sha256: str
    media: tuple[str, ...]  # source media paths (relative to the media root) the package was made from
    files: int
    missing: tuple[str, ...]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _ascii(text: str) -> str:
    return text.encode("ascii", "backslashreplace").decode("ascii")


def watermark(bgr: U8, text: str) -> U8:
    """A copy of ``bgr`` with ``text`` in white on a dark band along the bottom edge."""
    import cv2

    out = bgr.copy()
    h, w = out.shape[:2]
    scale = max(0.35, h / 900.0)
    thick = max(1, round(scale * 1.5))
    label = _ascii(text)
    (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    if tw > w - 8:  # long names: shrink to fit the width
        scale *= (w - 8) / tw
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    y0 = max(0, h - th - base - 8)
    out[y0:h, :] = (out[y0:h, :] // 3).astype(np.uint8)
    cv2.putText(out, label, (4, h - base - 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick)
    return out


def _read_clip(path: Path) -> list[tuple[float, U8]]:
    import av

    frames: list[tuple[float, U8]] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for i, frame in enumerate(container.decode(stream)):
            t = float(frame.time) if frame.time is not None else i / 4.0
            frames.append((t, np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)))
    if not frames:
        raise InputError(f"clip {path} has no frames")
    return frames


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def add_event_media(
    ev: Mapping[str, Any],
    root: Path,
    folder: Path,
    mark: str,
    used: list[str],
    missing: list[str],
    *,
    codec: str = "libx264",
    export_id: str = "",
) -> None:
    """Copy an event's snapshot and clip from the media ``root`` into ``folder/media``, watermarked with
    ``mark``; what was copied goes to ``used`` and what is not on disk or unreadable to ``missing`` (a
    damaged file must not stop the rest of the package). Media already in the package are not copied
    twice (an event collected by several items of a case)."""
    for field, suffix in (("snapshot_path", ".jpg"), ("clip_path", ".mp4")):
        rel = ev.get(field)
        if not rel:
            continue
        src = (root / str(rel)).resolve()
        dst = folder / "media" / f"{safe_name(str(ev['uid']))}{suffix}"
        if dst.exists():
            continue
        if not src.is_relative_to(root) or not src.is_file():
            missing.append(f"{rel}: not on disk (not written, or removed by retention)")
            continue
        try:
            if suffix == ".jpg":
                import cv2

                img = cv2.imread(str(src), cv2.IMREAD_COLOR)
                if img is None:
                    raise InputError(f"cannot decode {rel}")
                write_jpeg(dst, watermark(np.asarray(img, dtype=np.uint8), mark), 90)
            else:
                frames = [(t, watermark(f, mark)) for t, f in _read_clip(src)]
                write_clip(dst, frames, codec=codec, crf=23)
        except Exception as exc:
            log.warning("evidence export %s: %s left out: %s", export_id, rel, exc)
            missing.append(f"{rel}: unreadable ({str(exc)[:200]})")
            continue
        used.append(str(rel))


def seal_package(
    folder: Path, export_id: str, manifest: dict[str, Any], files: Sequence[Path], key: Ed25519PrivateKey
) -> tuple[Path, str]:
    """Finish a package: add the public key and the files' SHA-256 to ``manifest``, write
    ``manifest.json`` and its Ed25519 signature ``manifest.sig``, and zip the folder (the zip must not
    exist). Returns the zip's path and the manifest's SHA-256."""
    from safecity.evidence.keys import public_key_pem

    manifest = {
        **manifest,
        "public_key": public_key_pem(key).decode("ascii"),
        "files": [
            {"path": p.relative_to(folder).as_posix(), "sha256": file_sha256(p), "bytes": p.stat().st_size}
            for p in files
        ],
    }
    body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8") + b"\n"
    (folder / "manifest.json").write_bytes(body)
    (folder / "manifest.sig").write_text(base64.b64encode(key.sign(body)).decode("ascii") + "\n")
    zip_path = folder.with_suffix(".zip")
    with zipfile.ZipFile(zip_path, "x", zipfile.ZIP_STORED) as zf:
        for p in sorted(q for q in folder.rglob("*") if q.is_file()):
            zf.write(p, f"{export_id}/{p.relative_to(folder).as_posix()}")
    return zip_path, hashlib.sha256(body).hexdigest()


def build_package(
    exports_dir: Path,
    req: ExportRequest,
    events: Sequence[Mapping[str, Any]],
    media_root: Path,
    key: Ed25519PrivateKey,
    *,
    audit_head: str | None = None,
    clock: Callable[[], float] = time.time,
    codec: str = "libx264",
) -> ExportResult:
    """Write the package for ``events`` (store dicts of ``req.camera``) under ``exports_dir``.

    Raises:
        InputError: an event of another camera, or no events at all.
    """
    if not events:
        raise InputError(
            f"nothing to export: no events of camera {req.camera!r} between {req.start.isoformat()} and "
            f"{req.end.isoformat()}"
        )
    for ev in events:
        if ev["camera"] != req.camera:
            raise InputError(f"event {ev['uid']!r} is of camera {ev['camera']!r}, not {req.camera!r}")

    now = datetime.fromtimestamp(clock(), UTC)
    now_kst = now.astimezone(KST)
    export_id = safe_name(f"{now_kst:%Y%m%d-%H%M%S}-{req.camera}-{secrets.token_hex(4)}")
    folder = Path(exports_dir) / export_id
    (folder / "media").mkdir(parents=True, exist_ok=False)
    mark = f"{req.username} | {now_kst:%Y-%m-%d %H:%M:%S} KST | camera {req.camera}"
    used: list[str] = []
    missing: list[str] = []
    root = Path(media_root).resolve()
    for ev in events:
        add_event_media(ev, root, folder, mark, used, missing, codec=codec, export_id=export_id)
    records = json.dumps(list(events), default=_json_default, ensure_ascii=False, indent=1)
    (folder / "events.json").write_text(records + "\n", encoding="utf-8")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    manifest = {
        "format": FORMAT,
        "export_id": export_id,
        "created_at": now.isoformat(),
        "created_at_kst": now_kst.isoformat(),
        "exported_by": req.username,
        "reason": req.reason,
        "camera": req.camera,
        "event_uid": req.event_uid,
        "range": {"start": req.start.astimezone(UTC).isoformat(), "end": req.end.astimezone(UTC).isoformat()},
        "events": [str(ev["uid"]) for ev in events],
        "audit_head": audit_head,
        "watermark": mark,
        "missing": missing,
    }
    zip_path, sha = seal_package(folder, export_id, manifest, files, key)
    return ExportResult(
        export_id=export_id,
        folder=folder,
        zip_path=zip_path,
        manifest_sha256=sha,
        media=tuple(used),
        files=len(files),
        missing=tuple(missing),
    )
