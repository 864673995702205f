"""/api/console: the configured time zone with its label, and the server's clock; sign-in needed."""

from __future__ import annotations

from safecity.monitor.config.policy import AlertPolicy, BoundPolicy
from tests.unit.web.conftest import Env


def test_console_info_has_the_time_zone_label_and_clock(env: Env) -> None:
    assert env.client.get("/api/console").status_code == 401
    r = env.client.get("/api/console", headers=env.bearer("viewer"))
    assert r.status_code == 200, r.text
    assert r.json() == {"timezone": "Asia/Seoul", "tz_label": "KST", "server_time": env.clock.t}


def test_the_time_zone_follows_the_monitoring_config(env: Env) -> None:
    env.events.policy = BoundPolicy(AlertPolicy(), {}, "Europe/Berlin")
    env.clock.t = 1_790_000_000.0  # September 2026: summer time
    r = env.client.get("/api/console", headers=env.bearer("viewer"))
    assert r.json()["timezone"] == "Europe/Berlin" and r.json()["tz_label"] == "CEST"
