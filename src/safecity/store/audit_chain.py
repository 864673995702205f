"""The audit log's hash chain: canonical row form, digest, and offline verification.

Each ``audit_log`` row carries ``prev_hash`` (the ``row_hash`` of the row before it, by id; the
first row has :data:`GENESIS`) and ``row_hash`` = SHA-256 of the canonical JSON form of its content
plus ``prev_hash`` (:func:`row_digest`). The one ``audit_head`` row (id 1) holds the number of chained
rows and the id and hash of the newest: appends lock it first (an ``UPDATE``: a row lock on
PostgreSQL, the write lock on SQLite), so concurrent writers cannot fork the chain.

:func:`verify_chain` walks the rows in id order and reports the first break:

- ``altered``: a row's content no longer matches its hash (an ``UPDATE`` of the row);
- ``inserted``: a row without a chain hash (an ``INSERT`` that bypassed :class:`AuditLog`);
- ``broken``: a row's ``prev_hash`` is not the hash of the row before it: rows between were deleted
  or inserted, or the row before was altered together with its hash;
- ``truncated``: the head says more rows (or another last row) than the table holds: the newest
  rows were deleted;
- ``rewritten``: a head hash recorded earlier outside the database (an *anchor*) is no longer in the
  chain: someone rebuilt the log and recomputed every hash.

Someone who can write the database *and* recompute every hash can rebuild the whole chain; the head
hash printed by ``safecity audit verify`` (and stored in every evidence export's manifest) anchors
it outside the database: pass such hashes back as ``anchors`` (``--anchor``) to detect that.

Example:
    >>> from datetime import UTC, datetime
    >>> row = {"at": datetime(2026, 1, 1, tzinfo=UTC), "username": "kim", "action": "login",
    ...        "target_type": None, "target_id": None, "remote_addr": None, "allowed": True, "detail": None}
    >>> len(row_digest(GENESIS, row))
    64
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, RowMapping, select

from safecity.store.schema import audit_head, audit_log

__all__ = [
    "CHAIN_FIELDS",
    "ChainBreak",
    "ChainReport",
    "GENESIS",
    "canonical_row",
    "row_digest",
    "verify_chain",
]

GENESIS = "0" * 64
CHAIN_FIELDS = ("at", "username", "action", "target_type", "target_id", "remote_addr", "allowed", "detail")
BreakKind = Literal["altered", "inserted", "broken", "truncated", "rewritten"]


def _iso(value: object) -> str:
    if not isinstance(value, datetime):
        raise TypeError(f"audit 'at' must be a datetime, got {type(value).__name__}")
    at: datetime = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return at.isoformat(timespec="microseconds")


def canonical_row(row: Mapping[Any, Any]) -> str:
    """The row's content as compact JSON, fields in :data:`CHAIN_FIELDS` order, time in UTC ISO form."""
    values: list[Any] = []
    for name in CHAIN_FIELDS:
        v = row[name]
        if name == "at":
            v = _iso(v)
        elif name == "allowed":
            v = bool(v)
        values.append(v)
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def row_digest(prev_hash: str, row: Mapping[Any, Any]) -> str:
    """SHA-256 hex of ``prev_hash`` + the canonical row."""
    return hashlib.sha256(f"{prev_hash}\n{canonical_row(row)}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    kind: BreakKind
    row_id: int | None
    message: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """Result of :func:`verify_chain`: ``ok`` when ``first_break`` is None."""

    rows: int
    head_hash: str
    last_id: int | None
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def _check(conn: Connection) -> ChainReport:
    stmt = select(audit_log).order_by(audit_log.c.id).execution_options(yield_per=2000)
    result = conn.execute(stmt)
    try:
        return _walk(conn, result.mappings())
    finally:
        result.close()


def _walk(conn: Connection, rows: Iterable[RowMapping]) -> ChainReport:
    expected_prev, prev_id, n = GENESIS, None, 0
    for r in rows:
        n += 1
        rid = int(r["id"])
        if r["row_hash"] is None or r["prev_hash"] is None:
            return ChainReport(
                n,
                expected_prev,
                prev_id,
                ChainBreak(
                    "inserted",
                    rid,
                    f"audit row {rid} has no chain hash: it was inserted into the database directly, "
                    "not through safecity",
                ),
            )
        if r["prev_hash"] != expected_prev:
            after = f"row {prev_id}" if prev_id is not None else "the start of the log"
            return ChainReport(
                n,
                expected_prev,
                prev_id,
                ChainBreak(
                    "broken",
                    rid,
                    f"audit row {rid} does not follow {after}: rows between them were deleted or "
                    f"inserted, or {after} was altered together with its hash",
                ),
            )
        if row_digest(expected_prev, r) != r["row_hash"]:
            return ChainReport(
                n,
                expected_prev,
                prev_id,
                ChainBreak(
                    "altered",
                    rid,
                    f"audit row {rid} was altered: its content ({r['action']} by {r['username']}) no "
                    "longer matches its hash",
                ),
            )
        expected_prev, prev_id = str(r["row_hash"]), rid
    head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).mappings().first()
    if head is None:
        return ChainReport(
            n, expected_prev, prev_id, ChainBreak("truncated", None, "the audit_head row is missing")
        )
    if head["last_hash"] != expected_prev or int(head["rows"]) != n:
        last = f"row {prev_id}" if prev_id is not None else "the start"
        return ChainReport(
            n,
            expected_prev,
            prev_id,
            ChainBreak(
                "truncated",
                head["last_id"],
                f"the audit log ends at {last} ({n} rows) but the chain head records {head['rows']} rows "
                f"ending at row {head['last_id']}: the newest rows were deleted",
            ),
        )
    return ChainReport(n, expected_prev, prev_id, None)


def verify_chain(engine: Engine, *, anchors: Sequence[str] = ()) -> ChainReport:
    """Walk the audit log in id order and return the first break (or none) and the head hash.

    ``anchors`` are head hashes recorded earlier outside the database (``safecity audit verify``
    output, an evidence manifest's ``audit_head``): each must still be the hash of a row of the intact
    chain, else the log was rewritten from that point on (``rewritten``).
    """
    with engine.connect() as conn:
        report = _check(conn)
        if report.first_break is not None:
            return report
        for anchor in anchors:
            if anchor == GENESIS:
                continue
            hit = conn.execute(select(audit_log.c.id).where(audit_log.c.row_hash == anchor).limit(1)).first()
            if hit is None:
                return ChainReport(
                    report.rows,
                    report.head_hash,
                    report.last_id,
                    ChainBreak(
                        "rewritten",
                        None,
                        f"the anchored head hash {anchor} is not in the audit log: the log was rewritten "
                        "(or truncated) after that hash was recorded, and its hashes recomputed",
                    ),
                )
        return report
