"""Request dependencies of the console API: services, the logged-in user, role and camera checks.

Routes declare what they need through the ``Annotated`` aliases below (``ConsoleDep``,
``SessionDep``, ``OperatorDep``, ``AdminDep``); every refusal (401/403) is written to the audit log
before the error response goes out.
"""

from __future__ import annotations

import functools
import ipaddress
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request, WebSocket

from safecity.settings import IpNetwork, Settings
from safecity.store.audit import AuditLog
from safecity.store.users import Role, Session, UserStore
from safecity.store.viewing import ViewingLog
from safecity.web.anon import AnonymousTally
from safecity.web.throttle import LoginThrottle

if TYPE_CHECKING:
    from safecity.service import Services
    from safecity.store.events import EventStore
    from safecity.store.mask_lifts import MaskLifts
    from safecity.web.live import JpegCache, LiveHub

__all__ = [
    "AdminDep",
    "COOKIE_NAME",
    "Console",
    "ConsoleDep",
    "OperatorDep",
    "SessionDep",
    "audit_action",
    "audit_refusal",
    "client_addr",
    "console_of",
    "forwarded_client",
    "origin_allowed",
    "require_camera",
    "session_from_token",
    "token_from",
]

COOKIE_NAME = "safecity_session"
_RANK: dict[Role, int] = {"viewer": 0, "operator": 1, "admin": 2}


@dataclass
class Console:
    """Everything the routes use, stored once on ``app.state.console``."""

    settings: Settings
    services: Services
    users: UserStore
    audit: AuditLog
    hub: LiveHub
    throttle: LoginThrottle
    jpegs: JpegCache | None = None
    lifts: MaskLifts | None = None
    clock: Callable[[], float] = time.time
    anonymous: AnonymousTally | None = None

    @property
    def events(self) -> EventStore:
        return self.services.events

    @functools.cached_property
    def viewing(self) -> ViewingLog:
        """Viewing sessions (who watches which camera, how, from when to when), audited in ``audit``."""
        return ViewingLog(self.services.engine, self.audit, clock=self.clock)


async def console_of(request: Request) -> Console:
    """The app's :class:`Console` (async: no I/O, so no thread-pool hop per request)."""
    console: Console = request.app.state.console
    return console


ConsoleDep = Annotated[Console, Depends(console_of)]


