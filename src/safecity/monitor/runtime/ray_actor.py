"""The actor side of the Ray transport: a camera group's :class:`CameraWorker` and its acknowledged outbox.

::

    CameraGroupActor (one Ray actor process, any node)
      CameraWorker ── emit(msg) ──► AckBuffer: seq 1, 2, 3 ... kept until the driver acknowledges them
                   └─ emit_tile ──► newest tile per camera (lossy side path)
      poll(incarnation, ack=N, wish) ─► drops seq <= N, returns PollReply(incarnation, node,
                                          [(seq, msg) > N], tiles)

Delivery is acknowledged: a message leaves the actor's buffer only when a later poll says the driver
has it (``ack`` = the highest sequence number the driver delivered to the hub). A poll whose answer
is lost on the way (timeout, driver hiccup) is simply answered again by the next poll, and the
driver drops what it already has by ``(incarnation, seq)``, so every message reaches the hub exactly
once while its actor lives. The one gap: when the actor process dies, the messages it had not yet
had acknowledged die with it (at most what its cameras produced since the previous poll, 0.1 s by
default, plus the answer in flight). A restarted actor is a new ``incarnation`` whose sequence
starts at 1; an acknowledgement names the incarnation it is for, so a poll sent while Ray restarted
the actor cannot acknowledge the new process's messages.

This module imports Ray nowhere: Ray wraps :class:`CameraGroupActor` with ``ray.remote`` in
:mod:`safecity.monitor.runtime.ray_transport`, and the class also runs in a plain process (tests).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from safecity.monitor.config.model import CameraConfig, MonitorConfig
from safecity.monitor.runtime.messages import ArmAnalytics, StatsMsg, TileMsg, TileWish, WorkerMessage
from safecity.monitor.runtime.worker import CameraWorker, RuntimeOptions, make_camera_worker

__all__ = ["AckBuffer", "CameraGroupActor", "MEDIA_CHECK_NAME", "PollReply", "media_check_problem"]

log = logging.getLogger(__name__)

MEDIA_CHECK_NAME = ".safecity-media-check"
"""File the driver writes into the media root; every actor reads it back before its cameras start."""


class AckBuffer:
    """Numbered messages kept until acknowledged (thread-safe).

    Args:
        max_unacked: most messages kept; beyond it new :class:`StatsMsg` (counters, replaced each
            second anyway) are dropped and counted, every other message is still kept.

    Example:
        >>> from safecity.monitor.runtime.messages import EndedMsg
        >>> buf = AckBuffer()
        >>> buf.push(EndedMsg("c1", "x")), buf.push(EndedMsg("c2", "x"))
        (1, 2)
        >>> [seq for seq, _ in buf.take(ack=0, wait_s=0.0, max_messages=10)]
        [1, 2]
        >>> [seq for seq, _ in buf.take(ack=1, wait_s=0.0, max_messages=10)]  # 1 was acknowledged
        [2]
    """

    def __init__(self, max_unacked: int = 50_000) -> None:
        self.max_unacked = max_unacked
        self._items: deque[tuple[int, WorkerMessage]] = deque()
        self._cond = threading.Condition()
        self._seq = 0
        self.stats_dropped = 0

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest message (0: none yet)."""
        with self._cond:
            return self._seq

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)

    def push(self, msg: WorkerMessage) -> int:
        """Number ``msg`` and keep it; returns its sequence number (0 when a counters message was dropped)."""
        with self._cond:
            if len(self._items) >= self.max_unacked and isinstance(msg, StatsMsg):
                self.stats_dropped += 1
                return 0
            self._seq += 1
            self._items.append((self._seq, msg))
            self._cond.notify_all()
            return self._seq

    def take(self, ack: int, wait_s: float, max_messages: int) -> list[tuple[int, WorkerMessage]]:
        """Forget messages up to ``ack``; return the oldest unacknowledged ones (they stay kept).

        Waits up to ``wait_s`` when none is kept.
        """
        deadline = time.monotonic() + wait_s
        with self._cond:
            while self._items and self._items[0][0] <= ack:
                self._items.popleft()
            while not self._items:
                left = deadline - time.monotonic()
                if left <= 0 or not self._cond.wait(left):
                    break
            return [self._items[i] for i in range(min(max_messages, len(self._items)))]


@dataclass(frozen=True, slots=True)
class PollReply:
    """An actor's answer to a poll.

    Attributes:
        incarnation: this actor process (a restarted actor has a new one; sequences restart at 1).
        node_id: the Ray node the actor runs on (hex).
        messages: unacknowledged ``(seq, message)`` pairs, oldest first.
        tiles: the newest tile of each wished camera since the last poll.
        last_seq: the highest sequence number the actor has produced so far.
        stats_dropped: counters messages dropped because the driver did not acknowledge in time.
    """

    incarnation: str
    node_id: str
    messages: list[tuple[int, WorkerMessage]] = field(default_factory=list)
    tiles: list[TileMsg] = field(default_factory=list)
    last_seq: int = 0
    stats_dropped: int = 0


def media_check_problem(root: Path, token: str) -> str | None:
    """Why ``root`` is not the media root the driver prepared (None: it is).

    The driver writes ``token`` into ``root / MEDIA_CHECK_NAME``; a node that does not see that file
    with that content writes its snapshots and clips somewhere the console will never look.
    """
    marker = root / MEDIA_CHECK_NAME
    try:
        seen = marker.read_text(encoding="utf-8").strip()
    except OSError as exc:
        return (
            f"media root {root} is not the shared storage the driver prepared: {marker} cannot be read "
            f"on this node ({type(exc).__name__}); mount the same storage (NFS, CephFS, ...) at {root} "
            "on every Ray node"
        )
    if seen != token:
        return (
            f"media root {root} on this node is not the driver's: {marker} holds another token; mount "
            f"the same storage at {root} on every Ray node"
        )
    return None


