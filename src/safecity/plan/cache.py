"""A small on-disk cache of prepared planning instances, keyed by the content of everything they read.

Preparing an area (boundaries, the standard CCTV CSV, streetlights, the priority layers, demand points
and what every camera option sees) takes longer than solving it once the model is reduced. The result is
a pure function of: the bundled data files (hashed by content, every file under the data folder), the
source code of the modules that compute it (hashed by content), the planning config, the existing
cameras and past events handed in (hashed by value) and the requests. :func:`instance_key` hashes all of
them, so an entry can never be stale: any change to a file, the code, the config or the inputs gives a new
key. Entries are pickles written under a temporary name and renamed; an unreadable entry is ignored and
rewritten; beyond six entries the least recently used are removed (every code or data change leaves
an entry no key reaches any more). ``SAFECITY_PLAN_CACHE=off`` disables the cache;
``SAFECITY_PLAN_CACHE_DIR`` moves it (default ``<SAFECITY_HOME or ./var>/cache/plan``).

Example:
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> cache = PlanCache(d)
    >>> cache.get("k") is None
    True
    >>> cache.put("k", {"a": 1})
    >>> cache.get("k")
    {'a': 1}
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["PlanCache", "default_cache", "digest_files", "instance_key", "source_digest"]

#: bump when the cached object's layout changes without a source change (defensive)
LAYOUT = 1
#: the modules whose code decides what a prepared instance holds
SOURCE_MODULES = (
    "safecity/plan/areas.py",
    "safecity/plan/cache.py",
    "safecity/plan/config.py",
    "safecity/plan/data.py",
    "safecity/plan/geometry.py",
    "safecity/plan/history.py",
    "safecity/plan/score.py",
    "safecity/plan/sites.py",
    "safecity/geo.py",
    "safecity/registry/fields.py",
    "safecity/registry/model.py",
    "safecity/registry/stdcsv.py",
)


def digest_files(paths: Iterable[Path], root: Path | None = None) -> str:
    """SHA-256 over the (relative) names and contents of ``paths``, in sorted order.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "a.txt").write_text("x")
    >>> a = digest_files([d / "a.txt"], d); _ = (d / "a.txt").write_text("y")
    >>> a == digest_files([d / "a.txt"], d)
    False
    """
    h = hashlib.sha256()
    for p in sorted(paths):
        name = str(p.relative_to(root)) if root is not None else str(p)
        h.update(name.encode("utf-8") + b"\0")
        with p.open("rb") as fh:
            h.update(hashlib.file_digest(fh, "sha256").digest())
    return h.hexdigest()


def source_digest() -> str:
    """Digest of the code that prepares an instance (:data:`SOURCE_MODULES`)."""
    src = Path(__file__).resolve().parents[2]
    return digest_files([src / m for m in SOURCE_MODULES], src)


def instance_key(*, data_dir: Path, parts: dict[str, Any]) -> str:
    """Key of one prepared instance: data files, code, and ``parts`` (config, inputs) by value."""
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    h = hashlib.sha256()
    h.update(f"layout={LAYOUT}".encode())
    h.update(digest_files(files, data_dir).encode())
    h.update(source_digest().encode())
    for name in sorted(parts):
        h.update(name.encode("utf-8") + b"=" + repr(parts[name]).encode("utf-8") + b"\0")
    return h.hexdigest()


class PlanCache:
    """Pickles in one folder, by key; at most ``max_entries`` are kept (the least recently used go)."""

    def __init__(self, folder: Path, max_entries: int = 6) -> None:
        self.folder = folder
        self.max_entries = max_entries

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.pickle"

    def get(self, key: str) -> Any:
        """The stored object, or None when absent or unreadable."""
        p = self._path(key)
        try:
            with p.open("rb") as fh:
                obj = pickle.load(fh)
            os.utime(p)  # recently used
            return obj
        except FileNotFoundError:
            return None
        except Exception:  # a torn or foreign file: ignore it, it is rewritten on the next put
            return None

    def put(self, key: str, obj: Any) -> None:
        """Store ``obj`` (atomically: temporary name, then rename). Errors writing are ignored."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{key}.{os.getpid()}.tmp"
            with tmp.open("wb") as fh:
                pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._path(key))
            self._prune()
        except OSError:
            return None

    def _prune(self) -> None:
        """Remove the least recently used entries beyond ``max_entries`` (stale keys are never read)."""
        entries = sorted(self.folder.glob("*.pickle"), key=lambda q: q.stat().st_mtime, reverse=True)
        for old in entries[self.max_entries :]:
            old.unlink(missing_ok=True)


def default_cache() -> PlanCache | None:
    """The cache the CLI uses, or None when ``SAFECITY_PLAN_CACHE=off``."""
    if os.environ.get("SAFECITY_PLAN_CACHE", "").strip().lower() in {"off", "0", "no", "false"}:
        return None
    folder = os.environ.get("SAFECITY_PLAN_CACHE_DIR")
    if folder:
        return PlanCache(Path(folder))
    from safecity.settings import Settings

    return PlanCache(Settings().home / "cache" / "plan")
