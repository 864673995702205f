"""``/docs`` works offline under the console's CSP: headless chromium, every outside request blocked."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e]

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def console_url(tmp_path: Path) -> Iterator[str]:
    import uvicorn

    from safecity.service import build_services
    from safecity.settings import Settings
    from safecity.web.app import create_app
    from safecity.web.cli import server_config

    settings = Settings(home=tmp_path, secret_key="k" * 40)
    services = build_services(settings, None)
    server = uvicorn.Server(server_config(create_app(settings, services), "127.0.0.1", 0))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(1000):
            if server.started:
                break
            time.sleep(0.01)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        services.close()


def test_docs_render_offline_without_csp_violations(console_url: str) -> None:
    from playwright.sync_api import Route, sync_playwright

    outside: list[str] = []
    errors: list[str] = []

    def only_local(route: Route) -> None:
        if route.request.url.startswith(console_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.route("**/*", only_local)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{console_url}/docs")
            title = page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
            assert title is not None and "safecity console API" in title.inner_text()
            assert page.locator(".opblock-summary-path", has_text="/api/auth/login").count() >= 1
        finally:
            browser.close()
    assert outside == [], f"requests that left the machine: {outside}"
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
