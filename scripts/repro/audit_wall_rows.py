#!/usr/bin/env python3
"""Reproduction of issue 10, item 7: what does watching the wall leave in the audit log?

Before, every tile subscription of the wall (each ``{"cameras": [...]}`` message on ``/ws/tiles``)
wrote one ``view_camera`` row per camera, with no end (126 of 143 rows in the issue's 12-minute
session, when the page re-sent its list on every wall update). Now a camera shown on the wall is one
viewing session: one ``view_start`` and one ``view_end`` row (with the duration) and a row of
``viewing_sessions``; re-sending the same list writes nothing.

Runs ``safecity serve`` with the monitoring runtime on CONFIG (the demo cameras by default; ``--cameras
N`` keeps the first N), opens ``/wall`` as an operator (in a group with those cameras) in headless
chromium for SECONDS, closes the page and counts the operator's audit rows by action. In the same run
the page counts the tile subscriptions it sent (a wrapper around ``WebSocket.send``), which gives the
rows the old code would have written for them (one per camera per subscription).

    .venv/bin/python scripts/repro/audit_wall_rows.py --cameras 2 --seconds 180
    .venv/bin/python scripts/repro/audit_wall_rows.py --seconds 600

Prints one JSON object; exits 0 when the viewing rows are exactly one start and one end per session
and every session was ended when the page closed, else 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

COUNT_SUBSCRIPTIONS = """
(() => {
  window.__tileSubs = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    try {
      const msg = typeof data === "string" ? JSON.parse(data) : null;
      if (msg && Array.isArray(msg.cameras)) window.__tileSubs.push(msg.cameras.length);
    } catch (e) { /* not JSON */ }
    return send.call(this, data);
  };
})();
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=REPO / "configs" / "demo-cameras.yaml")
    ap.add_argument("--seconds", type=float, default=120.0, help="how long the operator watches the wall")
    ap.add_argument(
        "--cameras", type=int, default=0, help="keep only the first N cameras of CONFIG (0 = all)"
    )
    args = ap.parse_args()

    import httpx
    import yaml
    from tests.e2e.harness import chromium, serve

    from safecity.store.db import connect
    from safecity.store.users import UserStore

    with tempfile.TemporaryDirectory(prefix="audit-wall-", ignore_cleanup_errors=True) as tmp:
        home = Path(tmp)
        engine = connect(f"sqlite:///{home / 'safecity.db'}")
        users = UserStore(engine)
        users.add_user("admin", "admin-repro-pass", "admin")
        users.add_user("operator", "operator-repro-pass", "operator")
        config = args.config.resolve()
        doc = yaml.safe_load(config.read_text(encoding="utf-8"))
        if args.cameras:
            doc["cameras"] = doc["cameras"][: args.cameras]
            for cam in doc["cameras"]:  # sources are relative to the config's folder
                src = str(cam.get("source", ""))
                if src and "://" not in src and not Path(src).is_absolute():
                    cam["source"] = str((args.config.resolve().parent / src).resolve())
            config = home / "cameras.yaml"
            config.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        users.upsert_group("watched", [str(c["id"]) for c in doc["cameras"]], "the cameras of CONFIG")
        users.set_user_groups("operator", ["watched"])  # an operator without groups sees nothing
        engine.dispose()
        with serve(home, "--monitor-config", str(config), "--replay", "--workers", "1") as url:
            with chromium() as browser:
                context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="ko-KR")
                context.add_init_script(COUNT_SUBSCRIPTIONS)  # before any page of the console loads
                page = context.new_page()
                page.goto(f"{url}/login")
                page.fill("#username", "operator")
                page.fill("#password", "operator-repro-pass")
                page.click("#login-btn")
                page.wait_for_url(f"{url}/wall")
                t0 = time.monotonic()
                while time.monotonic() - t0 < args.seconds:
                    page.wait_for_timeout(1000)
                subs = page.evaluate("window.__tileSubs")
                context.close()
            time.sleep(2.0)  # the tile socket's close ends its sessions
            with httpx.Client(base_url=url, timeout=30) as admin:
                admin.post("/api/auth/login", json={"username": "admin", "password": "admin-repro-pass"})
                entries = admin.get("/api/audit", params={"username": "operator", "limit": 1000}).json()[
                    "entries"
                ]
                sessions = admin.get("/api/audit/sessions", params={"username": "operator"}).json()
                wall = admin.get("/api/wall").json()
            log_tail = (home / "serve.log").read_text(errors="replace")[-1500:]
    by_action: dict[str, int] = {}
    for e in entries:
        by_action[e["action"]] = by_action.get(e["action"], 0) + 1
    viewing_rows = sum(by_action.get(a, 0) for a in ("view_start", "view_end", "view_camera"))
    old_rows = int(sum(subs))
    out = {
        "config": str(args.config),
        "cameras": args.cameras or "all",
        "seconds": args.seconds,
        "tile_subscriptions": len(subs),
        "old_view_camera_rows_for_them": old_rows,
        "viewing_rows_now": viewing_rows,
        "audit_rows_by_action": dict(sorted(by_action.items())),
        "viewing_sessions": sessions["total"],
        "sessions": [
            {k: s[k] for k in ("camera", "how", "duration_s", "end_reason")} for s in sessions["sessions"]
        ],
        "ok": by_action.get("view_start", 0) == by_action.get("view_end", 0) == sessions["total"]
        and all(x["ended_at"] is not None for x in sessions["sessions"]),
    }
    if not sessions["total"]:
        out["wall_at_end"] = wall
        out["serve_log_tail"] = log_tail
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
