"""LoginThrottle: the check and the count of an attempt are one step; good logins are taken back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from safecity.web.throttle import LoginThrottle


def test_concurrent_begins_admit_at_most_the_limit() -> None:
    t = LoginThrottle(max_failures=5, max_failures_per_addr=20, clock=lambda: 100.0)
    start = threading.Barrier(40)

    def go(i: int) -> bool:
        start.wait()
        return t.begin("kim", f"10.0.0.{i}").retry_after_s is None

    with ThreadPoolExecutor(40) as pool:
        admitted = sum(pool.map(go, range(40)))
    assert admitted == 5


def test_address_limit_holds_across_user_names() -> None:
    t = LoginThrottle(max_failures=5, max_failures_per_addr=3, window_s=60, clock=lambda: 0.0)
    assert all(t.begin(f"user{i}", "10.0.0.1").retry_after_s is None for i in range(3))
    refused = t.begin("someone-else", "10.0.0.1")
    assert refused.retry_after_s == 60.0 and refused.keys == ()
    assert t.begin("someone-else", "10.0.0.2").retry_after_s is None


def test_success_clears_the_user_and_returns_the_address_slot() -> None:
    now = [0.0]
    t = LoginThrottle(max_failures=2, max_failures_per_addr=2, window_s=60, clock=lambda: now[0])
    t.begin("kim", "10.0.0.1")  # a wrong password: stays counted
    ok = t.begin("kim", "10.0.0.1")
    t.succeeded(ok)
    assert t.retry_after_s("kim", "10.0.0.1") is None
    t.begin("lee", "10.0.0.1")
    assert t.retry_after_s("park", "10.0.0.1") is not None  # the address has 2 failures again
    now[0] = 60.0
    assert t.retry_after_s("park", "10.0.0.1") is None  # aged out
