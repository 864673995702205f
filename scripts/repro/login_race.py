#!/usr/bin/env python3
"""Reproduction of issue 11, item 2: the login throttle must hold against concurrent guesses.

Starts a real console (``safecity serve``, uvicorn, a fresh SQLite database in a temporary folder)
with an operator, then fires N (default 30) logins for the operator AT ONCE, all wrong
except number ``--correct`` (default 26, as in the issue). Before the fix the limit was checked before
and the failure counted after the password check, so every concurrent guess was checked (29x401,
1x200). A password was checked for every answer that is not 429 (401 wrong, 200 right).

Then, from the same client, 21 wrong logins for 21 different user names, each with a different
forged ``X-Forwarded-For``: with no trusted proxy configured (the default) the address lock must
still hold (the 21st is 429) and the audit log must show only the real address.

    .venv/bin/python scripts/repro/login_race.py
    .venv/bin/python scripts/repro/login_race.py --n 40 --correct 0

Prints one JSON object and exits 0 when at most 5 passwords were checked, the forged addresses
neither lifted the address lock nor reached the audit log; else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
SAFECITY = [sys.executable, "-m", "safecity"]
OPERATOR_PW = "operator-race-pass"
LIMIT_PER_USER = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _add_user(env: dict[str, str], name: str, role: str, password: str) -> None:
    subprocess.run(
        [*SAFECITY, "users", "add", name, "--role", role, "--password-stdin"],
        input=password + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=30, help="concurrent logins (default 30)")
    ap.add_argument("--correct", type=int, default=26, help="1-based number of the right one (0: none)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="safecity-race-") as tmp:
        port = _free_port()
        env = {
            **os.environ,
            "SAFECITY_HOME": tmp,
            "SAFECITY_DATABASE_URL": f"sqlite:///{Path(tmp) / 'safecity.db'}",
            "SAFECITY_SECRET_KEY": "race-" + "x" * 40,
        }
        env.pop("SAFECITY_TRUSTED_PROXIES", None)
        _add_user(env, "operator", "operator", OPERATOR_PW)
        server = subprocess.Popen(
            [*SAFECITY, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                print("the console did not start", file=sys.stderr)
                return 1
            passwords = [f"wrong-guess-{i:02d}" for i in range(1, args.n + 1)]
            if 1 <= args.correct <= args.n:
                passwords[args.correct - 1] = OPERATOR_PW
            start = threading.Barrier(args.n)

            def attempt(pw: str) -> int:
                start.wait()
                r = httpx.post(
                    f"{base}/api/auth/login", json={"username": "operator", "password": pw}, timeout=60
                )
                return r.status_code

            with ThreadPoolExecutor(args.n) as pool:
                codes = list(pool.map(attempt, passwords))
            statuses = Counter(codes)
            checked = statuses[401] + statuses[200]
            # forged X-Forwarded-For from one client: 20 failures lock the address (different user names)
            forged = [
                httpx.post(
                    f"{base}/api/auth/login",
                    json={"username": f"nobody{i}", "password": "wrong-guess"},
                    headers={"X-Forwarded-For": f"198.51.100.{i}"},
                    timeout=30,
                ).status_code
                for i in range(21)
            ]
            audit_addrs = _audit_addresses(env)
        finally:
            server.terminate()
            server.wait(10)
    result = {
        "concurrent_logins": args.n,
        "correct_one": args.correct,
        "statuses": dict(sorted(statuses.items())),
        "passwords_checked": checked,
        "limit_per_user": LIMIT_PER_USER,
        "forged_xff_statuses": dict(sorted(Counter(forged).items())),
        "address_locked_after_20": forged[-1] == 429,
        "audit_remote_addrs": audit_addrs,
    }
    result["ok"] = (
        checked <= LIMIT_PER_USER and result["address_locked_after_20"] and audit_addrs == ["127.0.0.1"]
    )
    print(json.dumps(result, indent=1))
    return 0 if result["ok"] else 1


def _audit_addresses(env: dict[str, str]) -> list[str]:
    """Distinct remote addresses of the login rows in the audit log (read from the database)."""
    from sqlalchemy import select

    from safecity.store.db import connect
    from safecity.store.schema import audit_log

    engine = connect(env["SAFECITY_DATABASE_URL"])
    try:
        with engine.connect() as c:
            rows = c.execute(select(audit_log.c.remote_addr).where(audit_log.c.action == "login"))
            return sorted({str(r[0]) for r in rows})
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
