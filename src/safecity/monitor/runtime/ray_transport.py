"""The Ray transport: camera groups in Ray actors on any node of a cluster, their messages to the hub.

::

    Ray node A ─ actor "group 0": CameraWorker + AckBuffer ─┐ poll(ack, tile wish)  every 0.1 s
    Ray node B ─ actor "group 1": CameraWorker + AckBuffer ─┤   └► PollReply: (seq, msg) not yet acked,
    ...                                                      │      newest tiles, incarnation, node
    driver: RayTransport poller thread ◄─────────────────────┘
              └─ hub.deliver(msg) once per (incarnation, seq), hub.deliver_tile(tile)
    MonitorHub: live events, health, selector -> WallLayout, sink pumps (store, MQTT, webhooks)

:class:`RayTransport` implements the :class:`~safecity.monitor.runtime.transport.Transport` protocol:
cameras are dealt into groups (:func:`partition_cameras`), each group runs the public
:class:`~safecity.monitor.runtime.worker.CameraWorker` inside one
:class:`~safecity.monitor.runtime.ray_actor.CameraGroupActor`. Frames never leave the actor.

Delivery is acknowledged and idempotent (:mod:`safecity.monitor.runtime.ray_actor`): a message stays
in its actor until a later poll acknowledges it, and the driver hands each ``(incarnation, seq)`` to
the hub once. Only the unacknowledged tail of an actor that dies is lost.

Failures: a camera that fails inside an actor is handled by the worker as on one machine. An actor
whose poll fails (process killed, node lost) or that does not answer for ``unreachable_after_s``
(cannot be placed: CPUs or a required resource nobody offers; hung node) has its cameras reported
``offline`` by the driver (one ``camera_offline`` event, a :class:`FailureMsg` with the reason,
``offline`` health). Ray restarts a dead actor (``max_restarts``), on a surviving node when its node
is gone; when the new incarnation answers, the driver ends that outage and the events the old
incarnation left live (``detail.end_reason = "camera group actor lost"``), and the cameras run afresh.

Placement: ``prefer`` maps a camera ``group`` of the config to a Ray custom resource (``ray start
--resources '{"segment-3": 1}'``): its actors start on a node offering it and fail over to any node;
``require`` makes it strict (no failover; a resource no node offers leaves the cameras offline with
that reason). Media (``media_root``) must be an absolute path of storage every node mounts at that path.

Ray is an optional dependency (the ``scale`` extra); it is imported only when a transport starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
import math
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safecity.errors import ConfigError
from safecity.monitor.config.model import CameraConfig, MonitorConfig
from safecity.monitor.runtime.hub import MonitorHub
from safecity.monitor.runtime.messages import ArmAnalytics, EventMsg, FailureMsg, HealthMsg, WorkerMessage
from safecity.monitor.runtime.ray_actor import MEDIA_CHECK_NAME, CameraGroupActor, PollReply
from safecity.monitor.runtime.transport import HubInbox
from safecity.monitor.runtime.worker import RuntimeOptions
from safecity.monitor.types import Event, EventSink, HealthState

__all__ = [
    "ACTOR_LOST",
    "RayTransport",
    "check_ray_address",
    "connect_ray",
    "partition_cameras",
    "ray_runtime",
    "require_ray",
]

log = logging.getLogger(__name__)

ACTOR_LOST = "camera group actor lost"
"""Start of the reason of a driver-made ``camera_offline`` event and of ``detail.end_reason``."""

_INSTALL_HINT = "install the 'scale' extra: pip install -e '.[scale]' (ray==2.60.0)"
_RESOURCE_SHARE = 0.001  # what an actor asks of a required custom resource: any number of actors fit
_POLL_WAIT_S = 0.25  # an idle poll waits this long in the actor for a first message
_POLL_MAX_MESSAGES = 5000


def require_ray() -> Any:
    """Import Ray, or raise :class:`ConfigError` saying how to install it.

    Returns:
        The ``ray`` module.
    """
    try:
        return importlib.import_module("ray")
    except ImportError as exc:
        msg = f"the Ray backend needs the 'ray' package, which cannot be imported ({exc}); {_INSTALL_HINT}"
        raise ConfigError(msg) from exc


def partition_cameras(cameras: Sequence[CameraConfig], per_actor: int) -> list[list[CameraConfig]]:
    """Deal cameras into actor groups: same ``group`` together, at most ``per_actor`` each.

    Groups keep the config order (of a group's first camera, then of its cameras), so adding a
    camera at the end of the config moves no other camera to another actor.

    Args:
        cameras: the cameras (``id`` and ``group`` are used; None = no group).
        per_actor: most cameras per actor (>= 1).

    Example:
        >>> from types import SimpleNamespace as C
        >>> cams = [C(id="a", group="x"), C(id="b", group=None), C(id="c", group="x")]
        >>> [[c.id for c in g] for g in partition_cameras(cams, 8)]  # type: ignore[arg-type]
        [['a', 'c'], ['b']]
    """
    if per_actor < 1:
        raise ConfigError(f"cameras_per_actor must be at least 1, got {per_actor}")
    by_group: dict[str | None, list[CameraConfig]] = {}
    for cam in cameras:
        by_group.setdefault(cam.group, []).append(cam)
    return [cams[i : i + per_actor] for cams in by_group.values() for i in range(0, len(cams), per_actor)]


def check_ray_address(address: str | None, num_cpus: int | None = None) -> None:
    """Raise :class:`ConfigError` for an address (and CPU count) Ray would not take.

    ``address``: None (a new local Ray), ``"auto"``, ``"HOST:PORT"`` or ``"ray://HOST:PORT"``.
    """
    if num_cpus is not None and num_cpus < 1:
        raise ConfigError(f"num_cpus must be at least 1, got {num_cpus}")
    if address is None:
        return
    if num_cpus is not None:
        msg = (
            f"num_cpus={num_cpus} applies only to a local Ray (address=None), but address={address!r} "
            "joins an existing cluster whose CPUs are set by `ray start --num-cpus`; drop num_cpus"
        )
        raise ConfigError(msg)
    if address == "auto":
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not (sep and host and port.isdigit() and 0 < int(port) < 65536):
        msg = f"Ray address must be 'auto', 'ray://HOST:PORT' or 'HOST:PORT', got {address!r}"
        raise ConfigError(msg)


def _connect_hint(address: str | None) -> str:
    where = f"the Ray cluster at {address!r}" if address else "a local Ray"
    return (
        f"cannot start or join {where}: %s; start a head node with `ray start --head` (then 'auto' on "
        "that node, 'HEAD:6379' or 'ray://HEAD:10001' elsewhere) or use no address for a local Ray. A "
        "cluster with token authentication also needs RAY_AUTH_MODE=token and its token "
        "(~/.ray/auth_token or RAY_AUTH_TOKEN) in this process's environment"
    )


def connect_ray(
    address: str | None, *, num_cpus: int | None = None, timeout_s: float = 30.0
) -> tuple[Any, bool]:
    """Connect to (or start) Ray within ``timeout_s``; returns ``(ray, owned)``.

    ``owned`` is True when this call started or joined Ray (the caller shuts it down), False when
    the process was already connected. ``ray.init`` waits for ever on an address where nothing
    answers, so a ``HOST:PORT`` address is first checked with a TCP connection, and ``ray.init``
    itself runs under the same bound.

    Raises:
        ConfigError: Ray missing, a bad address, nothing answering there, or Ray refused.
    """
    check_ray_address(address, num_cpus)
    ray = require_ray()
    if ray.is_initialized():
        return ray, False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    hint = _connect_hint(address)
    if address is not None and address != "auto":
        host, _, port = address.removeprefix("ray://").rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
                pass
        except OSError as exc:
            raise ConfigError(hint % f"nothing answers at {host}:{port} ({exc})") from exc
    if address is None:  # a new local Ray, never one someone else started
        # in this thread: Ray ties its GCS and raylet to the life of the thread that starts them
        # (PR_SET_PDEATHSIG), so a helper thread would take them down when it ends
        try:
            ray.init(
                address="local", num_cpus=num_cpus, include_dashboard=False, logging_level=logging.WARNING
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(hint % str(exc).splitlines()[0][:300]) from exc
        return ray, True
    result: dict[str, BaseException | None] = {}

    def init() -> None:  # joining starts no process here, so a helper thread may do it
        try:
            ray.init(address=address, logging_level=logging.WARNING)
            result["error"] = None
        except BaseException as exc:  # handed to the caller's thread below
            result["error"] = exc

    t = threading.Thread(target=init, name="safecity-ray-connect", daemon=True)
    t.start()
    t.join(timeout_s)
    if "error" not in result:
        raise ConfigError(hint % f"no answer within {timeout_s:.0f} s (is it a Ray GCS port?)")
    err = result["error"]
    if err is not None:
        first = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
        raise ConfigError(hint % first) from err
    return ray, True


# --------------------------------------------------------------------------------------------
# Driver side


@dataclass(slots=True)
class _Incarnation:
    """What the driver saw of one actor process: sequence numbers delivered, duplicates, gaps."""

    incarnation: str
    node_id: str
    delivered: int = 0  # highest seq handed to the hub (= the next poll's ack)
    produced: int = 0  # highest seq the actor said it had produced
    messages: int = 0
    duplicates: int = 0  # answers repeated after a lost reply, dropped here
    gaps: int = 0  # sequence numbers never seen (should stay 0)


@dataclass(slots=True)
class _Group:
    """Driver-side state of one actor."""

    index: int
    cameras: list[str]
    config_group: str | None
    handle: Any
    created_at: float  # monotonic
    required: dict[str, float] = field(default_factory=dict)
    current: _Incarnation | None = None
    history: list[_Incarnation] = field(default_factory=list)
    ready_s: float | None = None  # creation -> first answer
    down_since: float | None = None  # monotonic; None while reachable
    down_uids: dict[str, str] = field(default_factory=dict)  # camera -> driver's offline event uid
    reported: dict[str, HealthState] = field(default_factory=dict)  # health as the actor last said
    live: dict[str, Event] = field(default_factory=dict)  # live events of its cameras, by uid
    inflight: Any = None  # ObjectRef of the outstanding poll
    sent_at: float = 0.0
    next_poll: float = 0.0
    config: MonitorConfig | None = None  # the group's config now (its cameras are the group)
    reconfigured: bool = False  # config differs from the actor's constructor arguments


class RayTransport:
    """Runs every enabled camera in Ray actors; a :class:`~safecity.monitor.runtime.transport.Transport`.

    Args:
        config: the :class:`~safecity.monitor.config.model.MonitorConfig`.
        options: :class:`RuntimeOptions` of the workers.
        address: None starts a local Ray (``num_cpus`` CPUs); ``"auto"`` joins the cluster this
            node belongs to; ``"HOST:PORT"`` a cluster's GCS; ``"ray://HOST:10001"`` through Ray Client.
        cameras_per_actor: most cameras per actor (one thread each, one detector per config).
        num_cpus: CPUs of a local Ray (only with ``address=None``).
        actor_cpus: CPUs each actor asks Ray for (shares below 1 allowed). Default: 1 on a
            cluster; on a local Ray a share such that every actor fits.
        max_restarts: how often Ray restarts a dead actor (-1: always).
        media_root: where workers write snapshots and clips (overrides ``options.media_root``);
            must be absolute on a cluster of several nodes, shared by all of them.
        prefer: config ``group`` -> Ray custom resource: start its actors on a node offering it
            (fail over to any node).
        require: config ``group`` -> Ray custom resource its actors must run on (no failover).
        poll_every_s: shortest time between two polls of one actor.
        unreachable_after_s: an actor that has not answered a poll for this long has its cameras
            reported offline (cannot be placed, hung node).
        connect_timeout_s: bound on joining the cluster.
    """

    name = "ray"

    def __init__(
        self,
        config: MonitorConfig,
        *,
        options: RuntimeOptions | None = None,
        address: str | None = None,
        cameras_per_actor: int = 8,
        num_cpus: int | None = None,
        actor_cpus: float | None = None,
        max_restarts: int = -1,
        media_root: Path | None = None,
        prefer: Mapping[str, str] | None = None,
        require: Mapping[str, str] | None = None,
        poll_every_s: float = 0.1,
        unreachable_after_s: float = 30.0,
        connect_timeout_s: float = 30.0,
    ) -> None:
        check_ray_address(address, num_cpus)
        if actor_cpus is not None and (
            actor_cpus < 0 or (actor_cpus > 1 and not float(actor_cpus).is_integer())
        ):
            msg = f"actor_cpus must be a share of one CPU (0..1) or a whole number, got {actor_cpus}"
            raise ConfigError(msg)
        if max_restarts < -1:
            raise ConfigError(f"max_restarts must be -1 (always) or >= 0, got {max_restarts}")
        for what, value in (("poll_every_s", poll_every_s), ("unreachable_after_s", unreachable_after_s),
                            ("connect_timeout_s", connect_timeout_s)):  # fmt: skip
            if not value > 0:
                raise ConfigError(f"{what} must be positive, got {value}")
        self.config = config
        opts = options or RuntimeOptions()
        self.options = dataclasses.replace(
            opts, media_root=media_root if media_root is not None else opts.media_root
        )
        self.address = address
        self.num_cpus = num_cpus
        self.actor_cpus = actor_cpus
        self.max_restarts = max_restarts
        self.prefer = dict(prefer or {})
        self.require = dict(require or {})
        both = sorted(set(self.prefer) & set(self.require))
        if both:
            raise ConfigError(f"camera groups {both} are in both prefer and require; keep each in one")
        self.poll_every_s = poll_every_s
        self.unreachable_after_s = unreachable_after_s
        self.connect_timeout_s = connect_timeout_s
        cameras = [c for c in config.cameras if c.enabled]
        self.partition = partition_cameras(cameras, cameras_per_actor)
        self._group_of = {c.id: i for i, g in enumerate(self.partition) for c in g}
        self._inbox: HubInbox | None = None
        self._ray: Any = None
        self._owns_ray = False
        self.cameras_per_actor = cameras_per_actor
        self._groups: list[_Group] = []
        self._dealt: dict[str, int] = {}  # preferred resource -> actors placed on its nodes so far
        self._actor_cls: Any = None
        self._cpus = 1.0
        self._media_token: str | None = None
        self._lock = threading.Lock()
        self._wish: frozenset[str] = frozenset()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stats: dict[str, Any] = {"polls": 0, "poll_messages": 0, "tiles": 0, "tile_bytes": 0}

    # ------------------------------------------------------------------ Transport
    def start(self, inbox: HubInbox) -> None:
        """Join (or start) Ray, create one actor per camera group and the poller; returns then.

        Raises:
            ConfigError: Ray missing or unreachable, a relative media root on a cluster.
        """
        if self._thread is not None:
            return
        t0 = time.monotonic()
        ray, self._owns_ray = connect_ray(
            self.address, num_cpus=self.num_cpus, timeout_s=self.connect_timeout_s
        )
        self._ray = ray
        self._stats["init_s"] = round(time.monotonic() - t0, 3)
        try:
            token = self._prepare_media(ray)
            self._inbox = inbox
            self._stop.clear()
            self._create_actors(ray, token)
        except BaseException:
            self._disconnect()
            raise
        self._thread = threading.Thread(target=self._poll_loop, name="safecity-ray-poll", daemon=True)
        self._thread.start()

    def want_tiles(self, cameras: frozenset[str]) -> None:
        """The cameras whose tiles the hub wants; each actor gets its share with its next poll."""
        with self._lock:
            self._wish = frozenset(cameras)

    def arm(self, msg: ArmAnalytics) -> None:
        """PTZ: hand ``msg`` to the actor of its camera (fire and forget: the PTZ runtime sends it again
        every few seconds, so an actor that is down or restarting learns the state when it answers)."""
        with self._lock:
            i = self._group_of.get(msg.camera)
            g = self._groups[i] if i is not None and i < len(self._groups) else None
        if g is not None and g.current is not None and g.down_since is None:
            g.handle.arm.remote(msg)

    def placement(self) -> dict[str, str]:
        """Camera -> ``"ray actor I on node NODE_ID"`` (node of its answering incarnation; "" before)."""
        with self._lock:
            out = {}
            for g in self._groups:
                node = g.current.node_id if g.current is not None and g.down_since is None else ""
                for cam in g.cameras:
                    out[cam] = f"ray actor {g.index} " + (f"on node {node}" if node else "(not answering)")
            return out

    def node_of(self, camera: str) -> str | None:
        """The Ray node id running ``camera`` now (None while its actor does not answer)."""
        with self._lock:
            g = self._groups[self._group_of[camera]]
            return g.current.node_id if g.current is not None and g.down_since is None else None

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the actors; every message they produced and did not lose before is delivered first.

        Ray is shut down only if this transport started or joined it.
        """
        if self._thread is None:
            return
        ray = self._ray
        self._stop.set()
        self._thread.join(max(2.0, 2 * _POLL_WAIT_S + 1.0))
        self._thread = None
        deadline = time.monotonic() + timeout_s
        for g in self._groups:  # answers of polls still in flight, then the rest each actor holds
            if g.inflight is not None:
                self._collect(g, deadline)
        refs = {
            g.handle.shutdown.remote(*self._ack_of(g), max(0.5, timeout_s - 1.0)): g for g in self._groups
        }
        ready, _ = ray.wait(list(refs), num_returns=len(refs), timeout=max(0.5, deadline - time.monotonic()))
        for ref in ready:
            with contextlib.suppress(ray.exceptions.RayError):
                self._take(refs[ref], ray.get(ref))
        for g in self._groups:
            with contextlib.suppress(Exception):  # an actor already gone must not stop the shutdown
                ray.kill(g.handle, no_restart=True)
        self._disconnect()

    # ------------------------------------------------------------------ introspection
    def stats(self) -> dict[str, Any]:
        """Actors, restarts, polls, bytes and, per actor incarnation, sequence numbers delivered."""
        with self._lock:
            return {
                **self._stats,
                "actors": len(self.partition),
                "cameras_per_actor": [len(g) for g in self.partition],
                "actor_ready_s": [g.ready_s for g in self._groups],
                "restarts": [max(0, len(g.history) - 1) for g in self._groups],
                "down": [g.index for g in self._groups if g.down_since is not None],
                "incarnations": [[dataclasses.asdict(i) for i in g.history] for g in self._groups],
            }

    def actor_of(self, camera: str) -> Any:
        """The Ray actor handle running ``camera`` (operations, tests)."""
        return self._groups[self._group_of[camera]].handle

    # ------------------------------------------------------------------ start-up
    def _disconnect(self) -> None:
        if self._owns_ray and self._ray is not None:
            self._ray.shutdown()
        self._owns_ray = False

    def _prepare_media(self, ray: Any) -> str | None:
        """Check the media root for the cluster and write the check file every actor reads back."""
        root = self.options.media_root
        if root is None:
            return None
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        if not root.is_absolute():
            if len(nodes) > 1 or self.address is not None:
                msg = (
                    f"media_root {str(root)!r} is relative, but the cameras run on a Ray cluster "
                    f"({len(nodes)} node(s) now): each actor would resolve it against its own working "
                    "directory. Give an absolute path of storage mounted at that same path on every "
                    "node (NFS, CephFS or an object-store mount; see docs/scale.md)"
                )
                raise ConfigError(msg)
            root = root.resolve()  # one local node: the driver's working directory
            self.options = dataclasses.replace(self.options, media_root=root)
        token = secrets.token_hex(8)
        try:
            root.mkdir(parents=True, exist_ok=True)
            (root / MEDIA_CHECK_NAME).write_text(token + "\n", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"media_root {root} cannot be written by the driver: {exc}") from exc
        return token

    def _actor_cpus(self, ray: Any) -> float:
        """CPUs each actor asks Ray for; warns when the cluster cannot hold every actor."""
        total = float(ray.cluster_resources().get("CPU", 0.0))
        n = max(1, len(self.partition))
        cpus = self.actor_cpus
        if cpus is None:
            cpus = 1.0 if self.address is not None else min(1.0, math.floor(total / n * 1e4) / 1e4)
        if cpus * n > total + 1e-9:
            log.warning(
                "%d camera group actors ask for %.2f CPUs each (%.1f in all) but Ray has %.1f; the "
                "rest wait for resources and their cameras are reported offline after %.0f s "
                "(add nodes, lower actor_cpus or raise cameras_per_actor)",
                n, cpus, cpus * n, total, self.unreachable_after_s,
            )  # fmt: skip
        self._stats["actor_cpus"] = cpus
        return cpus

    def _nodes_offering(self, ray: Any, resource: str) -> list[str]:
        return sorted(
            n["NodeID"] for n in ray.nodes() if n.get("Alive") and resource in n.get("Resources", {})
        )

    def _create_actors(self, ray: Any, media_token: str | None) -> None:
        self._actor_cls = ray.remote(CameraGroupActor)
        self._cpus = self._actor_cpus(ray)
        self._media_token = media_token
        self._groups = [self._new_group(ray, i, group) for i, group in enumerate(self.partition)]

    def _new_group(self, ray: Any, index: int, group: list[CameraConfig]) -> _Group:
        """Create the actor of one camera group (placed by ``prefer`` / ``require``)."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        cg = group[0].group
        opts: dict[str, Any] = {
            "max_restarts": self.max_restarts,
            "max_task_retries": 0,
            "max_concurrency": 3,  # poll, reconfigure and shutdown may overlap
            "num_cpus": self._cpus,
        }
        required: dict[str, float] = {}
        if cg is not None and cg in self.require:
            required = {self.require[cg]: _RESOURCE_SHARE}
            opts["resources"] = required
        elif cg is not None and cg in self.prefer:
            res = self.prefer[cg]
            nodes = self._nodes_offering(ray, res)
            if nodes:
                k = self._dealt.get(res, 0)  # round robin over the nodes offering it
                self._dealt[res] = k + 1
                opts["scheduling_strategy"] = NodeAffinitySchedulingStrategy(nodes[k % len(nodes)], soft=True)
            else:
                log.warning("no live Ray node offers resource %r preferred by camera group %r; its "
                            "cameras run on any node", res, cg)  # fmt: skip
        sub = self.config.model_copy(update={"cameras": group})
        handle = self._actor_cls.options(**opts).remote(sub, group, self.options, self._media_token)
        return _Group(index, [c.id for c in group], cg, handle, time.monotonic(), required, config=sub)

    # ------------------------------------------------------------------ reconfiguration
    def reconfigure(self, config: MonitorConfig) -> None:
        """Run the enabled cameras of ``config`` from now on (``MonitorHub.update_config``).

        Each camera stays in its actor: a changed camera restarts there (its live events end
        first), a removed one stops; new cameras form new actors (placed like at start). An actor
        that Ray restarts later gets the current config again when it first answers.
        """
        cams = {c.id: c for c in config.cameras if c.enabled}
        if self._thread is None:  # not started: only the plan changes
            self.config = config
            self.partition = partition_cameras(list(cams.values()), self.cameras_per_actor)
            self._group_of = {c.id: i for i, g in enumerate(self.partition) for c in g}
            return
        ray = self._ray
        with self._lock:
            groups = list(self._groups)
        calls = []
        for g in groups:
            keep = [cams[c] for c in g.cameras if c in cams]
            sub = config.model_copy(update={"cameras": keep})
            if sub == g.config:
                continue
            g.config, g.reconfigured = sub, True
            calls.append((g, g.handle.reconfigure.remote(sub, keep)))
            with self._lock:
                g.cameras = [c.id for c in keep]
                self.partition[g.index] = keep
        self.config = config
        added = [c for cid, c in cams.items() if cid not in self._group_of]
        for group in partition_cameras(added, self.cameras_per_actor):
            with self._lock:
                index = len(self._groups)
            g = self._new_group(ray, index, group)
            with self._lock:
                self._groups.append(g)
                self.partition.append(group)
        with self._lock:
            self._group_of = {c: g.index for g in self._groups for c in g.cameras}
        for g, ref in calls:  # the pipelines of changed cameras restart inside their actors
            try:
                ray.get(ref, timeout=30.0)
            except ray.exceptions.RayError as exc:  # down now: it gets the config when it answers
                log.warning("camera group %d not reconfigured now (%s); it will be when it answers", g.index,
                            str(exc).splitlines()[0][:200])  # fmt: skip

    # ------------------------------------------------------------------ poller
    @staticmethod
    def _ack_of(g: _Group) -> tuple[str | None, int]:
        """(incarnation, highest sequence number delivered) for the next poll of ``g``."""
        return (g.current.incarnation, g.current.delivered) if g.current is not None else (None, 0)

    def _wish_of(self, g: _Group) -> list[str]:
        with self._lock:
            return [c for c in g.cameras if c in self._wish]

    def _poll_loop(self) -> None:
        ray = self._ray
        while not self._stop.is_set():
            now = time.monotonic()
            with self._lock:
                groups = list(self._groups)  # reconfigure may add actors
            for g in groups:
                if g.inflight is None and now >= g.next_poll:
                    g.inflight = g.handle.poll.remote(
                        *self._ack_of(g), self._wish_of(g), _POLL_WAIT_S, _POLL_MAX_MESSAGES
                    )
                    g.sent_at = now
                elif (
                    g.inflight is not None
                    and g.down_since is None
                    and now - g.sent_at > self.unreachable_after_s
                ):
                    self._group_down(g, self._silence_reason(g))
            refs = [g.inflight for g in groups if g.inflight is not None]
            if not refs:
                self._stop.wait(self.poll_every_s)
                continue
            ready, _ = ray.wait(refs, num_returns=1, timeout=self.poll_every_s)
            if ready:
                ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
            done = set(ready)
            for g in groups:
                if g.inflight is not None and g.inflight in done:
                    self._collect(g, None)

    def _silence_reason(self, g: _Group) -> str:
        """Why an actor has not answered for ``unreachable_after_s``, as far as the driver can tell."""
        quiet = f"no answer for {self.unreachable_after_s:.0f} s"
        if g.current is None:
            with contextlib.suppress(Exception):  # the cluster state is a hint only
                offered = self._ray.cluster_resources()
                missing = sorted(r for r in g.required if r not in offered)
                if missing:
                    return (
                        f"{quiet}: its actor needs Ray resource {missing[0]!r}, which no live node offers "
                        f"(a node that never joined? start it with `ray start --address HEAD:PORT "
                        f"--resources '{{\"{missing[0]}\": 1}}'`, or drop the requirement)"
                    )
            return f"{quiet}: its actor was never placed (too few CPUs in the cluster? see `ray status`)"
        return f"{quiet}: its node is unreachable or the actor hangs"

    def _collect(self, g: _Group, deadline: float | None) -> None:
        """Take the answer of ``g``'s poll (waiting until ``deadline`` if given) and handle it."""
        ray = self._ray
        ref, g.inflight = g.inflight, None
        now = time.monotonic()
        try:
            timeout = None if deadline is None else max(0.0, deadline - now)
            reply: PollReply = ray.get(ref, timeout=timeout)
        except ray.exceptions.GetTimeoutError:
            return
        except ray.exceptions.RayError as exc:
            if not self._stop.is_set():
                self._group_down(g, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                if isinstance(exc, ray.exceptions.ActorDiedError):
                    self._end_orphans(g)  # its process is gone: nobody will end them
            g.next_poll = now + 1.0  # Ray is restarting it; ask again in a second
            return
        self._take(g, reply)
        g.next_poll = now + self.poll_every_s
        inbox = self._inbox
        assert inbox is not None
        with self._lock:
            self._stats["polls"] += 1
            self._stats["poll_messages"] += len(reply.messages)
            self._stats["tiles"] += len(reply.tiles)
            self._stats["tile_bytes"] += sum(len(t.jpeg) for t in reply.tiles)
        for tile in reply.tiles:
            inbox.deliver_tile(tile)

    def _take(self, g: _Group, reply: PollReply) -> None:
        """Deliver the new messages of a reply, once each, in sequence order."""
        self._group_up(g, reply)
        inc = g.current
        assert inc is not None and self._inbox is not None
        inc.produced = max(inc.produced, reply.last_seq)
        for seq, msg in reply.messages:
            if seq <= inc.delivered:
                inc.duplicates += 1
                continue
            inc.gaps += seq - inc.delivered - 1
            inc.delivered = seq
            inc.messages += 1
            self._note(g, msg)
            self._inbox.deliver(msg)

    def _note(self, g: _Group, msg: WorkerMessage) -> None:
        """Keep what the driver needs when the actor dies: live events and reported health."""
        if isinstance(msg, EventMsg):
            if msg.kind == "end":
                g.live.pop(msg.event.uid, None)
            else:
                g.live[msg.event.uid] = msg.event
        elif isinstance(msg, HealthMsg):
            g.reported[msg.camera] = msg.state

    # ------------------------------------------------------------------ outages
    def _group_down(self, g: _Group, reason: str) -> None:
        """The actor is gone or silent: its cameras go offline (once per outage)."""
        if g.down_since is not None or self._inbox is None:
            return
        g.down_since = time.monotonic()
        log.warning("camera group %d (%s) lost: %s", g.index, ", ".join(g.cameras), reason)
        now = time.time()
        why = f"{ACTOR_LOST}: {reason}"
        for cam in g.cameras:
            uid = f"{cam}-actor-lost-{int(now * 1000)}"
            g.down_uids[cam] = uid
            ev = Event(uid, "camera_offline", cam, now, now, severity=3, detail={"reason": why[:300]})
            self._inbox.deliver(EventMsg("start", ev, now))
            self._inbox.deliver(FailureMsg(cam, why))
            self._inbox.deliver(HealthMsg(cam, "offline"))

    def _end_orphans(self, g: _Group) -> None:
        """End the live events of ``g``'s cameras: the actor that would end them is gone."""
        assert self._inbox is not None
        now = time.time()
        for ev in list(g.live.values()):
            detail = {**ev.detail, "end_reason": ACTOR_LOST}
            ended = dataclasses.replace(ev, end_s=max(now, ev.last_s), detail=detail)
            self._inbox.deliver(EventMsg("end", ended, now))
        g.live.clear()

    def _group_up(self, g: _Group, reply: PollReply) -> None:
        """An answer arrived: note the first one, a restart, or the end of an outage."""
        assert self._inbox is not None
        if g.current is None or reply.incarnation != g.current.incarnation:
            if g.current is not None:
                self._group_down(g, "restarted")  # (if it died and came back between two polls)
                self._end_orphans(g)  # the new pipelines start afresh
                g.reported = {}
            else:
                g.ready_s = round(time.monotonic() - g.created_at, 3)
            with self._lock:
                g.current = _Incarnation(reply.incarnation, reply.node_id)
                g.history.append(g.current)
            if g.reconfigured and g.config is not None:  # Ray started it with the first config
                g.handle.reconfigure.remote(g.config, list(g.config.cameras))
        if g.down_since is None:
            return
        now = time.time()
        for cam, uid in g.down_uids.items():
            ev = Event(uid, "camera_offline", cam, now, now, end_s=now, severity=3)
            self._inbox.deliver(EventMsg("end", ev, now))
            self._inbox.deliver(HealthMsg(cam, g.reported.get(cam, "online")))
        g.down_uids.clear()
        with self._lock:
            g.down_since = None
        cams = ", ".join(g.cameras)
        log.warning("camera group %d (%s) answers again on node %s", g.index, cams, reply.node_id)


def ray_runtime(
    config: MonitorConfig,
    *,
    sinks: Sequence[EventSink] = (),
    address: str | None = None,
    cameras_per_actor: int = 8,
    num_cpus: int | None = None,
    actor_cpus: float | None = None,
    max_restarts: int = -1,
    media_root: Path | None = None,
    prefer: Mapping[str, str] | None = None,
    require: Mapping[str, str] | None = None,
    loop: bool = False,
    realtime: bool = False,
    options: RuntimeOptions | None = None,
    clock: Callable[[], float] = time.time,
    poll_every_s: float = 0.1,
    unreachable_after_s: float = 30.0,
    connect_timeout_s: float = 30.0,
) -> MonitorHub:
    """A :class:`~safecity.monitor.runtime.hub.MonitorHub` over a :class:`RayTransport` (not started).

    The arguments are :class:`RayTransport`'s, plus the hub's ``sinks`` and ``clock`` and the
    workers' ``loop`` / ``realtime`` (they win over ``options``). ``hub.transport`` is the transport.

    Example::

        hub = ray_runtime(cfg, sinks=[store], address="auto", cameras_per_actor=8,
                          media_root=Path("/mnt/safecity-media"))
        hub.start(); ...; hub.stop()
    """
    opts = dataclasses.replace(options or RuntimeOptions(), loop=loop, realtime=realtime)
    transport = RayTransport(
        config,
        options=opts,
        address=address,
        cameras_per_actor=cameras_per_actor,
        num_cpus=num_cpus,
        actor_cpus=actor_cpus,
        max_restarts=max_restarts,
        media_root=media_root,
        prefer=prefer,
        require=require,
        poll_every_s=poll_every_s,
        unreachable_after_s=unreachable_after_s,
        connect_timeout_s=connect_timeout_s,
    )
    return MonitorHub(config, transport, sinks=sinks, select_every_s=opts.select_every_s, clock=clock)
