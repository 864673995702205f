"""A durable, ordered on-disk queue of JSON records (JSON lines, fsync'd) for when a sink is down.

Records are appended to numbered segment files ``spool-<n>.jsonl`` in one folder. Every record gets a
sequence number; :meth:`Spool.ack` records (durably) how far a consumer has got, and segments that are
fully consumed are deleted. A spool left behind by a crashed process is found again by the next
:class:`Spool` on the same folder, so nothing that was appended is lost. A torn last line (the process
died mid-write) is skipped with a warning.

Example:
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> s = Spool(d)
    >>> s.append({"a": 1}), s.append({"a": 2})
    (1, 2)
    >>> [(seq, rec["a"]) for seq, rec in s.pending()]
    [(1, 1), (2, 2)]
    >>> s.ack(1)
    >>> [seq for seq, _ in Spool(d).pending()]
    [2]
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from safecity.errors import StoreError

__all__ = ["Spool"]

log = logging.getLogger(__name__)

_SEGMENT = re.compile(r"^spool-(\d{12})\.jsonl$")
_ACK_FILE = "ack.json"


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

    Raises:
        StoreError: the folder cannot be created or written.
    """

    def __init__(self, folder: str | os.PathLike[str], *, segment_records: int = 1000, fsync: bool = True):
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
