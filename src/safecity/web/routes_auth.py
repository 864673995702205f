"""``/api/auth``: log in (cookie and bearer token), log out, who am I."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from safecity.store.users import Session
from safecity.web.deps import COOKIE_NAME, ConsoleDep, SessionDep, client_addr, token_from
from safecity.web.schemas import LoginBody

__all__ = ["router", "session_json"]

router = APIRouter(prefix="/api/auth", tags=["auth"])


def session_json(session: Session) -> dict[str, Any]:
    u = session.user
    return {
        "username": u.username,
        "role": u.role,
        "groups": list(u.groups),
        "expires_at": session.expires_at.isoformat(),
    }


@router.post("/login")
def login(creds: LoginBody, request: Request, response: Response, console: ConsoleDep) -> dict[str, Any]:
    """Check the password; on success set the ``safecity_session`` cookie and return the token too.

    At most 5 password checks for a user name (20 from one address) run within 5 minutes unless
    they succeed: the check of the limit and the count of the attempt are one atomic step taken
    before the password is verified, so concurrent guesses cannot slip past it. Further attempts get
    429 with ``Retry-After`` until the oldest counted failure is 5 minutes old. The address is the
    TCP peer unless it is a trusted proxy (``SAFECITY_TRUSTED_PROXIES``).
    """
    addr = client_addr(request)
    attempt = console.throttle.begin(creds.username, addr)
    if attempt.retry_after_s is not None:
        wait = math.ceil(attempt.retry_after_s)
        console.audit.record(
            "login", username=creds.username, allowed=False, remote_addr=addr, detail="429: too many failures"
        )
        raise HTTPException(
            status_code=429,
            detail=f"too many failed logins; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    user = console.users.authenticate(creds.username, creds.password)
    if user is None:
        console.audit.record(
            "login", username=creds.username, allowed=False, remote_addr=addr, detail="wrong user or password"
        )
        raise HTTPException(status_code=401, detail="wrong user name or password, or the account is disabled")
    console.throttle.succeeded(attempt)
    ttl = console.settings.session_ttl_s
    token, session = console.users.create_session(user, ttl, addr)
    console.audit.record("login", username=user.username, allowed=True, remote_addr=addr)
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(ttl),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return {"token": token, **session_json(session)}


@router.post("/logout")
def logout(request: Request, response: Response, console: ConsoleDep, session: SessionDep) -> dict[str, bool]:
    """End this session (the cookie is cleared; a bearer token stops working)."""
    token = token_from(request)
    ended = console.users.end_session(token) if token else False
    console.audit.record(
        "logout", username=session.user.username, allowed=True, remote_addr=client_addr(request)
    )
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return {"logged_out": ended}


@router.get("/me")
def me(session: SessionDep) -> dict[str, Any]:
    """The logged-in user, role, camera groups and when the session expires."""
    return session_json(session)
