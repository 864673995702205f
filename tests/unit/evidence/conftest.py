"""A store with one event whose snapshot and clip are on disk, for export tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from safecity.media import media_paths, write_clip, write_jpeg
from safecity.monitor.types import Event
from safecity.store.audit import AuditLog
from safecity.store.db import connect
from safecity.store.events import EventStore

EPOCH = 1_796_000_000.0


@dataclass
class World:
    engine: Engine
    store: EventStore
    audit: AuditLog
    home: Path
    media: Path


def frame(i: int) -> np.ndarray:
    img = np.full((120, 160, 3), 90, np.uint8)
    img[40:80, (i * 10) % 120 : (i * 10) % 120 + 30] = (0, 200, 0)
    return img


@pytest.fixture
def world(tmp_path: Path, sqlite_url: str) -> Iterator[World]:
    engine = connect(sqlite_url)
    media = tmp_path / "media"
    store = EventStore(engine, spool_dir=tmp_path / "spool", epoch_s=EPOCH, media_root=media)
    for uid, t in (("ev-a", 10.0), ("ev-b", 70.0)):
        ev = Event(uid=uid, type="intrusion", camera="cam1", start_s=t, last_s=t, severity=3, zone="gate")
        store.publish("start", ev)
        snap, clip = media_paths(media, "cam1", uid)
        write_jpeg(snap, frame(0))
        write_clip(clip, [(k * 0.25, frame(k)) for k in range(8)], codec="mpeg4")
    assert store.flush(10)
    yield World(engine, store, AuditLog(engine), tmp_path / "home", media)
    store.close()
    engine.dispose()
