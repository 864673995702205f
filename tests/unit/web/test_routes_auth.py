"""Login, sessions (cookie and bearer), expiry, logout, and the audit rows they leave."""

from __future__ import annotations

import pytest

from tests.unit.web.conftest import PASSWORDS, Env


def test_login_ok_sets_strict_httponly_cookie_and_audits(env: Env) -> None:
    r = env.client.post("/api/auth/login", json={"username": "operator", "password": PASSWORDS["operator"]})
    assert r.status_code == 200
    body = r.json()
    assert body["role"] == "operator" and body["groups"] == ["east", "west"]
    cookie = r.headers["set-cookie"].lower()
    assert "safecity_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert env.client.get("/api/auth/me").json()["username"] == "operator"  # cookie works
    rows = env.audit(action="login", username="operator")
    assert rows[0]["allowed"] is True and rows[0]["remote_addr"] == "10.1.2.3"


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("operator", "wrong-password"),  # known user, wrong password
        ("nobody", "whatever-1234"),  # unknown user: same answer, no hint which part was wrong
    ],
)
def test_login_wrong_is_401_and_audited(env: Env, username: str, password: str) -> None:
    r = env.client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 401
    assert "wrong user name or password" in r.json()["detail"]
    rows = env.audit(action="login", username=username, allowed="false")
    assert len(rows) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "x"}, "body.username"),  # missing user name
        ({"username": "a", "password": ""}, "body.password"),  # empty password
        ({"username": "a", "password": "x", "extra": 1}, "body.extra"),  # unknown field
        ({"username": 5, "password": "x"}, "body.username"),  # wrong type
    ],
)
def test_login_malformed_is_422_naming_the_field(env: Env, body: dict[str, object], field: str) -> None:
    r = env.client.post("/api/auth/login", json=body)
    assert r.status_code == 422
    assert field in r.json()["message"]


def test_no_session_is_401_and_audited(env: Env) -> None:
    r = env.client.get("/api/wall")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    rows = env.audit(action="unauthenticated", target_id="/api/wall")
    assert rows and rows[0]["allowed"] is False


def test_bearer_token_works_without_cookie(env: Env) -> None:
    token = env.login("viewer")
    env.client.cookies.clear()
    r = env.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["username"] == "viewer"
    assert env.client.get("/api/auth/me", headers={"Authorization": "Bearer not-a-token"}).status_code == 401


@pytest.mark.parametrize(
    ("advance_s", "status"),
    [
        (60.0, 200),  # a minute later: still valid
        (8 * 3600 - 1, 200),  # just inside the default 8 h lifetime
        (8 * 3600 + 1, 401),  # just past it: expired
    ],
)
def test_session_expires_after_ttl(env: Env, advance_s: float, status: int) -> None:
    token = env.login("operator")
    env.clock.t += advance_s
    r = env.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == status


def test_logout_ends_the_session(env: Env) -> None:
    token = env.login("admin")
    h = {"Authorization": f"Bearer {token}"}
    r = env.client.post("/api/auth/logout", headers=h)
    assert r.status_code == 200 and r.json() == {"logged_out": True}
    assert env.client.get("/api/auth/me", headers=h).status_code == 401


def test_disabled_user_cannot_log_in_and_loses_sessions(env: Env) -> None:
    token = env.login("viewer")
    r = env.client.patch("/api/users/viewer", json={"disabled": True}, headers=env.bearer("admin"))
    assert r.status_code == 200
    assert env.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    r = env.client.post("/api/auth/login", json={"username": "viewer", "password": PASSWORDS["viewer"]})
    assert r.status_code == 401


def test_placeholder_secret_refused_outside_demo(env: Env) -> None:
    from safecity.errors import ConfigError
    from safecity.settings import Settings
    from safecity.web.app import create_app

    with pytest.raises(ConfigError, match="SAFECITY_SECRET_KEY"):
        create_app(Settings(secret_key="changeme"), env.services)
    create_app(Settings(secret_key="changeme", demo=True), env.services)  # demo mode allows it


def test_pages_and_openapi_are_served(env: Env) -> None:
    for page in ("login", "wall", "events", "cameras", "plans", "audit", "admin"):
        r = env.client.get(f"/{page}")
        assert r.status_code == 200
        assert ("<main" in r.text) != ("login-form" in r.text)
        assert "default-src 'self'" in r.headers["content-security-policy"]
    paths = env.client.get("/openapi.json").json()["paths"]
    assert {"/api/wall", "/api/events", "/api/events/{uid}/ack", "/api/audit"} <= set(paths)
    assert env.client.get("/static/vendor/leaflet/leaflet.js").status_code == 200


