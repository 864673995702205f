"""Fixtures of the console API tests: a real SQLite store and EventStore, a fake monitoring runtime.

The monitoring runtime is replaced by :class:`FakeMonitor` here because these tests are about the
API (auth, scoping, audit, payloads), not the runtime; the e2e test runs the real runtime.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from safecity.monitor.types import Event, EventKind, EventSink, HealthState, WallLayout
from safecity.service import LiveCamera, Services
from safecity.settings import Settings
from safecity.store.db import connect
from safecity.store.events import EventStore
from safecity.web.app import create_app

PASSWORDS = {"admin": "admin-pass-1", "operator": "operator-pass-1", "viewer": "viewer-pass-1"}
WEST, EAST = "cam-west", "cam-east"


class FakeClock:
    """Settable Unix time (sessions expire when a test moves it)."""

    def __init__(self, t: float = 1_790_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@dataclass
class FakeMonitor:
    """In-memory MonitorService: a fixed camera list, a settable wall, numbered synthetic frames."""

    keys: list[str]
    layout: WallLayout = field(default_factory=lambda: WallLayout(0.0, ()))
    sinks: list[EventSink] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    frame_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def cameras(self) -> list[str]:
        return list(self.keys)

    def wall(self) -> WallLayout:
        return self.layout

    def health(self) -> dict[str, HealthState]:
        return {k: "online" for k in self.keys}

    def latest_frame(self, camera: str) -> npt.NDArray[np.uint8] | None:
        with self._lock:
            self.frame_calls += 1
            n = self.frame_calls
        img = np.zeros((360, 1280, 3), np.uint8)
        img[:, :, 1] = n % 255
        return img

    def acknowledge(self, event_uid: str) -> None:
        self.acked.append(event_uid)

    def add_sink(self, sink: EventSink) -> None:
        self.sinks.append(sink)

    def emit(self, kind: EventKind, event: Event) -> None:
        for s in self.sinks:
            s.publish(kind, event)


def make_event(
    uid: str, camera: str, *, t: float = 1_790_000_000.0, zone: str = "gate", sev: int = 4
) -> Event:
    return Event(
        uid=uid,
        type="intrusion",
        camera=camera,
        start_s=t,
        last_s=t + 1,
        severity=sev,
        zone=zone,
        track_ids=(3,),
        object_class="person",
        count=2,
        box_frac=(0.1, 0.2, 0.3, 0.4),
    )


@dataclass
class Env:
    client: TestClient
    clock: FakeClock
    monitor: FakeMonitor
    events: EventStore
    services: Services
    media_root: Path

    def login(self, name: str, client: TestClient | None = None) -> str:
        c = client or self.client
        r = c.post("/api/auth/login", json={"username": name, "password": PASSWORDS[name]})
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def bearer(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.login(name)}"}

    def bearer_of(self, name: str, password: str) -> dict[str, str]:
        r = self.client.post("/api/auth/login", json={"username": name, "password": password})
        assert r.status_code == 200, r.text
        self.client.cookies.clear()
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def add_event(self, uid: str, camera: str, **kw: object) -> Event:
        ev = make_event(uid, camera, **kw)  # type: ignore[arg-type]
        self.monitor.emit("start", ev)
        assert self.events.flush(10)
        return ev

    def audit(self, **params: object) -> list[dict[str, object]]:
        r = self.client.get("/api/audit", params=params, headers=self.bearer("admin"))
        assert r.status_code == 200, r.text
        return list(r.json()["entries"])


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied by each test (migrating once keeps the suite fast)."""
    path = tmp_path_factory.mktemp("template") / "safecity.db"
    connect(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def env(tmp_path: Path, migrated_db: Path) -> Iterator[Env]:
    db = tmp_path / "safecity.db"
    shutil.copyfile(migrated_db, db)
    engine = connect(f"sqlite:///{db}", migrate=False)  # a copy of the migrated template
    media_root = tmp_path / "media"
    events = EventStore(engine, spool_dir=tmp_path / "spool", media_root=media_root)
    monitor = FakeMonitor([WEST, EAST])
    monitor.add_sink(events)
    services = Services(
        settings=Settings(home=tmp_path, secret_key="k" * 40),
        engine=engine,
        events=events,
        media_root=media_root,
        monitor=monitor,
        privacy_masks={EAST: [[(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)]]},
        live_cameras={WEST: LiveCamera(WEST, "West gate", "guro-west", 37.49, 126.85)},
    )
    clock = FakeClock()
    app = create_app(
        services.settings,
        services,
        clock=clock,
        hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1),
    )
    users = app.state.console.users
    users.upsert_group("west", [WEST])
    users.upsert_group("east", [EAST])
    for name, pw in PASSWORDS.items():
        users.add_user(name, pw, name)
    users.set_user_groups("operator", ["west", "east"])
    users.set_user_groups("viewer", ["west"])
    with TestClient(app, client=("10.1.2.3", 5555)) as client:
        yield Env(client, clock, monitor, events, services, media_root)
    events.close()
    engine.dispose()
