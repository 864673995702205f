"""The event store: writes monitoring events without blocking the pipelines, and serves the console.

:class:`EventStore` is an ``EventSink``. :meth:`EventStore.publish` only puts the message on an
in-memory queue; a background writer thread writes it in one transaction:

- ``start``: a new ``events`` row (state ``new``); a start whose uid is already stored is refused (set
  aside in the dead-letter file with the reason, never merged into the stored event), and so are the
  later messages of that uid;
- ``update`` / ``end``: the row's severity, zone, boxes, ``end_at``; ``end`` sets ``end_at``; once the
  operator has closed the event its row is left as it is (only the history gets the message, marked
  ``after_close``): a closed event is never reopened or moved;
- every message adds one ``event_updates`` row (``kind``, ``at`` = the event's ``last_s``/``end_s``);
- ``camera_*`` events keep ``camera_health`` current (``camera_offline`` start -> ``offline``, its end ->
  ``online``; frozen/covered/blurred/moved likewise).

If the database is unreachable (``OperationalError``, ``InterfaceError``, a dropped connection), the
message and every later one go to a durable spool (:class:`safecity.store.spool.Spool`, JSON lines,
fsync'd) in ``spool_dir`` and are written in order once the database answers again (retried with
back-off). A spool left by a previous run is written first. Writing a message twice (a crash between
commit and spool acknowledgement) changes nothing: a second identical ``(uid, kind, at)`` is skipped.

Times: ``Event.start_s``/``last_s``/``end_s`` are seconds; ``epoch_s`` is added before they are stored
as UTC datetimes (0 = they already are Unix times, as in live mode; in replay pass the Unix time at
which the file starts). With ``epoch_s=0``, an event whose ``start_s`` is below 1e9 (before 2001, so
plainly seconds from a file's start, e.g. looping demo files) is offset by the Unix time at which the
store was created, so it does not land in 1970.

Media paths are stored relative to the media root as ``<camera>/<uid>.jpg`` / ``.mp4``
(:func:`safecity.media.media_paths`) when ``media_root`` is given; the files may appear later (the
clip is written ``post_s`` after the start) or never (no frames).

Query helpers return plain dicts with aware UTC datetimes: ``uid, camera, type, zone, severity,
state, start_at, end_at, object_class, direction, track_ids, box, snapshot_path, clip_path, detail,
updated_at``; :meth:`EventStore.get_event` adds ``updates``, ``acknowledgements`` and ``escalations``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from safecity.errors import InputError, StoreError
from safecity.store.event_writes import apply_record, utc
from safecity.store.incidents import FixedPolicy, IncidentPolicy, auto_close
from safecity.store.schema import acknowledgements, escalations, event_updates, events
from safecity.store.spool import Spool, SpoolBusyError, open_spool, orphan_folders

__all__ = [
    "ESCALATION_TARGETS",
    "EVENT_STATES",
    "EventLike",
    "EventStore",
    "RELATIVE_BELOW_S",
    "check_escalation_target",
    "event_to_record",
]

log = logging.getLogger(__name__)

EVENT_STATES: tuple[str, ...] = ("new", "acknowledged", "escalated", "closed")
ESCALATION_TARGETS: tuple[str, ...] = ("112", "119", "district")
_KINDS = ("start", "update", "end")


def check_escalation_target(target: str) -> None:
    """Raise :class:`~safecity.errors.InputError` unless ``target`` is one of :data:`ESCALATION_TARGETS`."""
    if target not in ESCALATION_TARGETS:
        raise InputError(
            f"escalation target must be one of {', '.join(ESCALATION_TARGETS)} "
            f"(112 police, 119 fire/ambulance, district office), got {target!r}"
        )


RELATIVE_BELOW_S = 1e9  # event times below this are seconds from a file's start, not Unix times
_BATCH = 200  # messages per transaction at most


class EventLike(Protocol):
    """The fields of ``safecity.monitor.types.Event`` the store reads (the store does not import monitor)."""

    @property
    def uid(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def camera(self) -> str: ...
    @property
    def start_s(self) -> float: ...
    @property
    def last_s(self) -> float: ...
    @property
    def end_s(self) -> float | None: ...
    @property
    def severity(self) -> int: ...
    @property
    def zone(self) -> str | None: ...
    @property
    def track_ids(self) -> tuple[int, ...]: ...
    @property
    def object_class(self) -> str | None: ...
    @property
    def direction(self) -> str | None: ...
    @property
    def count(self) -> int: ...
    @property
    def box_frac(self) -> tuple[float, float, float, float] | None: ...
    @property
    def detail(self) -> Mapping[str, float | int | str]: ...


def event_to_record(kind: str, event: EventLike, epoch_s: float = 0.0) -> dict[str, Any]:
    """A JSON-serialisable message (what the spool holds): ``{"kind", "epoch_s", "event": {...}}``."""
    return {
        "kind": kind,
        "epoch_s": epoch_s,
        "event": {
            "uid": event.uid,
            "type": event.type,
            "camera": event.camera,
            "start_s": float(event.start_s),
            "last_s": float(event.last_s),
            "end_s": None if event.end_s is None else float(event.end_s),
            "severity": int(event.severity),
            "zone": event.zone,
            "track_ids": [int(t) for t in event.track_ids],
            "object_class": event.object_class,
            "direction": event.direction,
            "count": int(event.count),
            "box_frac": None if event.box_frac is None else [float(v) for v in event.box_frac],
            "detail": dict(event.detail),
        },
    }


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _is_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "the database is not reachable now", worth retrying later."""
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _as_datetime(value: datetime | float | None, name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InputError(f"{name} must be a timezone-aware datetime or Unix seconds, got naive {value}")
        return value.astimezone(UTC)
    if isinstance(value, int | float):
        return utc(float(value))
    raise InputError(f"{name} must be a datetime or Unix seconds, got {type(value).__name__}")


_STOP = object()


class EventStore:
    """Event sink that writes to the store in the background, plus the console's query API.

    Args:
        engine: a migrated engine (``safecity.store.db.connect``).
        spool_dir: folder of the durable spool used while the database is down.
        epoch_s: added to event times before storing (0: event times are Unix seconds).
        media_root: when given, events get ``snapshot_path``/``clip_path`` relative to it.
        backoff_s: waits between retries while the database is down (the last repeats).
        start: start the writer thread now (it first writes any spool left from an earlier run).
        policy: the alert policy incidents are folded with (:mod:`safecity.store.incidents`);
            default: every event is an alert, 120 s window, no auto-close.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        spool_dir: Path,
        epoch_s: float = 0.0,
        media_root: Path | None = None,
        backoff_s: Sequence[float] = (0.5, 1.0, 2.0, 5.0, 10.0),
        start: bool = True,
        policy: IncidentPolicy | None = None,
    ) -> None:
        if not backoff_s or any(b < 0 for b in backoff_s):
            raise InputError(f"backoff_s must be non-negative seconds, at least one, got {tuple(backoff_s)}")
        self.engine = engine
        self.epoch_s = float(epoch_s)
        self._created_unix = time.time()
        self.media_root = media_root
        self.policy: IncidentPolicy = policy or FixedPolicy()
        self._newest = 0.0  # newest message time written (Unix s): the clock of auto-close
        self.incident_listeners: list[Callable[[list[int]], None]] = []  # incident ids changed per batch
        self.spool_dir = Path(spool_dir)
        self._spool = open_spool(self.spool_dir)
        self._orphans = orphan_folders(self.spool_dir, self._spool)
        self._dead: Spool | None = None
        self._refused: set[str] = set()  # uids whose start was refused (their later messages go aside too)
        self._backoff_s = tuple(float(b) for b in backoff_s)
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._submitted = 0
        self._handled = 0
        self._failures = 0
        self._next_retry = 0.0
        self._thread: threading.Thread | None = None
        self._closed = False
        if start:
            self.start()

    # ------------------------------------------------------------------ sink side
    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="safecity-event-store", daemon=True)
            self._thread.start()

    def publish(self, kind: Literal["start", "update", "end"], event: EventLike) -> None:
        """Queue one event message for writing; never blocks on the database.

        Raises:
            InputError: ``kind`` is not start/update/end.
            StoreError: the store is closed.
        """
        if kind not in _KINDS:
            raise InputError(f"event message kind must be one of {_KINDS}, got {kind!r}")
        if self._closed:
            raise StoreError("the event store is closed; create a new EventStore to publish")
        with self._cond:
            self._submitted += 1
        epoch = self.epoch_s
        if not epoch and event.start_s < RELATIVE_BELOW_S:
            epoch = self._created_unix
        self._queue.put(event_to_record(kind, event, epoch))

    @property
    def backlog(self) -> int:
        """Messages not yet in the database (queued in memory or spooled on disk)."""
        with self._cond:
            return self._submitted - self._handled + len(self._spool)

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every published message is in the database; False if ``timeout_s`` passed first."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._submitted != self._handled or len(self._spool):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
        return True

    def close(self, timeout_s: float = 10.0) -> bool:
        """Stop the writer after it has handled what was queued (written, or spooled for the next run).

        Returns:
            True if everything reached the database, False if some messages stay in the spool.
        """
        self.flush(timeout_s)
        self._closed = True
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout_s)
            self._thread = None
        done = len(self._spool) == 0 and self._submitted == self._handled
        self._spool.close()
        if self._dead is not None:
            self._dead.close()
        return done

    def _run(self) -> None:
        while True:
            if self._orphans and time.monotonic() >= self._next_retry:
                self._drain_orphans()
            if len(self._spool) and time.monotonic() >= self._next_retry:
                self._drain_spool()
            wait = 0.5
            if len(self._spool):
                wait = max(0.01, min(0.5, self._next_retry - time.monotonic()))
            try:
                first = self._queue.get(timeout=wait)
            except queue.Empty:
                continue
            items, stop = [first], False
            while len(items) < _BATCH:  # what queued up meanwhile goes in the same transaction
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in items:
                stop = True
                items = items[: items.index(_STOP)]
            records = [i for i in items if isinstance(i, dict)]
            if len(self._spool):  # older messages wait on disk: keep the order
                for record in records:
                    self._spool_record(record)
            elif records:
                done, exc = self._write_batch(records)
                if exc is not None:
                    for record in records[done:]:
                        self._spool_record(record)
                    self._schedule_retry(exc)
            with self._cond:
                self._handled += len(records)
                self._cond.notify_all()
            if stop:
                return

    def _spool_record(self, record: dict[str, Any]) -> None:
        try:
            self._spool.append(record)
        except StoreError:
            log.exception("event %s could not be spooled; it is lost", record["event"]["uid"])

    def _schedule_retry(self, exc: BaseException) -> None:
        delay = self._backoff_s[min(self._failures, len(self._backoff_s) - 1)]
        self._failures += 1
        self._next_retry = time.monotonic() + delay
        log.warning(
            "event store: database unavailable (%s); %d message(s) spooled in %s, retry in %.1f s",
            str(exc).splitlines()[0][:200],
            len(self._spool),
            self._spool.folder,
            delay,
        )

    def _drain_orphans(self) -> None:
        """Write the spools other (ended) processes left under ``spool_dir``; skip live owners'."""
        for folder in list(self._orphans):
            try:
                orphan = Spool(folder)
            except SpoolBusyError:
                continue  # its process still runs and will write it
            try:
                if self._drain_spool(orphan):
                    self._orphans.remove(folder)
                else:
                    return  # the database is down: try again later
            finally:
                orphan.close()

    def _drain_spool(self, spool: Spool | None = None) -> bool:
        """Write ``spool`` (default: this store's) in order; False if the database went down."""
        spool = spool or self._spool
        while True:
            batch = spool.pending(limit=_BATCH)
            if not batch:
                if self._failures:
                    log.info("event store: database back; spool written")
                self._failures = 0
                with self._cond:
                    self._cond.notify_all()
                return True
            done, exc = self._write_batch([record for _, record in batch])
            if done:
                spool.ack(batch[done - 1][0])
            if exc is not None:
                self._schedule_retry(exc)
                return False

    def _dead_letter(self, record: dict[str, Any], exc: BaseException | str) -> None:
        """A message the database refuses (not an outage): keep it aside in ``dead-letter.jsonl``."""
        log.error("event store: message for event %s refused: %s", record["event"]["uid"], exc)
        try:
            if self._dead is None:
                self._dead = Spool(self._spool.folder / "dead-letter")
            self._dead.append({"error": str(exc)[:500], **record})
        except StoreError:
            log.exception("cannot keep refused message aside")

    # ------------------------------------------------------------------ writing
    def _write(self, record: Mapping[str, Any]) -> None:
        with self.engine.begin() as conn:
            changed: list[int] = []
            reason = apply_record(conn, record, self.media_root, self._refused, self.policy, changed)
        self.notify_incidents(changed)
        if reason is not None:
            self._dead_letter(dict(record), reason)

    def _write_batch(self, records: Sequence[Mapping[str, Any]]) -> tuple[int, SQLAlchemyError | None]:
        """Write ``records`` in order, in one transaction when possible.

        Returns how many are done (written, or refused and set aside) and, if the database became
        unavailable, the error that stopped the rest.
        """
        try:
            refusals = []
            changed: list[int] = []
            with self.engine.begin() as conn:
                for record in records:
                    ev = record["event"]
                    t_msg = ev["end_s"] if ev["end_s"] is not None else ev["last_s"]
                    self._newest = max(self._newest, float(record.get("epoch_s", 0.0)) + float(t_msg))
                    reason = apply_record(conn, record, self.media_root, self._refused, self.policy, changed)
                    if reason is not None:
                        refusals.append((record, reason))
                changed += auto_close(conn, self.policy, utc(self._newest))
            self.notify_incidents(changed)
            for record, reason in refusals:
                self._dead_letter(dict(record), reason)
            return len(records), None
        except SQLAlchemyError as exc:
            if _is_unavailable(exc):
                return 0, exc
            if len(records) == 1:
                self._dead_letter(dict(records[0]), exc)
                return 1, None
        for i, record in enumerate(records):  # one was refused: find it, write the others
            try:
                self._write(record)
            except SQLAlchemyError as exc:
                if _is_unavailable(exc):
                    return i, exc
                self._dead_letter(dict(record), exc)
        return len(records), None

    def notify_incidents(self, changed: list[int]) -> None:
        """Tell the incident listeners (payload v2 sinks) which incidents changed (after the commit:
        the writer after each batch, the console after an operator action)."""
        if not changed or not self.incident_listeners:
            return
        ids = sorted(set(changed))
        for listener in list(self.incident_listeners):
            try:
                listener(ids)
            except Exception:  # a failing listener must not stop the writer
                log.exception("incident listener %r failed", listener)

    # ------------------------------------------------------------------ console API
    def list_events(
        self,
        *,
        camera: str | None = None,
        type: str | None = None,
        zone: str | None = None,
        state: str | None = None,
        since: datetime | float | None = None,
        until: datetime | float | None = None,
        limit: int = 100,
        offset: int = 0,
        camera_keys: Collection[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Events newest first, filtered; ``camera_keys`` limits to the cameras a user may see.

        ``since``/``until`` bound the start time (datetime or Unix seconds, ``until`` exclusive).

        Raises:
            InputError: a bad ``state``, ``limit`` (1..1000), ``offset`` or time.
            StoreError: the database cannot be read.
        """
        if not 1 <= limit <= 1000:
            raise InputError(f"limit must be between 1 and 1000, got {limit}")
        if offset < 0:
            raise InputError(f"offset must be 0 or more, got {offset}")
        stmt = self._filtered(events.select(), camera, type, zone, state, since, until, camera_keys)
        stmt = stmt.order_by(events.c.start_at.desc(), events.c.id.desc()).limit(limit).offset(offset)
        with self._read() as conn:
            return [_event_dict(r._mapping) for r in conn.execute(stmt)]

    def count_events(
        self,
        *,
        camera: str | None = None,
        type: str | None = None,
        zone: str | None = None,
        state: str | None = None,
        since: datetime | float | None = None,
        until: datetime | float | None = None,
        camera_keys: Collection[str] | None = None,
    ) -> int:
        """How many events :meth:`list_events` would return without ``limit``/``offset``."""
        stmt = self._filtered(
            select(func.count()).select_from(events), camera, type, zone, state, since, until, camera_keys
        )
        with self._read() as conn:
            return int(conn.execute(stmt).scalar_one())

    @staticmethod
    def _filtered(
        stmt: Any,
        camera: str | None,
        type_: str | None,
        zone: str | None,
        state: str | None,
        since: datetime | float | None,
        until: datetime | float | None,
        camera_keys: Collection[str] | None,
    ) -> Any:
        if state is not None and state not in EVENT_STATES:
            raise InputError(f"state must be one of {EVENT_STATES}, got {state!r}")
        if camera is not None:
            stmt = stmt.where(events.c.camera_key == camera)
        if type_ is not None:
            stmt = stmt.where(events.c.type == type_)
        if zone is not None:
            stmt = stmt.where(events.c.zone == zone)
        if state is not None:
            stmt = stmt.where(events.c.state == state)
        t0, t1 = _as_datetime(since, "since"), _as_datetime(until, "until")
        if t0 is not None:
            stmt = stmt.where(events.c.start_at >= t0)
        if t1 is not None:
            stmt = stmt.where(events.c.start_at < t1)
        if camera_keys is not None:
            stmt = stmt.where(events.c.camera_key.in_(sorted(camera_keys)))
        return stmt

    def get_event(self, uid: str, *, camera_keys: Collection[str] | None = None) -> dict[str, Any] | None:
        """One event with its ``updates``, ``acknowledgements`` and ``escalations`` (oldest first).

        Returns None if there is no such event or its camera is not in ``camera_keys``.
        """
        with self._read() as conn:
            row = conn.execute(events.select().where(events.c.uid == uid)).first()
            if row is None or (camera_keys is not None and row.camera_key not in camera_keys):
                return None
            out = _event_dict(row._mapping)
            eid = row.id
            out["updates"] = [
                {"at": _aware(r.at), "kind": r.kind, "detail": r.detail}
                for r in conn.execute(
                    event_updates.select().where(event_updates.c.event_id == eid).order_by(event_updates.c.id)
                )
            ]
            out["acknowledgements"] = [
                {"username": r.username, "at": _aware(r.at), "note": r.note}
                for r in conn.execute(
                    acknowledgements.select()
                    .where(acknowledgements.c.event_id == eid)
                    .order_by(acknowledgements.c.id)
                )
            ]
            out["escalations"] = [
                {"username": r.username, "at": _aware(r.at), "target": r.target, "note": r.note}
                for r in conn.execute(
                    escalations.select().where(escalations.c.event_id == eid).order_by(escalations.c.id)
                )
            ]
            return out

    def acknowledge(self, uid: str, username: str, note: str | None = None) -> dict[str, Any]:
        """Operator ``username`` acknowledges a ``new`` event; returns the updated event.

        Raises:
            InputError: no such event, or it is not ``new`` any more.
        """
        return self._transition(uid, username, note, "acknowledged", ("new",), None)

    def escalate(self, uid: str, username: str, target: str, note: str | None = None) -> dict[str, Any]:
        """Escalate an open event to ``target`` (``112`` police, ``119`` fire/ambulance, ``district``).

        An escalated event can be escalated again to another target. Returns the updated event.

        Raises:
            InputError: unknown target, no such event, or the event is closed.
        """
        check_escalation_target(target)
        return self._transition(
            uid, username, note, "escalated", ("new", "acknowledged", "escalated"), target
        )

    def close_event(self, uid: str, username: str, note: str | None = None) -> dict[str, Any]:
        """Close an event (no further operator action); recorded as an acknowledgement with the note.

        Raises:
            InputError: no such event, or it is already closed.
        """
        return self._transition(uid, username, note, "closed", ("new", "acknowledged", "escalated"), None)

    def _transition(
        self,
        uid: str,
        username: str,
        note: str | None,
        to_state: str,
        allowed_from: tuple[str, ...],
        target: str | None,
    ) -> dict[str, Any]:
        if not username:
            raise InputError("username must not be empty")
        now = datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                row = conn.execute(
                    select(events.c.id, events.c.state).where(events.c.uid == uid).with_for_update()
                ).first()
                if row is None:
                    raise InputError(f"no event with uid {uid!r}; check the id (list events to find it)")
                if row.state not in allowed_from:
                    verb = {"acknowledged": "acknowledge", "escalated": "escalate", "closed": "close"}[
                        to_state
                    ]
                    raise InputError(
                        f"cannot {verb} event {uid!r}: it is {row.state}; only events that are "
                        f"{' or '.join(allowed_from)} can be {to_state}"
                    )
                conn.execute(
                    update(events).where(events.c.id == row.id).values(state=to_state, updated_at=now)
                )
                if target is not None:
                    conn.execute(
                        insert(escalations).values(
                            event_id=row.id, username=username, at=now, target=target, note=note
                        )
                    )
                else:
                    ack_note = note if to_state == "acknowledged" else f"closed: {note or ''}".rstrip(": ")
                    conn.execute(
                        insert(acknowledgements).values(
                            event_id=row.id, username=username, at=now, note=ack_note
                        )
                    )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot update event {uid!r}: {exc}; is the database reachable?") from exc
        got = self.get_event(uid)
        assert got is not None
        return got

    def _read(self) -> Any:
        try:
            return self.engine.connect()
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot read events from {self.engine.url.render_as_string(hide_password=True)}: {exc}"
            ) from exc


def _event_dict(m: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "uid": m["uid"],
        "camera": m["camera_key"],
        "type": m["type"],
        "zone": m["zone"],
        "severity": m["severity"],
        "state": m["state"],
        "start_at": _aware(m["start_at"]),
        "end_at": _aware(m["end_at"]),
        "object_class": m["object_class"],
        "direction": m["direction"],
        "track_ids": m["track_ids"],
        "box": m["box"],
        "snapshot_path": m["snapshot_path"],
        "clip_path": m["clip_path"],
        "detail": m["detail"],
        "updated_at": _aware(m["updated_at"]),
    }
