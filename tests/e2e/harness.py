"""What every browser test needs: a real ``safecity serve`` on a free port, headless Debian chromium, a login.

``serve(home, *args)`` starts the console as a user would (a subprocess, ``SAFECITY_HOME=home``, a
random secret, demo mode off), waits until ``/login`` answers and stops it afterwards; ``chromium()``
launches the browser with the flags this sandboxed machine needs; ``login()`` signs a user in through
the login form.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "var" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def serve(
    home: Path, *args: str, env: Mapping[str, str] | None = None, start_s: float = 60.0
) -> Iterator[str]:
    """Run ``safecity serve --port P *args`` on ``home``; yields its URL once ``/login`` answers 200."""
    port = free_port()
    full_env = {
        **os.environ,
        "SAFECITY_HOME": str(home),
        "SAFECITY_SECRET_KEY": secrets.token_urlsafe(32),
        "SAFECITY_DEMO": "false",
        **(env or {}),
    }
    full_env.pop("SAFECITY_DATABASE_URL", None)
    log_path = home / "serve.log"
    with log_path.open("wb") as log:
        cmd = [sys.executable, "-m", "safecity", "serve", "--port", str(port), *args]
        proc = subprocess.Popen(cmd, cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + start_s
            while True:
                try:
                    if httpx.get(f"{url}/login", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"safecity serve did not come up: {log_path.read_text(errors='replace')[-2000:]}"
                    )
                time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Debian chromium through Playwright (a ``Browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def login(browser: Any, url: str, user: str, password: str, *, path: str = "/wall", **context: Any) -> Any:
    """A new browser context signed in as ``user`` through the login form, on ``path`` (a ``Page``)."""
    options: dict[str, Any] = {"viewport": {"width": 1440, "height": 900}, "locale": "ko-KR", **context}
    page = browser.new_context(**options).new_page()
    page.goto(f"{url}/login" if path == "/wall" else f"{url}/login?next={path}")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-btn")
    page.wait_for_url(f"{url}{path}")
    return page
