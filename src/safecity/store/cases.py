"""Cases: requests for footage (police, residents) and what was collected to answer them.

A case is a request: its number, the requesting agency, the reason, a period and the cameras it
covers (migration 0007, tables ``cases`` and ``case_items``). Operators collect items for it:
search results (track records), synopses and event clips, each of one of the case's cameras. The
signed package that answers the case is built by :mod:`safecity.search.case_export` and recorded
as an evidence export; the case keeps its id (``export_id``).

Every write checks its input and says what was expected (:class:`~safecity.errors.InputError`);
nothing half-written stays behind. The console audits every action (routes_cases).

Example:
    >>> from datetime import UTC, datetime
    >>> from safecity.store.db import connect
    >>> cases = CaseStore(connect("sqlite:///:memory:"))
    >>> t0, t1 = datetime(2026, 12, 6, 12, tzinfo=UTC), datetime(2026, 12, 6, 13, tzinfo=UTC)
    >>> c = cases.create("2026-서울구로-0042", "구로경찰서", "theft report", t0, t1, ["cam-1"], "operator")
    >>> c["number"], c["cameras"], c["items"]
    ('2026-서울구로-0042', ['cam-1'], [])
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from safecity.errors import InputError
from safecity.store.schema import metadata

__all__ = ["CaseStore", "ITEM_KINDS", "MAX_CAMERAS", "MAX_ITEMS", "case_items", "cases"]

ITEM_KINDS = ("event", "synopsis", "track")
"""What a case collects: event clips (event uid), synopses (synopsis id), search results (track uid)."""
MAX_CAMERAS = 50
MAX_ITEMS = 500
_MAX_PERIOD_S = 31 * 86400.0
_NUMBER = re.compile(r"^[\w.\-/# ]{1,64}$")

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(64), nullable=False, unique=True, comment="the request's case number"),
    Column("agency", String(200), nullable=False, comment="requesting agency"),
    Column("reason", Text, nullable=False),
    Column("since_at", DateTime(timezone=True), nullable=False),
    Column("until_at", DateTime(timezone=True), nullable=False),
    Column("cameras", JSON, nullable=False, comment="camera keys the request covers"),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("export_id", String(64), comment="the last signed package"),
    Index("ix_cases_created", "created_at"),
)

case_items = Table(
    "case_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False, comment="track|synopsis|event"),
    Column("ref", String(200), nullable=False, comment="track uid, synopsis id, event uid"),
    Column("camera_key", String(128), nullable=False),
    Column("note", String(500)),
    Column("added_by", String(64), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("case_id", "kind", "ref", name="uq_case_items_ref"),
)


def _aware(v: Any) -> Any:
    return v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v


def _text(label: str, value: str, most: int) -> str:
    v = value.strip()
    if not 1 <= len(v) <= most:
        raise InputError(f"{label} must be 1 to {most} characters, got {len(v)}")
    return v


class CaseStore:
    """Cases and their items in the store (see the module doc)."""

    def __init__(self, engine: Engine, clock: Any = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(float(self.clock()), UTC)

    def create(
        self,
        number: str,
        agency: str,
        reason: str,
        since: datetime,
        until: datetime,
        cameras: Sequence[str],
        by: str,
    ) -> dict[str, Any]:
        """A new case; returns it (:meth:`get`).

        Raises:
            InputError: a bad or taken number, an empty field, a bad period (empty, reversed, more
                than 31 days), no camera or more than :data:`MAX_CAMERAS`.
        """
        number = number.strip()
        if not _NUMBER.match(number):
            raise InputError(
                "case number must be 1-64 letters (Hangul too), digits or . - / # and spaces, "
                f"got {number[:80]!r}"
            )
        agency = _text("agency", agency, 200)
        reason = _text("reason", reason, 2000)
        if since.tzinfo is None or until.tzinfo is None:
            raise InputError("the case period needs timezone-aware times")
        span = (until - since).total_seconds()
        if not 0 < span <= _MAX_PERIOD_S:
            raise InputError(
                f"the case period must be non-empty and at most 31 days, got {since.isoformat()} to "
                f"{until.isoformat()}; until must be after since"
            )
        cams = sorted({c.strip() for c in cameras if c.strip()})
        if not 1 <= len(cams) <= MAX_CAMERAS or any(len(c) > 128 for c in cams):
            raise InputError(f"a case covers 1 to {MAX_CAMERAS} cameras (ids of at most 128 characters)")
        try:
            with self.engine.begin() as c:
                res = c.execute(
                    insert(cases).values(number=number, agency=agency, reason=reason, since_at=since,
                                         until_at=until, cameras=cams, created_by=by, created_at=self._now())
                )  # fmt: skip
                case_id = int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0
        except IntegrityError:
            raise InputError(
                f"case number {number!r} already exists; open that case or use another number"
            ) from None
        out = self.get(case_id)
        assert out is not None
        return out

    def get(self, case_id: int) -> dict[str, Any] | None:
        """The case with its items (oldest first), or None."""
        with self.engine.connect() as c:
            row = c.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
            if row is None:
                return None
            items = c.execute(
                select(case_items).where(case_items.c.case_id == case_id).order_by(case_items.c.id)
            ).mappings()
            item_list = [{k: _aware(v) for k, v in dict(i).items() if k != "case_id"} for i in items]
        out = {k: _aware(v) for k, v in dict(row).items()}
        out["items"] = item_list
        return out

    def list(self, cameras: Collection[str] | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Cases newest first (without items); with ``cameras``: only cases whose every camera is in it."""
        with self.engine.connect() as c:
            rows = c.execute(select(cases).order_by(cases.c.created_at.desc()).limit(limit)).mappings().all()
        out = [{k: _aware(v) for k, v in dict(r).items()} for r in rows]
        if cameras is not None:
            allowed = set(cameras)
            out = [r for r in out if set(r["cameras"]) <= allowed]
        return out

    def add_item(
        self, case_id: int, kind: str, ref: str, camera: str, by: str, note: str | None = None
    ) -> dict[str, Any]:
        """Collect ``ref`` (of ``kind``, on ``camera``) for the case; adding it again changes nothing.

        Raises:
            InputError: unknown case or kind, a camera the case does not cover, too many items.
        """
        case = self.get(case_id)
        if case is None:
            raise InputError(f"no case {case_id}")
        if kind not in ITEM_KINDS:
            raise InputError(f"unknown item kind {kind!r}; expected one of {', '.join(ITEM_KINDS)}")
        ref = _text("item reference", ref, 200)
        if camera not in case["cameras"]:
            raise InputError(
                f"camera {camera!r} is not one of case {case['number']!r}'s cameras "
                f"({', '.join(case['cameras'])})"
            )
        if any(i["kind"] == kind and i["ref"] == ref for i in case["items"]):
            return case
        if len(case["items"]) >= MAX_ITEMS:
            raise InputError(f"case {case['number']!r} already holds {MAX_ITEMS} items")
        with self.engine.begin() as c:
            c.execute(
                insert(case_items).values(case_id=case_id, kind=kind, ref=ref, camera_key=camera,
                                          note=None if note is None else note.strip()[:500] or None,
                                          added_by=by, added_at=self._now())
            )  # fmt: skip
        out = self.get(case_id)
        assert out is not None
        return out

    def set_export(self, case_id: int, export_id: str) -> None:
        """Remember the signed package that answers the case."""
        with self.engine.begin() as c:
            c.execute(update(cases).where(cases.c.id == case_id).values(export_id=export_id))