def _is_trusted(addr: str, trusted: Sequence[IpNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def forwarded_client(peer: str | None, forwarded_for: str | None, trusted: Sequence[IpNetwork]) -> str | None:
    """The client address of a request that arrived from ``peer`` with ``X-Forwarded-For``.

    Only when ``peer`` is a trusted proxy is the header believed, and then it is read from the right
    (the entries our own proxies appended) skipping trusted proxies: the first untrusted entry is the
    client. Anything a client wrote itself sits further left and is never reached. A malformed entry
    stops the walk at the last proxy. With no trusted proxies the peer is the client.

    >>> import ipaddress
    >>> lb = [ipaddress.ip_network("10.0.0.0/8")]
    >>> forwarded_client("10.0.0.5", "6.6.6.6, 203.0.113.7", lb)
    '203.0.113.7'
    >>> forwarded_client("198.51.100.1", "1.2.3.4", lb)
    '198.51.100.1'
    >>> forwarded_client("127.0.0.1", "1.2.3.4", [])
    '127.0.0.1'
    """
    if peer is None or not trusted or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    client = peer
    for part in reversed(forwarded_for.split(",")):
        entry = part.strip()
        try:
            ipaddress.ip_address(entry)
        except ValueError:
            return client
        client = entry
        if not _is_trusted(entry, trusted):
            return entry
    return client


def client_addr(conn: Request | WebSocket) -> str | None:
    """The client's address: the TCP peer, or ``X-Forwarded-For`` behind a trusted proxy
    (``SAFECITY_TRUSTED_PROXIES``; off by default)."""
    peer = conn.client.host if conn.client else None
    console: Console | None = getattr(conn.app.state, "console", None)
    if console is None:
        return peer
    return forwarded_client(
        peer, conn.headers.get("x-forwarded-for"), console.settings.trusted_proxy_networks
    )


def origin_allowed(conn: Request | WebSocket, settings: Settings) -> bool:
    """Whether the ``Origin`` of a WebSocket handshake may connect.

    A browser always sends ``Origin``; it must be the console's own origin (its host and port are
    the request's ``Host``; the scheme is not compared, so a TLS-terminating proxy needs no setting)
    or one of ``SAFECITY_ALLOWED_ORIGINS``. A handshake without
    ``Origin`` is not from a browser page (scripts, tests) and is allowed: the session token
    still decides. This stops another web site from opening a socket with the operator's cookie.
    """
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    origin = origin.rstrip("/").lower()
    host = conn.headers.get("host", "").lower()
    scheme, sep, netloc = origin.partition("://")
    if host and sep and scheme in ("http", "https") and netloc == host:
        return True
    return origin in settings.allowed_origins


def token_from(conn: Request | WebSocket) -> str | None:
    """Session token from ``Authorization: Bearer`` (scripts) or the session cookie (browser)."""
    auth = conn.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return conn.cookies.get(COOKIE_NAME) or None


def session_from_token(console: Console, token: str | None) -> Session | None:
    return console.users.resolve_session(token) if token else None


def audit_action(
    console: Console,
    conn: Request | WebSocket,
    session: Session,
    action: str,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    allowed: bool = True,
    detail: str | None = None,
) -> None:
    """One audit row for what a signed-in user did or was refused: who, what, which target, from where."""
    console.audit.record(
        action,
        username=session.user.username,
        allowed=allowed,
        target_type=target_type,
        target_id=target_id,
        remote_addr=client_addr(conn),
        detail=detail,
    )


def audit_refusal(
    console: Console,
    conn: Request | WebSocket,
    *,
    username: str | None,
    status: int,
    reason: str,
) -> None:
    """One audit row for a refused request (401 or 403).

    Anonymous 401s go through the console's :class:`~safecity.web.anon.AnonymousTally`: counted,
    and audited once per address per interval plus a summary row.
    """
    if status == 401 and username is None and console.anonymous is not None:
        console.anonymous.refused(client_addr(conn), conn.url.path, reason)
        return
    console.audit.record(
        "denied" if status == 403 else "unauthenticated",
        username=username,
        allowed=False,
        target_type="path",
        target_id=conn.url.path,
        remote_addr=client_addr(conn),
        detail=f"{status}: {reason}",
    )


def current_session(request: Request, console: ConsoleDep) -> Session:
    token = token_from(request)
    session = session_from_token(console, token)
    if session is None:
        reason = "no session" if token is None else "session unknown or expired"
        audit_refusal(console, request, username=None, status=401, reason=reason)
        raise HTTPException(
            status_code=401,
            detail=f"not logged in ({reason}); POST /api/auth/login with username and password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return session


SessionDep = Annotated[Session, Depends(current_session)]


def _role_at_least(minimum: Role) -> Callable[[Request, Console, Session], Session]:
    def check(request: Request, console: ConsoleDep, session: SessionDep) -> Session:
        if _RANK[session.user.role] < _RANK[minimum]:
            reason = f"needs role {minimum} or higher, user has {session.user.role}"
            audit_refusal(console, request, username=session.user.username, status=403, reason=reason)
            raise HTTPException(status_code=403, detail=f"forbidden: {reason}")
        return session

    return check


OperatorDep = Annotated[Session, Depends(_role_at_least("operator"))]
AdminDep = Annotated[Session, Depends(_role_at_least("admin"))]


def require_camera(
    console: Console,
    conn: Request | WebSocket,
    session: Session,
    camera: str,
    *,
    action: str = "view_camera",
) -> None:
    """Raise 403 (and audit ``action`` as refused) unless the user's camera groups include ``camera``."""
    allowed = console.users.cameras_of(session.user)
    if allowed is not None and camera not in allowed:
        reason = f"camera {camera!r} is outside the user's camera groups"
        console.audit.record(
            action,
            username=session.user.username,
            allowed=False,
            target_type="camera",
            target_id=camera,
            remote_addr=client_addr(conn),
            detail=f"403: {reason}",
        )
        raise HTTPException(status_code=403, detail=f"forbidden: {reason}")
