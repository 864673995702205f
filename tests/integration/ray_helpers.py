"""Helpers of the Ray integration tests: a real multi-node Ray cluster on this machine, recording sinks.

:class:`LocalCluster` starts each node as its own ``ray start --block`` process (a head, then nodes
joining it with ``--address``), each with its own custom resource, in its own temporary folder.
:meth:`LocalCluster.kill_node` kills one node the way a crash does: SIGKILL to every process of that
node (its ``ray start``, raylet, agents and worker processes, found as the process tree under its
``ray start``), nothing else. Teardown kills the trees it started by pid (never ``ray stop``, which
ends every Ray process of the user on the machine, other people's included).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.runtime.messages import EventMsg, TileMsg, WorkerMessage
from safecity.monitor.runtime.transport import HubInbox, Transport
from safecity.monitor.types import Event, EventKind
from tests.ports import free_port
from tests.unit.monitor.runtime.test_ray_actor import make_blob_detector, write_walking_clip

REPO = Path(__file__).resolve().parents[2]
RAY = REPO / ".venv" / "bin" / "ray"
WAIT_S = 150.0
BLOB = "tests.unit.monitor.runtime.test_ray_actor:make_blob_detector"
"""Detector factory (``RuntimeOptions.detector_factory``) importable on every node of the checkout."""

__all__ = [
    "BLOB",
    "ListSink",
    "LocalCluster",
    "RecordingInbox",
    "RecordingTransport",
    "make_blob_detector",
    "wait_for",
    "write_walking_clip",
]


def wait_for(cond: Callable[[], bool], what: str, limit_s: float = WAIT_S) -> float:
    """Poll ``cond`` every 0.1 s; fail the test after ``limit_s``. Returns the seconds it took."""
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > limit_s:
            pytest.fail(f"gave up waiting for {what} after {limit_s:.0f} s")
        time.sleep(0.1)
    return time.monotonic() - t0


class ListSink:
    """Keeps every message a hub publishes (thread-safe)."""

    def __init__(self) -> None:
        self.items: list[tuple[EventKind, Event]] = []
        self.lock = threading.Lock()

    def publish(self, kind: EventKind, event: Event) -> None:
        with self.lock:
            self.items.append((kind, event))

    def snapshot(self) -> list[tuple[EventKind, Event]]:
        with self.lock:
            return list(self.items)

    def starts(self, camera: str, type_: str) -> list[Event]:
        return [e for k, e in self.snapshot() if k == "start" and e.camera == camera and e.type == type_]

    def ends(self) -> dict[str, Event]:
        return {e.uid: e for k, e in self.snapshot() if k == "end"}


class RecordingInbox:
    """Passes everything on to the hub and keeps a copy: what the transport handed over."""

    def __init__(self, inbox: HubInbox) -> None:
        self.inbox = inbox
        self.lock = threading.Lock()
        self.messages: list[WorkerMessage] = []
        self.tiles: list[TileMsg] = []

    def deliver(self, msg: WorkerMessage) -> None:
        with self.lock:
            self.messages.append(msg)
        self.inbox.deliver(msg)

    def deliver_tile(self, msg: TileMsg) -> None:
        with self.lock:
            self.tiles.append(msg)
        self.inbox.deliver_tile(msg)

    def events(self) -> list[EventMsg]:
        with self.lock:
            return [m for m in self.messages if isinstance(m, EventMsg)]

    def tile_times(self, camera: str) -> list[float]:
        with self.lock:
            return [t.t_s for t in self.tiles if t.camera == camera]


class RecordingTransport:
    """A transport around another one whose hub inbox is a :class:`RecordingInbox` (tests only)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.recorded: RecordingInbox | None = None

    def start(self, inbox: HubInbox) -> None:
        self.recorded = RecordingInbox(inbox)
        self.inner.start(self.recorded)

    def want_tiles(self, cameras: frozenset[str]) -> None:
        self.inner.want_tiles(cameras)

    def placement(self) -> Mapping[str, str]:
        placement: Mapping[str, str] = self.inner.placement()
        return placement

    def stop(self, timeout_s: float) -> None:
        self.inner.stop(timeout_s)

    def reconfigure(self, config: MonitorConfig) -> None:
        self.inner.reconfigure(config)

    def stats(self) -> Mapping[str, object]:
        stats: Mapping[str, object] = self.inner.stats()
        return stats


def _check_transport(t: RecordingTransport) -> Transport:
    return t  # mypy: RecordingTransport is a Transport


