"""Viewing sessions of one stream connection: the hook the live routes call.

A tile WebSocket or an MJPEG response shows cameras for a while; :class:`StreamViews` keeps one
:class:`~safecity.store.viewing.ViewingLog` session per (camera, how) of that connection: opened when
a camera appears, closed when it goes (``removed``) or the connection ends (``closed``), touched every
``touch_every_s`` while it is shown. Re-sending the same camera list (a wall reload) writes nothing.

The methods do database work: call them from a worker thread (``run_in_threadpool``) in async code.

Example (``console.viewing`` is the app's :class:`ViewingLog`)::

    views = StreamViews(console.viewing, session.user.username, "wall", client_addr(ws))
    await run_in_threadpool(views.show, ["guro-hall-door", "guro-lot-west"])
    ...
    await run_in_threadpool(views.keep_alive)     # in the send loop; cheap when not due
    ...
    await run_in_threadpool(views.close_all)      # in ``finally``
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from safecity.store.viewing import ViewingLog

__all__ = ["StreamViews"]


class StreamViews:
    """The open viewing sessions of one connection, keyed by (camera, how)."""

    def __init__(
        self,
        log: ViewingLog,
        username: str,
        how: str,
        remote_addr: str | None = None,
        *,
        touch_every_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self._username = username
        self._how = how
        self._addr = remote_addr
        self._every = touch_every_s
        self._clock = clock
        self._touched = clock()
        self._open: dict[tuple[str, str], int] = {}

    @property
    def cameras(self) -> list[str]:
        """Cameras with an open session on this connection."""
        return list(dict.fromkeys(camera for camera, _ in self._open))

    def show(self, cameras: Iterable[str], *, how: str | None = None) -> None:
        """The connection now shows exactly ``cameras`` (as ``how``, default the connection's):
        sessions open for new ones, close (``removed``) for those of this ``how`` no longer shown."""
        kind = how or self._how
        wanted = dict.fromkeys(cameras)
        for key in [k for k in self._open if k[1] == kind and k[0] not in wanted]:
            self._log.close(self._open.pop(key), reason="removed")
        for camera in wanted:
            if (camera, kind) not in self._open:
                sid = self._log.open(camera, self._username, kind, remote_addr=self._addr)
                self._open[(camera, kind)] = sid

    def keep_alive(self) -> None:
        """Touch the open sessions when ``touch_every_s`` has passed; a session ended meanwhile (swept
        after a stall) is opened again."""
        now = self._clock()
        if now - self._touched < self._every:
            return
        self._touched = now
        alive = self._log.touch_many(self._open.values())
        for (camera, kind), sid in list(self._open.items()):
            if sid not in alive:
                self._open[(camera, kind)] = self._log.open(
                    camera, self._username, kind, remote_addr=self._addr
                )

    def close_all(self, reason: str = "closed") -> None:
        """End every open session of the connection (socket closed, stream ended)."""
        while self._open:
            _, sid = self._open.popitem()
            self._log.close(sid, reason=reason)
