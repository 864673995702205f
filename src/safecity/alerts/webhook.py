"""Webhook alert sink: POSTs each alert payload as JSON to one or more URLs, with retries.

Every URL has its own queue and sender thread, so a slow or dead endpoint delays only itself and never
the caller. A message is retried on connection errors, timeouts, HTTP 5xx, 408 and 429, waiting
``backoff_s[i]`` before retry ``i`` (the last value repeats), at most ``retries`` times after the first
try; any other 4xx means the endpoint refuses the message: it is logged and dropped at once. Messages
are delivered in order per URL. The queue of each URL holds ``max_queue`` messages; beyond that the
oldest is dropped with a warning.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from safecity.alerts.payload import PayloadBuilder

if TYPE_CHECKING:
    from safecity.alerts.incident_payload import IncidentPayload
from safecity.errors import ConfigError
from safecity.monitor.types import Event, EventKind

__all__ = ["WebhookSink", "WebhookStats"]

log = logging.getLogger(__name__)
_RETRY_STATUS = frozenset({408, 429})


@dataclass(slots=True)
class WebhookStats:
    """Counters of one URL: delivered, rejected (4xx), failed (retries exhausted), dropped (queue full)."""

    delivered: int = 0
    rejected: int = 0
    failed: int = 0
    dropped: int = 0
    attempts: int = 0


class _Endpoint:
    def __init__(self, sink: WebhookSink, url: str) -> None:
        self.sink, self.url = sink, url
        self.queue: deque[bytes] = deque()
        self.cond = threading.Condition()
        self.busy = False
        self.stats = WebhookStats()
        self.thread = threading.Thread(target=self.run, name=f"safecity-webhook-{url[:40]}", daemon=True)

    def put(self, body: bytes) -> None:
        with self.cond:
            if len(self.queue) >= self.sink.max_queue:
                self.queue.popleft()
                self.stats.dropped += 1
                log.warning(
                    "webhook %s: queue full, dropped the oldest alert (%d so far)",
                    self.url,
                    self.stats.dropped,
                )
            self.queue.append(body)
            self.cond.notify_all()

    def pending(self) -> int:
        with self.cond:
            return len(self.queue) + int(self.busy)

    def run(self) -> None:
        with httpx.Client(timeout=self.sink.timeout_s, headers=self.sink.headers) as client:
            while True:
                with self.cond:
                    while not self.queue and not self.sink.stopping.is_set():
                        self.cond.wait(0.5)
                    if not self.queue:
                        return
                    body = self.queue.popleft()
                    self.busy = True
                try:
                    self.deliver(client, body)
                finally:
                    with self.cond:
                        self.busy = False
                        self.cond.notify_all()

    def deliver(self, client: httpx.Client, body: bytes) -> None:
        sink = self.sink
        for attempt in range(sink.retries + 1):
            if attempt:
                wait_s = sink.backoff_s[min(attempt - 1, len(sink.backoff_s) - 1)]
                if sink.abort.wait(wait_s):
                    log.error("webhook %s: closing; an alert stays undelivered", self.url)
                    self.stats.failed += 1
                    return
            self.stats.attempts += 1
            try:
                resp = client.post(self.url, content=body, headers={"content-type": "application/json"})
            except httpx.HTTPError as exc:
                why = f"{type(exc).__name__}: {exc}"
            else:
                if resp.is_success:
                    self.stats.delivered += 1
                    return
                if 400 <= resp.status_code < 500 and resp.status_code not in _RETRY_STATUS:
                    self.stats.rejected += 1
                    log.error(
                        "webhook %s refused an alert with HTTP %d (%s); not retrying: fix the receiver or "
                        "the URL",
                        self.url,
                        resp.status_code,
                        resp.text[:200],
                    )
                    return
                why = f"HTTP {resp.status_code}"
            log.warning("webhook %s: attempt %d failed (%s)", self.url, attempt + 1, why)
        self.stats.failed += 1
        log.error("webhook %s: gave up on an alert after %d attempts", self.url, sink.retries + 1)


class WebhookSink:
    """POSTs alert payloads (JSON) to ``urls`` in the background (an ``EventSink``).

    Args:
        urls: receivers (http or https).
        retries: retries after the first attempt.
        backoff_s: wait before each retry; the last value repeats.
        timeout_s: per-request timeout.
        max_queue: alerts queued per URL before the oldest is dropped.
        epoch_s: added to event times (0: they are Unix seconds).
        headers: extra HTTP headers (e.g. an authorisation token).
        start: start the sender threads now.
        payload_versions: contract versions sent: 1 (per event), 2 (per incident), or both.

    Raises:
        ConfigError: a URL is not http(s) or a number is out of range.
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        retries: int = 5,
        backoff_s: Sequence[float] = (1, 2, 4, 8, 16),
        timeout_s: float = 5.0,
        max_queue: int = 1000,
        epoch_s: float = 0.0,
        headers: Mapping[str, str] | None = None,
        start: bool = True,
        payload_versions: Sequence[int] = (1, 2),
    ) -> None:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"webhook URL must start with http:// or https://, got {url!r}")
        if retries < 0 or not backoff_s or any(b < 0 for b in backoff_s) or timeout_s <= 0 or max_queue < 1:
            raise ConfigError(
                "need retries >= 0, non-negative backoff_s, timeout_s > 0, max_queue >= 1; "
                f"got retries={retries}, backoff_s={tuple(backoff_s)}, timeout_s={timeout_s}, "
                f"max_queue={max_queue}"
            )
        self.retries, self.backoff_s = retries, tuple(float(b) for b in backoff_s)
        self.timeout_s, self.max_queue = timeout_s, max_queue
        self.headers = dict(headers or {})
        self.stopping = threading.Event()
        self.abort = threading.Event()
        self._builder = PayloadBuilder(epoch_s=epoch_s)
        self.payload_versions = frozenset(payload_versions)
        self._endpoints = [_Endpoint(self, u) for u in urls]
        self._started = False
        if start:
            self.start()

    def start(self) -> None:
        """Start one sender thread per URL (idempotent)."""
        if not self._started:
            self._started = True
            for ep in self._endpoints:
                ep.thread.start()

    @property
    def stats(self) -> dict[str, WebhookStats]:
        """Counters per URL."""
        return {ep.url: ep.stats for ep in self._endpoints}

    def publish_incident(self, payload: IncidentPayload) -> None:
        """Queue a v2 incident payload for every URL (if version 2 is enabled); never blocks."""
        if 2 in self.payload_versions:
            body = payload.model_dump_json().encode()
            for ep in self._endpoints:
                ep.put(body)

    def publish(self, kind: EventKind, event: Event) -> None:
        """Queue the alert for every URL; never blocks."""
        if 1 not in self.payload_versions:
            return
        body = self._builder.build(kind, event).model_dump_json().encode()
        for ep in self._endpoints:
            ep.put(body)

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until every queued alert was delivered or given up; False on timeout."""
        deadline = time.monotonic() + timeout_s
        for ep in self._endpoints:
            with ep.cond:
                while ep.queue or ep.busy:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    ep.cond.wait(min(left, 0.1))
        return True

    def close(self, timeout_s: float = 10.0) -> bool:
        """Deliver what is queued (up to ``timeout_s``), then stop; True if nothing was left behind."""
        done = self.flush(timeout_s)
        self.stopping.set()
        self.abort.set()
        for ep in self._endpoints:
            with ep.cond:
                ep.cond.notify_all()
            if ep.thread.is_alive():
                ep.thread.join(timeout_s)
        return done
