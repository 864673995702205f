"""RayMonitorRuntime on a real local Ray (2 CPUs) against the local MonitorRuntime, same input.

Cameras come from ``configs/demo-cameras.yaml`` (zones and lines checked against the footage,
real NanoDet detector): ``guro-lot-west`` and ``guro-lot-lane`` on short cuts of the bundled
Intel clip ``person-bicycle-car-detection.mp4`` (cut with ffmpeg so the run stays short), plus
a camera whose file does not exist. Ray deals them into two actors: [west, missing] (one group
in the config) and [lane]. Event uids are deterministic (camera, type, zone, file time), so the
two runtimes must produce the very same event messages. Waiting loops poll with a generous limit;
nothing here asserts a duration.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from safecity.errors import ConfigError
from safecity.monitor.config.model import MonitorConfig, load_monitor_config
from safecity.monitor.runtime.local import MonitorRuntime, RuntimeOptions
from safecity.monitor.runtime.ray_transport import CameraGroupActor, RayMonitorRuntime, partition_cameras
from safecity.monitor.types import Event, EventKind

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO / "data" / "video" / "intel-sample-videos" / "person-bicycle-car-detection.mp4"
WAIT_S = 150.0
WEST, LANE, MISSING = "guro-lot-west", "guro-lot-lane", "guro-lot-missing"


class ListSink:
    """Keeps every message (thread-safe)."""

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


def _wait(cond: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {WAIT_S:.0f} s")
        time.sleep(0.1)


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
    _wait(lambda: {WEST, LANE} <= set(rt.stats()["ended"]), "both file cameras to end")
    _wait(lambda: len(sink.snapshot()) == rt.stats()["events_received"], "the sink to get every event")
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
    rt = RayMonitorRuntime(config, sinks=[sink], num_cpus=2, cameras_per_actor=2)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")  # no usage reports (and no network here)
        try:
            yield _run_to_end(rt, sink)
        finally:
            rt.stop()


def _object_messages(msgs: list[tuple[EventKind, Event]], camera: str) -> list[tuple[str, str]]:
    return sorted((k, e.uid) for k, e in msgs if e.camera == camera)


def test_ray_runtime_gives_the_local_runtime_events(local_run: Run, ray_run: Run) -> None:
    assert ray_run.runtime.partition and [[c.id for c in g] for g in ray_run.runtime.partition] == [
        [WEST, MISSING],
        [LANE],
    ]
    for cam in (WEST, LANE):
        local = _object_messages(local_run.messages, cam)
        assert local, f"the local runtime raised no event on {cam}: the test input is wrong"
        assert _object_messages(ray_run.messages, cam) == local
    types = {e.type for _, e in ray_run.messages}
    assert types == {e.type for _, e in local_run.messages}
    assert {"intrusion", "line_crossing", "camera_offline"} <= types
    stats = ray_run.runtime.stats()
    assert stats["ray"]["actors"] == 2 and all(s is not None for s in stats["ray"]["actor_ready_s"])
    assert stats["ray"]["polls"] > 0 and stats["ray"]["poll_messages"] >= len(ray_run.messages)


def test_missing_file_is_offline_while_its_actor_mate_runs(ray_run: Run) -> None:
    rt = ray_run.runtime
    offline = [e for k, e in ray_run.messages if k == "start" and e.camera == MISSING]
    assert [e.type for e in offline] == ["camera_offline"]  # once, however often the restart fails
    assert rt.health()[MISSING] == "offline"
    assert "does not exist" in rt.errors()[MISSING]
    # the camera sharing its actor decoded the whole file and raised events
    assert rt.health()[WEST] == "online"
    assert any(e.camera == WEST and e.type == "intrusion" for _, e in ray_run.messages)
    assert rt.stats()["cameras"][WEST]["frames"] > 0


def test_tiles_cross_from_the_actor(ray_run: Run) -> None:
    rt = ray_run.runtime
    img = rt.latest_frame(WEST)
    assert img is not None and img.ndim == 3 and img.shape[0] == rt.opts.tile_height
    assert rt.stats()["ray"]["tile_bytes"] > 0


def test_dead_actor_is_restarted_and_its_cameras_offline_meanwhile_then_stop(ray_run: Run) -> None:
    import ray

    rt, sink = ray_run.runtime, ray_run.sink
    # the west intrusion is still live (a file end ends nothing), so is the missing camera's outage
    west_live = [e.uid for e in rt.live_events() if e.camera == WEST]
    assert west_live, "no live event on the west camera to orphan: the test input is wrong"
    ray.kill(rt.actor_of(WEST), no_restart=False)  # like a crash of [west, missing]: Ray restarts it
    _wait(lambda: rt.stats()["ray"]["restarts"][0] >= 1, "Ray to restart the actor")

    def messages(kind: str) -> dict[str, Event]:
        return {e.uid: e for k, e in sink.snapshot() if k == kind}

    for cam in (WEST, MISSING):  # offline from the failed poll until the new actor answered
        lost = [e for e in sink.starts(cam, "camera_offline") if "actor lost" in str(e.detail.get("reason"))]
        assert len(lost) == 1
        _wait(lambda uid=lost[0].uid: uid in messages("end"), f"the actor-lost outage of {cam} to end")
    # events the dead actor would have ended are ended by the driver, with the reason
    _wait(lambda: set(west_live) <= set(messages("end")), "orphaned west events to end")
    assert all(messages("end")[u].detail.get("end_reason") == "camera group actor lost" for u in west_live)
    # the new actor runs afresh: the missing file is reported again, the west file plays again
    _wait(
        lambda: len(sink.starts(MISSING, "camera_offline")) == 3, "the new actor's report of the missing file"
    )
    first = sink.starts(WEST, "line_crossing")[0].uid
    _wait(
        lambda: [e.uid for e in sink.starts(WEST, "line_crossing")].count(first) == 2, "events after restart"
    )
    assert rt.health()[WEST] == "online" and rt.health()[MISSING] == "offline"
    assert not sink.starts(LANE, "camera_offline")  # the other actor never noticed
    rt.stop()  # while the west camera is still playing
    assert not ray.is_initialized()
    rt.stop()  # twice is harmless


def broken_detector_factory(_cfg: Any) -> Any:
    """Detector factory that fails with a bug, not a SafecityError (``RuntimeOptions.detector_factory``)."""
    raise RuntimeError("detector bug")


def test_group_actor_reports_a_crashed_worker(config: MonitorConfig) -> None:
    # the actor class itself, in this process: a worker that dies of a bug must not go silent
    opts = RuntimeOptions(detector_factory=f"{__name__}:broken_detector_factory")
    actor = CameraGroupActor(config, config.cameras[:2], opts)
    got: list[tuple[Any, ...]] = []
    deadline = time.monotonic() + WAIT_S
    while sum(m[0] == "error" for m in got) < 2 and time.monotonic() < deadline:
        got += actor.poll(0.2, 100, ())[1]
    actor.shutdown(2.0)
    errors = {m[1]: m[2] for m in got if m[0] == "error"}
    assert set(errors) == {WEST, MISSING}
    assert all("camera group worker failed: RuntimeError: detector bug" in e for e in errors.values())
    assert {(m[1], m[2]) for m in got if m[0] == "health"} == {(WEST, "offline"), (MISSING, "offline")}


# (cameras as (id, group), per actor, expected ids per actor)
PARTITION_CASES = [
    ([("a", None), ("b", None), ("c", None)], 2, [["a", "b"], ["c"]]),  # no groups: chunks in order
    ([("a", "x"), ("b", "y"), ("c", "x")], 8, [["a", "c"], ["b"]]),  # a group stays together
    ([("a", "x"), ("b", "x"), ("c", "x")], 1, [["a"], ["b"], ["c"]]),  # one camera per actor
    ([], 8, []),  # no cameras, no actors
]


@pytest.mark.parametrize(("cams", "per_actor", "want"), PARTITION_CASES)
def test_partition_cameras(cams: list[tuple[str, str | None]], per_actor: int, want: list[list[str]]) -> None:
    groups = partition_cameras([SimpleNamespace(id=i, group=g) for i, g in cams], per_actor)
    assert [[c.id for c in g] for g in groups] == want


# (constructor arguments, words the ConfigError must contain)
BAD_ARGS = [
    ({"cameras_per_actor": 0}, "cameras_per_actor"),  # no camera would run
    ({"address": "auto", "num_cpus": 2}, "only to a local Ray"),  # CPUs of a cluster are not ours
    ({"address": "head-node"}, "HOST:PORT"),  # no port
    ({"num_cpus": 0}, "num_cpus"),  # nothing could be scheduled
    ({"max_restarts": -2}, "max_restarts"),  # not a Ray value
    ({"actor_cpus": 1.5}, "actor_cpus"),  # Ray takes shares below one or whole CPUs
    ({"actor_cpus": -1.0}, "actor_cpus"),  # negative
]


@pytest.mark.parametrize(("kwargs", "words"), BAD_ARGS)
def test_bad_arguments_are_config_errors(config: MonitorConfig, kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        RayMonitorRuntime(config, **kwargs)


def test_missing_ray_names_the_scale_extra(config: MonitorConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    rt = RayMonitorRuntime(config, num_cpus=2)
    with pytest.raises(ConfigError, match=r"pip install -e '\.\[scale\]'"):
        rt.start()


def test_cli_monitor_backend_ray_runs_to_the_end(
    config: MonitorConfig, ray_run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`safecity monitor --backend ray` runs the cameras in Ray actors and writes their events."""
    import json

    import yaml

    from safecity.cli import main

    ray_run.runtime.stop()  # one Ray at a time on this small machine
    one = config.model_copy(update={"cameras": [c for c in config.cameras if c.id == WEST]})
    cfg = tmp_path / "cams.yaml"
    cfg.write_text(yaml.safe_dump(one.model_dump(mode="json"), allow_unicode=True))
    out = tmp_path / "events.jsonl"
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    argv = ["monitor", "--config", str(cfg), "--backend", "ray", "--no-store", "--events-jsonl", str(out)]
    assert main([*argv, "--json"]) == 0
    types = {json.loads(line)["type"] for line in out.read_text().splitlines()}
    assert {"line_crossing", "intrusion"} <= types, types
