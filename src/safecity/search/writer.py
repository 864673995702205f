"""TrackWriter: takes track records from camera threads without blocking them and writes them to the
track index in batches on one background thread.

:meth:`TrackWriter.publish` only appends to a bounded in-memory queue (``max_pending`` records; when
the store is slower than the cameras for that long, the oldest pending records are dropped and
counted in :attr:`TrackWriter.dropped`: the index is a search aid, the events and their media are
stored elsewhere). The thread writes what is pending every ``every_s`` seconds or as soon as
``batch`` records wait; a failed write is logged and retried on the next round with the same records
(writing is idempotent by uid).

Example:
    >>> from safecity.store.db import connect
    >>> from safecity.store.tracks import TrackIndex
    >>> w = TrackWriter(TrackIndex(connect("sqlite:///:memory:")))
    >>> w.close()
    True
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence

from safecity.errors import InputError
from safecity.search.records import TrackRecord
from safecity.store.tracks import TrackIndex

__all__ = ["TrackWriter"]

log = logging.getLogger(__name__)


class TrackWriter:
    """Batched, non-blocking writer of track records (see the module doc).

    Args:
        index: where the records go.
        batch: write as soon as this many records wait.
        every_s: else write what waits this often.
        max_pending: records held at most while the store lags (oldest dropped first).
    """

    def __init__(
        self, index: TrackIndex, *, batch: int = 500, every_s: float = 1.0, max_pending: int = 100_000
    ) -> None:
        self.index = index
        self.batch = batch
        self.every_s = every_s
        self.written = 0
        self.dropped = 0
        self.failures = 0
        self._pending: deque[TrackRecord] = deque(maxlen=max_pending)
        self._cond = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="track-writer", daemon=True)
        self._thread.start()

    def publish(self, records: Sequence[TrackRecord]) -> None:
        """Queue records (called from camera threads; never blocks on the store)."""
        if not records:
            return
        with self._cond:
            over = len(self._pending) + len(records) - (self._pending.maxlen or 0)
            if over > 0:
                self.dropped += over
            self._pending.extend(records)
            if len(self._pending) >= self.batch:
                self._cond.notify()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything queued so far is written; False on timeout."""
        with self._cond:
            self._cond.notify()
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout_s)

    def close(self, timeout_s: float = 10.0) -> bool:
        """Write what is pending and stop the thread; False when it did not finish in time."""
        ok = self.flush(timeout_s)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout_s)
        return ok and not self._thread.is_alive()

    _busy = False

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closing or len(self._pending) >= self.batch, self.every_s)
                if self._closing and not self._pending:
                    return
                todo = list(self._pending)
                self._pending.clear()
                self._busy = bool(todo)
            if not todo:
                continue
            retry = False
            try:
                self.index.write(todo)
                self.written += len(todo)
            except InputError as exc:  # a malformed record: retrying cannot help
                self.dropped += len(todo)
                log.error("track index refused %d records: %s", len(todo), exc)
            except Exception as exc:  # the store is down: keep them for the next round
                self.failures += 1
                retry = True
                log.warning("track index write failed (%d records kept for a retry): %s", len(todo), exc)
            with self._cond:
                if retry:
                    room = (self._pending.maxlen or 0) - len(self._pending)
                    keep = todo[len(todo) - max(0, room) :] if room < len(todo) else todo
                    self.dropped += len(todo) - len(keep)
                    self._pending.extendleft(reversed(keep))
                self._busy = False
                self._cond.notify_all()
                if retry and not self._closing:
                    self._cond.wait(self.every_s)
                elif retry:
                    return
