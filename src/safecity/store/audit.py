"""The console's audit trail (table ``audit_log``): who viewed or changed what, when, from where.

Every view of a live stream, snapshot or clip, every login (ok or failed), every acknowledgement,
escalation and close, and every refused request (401/403) is one row with ``allowed`` saying
whether it was permitted.

Rows form a hash chain (:mod:`safecity.store.audit_chain`): :meth:`AuditLog.record` locks the
``audit_head`` row, links the new row to the newest one and moves the head, all in one transaction,
so concurrent writers (threads, processes, nodes on PostgreSQL) append one after another.

Example:
    >>> from safecity.store.db import connect
    >>> log = AuditLog(connect("sqlite:///:memory:"), clock=lambda: 0.0)
    >>> _ = log.record("login", username="kim", remote_addr="10.0.0.5", allowed=False)
    >>> [(e.action, e.allowed) for e in log.query(AuditFilter(username="kim"))]
    [('login', False)]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, Engine, RowMapping, func, insert, select, update

from safecity.store.audit_chain import GENESIS, ChainReport, row_digest, verify_chain
from safecity.store.schema import audit_head, audit_log
from safecity.store.users import to_utc

__all__ = ["AuditEntry", "AuditFilter", "AuditLog"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    username: str | None
    action: str
    target_type: str | None
    target_id: str | None
    remote_addr: str | None
    allowed: bool
    detail: str | None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Conditions that all must hold (None = any). ``since``/``until`` are inclusive/exclusive."""

    username: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    allowed: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200
    offset: int = 0
    max_id: int | None = None  # rows up to this id only (a snapshot for exports)


class AuditLog:
    """Append-only writer and filtered reader of ``audit_log``."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock

    def record(
        self,
        action: str,
        *,
        username: str | None,
        allowed: bool,
        target_type: str | None = None,
        target_id: str | None = None,
        remote_addr: str | None = None,
        detail: str | None = None,
    ) -> int:
        """Append one entry to the chain and return its id."""
        with self._engine.begin() as c:
            return self.append(
                c,
                action,
                username=username,
                allowed=allowed,
                target_type=target_type,
                target_id=target_id,
                remote_addr=remote_addr,
                detail=detail,
            )

    def append(
        self,
        c: Connection,
        action: str,
        *,
        username: str | None,
        allowed: bool,
        target_type: str | None = None,
        target_id: str | None = None,
        remote_addr: str | None = None,
        detail: str | None = None,
    ) -> int:
        """Append one entry to the chain inside the caller's transaction ``c`` and return its id.

        For stores whose own rows and their audit entry must be written together (viewing sessions):
        the entry exists exactly when the caller's change is committed.
        """
        row = {
            "at": datetime.fromtimestamp(self._clock(), UTC),
            "username": username[:64] if username else username,
            "action": action[:48],
            "target_type": target_type[:32] if target_type else target_type,
            "target_id": target_id[:128] if target_id else target_id,
            "remote_addr": remote_addr[:64] if remote_addr else remote_addr,
            "allowed": bool(allowed),
            "detail": detail,
        }
        prev = _lock_head(c)
        digest = row_digest(prev, row)
        res = c.execute(insert(audit_log).values(**row, prev_hash=prev, row_hash=digest))
        rid = int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0
        c.execute(update(audit_head).where(audit_head.c.id == 1).values(last_id=rid, last_hash=digest))
        return rid

    def verify(self) -> ChainReport:
        """Check the hash chain (see :func:`safecity.store.audit_chain.verify_chain`)."""
        return verify_chain(self._engine)

    def _where(self, f: AuditFilter) -> list[ColumnElement[bool]]:
        cond: list[ColumnElement[bool]] = []
        for col, value in (
            (audit_log.c.username, f.username),
            (audit_log.c.action, f.action),
            (audit_log.c.target_type, f.target_type),
            (audit_log.c.target_id, f.target_id),
            (audit_log.c.allowed, f.allowed),
        ):
            if value is not None:
                cond.append(col == value)
        if f.since is not None:
            cond.append(audit_log.c.at >= f.since)
        if f.until is not None:
            cond.append(audit_log.c.at < f.until)
        if f.max_id is not None:
            cond.append(audit_log.c.id <= f.max_id)
        return cond

    def last_id(self) -> int:
        """Id of the newest row (0 for an empty log)."""
        with self._engine.connect() as c:
            return int(c.execute(select(func.coalesce(func.max(audit_log.c.id), 0))).scalar_one())

    def query(self, f: AuditFilter | None = None) -> list[AuditEntry]:
        """Entries matching ``f``, newest first."""
        f = f or AuditFilter()
        stmt = (
            select(audit_log)
            .where(*self._where(f))
            .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
            .limit(f.limit)
            .offset(f.offset)
        )
        with self._engine.connect() as c:
            rows = c.execute(stmt).mappings().all()
        return [_entry(r) for r in rows]

    def iter_entries(self, f: AuditFilter | None = None, *, batch: int = 2000) -> Iterator[AuditEntry]:
        """Every entry matching ``f`` (``limit``/``offset`` ignored), oldest first (chain order),
        read in batches of ``batch`` rows by id so an export of millions of rows stays small in memory."""
        cond = self._where(f or AuditFilter())
        after = 0
        while True:
            stmt = (
                select(audit_log).where(*cond, audit_log.c.id > after).order_by(audit_log.c.id).limit(batch)
            )
            with self._engine.connect() as c:
                rows = c.execute(stmt).mappings().all()
            yield from (_entry(r) for r in rows)
            if len(rows) < batch:
                return
            after = int(rows[-1]["id"])

    def count(self, f: AuditFilter | None = None) -> int:
        stmt = select(func.count()).select_from(audit_log).where(*self._where(f or AuditFilter()))
        with self._engine.connect() as c:
            return int(c.execute(stmt).scalar_one())


def _entry(r: RowMapping) -> AuditEntry:
    return AuditEntry(
        id=int(r["id"]),
        at=to_utc(r["at"]),
        username=r["username"],
        action=str(r["action"]),
        target_type=r["target_type"],
        target_id=r["target_id"],
        remote_addr=r["remote_addr"],
        allowed=bool(r["allowed"]),
        detail=r["detail"],
    )


def _lock_head(c: Connection) -> str:
    """Take the chain's lock (an UPDATE of the head row comes first, so it is the transaction's first
    write: the row lock on PostgreSQL, the database write lock on SQLite) and return the newest hash."""
    done = c.execute(update(audit_head).where(audit_head.c.id == 1).values(rows=audit_head.c.rows + 1))
    if done.rowcount == 0:  # head row missing (a database made without migration 0003's data step)
        last = c.execute(
            select(audit_log.c.id, audit_log.c.row_hash).order_by(audit_log.c.id.desc()).limit(1)
        ).first()
        n = int(c.execute(select(func.count()).select_from(audit_log)).scalar_one())
        c.execute(
            insert(audit_head).values(
                id=1,
                rows=n + 1,
                last_id=last.id if last else None,
                last_hash=(last.row_hash if last and last.row_hash else GENESIS),
            )
        )
    return str(c.execute(select(audit_head.c.last_hash).where(audit_head.c.id == 1)).scalar_one())
