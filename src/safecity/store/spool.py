"""A durable, ordered on-disk queue of JSON records (JSON lines, fsync'd) for when a sink is down.

Records are appended to numbered segment files ``spool-<n>.jsonl`` in one folder. Every record gets a
sequence number; :meth:`Spool.ack` records (durably) how far a consumer has got, and segments that are
fully consumed are deleted. A spool left behind by a crashed process is found again by the next
:class:`Spool` on the same folder, so nothing that was appended is lost. A torn last line (the process
died mid-write) is skipped with a warning.

One process owns a spool folder at a time: :class:`Spool` holds an exclusive ``flock`` on
``<folder>/.lock`` until :meth:`Spool.close` (or the process ends); a second owner gets
:class:`SpoolBusyError`. ``lock=False`` opens a folder for reading only (tests, inspection).

Example:
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> s = Spool(d)
    >>> s.append({"a": 1}), s.append({"a": 2})
    (1, 2)
    >>> [(seq, rec["a"]) for seq, rec in s.pending()]
    [(1, 1), (2, 2)]
    >>> s.ack(1)
    >>> s.close()
    >>> [seq for seq, _ in Spool(d).pending()]
    [2]
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from safecity.errors import StoreError

__all__ = ["Spool", "SpoolBusyError", "open_spool", "orphan_folders"]

log = logging.getLogger(__name__)

_SEGMENT = re.compile(r"^spool-(\d{12})\.jsonl$")
_ACK_FILE = "ack.json"


class SpoolBusyError(StoreError):
    """Another process (or another open :class:`Spool`) owns the spool folder."""


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """Append-only JSON-lines queue in ``folder`` (created if missing); thread-safe.

    Args:
        folder: where the segment files live; one consumer per folder.
        segment_records: records per segment file before a new one is started.
        fsync: call ``fsync`` after every append (durable against power loss; on by default).
        lock: take the folder's exclusive lock (off: read-only inspection while its owner runs).

    Raises:
        SpoolBusyError: another process owns the folder.
        StoreError: the folder cannot be created or written.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        segment_records: int = 1000,
        fsync: bool = True,
        lock: bool = True,
    ) -> None:
        self.folder = Path(folder)
        self._segment_records = max(1, segment_records)
        self._fsync = fsync
        self._lock = threading.Lock()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create spool folder {self.folder}: {exc}; pass a writable folder"
            ) from exc
        self._unlock: weakref.finalize[[int], Spool] | None = None
        if lock:  # released by close(), or when the Spool is garbage-collected
            self._unlock = weakref.finalize(self, os.close, self._take_lock())
        self._acked = self._read_ack()
        self._last_seq = self._acked
        self._segments: list[tuple[int, Path]] = []  # (first seq, path), oldest first
        for first, path in self._list_segments():
            self._segments.append((first, path))
            for seq, _ in self._read_segment(first, path):
                self._last_seq = max(self._last_seq, seq)
        self._records_in_tail = 0
        if self._segments:
            self._records_in_tail = sum(1 for _ in self._read_segment(*self._segments[-1]))
        self._drop_consumed_segments()

    def _take_lock(self) -> int:
        path = self.folder / ".lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create spool lock {path}: {exc}; pass a writable folder") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise SpoolBusyError(
                f"spool folder {self.folder} is in use by another process (pid {owner}); give each process "
                "its own spool folder"
            ) from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        return fd

    def close(self) -> None:
        """Release the folder's lock (the records stay on disk for the next owner)."""
        with self._lock:
            if self._unlock is not None:
                self._unlock()  # closing the descriptor releases the flock
                self._unlock = None

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading state
    def _list_segments(self) -> list[tuple[int, Path]]:
        found = []
        for p in self.folder.iterdir():
            m = _SEGMENT.match(p.name)
            if m:
                found.append((int(m.group(1)), p))
        return sorted(found)

    def _read_ack(self) -> int:
        path = self.folder / _ACK_FILE
        if not path.exists():
            return 0
        try:
            return int(json.loads(path.read_text(encoding="utf-8"))["acked"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("spool %s: unreadable %s (%s); replaying everything", self.folder, _ACK_FILE, exc)
            return 0

    def _read_segment(self, first: int, path: Path) -> list[tuple[int, dict[str, Any]]]:
        out: list[tuple[int, dict[str, Any]]] = []
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return out
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                out.append((int(row["seq"]), dict(row["rec"])))
            except (ValueError, KeyError, TypeError):
                log.warning("spool %s: skipping torn line %d of %s", self.folder, n, path.name)
        return out

    def _drop_consumed_segments(self) -> None:
        # A segment is consumed when the next segment starts at or before acked + 1.
        while len(self._segments) > 1 and self._segments[1][0] <= self._acked + 1:
            _, path = self._segments.pop(0)
            path.unlink(missing_ok=True)
        if self._segments and self._acked >= self._last_seq:
            for _, path in self._segments:
                path.unlink(missing_ok=True)
            self._segments.clear()
            self._records_in_tail = 0

    # ------------------------------------------------------------------ public API
    def __len__(self) -> int:
        """Records appended and not yet acknowledged."""
        with self._lock:
            return self._last_seq - self._acked

    def append(self, record: Mapping[str, Any]) -> int:
        """Append one JSON-serialisable record durably; returns its sequence number.

        Raises:
            StoreError: the record cannot be written (disk full, folder gone).
            TypeError: the record is not JSON-serialisable.
        """
        with self._lock:
            seq = self._last_seq + 1
            line = json.dumps({"seq": seq, "rec": record}, ensure_ascii=False, separators=(",", ":"))
            if not self._segments or self._records_in_tail >= self._segment_records:
                path = self.folder / f"spool-{seq:012d}.jsonl"
                self._segments.append((seq, path))
                self._records_in_tail = 0
                new_file = True
            else:
                path = self._segments[-1][1]
                new_file = False
            try:
                with path.open("a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
                    fh.flush()
                    if self._fsync:
                        os.fsync(fh.fileno())
                if new_file and self._fsync:
                    _fsync_dir(self.folder)
            except OSError as exc:
                raise StoreError(f"cannot write spool file {path}: {exc}; free disk space") from exc
            self._last_seq = seq
            self._records_in_tail += 1
            return seq

    def pending(self, limit: int | None = None) -> list[tuple[int, dict[str, Any]]]:
        """Unacknowledged records in order, as ``(seq, record)``, at most ``limit`` of them."""
        with self._lock:
            out: list[tuple[int, dict[str, Any]]] = []
            for first, path in list(self._segments):
                for seq, rec in self._read_segment(first, path):
                    if seq > self._acked:
                        out.append((seq, rec))
                        if limit is not None and len(out) >= limit:
                            return out
            return out

    def ack(self, seq: int) -> None:
        """Mark every record up to and including ``seq`` as consumed (durably)."""
        with self._lock:
            if seq <= self._acked:
                return
            self._acked = min(seq, self._last_seq)
            path = self.folder / _ACK_FILE
            tmp = path.with_suffix(".tmp")
            try:
                with tmp.open("w", encoding="utf-8") as fh:
                    fh.write(json.dumps({"acked": self._acked}))
                    fh.flush()
                    if self._fsync:
                        os.fsync(fh.fileno())
                tmp.replace(path)
            except OSError as exc:
                raise StoreError(f"cannot write spool ack file {path}: {exc}; free disk space") from exc
            self._drop_consumed_segments()


def open_spool(folder: str | os.PathLike[str], **kw: Any) -> Spool:
    """Own ``folder``, or, when another running process owns it, a private ``folder/pid-<pid>``.

    The private folder's records are picked up by whoever owns ``folder`` next (see
    :func:`orphan_folders`) if this process ends before writing them.
    """
    try:
        return Spool(folder, **kw)
    except SpoolBusyError as exc:
        private = Path(folder) / f"pid-{os.getpid()}"
        log.warning("%s; using %s instead", exc, private)
        return Spool(private, **kw)


def orphan_folders(folder: str | os.PathLike[str], own: Spool) -> list[Path]:
    """Spool folders under ``folder`` left by other processes (``pid-*``, and ``folder`` itself when
    ``own`` is a private one), oldest first; their owners may still be running (then they are busy)."""
    root = Path(folder)
    found = [p for p in root.glob("pid-*") if p.is_dir() and p.resolve() != own.folder.resolve()]
    if own.folder.resolve() != root.resolve():
        found.insert(0, root)
    return sorted(found, key=lambda p: p.stat().st_mtime) if len(found) > 1 else found
