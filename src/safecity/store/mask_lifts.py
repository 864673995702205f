"""Time-limited lifts of a camera's liftable privacy masks (table ``mask_lifts``).

A lift belongs to one user and one camera: only that user's live view of that camera shows the area
under the camera's *liftable* masks, from ``started_at`` until ``expires_at`` (at most
:data:`MAX_LIFT_S`) or until the user ends it. Permanent masks are never lifted, and recordings
(snapshots, clips, exports) always keep every mask. Expiry comes from the stored times and the
injected clock, so nothing has to run for a lift to end. The routes audit every lift and end.

Example:
    >>> from safecity.store.db import connect
    >>> t = [1000.0]
    >>> lifts = MaskLifts(connect("sqlite:///:memory:"), clock=lambda: t[0])
    >>> _ = lifts.lift("cam1", "kim", "112 신고 확인", 600)
    >>> lifts.active("cam1", "kim") is not None, lifts.active("cam1", "lee") is None
    (True, True)
    >>> t[0] += 601
    >>> lifts.active("cam1", "kim") is None
    True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update

from safecity.errors import InputError
from safecity.store.schema import mask_lifts
from safecity.store.users import to_utc

__all__ = ["MAX_LIFT_S", "MAX_REASON", "MaskLift", "MaskLifts"]

MAX_LIFT_S = 1800.0  # 30 minutes at most per lift
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class MaskLift:
    id: int
    camera: str
    username: str
    reason: str
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None


class MaskLifts:
    """Create, end and look up mask lifts; ``clock`` gives Unix seconds (tests inject one)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def lift(self, camera: str, username: str, reason: str, duration_s: float) -> MaskLift:
        """Lift ``camera``'s liftable masks for ``username`` for ``duration_s`` (replacing an active lift).

        Raises:
            InputError: empty camera or user, a reason not 1..500 characters, or a duration not in
                (0, 1800] seconds.
        """
        if not camera or not username:
            raise InputError("a mask lift needs a camera and a user")
        if not reason.strip() or len(reason) > MAX_REASON:
            raise InputError(f"a mask lift needs a reason of 1 to {MAX_REASON} characters")
        if not 0 < duration_s <= MAX_LIFT_S:
            raise InputError(
                f"a mask lift lasts more than 0 and at most {MAX_LIFT_S / 60:.0f} minutes, got {duration_s} s"
            )
        now = self._now()
        expires = datetime.fromtimestamp(now.timestamp() + duration_s, UTC)
        with self._engine.begin() as c:
            c.execute(
                update(mask_lifts)
                .where(
                    mask_lifts.c.camera_key == camera,
                    mask_lifts.c.username == username,
                    mask_lifts.c.ended_at.is_(None),
                    mask_lifts.c.expires_at > now,
                )
                .values(ended_at=now)
            )
            res = c.execute(
                insert(mask_lifts).values(
                    camera_key=camera,
                    username=username,
                    reason=reason.strip(),
                    started_at=now,
                    expires_at=expires,
                )
            )
            pk = res.inserted_primary_key
        return MaskLift(int(pk[0]) if pk else 0, camera, username, reason.strip(), now, expires, None)

    def active(self, camera: str, username: str) -> MaskLift | None:
        """``username``'s lift of ``camera`` that has neither expired nor been ended, or None."""
        now = self._now()
        with self._engine.connect() as c:
            r = (
                c.execute(
                    select(mask_lifts)
                    .where(
                        mask_lifts.c.camera_key == camera,
                        mask_lifts.c.username == username,
                        mask_lifts.c.ended_at.is_(None),
                    )
                    .order_by(mask_lifts.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        if r is None or to_utc(r["expires_at"]) <= now or to_utc(r["started_at"]) > now:
            return None
        return MaskLift(
            int(r["id"]),
            str(r["camera_key"]),
            str(r["username"]),
            str(r["reason"]),
            to_utc(r["started_at"]),
            to_utc(r["expires_at"]),
            None,
        )

    def end(self, camera: str, username: str) -> MaskLift | None:
        """End ``username``'s active lift of ``camera`` now; returns it, or None if there was none."""
        lift = self.active(camera, username)
        if lift is None:
            return None
        now = self._now()
        with self._engine.begin() as c:
            c.execute(update(mask_lifts).where(mask_lifts.c.id == lift.id).values(ended_at=now))
        return MaskLift(
            lift.id, lift.camera, lift.username, lift.reason, lift.started_at, lift.expires_at, now
        )