def test_repeated_failures_lock_the_user_name_for_a_while(env: Env) -> None:
    for _ in range(5):
        r = env.client.post("/api/auth/login", json={"username": "operator", "password": "guess-guess"})
        assert r.status_code == 401
    r = env.client.post("/api/auth/login", json={"username": "operator", "password": PASSWORDS["operator"]})
    assert r.status_code == 429 and int(r.headers["retry-after"]) == 300
    assert (
        env.audit(action="login", username="operator", allowed="false")[0]["detail"]
        == "429: too many failures"
    )
    assert (
        env.client.post(
            "/api/auth/login", json={"username": "viewer", "password": PASSWORDS["viewer"]}
        ).status_code
        == 200
    )
    env.clock.t += 301  # the failures age out
    env.login("operator")


def test_concurrent_guesses_check_at_most_the_limit(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """30 wrong guesses at once: at most 5 passwords are verified, the rest get 429.

    Before the fix the limit was checked before and the failure counted after the (slow) password
    check, so every concurrent guess passed the check and was verified.
    """
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    users = env.client.app.state.console.users  # type: ignore[attr-defined]
    real = users.authenticate
    checked: list[str] = []
    lock = threading.Lock()

    def slow_authenticate(name: str, password: str) -> object:
        with lock:
            checked.append(password)
        time.sleep(0.05)  # a real Argon2 check takes about this long; it is the race window
        return real(name, password)

    monkeypatch.setattr(users, "authenticate", slow_authenticate)
    guesses = [f"guess-{i:02d}" for i in range(30)]  # all wrong: no success resets the count mid-run
    start = threading.Barrier(30)

    def attempt(pw: str) -> int:
        start.wait()
        return env.client.post("/api/auth/login", json={"username": "operator", "password": pw}).status_code

    with ThreadPoolExecutor(30) as pool:
        codes = list(pool.map(attempt, guesses))
    assert len(checked) <= 5, f"{len(checked)} passwords verified for a limit of 5"
    assert codes.count(429) == 25 and codes.count(401) == 5 == len(checked)


def test_forged_x_forwarded_for_is_ignored_without_trusted_proxies(env: Env) -> None:
    """Off by default: a client's X-Forwarded-For neither dodges the address lock nor reaches the audit."""
    console = env.client.app.state.console  # type: ignore[attr-defined]
    assert console.settings.trusted_proxies == []
    for i in range(20):  # 20 different user names, each guess from a "different" forged address
        r = env.client.post(
            "/api/auth/login",
            json={"username": f"nobody{i}", "password": "guess-guess"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        )
        assert r.status_code == 401
    r = env.client.post(
        "/api/auth/login",
        json={"username": "viewer", "password": PASSWORDS["viewer"]},
        headers={"X-Forwarded-For": "198.51.100.99"},
    )
    assert r.status_code == 429  # the real address (10.1.2.3) is locked after 20 failures
    env.clock.t += 301
    rows = env.audit(action="login", allowed="false", limit=50)
    assert rows and {row["remote_addr"] for row in rows} == {"10.1.2.3"}


def test_trusted_proxy_forwarded_address_is_the_client(env: Env) -> None:
    from safecity.settings import Settings

    console = env.client.app.state.console  # type: ignore[attr-defined]
    console.settings = Settings(
        home=console.settings.home, secret_key="k" * 40, trusted_proxies="10.1.2.0/24"
    )
    r = env.client.post(
        "/api/auth/login",
        json={"username": "viewer", "password": PASSWORDS["viewer"]},
        headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"},  # 6.6.6.6 was written by the client itself
    )
    assert r.status_code == 200
    assert env.audit(action="login", username="viewer")[0]["remote_addr"] == "203.0.113.7"


def test_anonymous_requests_are_counted_not_audited_one_by_one(env: Env) -> None:
    for _ in range(50):
        assert env.client.get("/api/wall").status_code == 401
    assert len(env.audit(action="unauthenticated")) == 1
    env.client.cookies.clear()  # env.audit logged the admin in on this client
    env.clock.t += 61  # the interval is over: the next refusal writes the summary of the last one
    assert env.client.get("/api/events").status_code == 401
    rows = env.audit(action="unauthenticated")
    assert len(rows) == 3
    summary = next(r for r in rows if r["target_type"] == "summary")
    assert str(summary["detail"]).startswith("401 x 49 more") and "/api/wall x49" in str(summary["detail"])
    stats = env.client.get("/api/stats", headers=env.bearer("admin")).json()
    assert stats["unauthenticated_total"] == 51