def _process_tree(root: int) -> list[int]:
    """``root`` and every process below it (from /proc), parents first."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop(0)
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _kill_tree(roots: list[int], sig: int) -> list[int]:
    """Send ``sig`` to ``root``'s tree until no process of it is left (new workers may appear).

    The tree is widened from every process seen so far, so children whose parent died first (and
    were handed to init) are still found.
    """
    seen: list[int] = list(roots)
    for _ in range(10):
        for pid in list(seen):
            seen.extend(p for p in _process_tree(pid) if p not in seen)
        alive = [p for p in seen if _alive(p)]
        if not alive:
            break
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        time.sleep(0.3)
    return seen


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Node:
    name: str
    resources: dict[str, float]
    proc: subprocess.Popen[bytes]
    log: Path
    pids_killed: list[int] = field(default_factory=list)


class LocalCluster:
    """A real Ray cluster of several ``ray start`` processes on this machine (loopback addresses).

    Args:
        cpus_per_node: logical CPUs each node offers (Ray's scheduling; the machine has what it has).
    """

    def __init__(self, cpus_per_node: int = 2) -> None:
        self.cpus = cpus_per_node
        self.tmp = Path(tempfile.mkdtemp(prefix="sc-ray-", dir="/tmp"))  # short: Ray's socket paths
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: dict[str, Node] = {}
        # the cluster's token authentication follows this process's: a driver reads RAY_AUTH_MODE when
        # Ray is imported (and Ray itself sets it to "token" once it has started a local Ray here, e.g.
        # an earlier test), and a driver whose mode differs from the cluster's cannot run actors there.
        # With "token" the nodes use the same token (~/.ray/auth_token or RAY_AUTH_TOKEN).
        mode = os.environ.get("RAY_AUTH_MODE", "").lower()
        self.auth = {"RAY_AUTH_MODE": "token" if mode == "token" else "disabled"}
        self.env = {
            **os.environ,
            **self.auth,
            "RAY_USAGE_STATS_ENABLED": "0",
            # every node runs the same checkout (the tests' detector factories live in tests/)
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
        }

    @contextlib.contextmanager
    def driver_env(self) -> Iterator[None]:
        """This process's environment as a driver of the cluster (its auth mode), restored after."""
        old = {k: os.environ.get(k) for k in self.auth}
        os.environ.update(self.auth)
        try:
            yield
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def _start(self, name: str, args: list[str]) -> Node:
        resources = {name: 1.0}
        log = self.tmp / f"{name}.log"
        cmd = [str(RAY), "start", "--block", "--node-ip-address", "127.0.0.1", "--num-cpus", str(self.cpus),
               "--resources", json.dumps(resources), "--disable-usage-stats", *args]  # fmt: skip
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=self.tmp,
                                    start_new_session=True)  # fmt: skip
        node = Node(name, resources, proc, log)
        self.nodes[name] = node
        return node

    def start_head(self, name: str) -> Node:
        return self._start(name, ["--head", "--port", str(self.port), "--temp-dir", str(self.tmp / "ray"),
                                  "--include-dashboard=false", "--dashboard-agent-listen-port",
                                  str(free_port())])  # fmt: skip

    def add_node(self, name: str) -> Node:
        return self._start(
            name, ["--address", self.address, "--dashboard-agent-listen-port", str(free_port())]
        )

    def wait_ready(self, names: list[str], ray: Any) -> dict[str, str]:
        """Wait until every named node is alive in the cluster; returns name -> Ray node id."""
        ids: dict[str, str] = {}

        def ready() -> bool:
            for name, node in self.nodes.items():
                if node.proc.poll() is not None:
                    pytest.fail(f"ray node {name} exited: {node.log.read_text(errors='replace')[-2000:]}")
            for n in ray.nodes():
                for name in names:
                    if n.get("Alive") and name in n.get("Resources", {}):
                        ids[name] = n["NodeID"]
            return set(ids) == set(names)

        wait_for(ready, f"ray nodes {names} to be alive")
        return ids

    def kill_node(self, name: str) -> list[int]:
        """SIGKILL every process of one node (a crash of that machine); returns the pids."""
        node = self.nodes[name]
        node.pids_killed = _kill_tree([node.proc.pid], signal.SIGKILL)
        node.proc.wait(10)
        return node.pids_killed

    def stop(self) -> None:
        """End every node this cluster started (their process trees only) and remove the temp folder."""
        for node in reversed(list(self.nodes.values())):
            pids = [node.proc.pid, *node.pids_killed]
            if node.proc.poll() is None:
                pids = _kill_tree(pids, signal.SIGTERM)  # ray start --block stops its node on SIGTERM
                with contextlib.suppress(subprocess.TimeoutExpired):
                    node.proc.wait(15)
            _kill_tree(pids, signal.SIGKILL)  # whatever is left of it
            with contextlib.suppress(subprocess.TimeoutExpired):
                node.proc.wait(5)
        shutil.rmtree(self.tmp, ignore_errors=True)