class CameraGroupActor:
    """One camera group in a Ray actor: a :class:`CameraWorker` behind an acknowledged outbox.

    Ray calls the constructor again with the same arguments when it restarts the actor, so a new
    ``incarnation`` tells the driver that the pipelines started afresh. The worker starts in a
    background thread: the constructor returns at once and the first poll answers quickly.

    Args:
        config: the ``MonitorConfig`` of this group (its ``cameras`` are the group).
        cameras: the cameras of this group.
        options: :class:`RuntimeOptions` (``media_root`` absolute, checked by the driver).
        media_token: the content the driver wrote into the media root's check file; the cameras
            are reported failed when this node does not see it. None = no media or no check.
        max_unacked: see :class:`AckBuffer`.
    """

    def __init__(
        self,
        config: MonitorConfig,
        cameras: Sequence[CameraConfig],
        options: RuntimeOptions,
        media_token: str | None = None,
        max_unacked: int = 50_000,
    ) -> None:
        self.incarnation = f"{os.getpid()}-{time.time_ns()}"
        self.node_id = _node_id()
        self.outbox = AckBuffer(max_unacked)
        self._tiles: dict[str, TileMsg] = {}
        self._tile_lock = threading.Lock()
        self._wish: frozenset[str] = frozenset()
        self._media_token = media_token
        self._run_lock = threading.Lock()  # worker start vs reconfiguration
        self.worker: CameraWorker = make_camera_worker(config, cameras, options, self._keep, self._keep_tile)
        self._thread = threading.Thread(target=self._start, name="safecity-group", daemon=True)
        self._thread.start()

    def _keep(self, msg: WorkerMessage) -> None:
        self.outbox.push(msg)

    def _keep_tile(self, tile: TileMsg) -> bool:
        with self._tile_lock:
            replaced = tile.camera in self._tiles
            self._tiles[tile.camera] = tile
        return not replaced  # a tile the driver never fetched counts as dropped

    def _start(self) -> None:
        root = self.worker.options.media_root
        if root is not None and self._media_token is not None:
            problem = media_check_problem(root, self._media_token)
            if problem is not None:
                for cam in self.worker.cameras:
                    self.worker.fail(cam.id, problem)
                return
        try:
            with self._run_lock:
                self.worker.start()
        except Exception as exc:  # a bug or version skew between nodes: report it, do not go silent
            log.exception("camera group worker failed")
            for cam in self.worker.cameras:
                self.worker.fail(cam.id, f"camera group worker failed: {type(exc).__name__}: {exc}")

    def _ack(self, incarnation: str | None, ack: int) -> int:
        # an ack meant for an earlier process of this actor (a poll sent while Ray restarted it)
        # says nothing about this one's messages
        return ack if incarnation == self.incarnation else 0

    def poll(
        self, incarnation: str | None, ack: int, want_tiles: Sequence[str], wait_s: float, max_messages: int
    ) -> PollReply:
        """Acknowledge up to ``ack``; return what is not acknowledged yet and the newest tiles.

        Args:
            incarnation: the incarnation ``ack`` belongs to (None: the driver has none yet).
            ack: highest sequence number of that incarnation the driver has delivered (0: none).
            want_tiles: cameras of this group the driver wants tiles of.
            wait_s: longest wait when nothing is unacknowledged.
            max_messages: most messages returned at once (the rest come with the next poll).
        """
        ack = self._ack(incarnation, ack)
        wish = frozenset(want_tiles)
        if wish != self._wish:
            self._wish = wish
            self.worker.want_tiles(TileWish(wish))
        msgs = self.outbox.take(ack, wait_s, max_messages)
        with self._tile_lock:
            tiles, self._tiles = list(self._tiles.values()), {}
        return PollReply(self.incarnation, self.node_id, msgs, tiles, self.outbox.last_seq,
                         self.outbox.stats_dropped)  # fmt: skip

    def arm(self, msg: ArmAnalytics) -> None:
        """PTZ: pause a camera's analytics or arm them at a preset (:meth:`CameraWorker.arm`)."""
        self.worker.arm(msg)

    def reconfigure(self, config: MonitorConfig, cameras: Sequence[CameraConfig]) -> list[str]:
        """Run ``cameras`` under ``config`` from now on (:meth:`CameraWorker.reconfigure`).

        Changed cameras restart (their live events end first), new ones start, missing ones stop;
        returns the ids of the cameras (re)started.
        """
        with self._run_lock:
            return self.worker.reconfigure(config, cameras)

    def shutdown(self, incarnation: str | None, ack: int, timeout_s: float) -> PollReply:
        """Stop the cameras (waits up to ``timeout_s``) and return every message not acknowledged."""
        ack = self._ack(incarnation, ack)
        self.worker.stop(timeout_s)
        self._thread.join(max(0.1, timeout_s))
        return PollReply(self.incarnation, self.node_id, self.outbox.take(ack, 0.0, 1 << 30), [],
                         self.outbox.last_seq, self.outbox.stats_dropped)  # fmt: skip


def _node_id() -> str:
    """The Ray node this process runs on ("" outside Ray)."""
    try:
        import ray

        if ray.is_initialized():
            return str(ray.get_runtime_context().get_node_id())
    except ImportError:  # the class also runs without Ray (tests)
        pass
    return ""
