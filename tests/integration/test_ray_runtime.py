"""The Ray transport on a real local Ray (2 CPUs) against the local runtime, same input.

Cameras come from ``configs/demo-cameras.yaml`` (zones and lines checked against the footage,
real NanoDet detector): ``guro-lot-west`` and ``guro-lot-lane`` on short cuts of the bundled
Intel clip ``person-bicycle-car-detection.mp4`` (cut with ffmpeg so the run stays short), plus
a camera whose file does not exist. Ray deals them into two actors: [west, missing] (one group
in the config) and [lane]. Both runtimes run the same ``CameraWorker``, so they must send the same
event messages; they are compared by (kind, camera, type, zone/line, start time from the camera's
first event), not by uid (uids need not be equal across runs). Waiting loops poll with a generous
limit; nothing here asserts a duration. The multi-node cluster is in ``test_ray_multinode.py``.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from safecity.monitor.config.model import MonitorConfig, load_monitor_config
from safecity.monitor.runtime.hub import MonitorHub
from safecity.monitor.runtime.local import MonitorRuntime
from safecity.monitor.runtime.ray_transport import ACTOR_LOST, RayTransport
from safecity.monitor.types import Event, EventKind
from tests.integration.ray_helpers import ListSink, RecordingInbox, RecordingTransport, wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO / "data" / "video" / "intel-sample-videos" / "person-bicycle-car-detection.mp4"
WEST, LANE, MISSING = "guro-lot-west", "guro-lot-lane", "guro-lot-missing"


def _cut(src: Path, dst: Path, seconds: float) -> Path:
    """The first ``seconds`` of ``src`` (stream copy, no re-encoding)."""
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(src), "-t", str(seconds), "-c", "copy", str(dst)]
    subprocess.run(cmd, check=True, timeout=60)
    return dst


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> MonitorConfig:
    tmp = tmp_path_factory.mktemp("ray-clips")
    # west: line crossing at 2.6 s, intrusion at 11.4 s; lane: intrusion at 2.0 s
    west_clip = _cut(CLIP, tmp / "pbc-13s.mp4", 13.0)
    lane_clip = _cut(CLIP, tmp / "pbc-5s.mp4", 5.0)
    demo = load_monitor_config(REPO / "configs" / "demo-cameras.yaml")
    by_id = {c.id: c for c in demo.cameras}
    cams = [
        by_id[WEST].model_copy(update={"source": str(west_clip), "detect_fps": 5.0}),
        by_id[LANE].model_copy(update={"source": str(tmp / "no-such-file.mp4"), "id": MISSING}),
        by_id[LANE].model_copy(update={"source": str(lane_clip), "detect_fps": 5.0, "group": "lane"}),
    ]
    return demo.model_copy(update={"cameras": cams})


@dataclass
class Run:
    runtime: Any
    sink: ListSink
    messages: list[tuple[EventKind, Event]]  # what the sink had when both files had ended


def _run_to_end(rt: Any, sink: ListSink) -> Run:
    rt.start()
    rt.latest_frame(WEST)  # ask for tiles of one camera
    wait_for(lambda: {WEST, LANE} <= set(rt.stats()["ended"]), "both file cameras to end")
    wait_for(lambda: len(sink.snapshot()) == rt.stats()["events_received"], "the sink to get every event")
    return Run(rt, sink, sink.snapshot())


@pytest.fixture(scope="module")
def local_run(config: MonitorConfig) -> Iterator[Run]:
    sink = ListSink()
    rt = MonitorRuntime(config, sinks=[sink], workers=2)
    try:
        yield _run_to_end(rt, sink)
    finally:
        rt.stop()


@pytest.fixture(scope="module")
def ray_run(config: MonitorConfig, local_run: Run) -> Iterator[Run]:
    local_run.runtime.stop()  # one runtime at a time on this small machine
    sink = ListSink()
    transport = RayTransport(config, num_cpus=2, cameras_per_actor=2)
    hub = MonitorHub(config, RecordingTransport(transport), sinks=[sink])
    try:
        yield _run_to_end(hub, sink)
    finally:
        hub.stop()


def _transport(run: Run) -> RayTransport:
    t = run.runtime.transport.inner
    assert isinstance(t, RayTransport)
    return t


def _object_messages(msgs: list[tuple[EventKind, Event]], camera: str) -> list[tuple[Any, ...]]:
    """(kind, type, zone/line, start from the camera's first event) of its object events."""
    objs = [(k, e) for k, e in msgs if e.camera == camera and e.type != "camera_offline"]
    t0 = min((e.start_s for _, e in objs), default=0.0)
    return sorted((k, e.type, e.zone, round(e.start_s - t0, 2)) for k, e in objs)


def test_ray_transport_gives_the_local_runtime_events(local_run: Run, ray_run: Run) -> None:
    transport = _transport(ray_run)
    assert [[c.id for c in g] for g in transport.partition] == [[WEST, MISSING], [LANE]]
    for cam in (WEST, LANE):
        local = _object_messages(local_run.messages, cam)
        assert local, f"the local runtime raised no event on {cam}: the test input is wrong"
        assert _object_messages(ray_run.messages, cam) == local
    types = {e.type for _, e in ray_run.messages}
    assert types == {e.type for _, e in local_run.messages}
    assert {"intrusion", "line_crossing", "camera_offline"} <= types
    stats = transport.stats()
    assert stats["actors"] == 2 and all(s is not None for s in stats["actor_ready_s"])
    assert stats["polls"] > 0 and stats["poll_messages"] >= len(ray_run.messages)
    # acknowledged delivery: every sequence number so far arrived once, in order
    assert all(i["gaps"] == 0 and i["delivered"] == i["messages"] for g in stats["incarnations"] for i in g)


def test_missing_file_is_offline_while_its_actor_mate_runs(ray_run: Run) -> None:
    hub = ray_run.runtime
    offline = [e for k, e in ray_run.messages if k == "start" and e.camera == MISSING]
    assert [e.type for e in offline] == ["camera_offline"]  # once, however often the restart fails
    assert hub.health()[MISSING] == "offline"
    assert "does not exist" in hub.errors()[MISSING]
    # the camera sharing its actor decoded the whole file and raised events
    assert hub.health()[WEST] == "online"
    assert any(e.camera == WEST and e.type == "intrusion" for _, e in ray_run.messages)
    assert hub.stats()["cameras"][WEST]["frames"] > 0


def test_tiles_cross_from_the_actor(ray_run: Run) -> None:
    hub = ray_run.runtime
    img = hub.latest_frame(WEST)
    assert img is not None and img.ndim == 3 and img.shape[0] == _transport(ray_run).options.tile_height
    assert _transport(ray_run).stats()["tile_bytes"] > 0


def test_dead_actor_is_restarted_and_its_cameras_offline_meanwhile_then_stop(ray_run: Run) -> None:
    import ray

    hub, sink, transport = ray_run.runtime, ray_run.sink, _transport(ray_run)
    # the missing camera's outage is live in [west, missing]: the actor's death orphans it
    orphans = [e.uid for e in hub.live_events() if e.camera in (WEST, MISSING)]
    assert orphans, "no live event in the west actor to orphan: the test input is wrong"
    crossings = len(sink.starts(WEST, "line_crossing"))
    ray.kill(transport.actor_of(WEST), no_restart=False)  # like a crash of [west, missing]: Ray restarts it
    wait_for(lambda: transport.stats()["restarts"][0] >= 1, "Ray to restart the actor")

    for cam in (WEST, MISSING):  # offline from the failed poll until the new actor answered
        lost = [e for e in sink.starts(cam, "camera_offline") if ACTOR_LOST in str(e.detail.get("reason"))]
        assert len(lost) == 1
        wait_for(lambda uid=lost[0].uid: uid in sink.ends(), f"the actor-lost outage of {cam} to end")
    # events the dead actor would have ended are ended by the driver, with the reason
    wait_for(lambda: set(orphans) <= set(sink.ends()), "orphaned events to end")
    assert all(sink.ends()[u].detail.get("end_reason") == ACTOR_LOST for u in orphans)
    # the new actor runs afresh: the missing file is reported again, the west file plays again
    wait_for(
        lambda: len(sink.starts(MISSING, "camera_offline")) == 3, "the new actor's report of the missing file"
    )
    wait_for(lambda: len(sink.starts(WEST, "line_crossing")) == 2 * crossings, "events after restart")
    assert hub.health()[WEST] == "online" and hub.health()[MISSING] == "offline"
    assert not sink.starts(LANE, "camera_offline")  # the other actor never noticed
    rec = ray_run.runtime.transport.recorded
    assert isinstance(rec, RecordingInbox)
    hub.stop()  # while the west camera may still be playing
    assert not ray.is_initialized()
    hub.stop()  # twice is harmless
    incs = transport.stats()["incarnations"]
    assert [len(g) for g in incs] == [2, 1]
    assert all(i["gaps"] == 0 for g in incs for i in g)
    # the living incarnations handed over everything they produced, and the sink got all of it
    assert (
        incs[0][1]["delivered"] == incs[0][1]["produced"]
        and incs[1][0]["delivered"] == incs[1][0]["produced"]
    )
    assert [(m.kind, m.event.uid) for m in rec.events()] == [(k, e.uid) for k, e in sink.snapshot()]


@pytest.fixture
def one_camera_config(config: MonitorConfig, tmp_path: Path) -> Path:
    import yaml

    one = config.model_copy(update={"cameras": [c for c in config.cameras if c.id == WEST]})
    cfg = tmp_path / "cams.yaml"
    cfg.write_text(yaml.safe_dump(one.model_dump(mode="json"), allow_unicode=True))
    return cfg


def test_cli_monitor_backend_ray_runs_to_the_end(
    one_camera_config: Path, ray_run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`safecity monitor --backend ray` runs the cameras in Ray actors and writes their events."""
    from safecity.cli import main

    ray_run.runtime.stop()  # one Ray at a time on this small machine
    out = tmp_path / "events.jsonl"
    monkeypatch.setenv("SAFECITY_HOME", str(tmp_path / "home"))
    argv = ["monitor", "--config", str(one_camera_config), "--backend", "ray", "--no-store"]
    assert main([*argv, "--events-jsonl", str(out), "--json"]) == 0
    types = {json.loads(line)["type"] for line in out.read_text().splitlines()}
    assert {"line_crossing", "intrusion"} <= types, types


def test_cli_unreachable_ray_address_is_a_clear_error(
    one_camera_config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from safecity.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    monkeypatch.setenv("SAFECITY_HOME", str(tmp_path / "home"))
    argv = ["monitor", "--config", str(one_camera_config), "--backend", "ray", "--no-store"]
    assert main([*argv, "--ray-address", f"127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err
    assert f"nothing answers at 127.0.0.1:{port}" in err and "ray start --head" in err
    assert "Traceback" not in err
