"""Viewing sessions: who watched which camera, from when to when, and how (table ``viewing_sessions``).

Watching a camera used to leave one ``view_camera`` audit row per tile reload (126 of 143 rows in
issue 10). Now a viewer's watching of one camera is **one session**: its start and its end are each
one row of the tamper-evident audit chain (``view_start`` / ``view_end``, written in the same
transaction as the session row through :meth:`safecity.store.audit.AuditLog.append`), and the
session row keeps camera, user, how, start, last sign of life and end, with the ids of those two
audit rows. A refused view stays one refused audit row (no session).

How a session ends:

- :meth:`ViewingLog.close` when the stream ends (socket closed, camera taken off the wall);
- :meth:`ViewingLog.sweep` for sessions without a sign of life for ``idle_s`` (a crashed console, a
  browser that vanished): ended at their last sign of life, reason ``idle``. Long streams call
  :meth:`ViewingLog.touch` every ~30 s; one-shot requests (a still frame, the range requests of a
  clip) go through :meth:`ViewingLog.view`, which continues the viewer's open session of the same
  camera and kind seen within ``merge_s`` instead of opening a new one. Sweeps run on every open and
  every listing, so no timer is needed.

Example:
    >>> from safecity.store.audit import AuditLog
    >>> from safecity.store.db import connect
    >>> engine = connect("sqlite:///:memory:")
    >>> t = [1000.0]
    >>> views = ViewingLog(engine, AuditLog(engine, clock=lambda: t[0]), clock=lambda: t[0])
    >>> sid = views.open("guro-hall-door", "kim", "wall")
    >>> t[0] += 65
    >>> s = views.close(sid)
    >>> (s.camera, s.how, s.duration_s, s.end_reason) if s else None
    ('guro-hall-door', 'wall', 65.0, 'closed')
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import ColumnElement, Connection, Engine, RowMapping, func, insert, or_, select, update

from safecity.errors import InputError
from safecity.store.audit import AuditLog
from safecity.store.schema import viewing_sessions
from safecity.store.users import to_utc

__all__ = ["HOWS", "HOW_LABELS", "How", "ViewingFilter", "ViewingLog", "ViewingSession"]

How = Literal["wall", "on_demand", "map", "mjpeg", "still", "playback"]
HOWS: tuple[How, ...] = get_args(How)
HOW_LABELS: dict[str, str] = {
    "wall": "wall tile",
    "on_demand": "on demand",
    "map": "map popup",
    "mjpeg": "MJPEG stream",
    "still": "still frames",
    "playback": "playback",
}
_T = viewing_sessions.c


def _duration_text(seconds: float) -> str:
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


@dataclass(frozen=True, slots=True)
class ViewingSession:
    """One viewing session; ``ended_at`` is None while it is open."""

    id: int
    camera: str
    username: str
    how: str
    started_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    remote_addr: str | None
    detail: str | None
    start_audit_id: int | None
    end_audit_id: int | None

    @property
    def duration_s(self) -> float:
        """Seconds from start to end (to the last sign of life while open)."""
        end = self.ended_at if self.ended_at is not None else self.last_seen_at
        return max(0.0, (end - self.started_at).total_seconds())


@dataclass(frozen=True, slots=True)
class ViewingFilter:
    """Conditions that all must hold (None = any). A session matches a period when it overlaps it:
    it started before ``until`` and was still open at ``since`` or later."""

    username: str | None = None
    camera: str | None = None
    how: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    open: bool | None = None
    limit: int = 200
    offset: int = 0


def _session(r: RowMapping) -> ViewingSession:
    return ViewingSession(
        id=int(r["id"]),
        camera=str(r["camera_key"]),
        username=str(r["username"]),
        how=str(r["how"]),
        started_at=to_utc(r["started_at"]),
        last_seen_at=to_utc(r["last_seen_at"]),
        ended_at=None if r["ended_at"] is None else to_utc(r["ended_at"]),
        end_reason=r["end_reason"],
        remote_addr=r["remote_addr"],
        detail=r["detail"],
        start_audit_id=r["start_audit_id"],
        end_audit_id=r["end_audit_id"],
    )


class ViewingLog:
    """Opens, keeps alive, closes and lists viewing sessions; every start and end is audited.

    Args:
        engine: a migrated engine (``safecity.store.db.connect``).
        audit: the audit chain the ``view_start`` / ``view_end`` rows go to.
        clock: Unix seconds now.
        idle_s: a session with no sign of life for this long is ended by :meth:`sweep` (at its last
            sign of life). Streams touch every ~30 s, so 120 s leaves room for a slow request.
        merge_s: :meth:`view` continues an open session of the same viewer, camera and kind whose last
            sign of life is at most this old.
    """

    def __init__(
        self,
        engine: Engine,
        audit: AuditLog,
        *,
        clock: Callable[[], float] = time.time,
        idle_s: float = 120.0,
        merge_s: float = 60.0,
    ) -> None:
        if not 0 < merge_s <= idle_s:
            raise InputError(f"need 0 < merge_s <= idle_s, got merge_s={merge_s}, idle_s={idle_s}")
        self._engine = engine
        self._audit = audit
        self._clock = clock
        self.idle_s = idle_s
        self.merge_s = merge_s

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    # ------------------------------------------------------------ writing
    def open(
        self,
        camera: str,
        username: str,
        how: str,
        *,
        remote_addr: str | None = None,
        detail: str | None = None,
    ) -> int:
        """Start a session (and its ``view_start`` audit row) and return its id."""
        if how not in HOWS:
            raise InputError(f"viewing kind must be one of {', '.join(HOWS)}, but got {how!r}")
        if not camera or not username:
            raise InputError("a viewing session needs a camera key and a user name")
        self.sweep()
        now = self._now()
        with self._engine.begin() as c:
            return self._open(c, camera, username, how, now, remote_addr, detail)

    def _open(
        self,
        c: Connection,
        camera: str,
        username: str,
        how: str,
        now: datetime,
        remote_addr: str | None,
        detail: str | None,
    ) -> int:
        res = c.execute(
            insert(viewing_sessions).values(
                camera_key=camera[:128],
                username=username[:64],
                how=how,
                started_at=now,
                last_seen_at=now,
                remote_addr=remote_addr[:64] if remote_addr else None,
                detail=detail[:200] if detail else None,
            )
        )
        sid = int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0
        text = f"{HOW_LABELS[how]}, session {sid}" + (f", {detail[:200]}" if detail else "")
        aid = self._audit.append(
            c,
            "view_start",
            username=username,
            allowed=True,
            target_type="camera",
            target_id=camera,
            remote_addr=remote_addr,
            detail=text,
        )
        c.execute(update(viewing_sessions).where(_T.id == sid).values(start_audit_id=aid))
        return sid

    def touch(self, session_id: int) -> bool:
        """Note a sign of life of an open session; False when it is closed or unknown (then the
        caller should open a new one)."""
        with self._engine.begin() as c:
            done = c.execute(
                update(viewing_sessions)
                .where(_T.id == session_id, _T.ended_at.is_(None))
                .values(last_seen_at=self._now())
            )
        return done.rowcount > 0

    def touch_many(self, session_ids: Collection[int]) -> set[int]:
        """:meth:`touch` for the sessions of one connection in one statement; returns the ids that are
        still open (the others were ended meanwhile, e.g. swept after a stall)."""
        ids = sorted(set(session_ids))
        if not ids:
            return set()
        with self._engine.begin() as c:
            done = c.execute(
                update(viewing_sessions)
                .where(_T.id.in_(ids), _T.ended_at.is_(None))
                .values(last_seen_at=self._now())
            )
            if done.rowcount == len(ids):
                return set(ids)
            still = c.execute(select(_T.id).where(_T.id.in_(ids), _T.ended_at.is_(None))).scalars()
            return {int(i) for i in still}

    def view(
        self,
        camera: str,
        username: str,
        how: str,
        *,
        remote_addr: str | None = None,
        detail: str | None = None,
    ) -> int:
        """A one-shot view (a still frame, a range request of a clip): continue the viewer's open
        session of this camera, kind and detail seen within ``merge_s``, else open a new one."""
        now = self._now()
        recent = now - timedelta(seconds=self.merge_s)
        stmt = (
            select(_T.id)
            .where(
                _T.username == username[:64],
                _T.camera_key == camera[:128],
                _T.how == how,
                _T.ended_at.is_(None),
                _T.last_seen_at >= recent,
                _T.detail.is_(None) if not detail else _T.detail == detail[:200],
            )
            .order_by(_T.id.desc())
            .limit(1)
        )
        with self._engine.connect() as c:
            sid = c.execute(stmt).scalar()
        if sid is not None and self.touch(int(sid)):
            return int(sid)
        return self.open(camera, username, how, remote_addr=remote_addr, detail=detail)

    def close(self, session_id: int, *, reason: str = "closed") -> ViewingSession | None:
        """End an open session now (and write its ``view_end`` audit row); None when it was already
        closed or does not exist (a second close writes nothing)."""
        with self._engine.begin() as c:
            return self._close(c, session_id, self._now(), reason)

    def _close(self, c: Connection, session_id: int, at: datetime, reason: str) -> ViewingSession | None:
        done = c.execute(
            update(viewing_sessions)
            .where(_T.id == session_id, _T.ended_at.is_(None))
            .values(ended_at=at, end_reason=reason[:32])
        )
        if done.rowcount == 0:  # closed meanwhile by someone else (sweep, second close)
            return None
        s = _session(c.execute(select(viewing_sessions).where(_T.id == session_id)).mappings().one())
        text = f"{HOW_LABELS.get(s.how, s.how)}, session {s.id}, {_duration_text(s.duration_s)} ({reason})"
        if reason != "closed":
            text += f", ended at {s.ended_at:%Y-%m-%d %H:%M:%S} UTC" if s.ended_at else ""
        aid = self._audit.append(
            c,
            "view_end",
            username=s.username,
            allowed=True,
            target_type="camera",
            target_id=s.camera,
            remote_addr=s.remote_addr,
            detail=text,
        )
        c.execute(update(viewing_sessions).where(_T.id == session_id).values(end_audit_id=aid))
        return replace(s, end_audit_id=aid)

    def sweep(self, *, limit: int = 500) -> int:
        """End open sessions with no sign of life for ``idle_s`` at their last sign of life (reason
        ``idle``); returns how many were ended."""
        cutoff = self._now() - timedelta(seconds=self.idle_s)
        with self._engine.connect() as c:
            stale = c.execute(
                select(_T.id, _T.last_seen_at)
                .where(_T.ended_at.is_(None), _T.last_seen_at < cutoff)
                .order_by(_T.id)
                .limit(limit)
            ).all()
        if not stale:
            return 0
        n = 0
        with self._engine.begin() as c:
            for sid, seen in stale:
                if self._close(c, int(sid), to_utc(seen), "idle") is not None:
                    n += 1
        return n

    # ------------------------------------------------------------ reading
    def _where(self, f: ViewingFilter) -> list[ColumnElement[bool]]:
        cond: list[ColumnElement[bool]] = []
        for col, value in ((_T.username, f.username), (_T.camera_key, f.camera), (_T.how, f.how)):
            if value is not None:
                cond.append(col == value)
        if f.until is not None:
            cond.append(_T.started_at < f.until)
        if f.since is not None:
            cond.append(or_(_T.ended_at.is_(None), _T.ended_at >= f.since))
        if f.open is not None:
            cond.append(_T.ended_at.is_(None) if f.open else _T.ended_at.is_not(None))
        return cond

    def query(self, f: ViewingFilter | None = None) -> list[ViewingSession]:
        """Sessions matching ``f``, newest start first (stale ones are swept first)."""
        f = f or ViewingFilter()
        self.sweep()
        stmt = (
            select(viewing_sessions)
            .where(*self._where(f))
            .order_by(_T.started_at.desc(), _T.id.desc())
            .limit(f.limit)
            .offset(f.offset)
        )
        with self._engine.connect() as c:
            return [_session(r) for r in c.execute(stmt).mappings().all()]

    def count(self, f: ViewingFilter | None = None) -> int:
        stmt = select(func.count()).select_from(viewing_sessions).where(*self._where(f or ViewingFilter()))
        with self._engine.connect() as c:
            return int(c.execute(stmt).scalar_one())

    def get(self, session_id: int) -> ViewingSession | None:
        with self._engine.connect() as c:
            r = c.execute(select(viewing_sessions).where(_T.id == session_id)).mappings().first()
        return None if r is None else _session(r)
