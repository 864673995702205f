"""WebhookSink against a real local HTTP server that fails the first requests."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from safecity.alerts.payload import AlertPayload
from safecity.alerts.webhook import WebhookSink
from safecity.errors import ConfigError
from safecity.monitor.types import Event

FAST = (0.01, 0.02)  # back-off for tests: the sequence is what matters, not the seconds


class Receiver:
    """An HTTP server that answers ``fail_status`` to the first ``fail_first`` POSTs, then 204."""

    def __init__(self, fail_first: int, fail_status: int) -> None:
        self.fail_first, self.fail_status = fail_first, fail_status
        self.gate = threading.Event()  # the handler answers only once this is set
        self.gate.set()
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.gate.wait(30)
                with receiver.lock:
                    n = len(receiver.requests)
                    receiver.requests.append(
                        {"body": json.loads(body), "ctype": self.headers["content-type"]}
                    )
                status = receiver.fail_status if n < receiver.fail_first else 204
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory() -> Iterator[Any]:
    made: list[Receiver] = []

    def make(fail_first: int = 0, fail_status: int = 503) -> Receiver:
        r = Receiver(fail_first, fail_status)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def _event(uid: str = "e1", **kw: Any) -> Event:
    return Event(uid=uid, type="intrusion", camera="cam1", start_s=1.0, last_s=1.0, **kw)


@pytest.mark.parametrize(
    ("fail_first", "fail_status", "retries", "attempts", "delivered", "rejected", "failed"),
    [
        (0, 503, 5, 1, 1, 0, 0),  # healthy receiver
        (3, 503, 5, 4, 1, 0, 0),  # three 5xx, delivered on the 4th try
        (3, 429, 5, 4, 1, 0, 0),  # rate limited: retried like 5xx
        (10, 500, 2, 3, 0, 0, 1),  # keeps failing: first try + 2 retries, then give up
        (10, 400, 5, 1, 0, 1, 0),  # 4xx: the receiver refuses it, no retry
    ],
)
def test_retries_and_backoff(
    receiver_factory: Any,
    fail_first: int,
    fail_status: int,
    retries: int,
    attempts: int,
    delivered: int,
    rejected: int,
    failed: int,
) -> None:
    r = receiver_factory(fail_first, fail_status)
    sink = WebhookSink([r.url], retries=retries, backoff_s=FAST, timeout_s=2)
    sink.publish("start", _event())
    assert sink.flush(10)
    sink.close()
    stats = sink.stats[r.url]
    assert (stats.attempts, stats.delivered, stats.rejected, stats.failed) == (
        attempts,
        delivered,
        rejected,
        failed,
    )
    assert len(r.requests) == attempts
    assert all(req["ctype"] == "application/json" for req in r.requests)
    AlertPayload.model_validate(r.requests[-1]["body"])


def test_order_is_kept_per_url_and_urls_are_independent(receiver_factory: Any) -> None:
    flaky, healthy = receiver_factory(2, 502), receiver_factory(0)
    sink = WebhookSink([flaky.url, healthy.url], retries=5, backoff_s=FAST)
    for i in range(5):
        sink.publish("start", _event(f"e{i}"))
    assert sink.flush(10)
    sink.close()
    for r in (flaky, healthy):
        delivered = [req["body"]["event_id"] for req in r.requests]
        assert delivered[-5:] == [f"e{i}" for i in range(5)]
    assert len(flaky.requests) == 7 and len(healthy.requests) == 5


def test_unreachable_receiver_gives_up_after_retries() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    sink = WebhookSink([url], retries=2, backoff_s=FAST, timeout_s=1)
    sink.publish("start", _event())
    assert sink.flush(10)
    sink.close()
    assert (sink.stats[url].attempts, sink.stats[url].failed) == (3, 1)


def test_full_queue_drops_oldest() -> None:
    sink = WebhookSink(["http://127.0.0.1:9/"], max_queue=2, start=False)
    for i in range(5):
        sink.publish("start", _event(f"e{i}"))
    assert sink.stats["http://127.0.0.1:9/"].dropped == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"urls": ["ftp://x/"]}, "must start with http"),  # not HTTP
        ({"urls": ["http://x/"], "retries": -1}, "retries >= 0"),  # negative retries
        ({"urls": ["http://x/"], "backoff_s": ()}, "backoff_s"),  # no back-off given
        ({"urls": ["http://x/"], "timeout_s": 0}, "timeout_s > 0"),  # no time to answer
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        WebhookSink(**kwargs)


def test_stuck_receiver_never_blocks_publish(receiver_factory: Any) -> None:
    r = receiver_factory()
    r.gate.clear()  # the receiver hangs on every request
    sink = WebhookSink([r.url], retries=0, backoff_s=FAST, timeout_s=30)
    for i in range(50):
        sink.publish("start", _event(f"e{i}"))  # returns although nothing can be delivered
    assert sink.stats[r.url].delivered == 0
    r.gate.set()
    assert sink.flush(20)
    sink.close()
    assert sink.stats[r.url].delivered == 50
