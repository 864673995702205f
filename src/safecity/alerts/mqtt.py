"""MQTT alert sink (paho-mqtt): QoS 1 by default, never blocks the caller, survives broker outages.

Topics (``<prefix>`` defaults to ``safecity``; ``/``, ``+``, ``#`` in ids become ``_``):

- ``<prefix>/events/<camera>/<event_type>``: one :class:`~safecity.alerts.payload.AlertPayload` JSON per
  event message;
- ``<prefix>/cameras/<camera>/status``: ``offline`` / ``online``, retained, on ``camera_offline``
  new / end.

:meth:`MqttSink.publish` builds the payload and appends it to an in-memory queue (bounded by
``max_queue``; beyond it messages spill to a durable on-disk spool when ``spool_dir`` is given,
otherwise the oldest queued message is dropped with a warning). A sender thread hands messages to
paho in order, keeping at most ``max_inflight`` unacknowledged; paho keeps those across a lost
connection, reconnects with back-off and sends them again, so everything queued while the broker is
down is delivered once it is back (at least once: a message in flight when the connection dropped can
arrive twice).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from safecity.alerts.payload import PayloadBuilder

if TYPE_CHECKING:
    from safecity.alerts.incident_payload import IncidentPayload
from safecity.errors import ConfigError
from safecity.monitor.types import Event, EventKind
from safecity.store.spool import open_spool

__all__ = ["MqttSink", "topic_part"]

log = logging.getLogger(__name__)
_TOPIC_UNSAFE = re.compile(r"[/+#\x00]")


def topic_part(name: str) -> str:
    """``name`` made safe as one MQTT topic level.

    >>> topic_part("gate/1 #a")
    'gate_1 _a'
    """
    return _TOPIC_UNSAFE.sub("_", name) or "_"


class MqttSink:
    """Publishes alert payloads to an MQTT broker (an ``EventSink``).

    Args:
        host: broker host name.
        port: broker port.
        topic_prefix: first topic level(s).
        client_id: MQTT client id (default ``safecity-<random>``).
        qos: 0, 1 (default) or 2.
        username: broker user, if the broker wants one.
        password: broker password.
        epoch_s: added to event times (0: they are Unix seconds).
        max_queue: messages kept in memory before spilling / dropping.
        spool_dir: folder for messages beyond ``max_queue`` (durable); None: drop the oldest instead.
        max_inflight: messages handed to paho and not yet acknowledged by the broker.
        reconnect_s: (first, longest) wait between reconnection attempts, whole seconds.
        keepalive_s: MQTT keep-alive interval.
        start: connect and start the sender thread now.
        payload_versions: contract versions sent: 1 (per event, ``events/...``), 2 (per incident,
            ``incidents/<camera>``), or both.

    Raises:
        ConfigError: bad ``qos``, ``port`` or limits.
    """

    def __init__(
        self,
        host: str,
        port: int = 1883,
        *,
        topic_prefix: str = "safecity",
        client_id: str | None = None,
        qos: int = 1,
        username: str | None = None,
        password: str | None = None,
        epoch_s: float = 0.0,
        max_queue: int = 10_000,
        spool_dir: Path | None = None,
        max_inflight: int = 100,
        reconnect_s: tuple[int, int] = (1, 30),
        keepalive_s: int = 30,
        start: bool = True,
        payload_versions: Sequence[int] = (1, 2),
    ) -> None:
        if qos not in (0, 1, 2):
            raise ConfigError(f"MQTT qos must be 0, 1 or 2, got {qos}")
        if not 0 < port < 65536:
            raise ConfigError(f"MQTT port must be 1..65535, got {port}")
        if max_queue < 1 or max_inflight < 1:
            raise ConfigError(f"max_queue and max_inflight must be >= 1, got {max_queue}, {max_inflight}")
        if not 1 <= reconnect_s[0] <= reconnect_s[1]:
            raise ConfigError(
                f"reconnect_s must be (first, longest) with 1 <= first <= longest, got {reconnect_s}"
            )
        self.host, self.port, self.qos = host, port, qos
        self.topic_prefix = topic_prefix.strip("/") or "safecity"
        self.max_queue, self.max_inflight = max_queue, max_inflight
        self._builder = PayloadBuilder(epoch_s=epoch_s)
        self.payload_versions = frozenset(payload_versions)
        self._spool = open_spool(spool_dir) if spool_dir is not None else None
        self._queue: deque[tuple[str, str, bool]] = deque()
        self._cond = threading.Condition()
        self._inflight: set[int] = set()  # mids handed to paho, not yet acknowledged
        self._acked_early: set[int] = set()  # PUBACKs that arrived before we recorded the mid
        self._connected = threading.Event()
        self._stop = threading.Event()
        self.dropped = 0
        self.sent = 0
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"safecity-{uuid.uuid4().hex[:10]}",
            clean_session=True,
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        self._client.reconnect_delay_set(min_delay=reconnect_s[0], max_delay=reconnect_s[1])
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._keepalive_s = keepalive_s
        self._thread: threading.Thread | None = None
        if start:
            self.start()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Connect in the background (retrying until the broker answers) and start sending."""
        if self._thread is not None:
            return
        self._client.connect_async(self.host, self.port, keepalive=self._keepalive_s)
        self._client.loop_start()
        self._thread = threading.Thread(target=self._run, name="safecity-mqtt-sink", daemon=True)
        self._thread.start()

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up now."""
        return self._connected.is_set()

    @property
    def backlog(self) -> int:
        """Messages not yet acknowledged by the broker (queued, spooled or in flight)."""
        with self._cond:
            return len(self._queue) + (len(self._spool) if self._spool else 0) + len(self._inflight)

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until the broker acknowledged everything published so far; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self.backlog:
            if time.monotonic() >= deadline:
                return False
            with self._cond:
                self._cond.wait(0.05)
        return True

    def close(self, timeout_s: float = 5.0) -> bool:
        """Flush (up to ``timeout_s``), then disconnect. Returns whether everything was delivered."""
        done = self.flush(timeout_s)
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self._client.disconnect()
        self._client.loop_stop()
        if self._spool is not None:
            self._spool.close()  # what is left stays on disk for the next sink on this folder
        if not done:
            log.warning("MQTT sink closed with %d message(s) undelivered", self.backlog)
        return done

    # ------------------------------------------------------------------ EventSink
    def publish_incident(self, payload: IncidentPayload) -> None:
        """Queue a v2 incident payload on ``<prefix>/incidents/<camera>``; never blocks."""
        if 2 in self.payload_versions:
            cam = topic_part(payload.camera)
            self._enqueue(f"{self.topic_prefix}/incidents/{cam}", payload.model_dump_json(), False)

    def publish(self, kind: EventKind, event: Event) -> None:
        """Queue the alert for ``event`` (and the camera status for camera_offline); never blocks."""
        cam = topic_part(event.camera)
        if 1 in self.payload_versions:  # the event first, then the camera status it implies
            payload = self._builder.build(kind, event)
            self._enqueue(
                f"{self.topic_prefix}/events/{cam}/{topic_part(event.type)}", payload.model_dump_json(), False
            )
        if event.type == "camera_offline" and kind in ("start", "end"):
            status = "offline" if kind == "start" else "online"
            self._enqueue(f"{self.topic_prefix}/cameras/{cam}/status", status, True)

    def _enqueue(self, topic: str, payload: str, retain: bool) -> None:
        with self._cond:
            spilling = self._spool is not None and len(self._spool) > 0
            if spilling or len(self._queue) >= self.max_queue:
                if self._spool is not None:
                    self._spool.append({"topic": topic, "payload": payload, "retain": retain})
                else:
                    self._queue.popleft()
                    self.dropped += 1
                    if self.dropped == 1 or self.dropped % 1000 == 0:
                        log.warning(
                            "MQTT sink queue full (%d): dropped %d oldest message(s) so far; is the broker "
                            "at %s:%d reachable? set spool_dir to keep them on disk",
                            self.max_queue,
                            self.dropped,
                            self.host,
                            self.port,
                        )
                    self._queue.append((topic, payload, retain))
            else:
                self._queue.append((topic, payload, retain))
            self._cond.notify_all()

    # ------------------------------------------------------------------ sender thread
    def _next(self) -> tuple[str, str, bool] | None:
        """Oldest message not yet handed to paho (memory first, then the spool); caller holds the lock."""
        if self._queue:
            return self._queue.popleft()
        if self._spool is not None and len(self._spool):
            (seq, rec), *_ = self._spool.pending(limit=1)
            self._spool.ack(seq)
            return str(rec["topic"]), str(rec["payload"]), bool(rec["retain"])
        return None

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                msg = self._next() if len(self._inflight) < self.max_inflight else None
                if msg is None:
                    self._cond.wait(0.1)
                    continue
            topic, payload, retain = msg
            info = self._client.publish(topic, payload, qos=self.qos, retain=retain)
            if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:  # pragma: no cover - paho queue is unbounded here
                log.error("MQTT: paho refused message for %s (queue full)", topic)
                continue
            with self._cond:
                if self.qos > 0:
                    if info.mid in self._acked_early:
                        self._acked_early.discard(info.mid)
                    else:
                        self._inflight.add(info.mid)
                self.sent += 1

    # ------------------------------------------------------------------ paho callbacks
    def _on_connect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT: broker %s:%d refused the connection: %s", self.host, self.port, reason)
            return
        self._connected.set()
        log.info("MQTT: connected to %s:%d", self.host, self.port)

    def _on_disconnect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if self._stop.is_set():  # our own close(): nothing was lost
            self._connected.clear()
            return
        if self._connected.is_set():
            log.warning(
                "MQTT: lost the broker %s:%d (%s); queueing and reconnecting", self.host, self.port, reason
            )
        self._connected.clear()

    def _on_publish(self, _c: Any, _u: Any, mid: int, _reason: Any, _props: Any) -> None:
        with self._cond:
            if mid in self._inflight:
                self._inflight.discard(mid)
            elif self.qos > 0:
                self._acked_early.add(mid)
            self._cond.notify_all()
