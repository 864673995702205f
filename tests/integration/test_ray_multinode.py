"""A real multi-node Ray cluster on this machine: placement, node loss, faults, shared media.

The cluster is two ``ray start`` processes (head ``node_a``, second node ``node_b``, each with its
custom resource and 2 logical CPUs; a third ``node_c`` joins late in one test). Cameras are tiny
synthetic clips (a bright block walking through a zone) looped in real time at 5 fps with the blob
detector, so four cameras cost little CPU. The media root is a folder of this machine, which both
nodes see (on a real cluster: NFS/CephFS at the same path on every node, docs/scale.md).

Every wait is a poll loop with a generous limit (``WAIT_S``); nothing asserts a duration. The
failover times are printed (run with ``-s``) and written to ``failover.json`` in the test's folder.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from safecity.errors import ConfigError
from safecity.media import media_paths
from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.runtime.hub import MonitorHub
from safecity.monitor.runtime.messages import FailureMsg
from safecity.monitor.runtime.ray_transport import ACTOR_LOST, RayTransport, ray_runtime
from safecity.monitor.runtime.worker import RuntimeOptions
from tests.integration.ray_helpers import (
    BLOB,
    ListSink,
    LocalCluster,
    RecordingInbox,
    RecordingTransport,
    wait_for,
    write_walking_clip,
)
from tests.unit.monitor.test_pipeline import BlobDetector

pytestmark = pytest.mark.integration

ray = pytest.importorskip("ray")

ZONE = {"name": "right", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}
CRASH_DIR_ENV = "SAFECITY_TEST_CRASH_DIR"
A_CAMS, B_CAMS = ("a1", "a2"), ("b1", "b2")


def crash_once_detector(_cfg: Any) -> BlobDetector:
    """Detector factory whose first call (cluster-wide) kills its process like a segfault would."""
    marker = Path(os.environ[CRASH_DIR_ENV]) / "crashed-once"
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGSEGV)
    return BlobDetector()


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[LocalCluster, dict[str, str]]]:
    c = LocalCluster(cpus_per_node=2)
    c.env[CRASH_DIR_ENV] = str(c.tmp)  # where crash_once_detector leaves its mark (on the nodes)
    try:
        with c.driver_env():
            c.start_head("node_a")
            c.add_node("node_b")
            ray.init(address=c.address, logging_level="WARNING")
            try:
                ids = c.wait_ready(["node_a", "node_b"], ray)
            finally:
                ray.shutdown()  # each hub joins on its own
            yield c, ids
    finally:
        if ray.is_initialized():
            ray.shutdown()
        c.stop()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_walking_clip(tmp_path_factory.mktemp("multinode") / "walk.mp4", seconds=8.0)


def _config(clip: Path, cams: dict[str, str], zone: str = "right") -> MonitorConfig:
    """Cameras ``id -> group`` on the walking-block clip, an intrusion rule on the right half."""
    doc = [
        {"id": cid, "group": group, "source": str(clip), "detect_fps": 5, "zones": [{**ZONE, "name": zone}],
         "rules": [{"type": "intrusion", "zone": zone, "min_s": 0.2}]}
        for cid, group in cams.items()
    ]  # fmt: skip
    return MonitorConfig.model_validate(
        {"cameras": doc, "tracker": {"high_thresh": 0.5, "new_track_thresh": 0.5, "lost_s": 1.0},
         "selection": {"max_tiles": 4}}
    )  # fmt: skip


def _hub(config: MonitorConfig, address: str, **kw: Any) -> tuple[MonitorHub, RayTransport, ListSink]:
    opts = RuntimeOptions(detector_factory=kw.pop("factory", BLOB), loop=True, realtime=True,
                          restart_backoff_s=(1.0,), tile_fps=2.0)  # fmt: skip
    transport = RayTransport(config, options=opts, address=address, actor_cpus=1, **kw)
    sink = ListSink()
    hub = MonitorHub(config, RecordingTransport(transport), sinks=[sink])
    return hub, transport, sink


def _recorded(hub: MonitorHub) -> RecordingInbox:
    rec = hub.transport.recorded  # type: ignore[attr-defined]
    assert isinstance(rec, RecordingInbox)
    return rec


def _key(kind: str, e: Any) -> tuple[Any, ...]:
    return (kind, e.camera, e.type, e.zone, round(e.start_s, 3))


def test_relative_media_root_is_refused_on_a_cluster(
    cluster: tuple[LocalCluster, dict[str, str]], clip: Path
) -> None:
    c, _ = cluster
    hub = ray_runtime(_config(clip, {"a1": "site-a"}), address=c.address, media_root=Path("var/media"))
    with pytest.raises(ConfigError, match=r"media_root 'var/media' is relative.*2 node\(s\).*every node"):
        hub.start()
    assert not ray.is_initialized()  # nothing left connected


def test_node_that_never_joins_leaves_its_cameras_offline_with_the_reason(
    cluster: tuple[LocalCluster, dict[str, str]], clip: Path
) -> None:
    c, _ = cluster
    cfg = _config(clip, {"a1": "site-a", "c1": "site-c"})
    hub, transport, sink = _hub(cfg, c.address, require={"site-c": "node_c"}, unreachable_after_s=5.0)
    hub.start()
    try:
        wait_for(lambda: hub.health().get("c1") == "offline", "c1 (needs node_c) to be reported offline")
        reasons = [
            m.reason for m in _recorded(hub).messages if isinstance(m, FailureMsg) and m.camera == "c1"
        ]
        assert any("'node_c', which no live node offers" in r and "ray start" in r for r in reasons), reasons
        assert [e.type for e in sink.starts("c1", "camera_offline")] == ["camera_offline"]
        wait_for(lambda: bool(sink.starts("a1", "intrusion")), "the other camera to run meanwhile")
        # the node joins late: its camera is placed, comes online and runs
        c.add_node("node_c")
        ids = c.wait_ready(["node_c"], ray)
        wait_for(lambda: transport.node_of("c1") == ids["node_c"], "c1 to run on node_c once it joined")
        wait_for(lambda: hub.health().get("c1") == "online", "c1 to be online")
        wait_for(lambda: bool(sink.starts("c1", "intrusion")), "events from c1")
        lost = sink.starts("c1", "camera_offline")[0].uid
        assert lost in sink.ends()
    finally:
        hub.stop()
        c.kill_node("node_c")  # a node with no actors left: the other tests do not see it


def test_actor_that_crashes_goes_offline_and_is_restarted(
    cluster: tuple[LocalCluster, dict[str, str]], clip: Path
) -> None:
    c, _ = cluster
    hub, transport, sink = _hub(
        _config(clip, {"a1": "site-a"}), c.address, factory=f"{__name__}:crash_once_detector"
    )
    hub.start()
    try:
        marker = c.tmp / "crashed-once"
        wait_for(marker.exists, "the detector to crash its actor process")
        wait_for(lambda: bool(sink.starts("a1", "camera_offline")), "a1 to be reported offline")
        lost = [e for e in sink.starts("a1", "camera_offline") if ACTOR_LOST in str(e.detail.get("reason"))]
        assert len(lost) == 1
        wait_for(lambda: lost[0].uid in sink.ends(), "the outage to end when the new actor answers")
        wait_for(lambda: bool(sink.starts("a1", "intrusion")), "events after the restart")
        assert hub.health()["a1"] == "online"
        # the actor that answers now is another process than the one that crashed
        incarnations = transport.stats()["incarnations"][0]  # type: ignore[index]
        assert not incarnations[-1]["incarnation"].startswith(f"{marker.read_text()}-")
    finally:
        hub.stop()


def test_config_change_while_running(cluster: tuple[LocalCluster, dict[str, str]], clip: Path) -> None:
    c, _ = cluster
    hub, transport, sink = _hub(
        _config(clip, {"a1": "site-a", "a2": "site-a"}), c.address, cameras_per_actor=2
    )
    hub.start()
    try:
        for cam in ("a1", "a2"):
            wait_for(lambda cam=cam: bool(sink.starts(cam, "intrusion")), f"events from {cam}")
        # a1's zone is renamed (its pipeline restarts in its actor), a2 is removed, a3 is new
        t_change = time.time()
        hub.update_config(_config(clip, {"a1": "site-a", "a3": "site-a"}, zone="gate"))
        wait_for(lambda: any(e.zone == "gate" for e in sink.starts("a1", "intrusion")), "a1 on its new zone")
        wait_for(lambda: any(e.zone == "gate" for e in sink.starts("a3", "intrusion")), "events from a3")
        assert transport.stats()["actors"] == 2 and hub.cameras() == ["a1", "a3"]
        assert [[cam.id for cam in g] for g in transport.partition] == [["a1"], ["a3"]]
        # a2 stopped: its live events were ended and it raised nothing since (a3's actor had to start)
        assert not [e for e in hub.live_events() if e.camera == "a2"]
        assert not [e for e in sink.starts("a2", "intrusion") if e.start_s > t_change + 2.0]
        # Ray restarts a1's actor with its first arguments; the driver gives it the current config
        t_kill = time.time()
        ray.kill(transport.actor_of("a1"), no_restart=False)
        wait_for(
            lambda: any(e.start_s > t_kill for e in sink.starts("a1", "intrusion")), "a1 after its restart"
        )
        assert {e.zone for e in sink.starts("a1", "intrusion") if e.start_s > t_kill} == {"gate"}
    finally:
        hub.stop()


def test_node_lost_cameras_offline_then_back_on_the_surviving_node(
    cluster: tuple[LocalCluster, dict[str, str]], clip: Path, tmp_path: Path
) -> None:
    c, ids = cluster
    media = tmp_path / "media"  # one folder both nodes see (shared storage on a real cluster)
    cfg = _config(clip, {"a1": "site-a", "a2": "site-a", "b1": "site-b", "b2": "site-b"})
    hub, transport, sink = _hub(cfg, c.address, prefer={"site-a": "node_a", "site-b": "node_b"},
                                cameras_per_actor=2, media_root=media)  # fmt: skip
    hub.start()
    try:
        # placed by preference, every camera running and on the wall
        for cam, node in (("a1", "node_a"), ("a2", "node_a"), ("b1", "node_b"), ("b2", "node_b")):
            wait_for(lambda cam=cam, node=node: transport.node_of(cam) == ids[node], f"{cam} on {node}")
        for cam in (*A_CAMS, *B_CAMS):
            hub.latest_jpeg(cam)  # an operator looks at every camera
            wait_for(lambda cam=cam: bool(sink.starts(cam, "intrusion")), f"events from {cam}")
        wait_for(lambda: any(e.camera == "b1" for e in hub.live_events() if e.type == "intrusion"),
                 "a live intrusion on b1 (to be orphaned)")  # fmt: skip
        orphans = [e.uid for e in hub.live_events() if e.camera in B_CAMS and e.type == "intrusion"]
        rec = _recorded(hub)

        pids = c.kill_node("node_b")  # raylet, agents and actor processes of node_b: SIGKILL
        t_kill, wall_before = time.time(), hub.wall().t_s
        assert len(pids) >= 3
        offline_s = wait_for(
            lambda: all(hub.health()[cam] == "offline" for cam in B_CAMS), "node_b's cameras offline"
        )
        for cam in B_CAMS:
            lost = [
                e for e in sink.starts(cam, "camera_offline") if ACTOR_LOST in str(e.detail.get("reason"))
            ]
            assert len(lost) == 1, lost
        back_s = wait_for(
            lambda: all(transport.node_of(cam) == ids["node_a"] for cam in B_CAMS),
            "node_b's cameras on node_a",
        )
        wait_for(lambda: all(hub.health()[cam] == "online" for cam in B_CAMS), "node_b's cameras online")
        t_back = time.time()
        for cam in B_CAMS:
            wait_for(lambda cam=cam: any(e.start_s > t_back for e in sink.starts(cam, "intrusion")),
                     f"new events from {cam} on node_a")  # fmt: skip
        # the driver ended the events the dead actor left live, and every outage
        ends = sink.ends()
        assert orphans and all(ends[u].detail.get("end_reason") == ACTOR_LOST for u in orphans)
        assert all(e.uid in ends for cam in B_CAMS for e in sink.starts(cam, "camera_offline"))
        # the wall kept updating and node_a's cameras kept sending tiles through the outage
        assert hub.wall().t_s > wall_before
        for cam in A_CAMS:
            assert any(t_kill < t < t_back for t in rec.tile_times(cam)), (
                f"no tile of {cam} during the outage"
            )
        assert not [e for cam in A_CAMS for e in sink.starts(cam, "camera_offline")]  # node_a never noticed
    finally:
        hub.stop()
    stats = transport.stats()
    incs: list[list[dict[str, Any]]] = stats["incarnations"]  # type: ignore[assignment]
    group_a, group_b = incs  # [a1, a2] then [b1, b2]
    # no message a worker handed over is lost: every sequence number of every incarnation arrived in
    # order, except the unacknowledged tail of the actor that died with its node (stated, counted)
    assert all(i["gaps"] == 0 for g in incs for i in g)
    assert len(group_a) == 1 and group_a[0]["delivered"] == group_a[0]["produced"] > 0
    assert len(group_b) == 2 and group_b[1]["delivered"] == group_b[1]["produced"] > 0
    assert group_b[0]["node_id"] == ids["node_b"] and group_b[1]["node_id"] == ids["node_a"]
    lost_tail = group_b[0]["produced"] - group_b[0]["delivered"]
    assert lost_tail >= 0
    # ... and every event message the transport handed to the hub reached the sink, in order
    handed = [_key(m.kind, m.event) for m in rec.events()]
    assert handed == [_key(k, e) for k, e in sink.snapshot()]
    # snapshots of node_b's cameras from before (written on node_b) and after (on node_a) the loss,
    # all in the one media root
    for cam in B_CAMS:
        for when in (lambda e: e.start_s < t_kill, lambda e: e.start_s > t_back):
            uid = next(e.uid for e in sink.starts(cam, "intrusion") if when(e))
            assert media_paths(media, cam, uid)[0].is_file(), f"no snapshot of {cam}'s event {uid}"
    result = {"node_b_killed_processes": len(pids), "offline_after_s": round(offline_s, 1),
              "back_on_node_a_after_s": round(back_s + offline_s, 1), "lost_unacked_messages": lost_tail,
              "duplicates_dropped": sum(i["duplicates"] for g in incs for i in g),
              "messages_delivered": sum(i["delivered"] for g in incs for i in g)}  # fmt: skip
    (tmp_path / "failover.json").write_text(json.dumps(result, indent=2))
    print(f"\nfailover: {json.dumps(result)}")
