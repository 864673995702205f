"""Faults for real: the database and the broker stop mid-run; nothing published meanwhile is lost.

Each test starts its own throw-away server (an initdb cluster / a mosquitto process on a free port),
so stopping it cannot disturb the shared servers other tests use.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from safecity.alerts.mqtt import MqttSink
from safecity.alerts.payload import AlertPayload
from safecity.monitor.types import Event
from safecity.store.db import connect
from safecity.store.events import EventStore
from safecity.store.schema import event_updates, events
from tests.integration.test_alerts_mqtt import Subscriber
from tests.ports import free_port

pytestmark = pytest.mark.integration


def _pg_bin() -> Path:
    ctl = os.environ.get("SAFECITY_TEST_PG_CTL")
    if ctl:
        return Path(ctl).parent
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL server binaries not found; run through scripts/test-services.sh")
    return found[-1].parent


@dataclass
class PgCluster:
    """A private PostgreSQL cluster that a test may stop and start."""

    bin: Path
    data: Path
    sock: Path
    port: int

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.sock / "pg.log"), "-w", "start", "-o", opts)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def new_database(self) -> str:
        """URL of a fresh, empty database in the cluster."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="module")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgCluster]:
    root = Path(tmp_path_factory.mktemp("pg", numbered=True))
    if os.geteuid() == 0:  # the postgres user must reach and own the cluster folder
        base = Path("/tmp") / f"safecity-outage-{os.getpid()}-{root.name}"
        base.mkdir(mode=0o755)
        shutil.chown(base, "postgres")
        root = base
    cluster = PgCluster(_pg_bin(), root / "data", root, free_port())
    cluster._run("initdb", "-D", str(cluster.data), "-U", "postgres", "-A", "trust")
    cluster.start()
    yield cluster
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        cluster.stop()
    shutil.rmtree(root, ignore_errors=True)


def _event(uid: str, t: float) -> Event:
    return Event(uid=uid, type="intrusion", camera="cam1", start_s=t, last_s=t, zone="gate", severity=3)


def test_postgres_stopped_mid_run_loses_no_event(pg_cluster: PgCluster, tmp_path: Path) -> None:
    engine = connect(pg_cluster.new_database())
    store = EventStore(engine, spool_dir=tmp_path / "spool", epoch_s=1.7e9, backoff_s=(0.1, 0.2, 0.5))
    for i in range(10):  # before the outage
        store.publish("start", _event(f"a{i}", float(i)))
    assert store.flush(10)

    pg_cluster.stop()
    for i in range(10):  # during the outage: starts, updates and ends
        ev = _event(f"b{i}", 100.0 + i)
        store.publish("start", ev)
        store.publish("update", replace(ev, last_s=ev.last_s + 1))
        store.publish("end", replace(ev, last_s=ev.last_s + 2, end_s=ev.last_s + 2))
    store.publish("end", replace(_event("a0", 0.0), last_s=50.0, end_s=50.0))  # ends an event from before
    assert not store.flush(1.0)  # the database is down: the messages wait in the spool
    assert store.backlog == 31
    assert list((tmp_path / "spool").glob("spool-*.jsonl"))

    pg_cluster.start()
    assert store.flush(30)
    assert store.close()
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(events)).scalar_one() == 20
        assert c.execute(select(func.count()).select_from(event_updates)).scalar_one() == 10 + 30 + 1
    got = store.get_event("b3")
    assert got is not None
    assert [u["kind"] for u in got["updates"]] == ["start", "update", "end"]
    a0 = store.get_event("a0")
    assert a0 is not None and a0["end_at"] is not None
    engine.dispose()


def test_postgres_down_at_start_then_restart_replays_the_spool(pg_cluster: PgCluster, tmp_path: Path) -> None:
    engine = connect(pg_cluster.new_database())
    pg_cluster.stop()
    first = EventStore(engine, spool_dir=tmp_path / "spool", backoff_s=(0.1,))
    for i in range(5):
        first.publish("start", _event(f"c{i}", 1.7e9 + i))
    assert not first.close(0.5)  # the process ends while the database is still down
    pg_cluster.start()
    second = EventStore(engine, spool_dir=tmp_path / "spool")  # next run: spool written first
    assert second.flush(30)
    second.close()
    assert sorted(e["uid"] for e in second.list_events()) == [f"c{i}" for i in range(5)]
    engine.dispose()


@dataclass
class Broker:
    """A private mosquitto with persistence (sessions and queued QoS 1 messages survive a restart)."""

    binary: str
    conf: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"mosquitto did not start on port {self.port}")

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)  # mosquitto writes its persistence file on exit
        self.proc.wait(10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    binary = os.environ.get("SAFECITY_TEST_MOSQUITTO") or shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    lines = [
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
        "persistence true",
        f"persistence_location {tmp_path}/",
    ]
    if os.geteuid() == 0:
        lines.append("user root")  # keep access to the private folder (mosquitto drops root by default)
    conf.write_text("\n".join(lines) + "\n")
    b = Broker(binary, conf, port)
    b.start()
    yield b
    if b.proc is not None:
        b.stop()


def test_broker_killed_mid_run_subscriber_gets_every_alert(broker: Broker) -> None:
    sub = Subscriber("127.0.0.1", broker.port, "safecity/events/#", client_id="outage-subscriber")
    sink = MqttSink("127.0.0.1", broker.port, reconnect_s=(1, 2))
    for i in range(10):
        sink.publish("start", _event(f"m{i}", 1.7e9 + i))
    assert sink.flush(10)
    assert len(sub.wait_for(10)) == 10

    broker.stop()
    for i in range(10, 30):  # published while the broker is down
        sink.publish("start", _event(f"m{i}", 1.7e9 + i))
    assert not sink.flush(0.5)
    assert sink.backlog == 20

    broker.start()
    assert sink.flush(30)
    got = sub.wait_for(30, timeout_s=30)
    sink.close()
    sub.close()
    ids = [AlertPayload.model_validate_json(p).event_id for _, p, _ in got]
    # At least once: every alert arrived; a message in flight at the kill may come twice.
    assert set(ids) == {f"m{i}" for i in range(30)}
    first_seen = list(dict.fromkeys(ids))
    assert first_seen == [f"m{i}" for i in range(30)]  # and in order
