"""The console's FastAPI application: ``create_app(settings, services)``.

The app gets every service from :class:`safecity.service.Services` (built by the composition
root) and keeps them on ``app.state.console``; routes reach them through the dependency aliases in
:mod:`safecity.web.deps`. The front end (``web/static``: plain HTML, JavaScript modules, CSS and a
vendored Leaflet) uses only the public REST and WebSocket API documented at ``/openapi.json``.

CSRF: the session cookie is ``SameSite=Strict`` and every state-changing endpoint takes a JSON
body (a cross-site form cannot send ``application/json`` without a CORS preflight, which this app
never grants), which together stop cross-site request forgery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from safecity import __version__
from safecity.errors import AuthError, InputError, SafecityError, StoreError
from safecity.monitor.types import WallLayout
from safecity.settings import Settings
from safecity.store.audit import AuditLog
from safecity.store.mask_lifts import MaskLifts
from safecity.store.users import UserStore
from safecity.vendor import LEAFLET_DIR, SWAGGER_UI_DIR
from safecity.web.anon import AnonymousTally
from safecity.web.deps import Console
from safecity.web.live import JpegCache, LiveHub, Subscriber
from safecity.web.throttle import LoginThrottle

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from safecity.service import Services

__all__ = ["PAGES", "STATIC_DIR", "create_app", "validation_message"]

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
PAGES = ("login", "wall", "camera", "events", "incidents", "search", "cameras", "plans", "audit", "admin")
WALL_POLL_S = 0.25
_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)


def validation_message(errors: Any) -> str:
    """``"body.username: Field required; query.limit: ..."`` from pydantic/FastAPI error dicts."""
    parts = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


async def _wall_loop(console: Console) -> None:
    """Poll the runtime's wall and push each user's view to WebSocket clients when it changes."""
    monitor = console.services.monitor
    if monitor is None:
        return
    last_sig: object = None
    while True:
        try:
            layout = await asyncio.to_thread(monitor.wall)
            console.hub.note_wall(layout)
            handled = console.hub.handled()
            sig = (
                tuple(
                    (t.camera, t.reason, t.severity, t.pinned, t.event_uids, t.slot, t.pinned_by)
                    for t in layout.tiles
                ),
                handled,
            )
            if sig != last_sig and console.hub.n_subscribers:
                _push_wall(console, layout, handled)
            last_sig = sig
        except asyncio.CancelledError:
            raise
        except Exception:  # the poller must survive a runtime hiccup
            log.exception("wall update failed")
        await asyncio.sleep(WALL_POLL_S)


async def _flush_loop(console: Console, interval_s: float) -> None:
    """Write the anonymous-request summaries that are due (see :class:`AnonymousTally`)."""
    tally = console.anonymous
    if tally is None:
        return
    while True:
        await asyncio.sleep(min(interval_s, 30.0))
        try:
            await asyncio.to_thread(tally.flush)
        except asyncio.CancelledError:
            raise
        except Exception:  # keep counting even if one write failed (database busy)
            log.exception("anonymous-request summary failed")


def _push_wall(console: Console, layout: WallLayout, handled: frozenset[str]) -> None:
    """Send each WebSocket client its view of ``layout`` (built once per set of allowed cameras)."""
    from safecity.web.routes_live import user_wall

    live = console.hub.live_events()
    views: dict[frozenset[str] | None, dict[str, Any]] = {}

    def build(sub: Subscriber) -> dict[str, Any]:
        if sub.allowed not in views:
            views[sub.allowed] = user_wall(console, sub.allowed, layout, handled, live)
        return views[sub.allowed]

    console.hub.push_wall(build)


def create_app(
    settings: Settings,
    services: Services,
    *,
    clock: Callable[[], float] = time.time,
    hasher: PasswordHasher | None = None,
) -> FastAPI:
    """Build the console application around already-built services.

    Args:
        settings: deployment settings (session lifetime, secret, demo flag).
        services: from :func:`safecity.service.build_services` (or test doubles of its parts).
        clock: Unix seconds; tests inject one to expire sessions.
        hasher: Argon2 hasher (tests pass cheap parameters).

    Raises:
        ConfigError: the secret is a placeholder outside demo mode.
    """
    settings.require_secret()
    hub = LiveHub(clock)
    monitor = services.monitor
    if monitor is not None:
        monitor.add_sink(hub)
    audit = AuditLog(services.engine, clock=clock)
    console = Console(
        settings=settings,
        services=services,
        users=UserStore(services.engine, clock=clock, hasher=hasher),
        audit=audit,
        hub=hub,
        throttle=LoginThrottle(clock=clock),
        jpegs=JpegCache(monitor, services.privacy_masks, services.liftable_masks)
        if monitor is not None
        else None,
        lifts=MaskLifts(services.engine, clock=clock),
        clock=clock,
        anonymous=AnonymousTally(
            lambda **kw: audit.record("unauthenticated", **kw),
            interval_s=settings.unauth_audit_interval_s,
            clock=clock,
        ),
    )

    from safecity.web.live_incidents import attach_incident_feed

    attach_incident_feed(console)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub.bind(asyncio.get_running_loop())
        tasks = [
            asyncio.create_task(_wall_loop(console)),
            asyncio.create_task(_flush_loop(console, settings.unauth_audit_interval_s)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            hub.bind(None)
            if console.anonymous is not None:
                await asyncio.to_thread(console.anonymous.flush, force=True)

    app = FastAPI(
        title="safecity console API",
        version=__version__,
        description="Operator console of safecity: live wall, events, cameras, plans, audit, users.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's own page loads Swagger UI from a CDN with an inline script: see _add_pages
        redoc_url=None,
    )
    app.state.console = console
    _add_handlers(app)

    from safecity.web import (
        routes_admin,
        routes_auth,
        routes_console,
        routes_events,
        routes_evidence,
        routes_incidents,
        routes_live,
        routes_plans,
        routes_ptz,
        routes_search,
    )

    for module in (
        routes_auth,
        routes_live,
        routes_events,
        routes_admin,
        routes_plans,
        routes_evidence,
        routes_ptz,
        routes_search,
    ):
        app.include_router(module.router)
    app.include_router(routes_incidents.router)
    app.include_router(routes_console.router)
    app.include_router(routes_incidents.suppressions_router)
    # the one vendored Leaflet copy (shared with the planning reports), before the general /static mount
    app.mount("/static/vendor/leaflet", StaticFiles(directory=LEAFLET_DIR), name="leaflet")
    app.mount("/static/vendor/swagger-ui", StaticFiles(directory=SWAGGER_UI_DIR), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _add_pages(app)
    return app


def _add_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = jsonable_encoder(exc.errors())
        return JSONResponse(
            status_code=422, content={"detail": errors, "message": validation_message(errors)}
        )

    @app.exception_handler(SafecityError)
    async def on_safecity(_request: Request, exc: SafecityError) -> JSONResponse:
        status = 400 if isinstance(exc, InputError) else 401 if isinstance(exc, AuthError) else 500
        if isinstance(exc, StoreError):
            status = 503
        return JSONResponse(status_code=status, content={"detail": str(exc)})

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _add_pages(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/wall")

    def page_route(name: str) -> Callable[[], FileResponse]:
        def page() -> FileResponse:
            return FileResponse(STATIC_DIR / f"{name}.html", media_type="text/html")

        return page

    for name in PAGES:
        app.get(f"/{name}", include_in_schema=False)(page_route(name))

    @app.get("/docs", include_in_schema=False)
    def docs() -> FileResponse:
        """Swagger UI of ``/openapi.json`` from the vendored files (works offline, under the CSP)."""
        return FileResponse(STATIC_DIR / "docs.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")
