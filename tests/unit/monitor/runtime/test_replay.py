"""replay_clip through the hub and the inline transport: same events as the bare pipeline, in file time."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.pipeline import CameraPipeline
from safecity.monitor.runtime.hub import MonitorHub
from safecity.monitor.runtime.replay import InlineTransport, replay_clip
from safecity.monitor.sources.readers import FileSource
from safecity.monitor.types import Event, EventKind
from tests.unit.monitor.runtime.test_local import _write_clip
from tests.unit.monitor.test_pipeline import BlobDetector

ZONE = {"name": "right", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}


def _config(clip: Path) -> MonitorConfig:
    cam = {"id": "cam", "source": str(clip), "detect_fps": 5, "zones": [ZONE],
           "rules": [{"type": "intrusion", "zone": "right", "min_s": 0.2}]}  # fmt: skip
    return MonitorConfig.model_validate(
        {"cameras": [cam, {"id": "other", "source": "x.mp4"}],
         "tracker": {"high_thresh": 0.5, "new_track_thresh": 0.5, "lost_s": 1.0}}
    )  # fmt: skip


class ListSink:
    def __init__(self) -> None:
        self.items: list[tuple[EventKind, Event]] = []

    def publish(self, kind: EventKind, event: Event) -> None:
        self.items.append((kind, event))


def _same_uids(items: list[tuple[EventKind, Event]]) -> list[tuple[EventKind, Event]]:
    seen: dict[str, str] = {}
    return [(k, dataclasses.replace(e, uid=seen.setdefault(e.uid, f"u{len(seen)}"))) for k, e in items]


def test_replay_gives_the_pipelines_events_in_file_time(tmp_path: Path) -> None:
    clip = _write_clip(tmp_path / "c.mp4")
    cfg = _config(clip)
    cam = cfg.camera("cam")
    sink = ListSink()
    frames: list[tuple[int, int]] = []
    run = replay_clip(
        cam, clip, BlobDetector(), detect_fps=5, config=cfg, sinks=[sink],
        on_frame=lambda item, res, live: frames.append((res.frame_index or 0, len(live))),
    )  # fmt: skip
    # the same pipeline stepped by hand over the same file: what replay must reproduce
    pipe = CameraPipeline(cam, BlobDetector(), motion=cfg.motion, tracker=cfg.tracker_for(cam))
    want: list[tuple[EventKind, Event]] = []
    t_last = 0.0
    for item in FileSource(clip, camera="cam", detect_fps=5):
        res = pipe.step(item)
        want += res.events
        t_last = res.t_s
    want += pipe.finish(t_last)
    # every message, in order, unchanged (file seconds); uids are unique per pipeline, so compare them
    # by the order in which each first appeared
    assert _same_uids(sink.items) == _same_uids(want) and want
    final = sorted({e.uid: e for _, e in sink.items}.values(), key=lambda e: e.start_s)
    assert run.events == final
    assert all(e.end_s is not None for e in run.events)  # the end of the file ended them
    assert run.counters == pipe.counters.as_dict()
    assert len(run.tracks) == 40 and run.frame_wh == (320, 180)
    assert [f for f, _ in frames] == list(range(1, 81, 2))  # 10 fps decoded, 5 fps analysed
    assert any(n for _, n in frames)  # live events were handed to on_frame
    # one wall per second of video, of this camera only
    assert [round(w.t_s, 1) for w in run.layouts] == [float(s) for s in range(8)]
    assert {t.camera for w in run.layouts for t in w.tiles} == {"cam"}


def test_replay_without_config_chooses_no_wall(tmp_path: Path) -> None:
    clip = _write_clip(tmp_path / "c.mp4", seconds=3.0)
    cam = _config(clip).camera("cam")
    run = replay_clip(cam, clip, BlobDetector(), detect_fps=5)
    assert run.layouts == [] and run.counters["frames"] == 15


def test_inline_transport_needs_a_started_hub(tmp_path: Path) -> None:
    clip = _write_clip(tmp_path / "c.mp4", seconds=1.0)
    cfg = _config(clip)
    cam = cfg.camera("cam")
    t = InlineTransport(cfg, cam, BlobDetector())
    item = next(iter(FileSource(clip, camera="cam")))
    with pytest.raises(RuntimeError, match="start the hub first"):
        t.step(item)
    hub = MonitorHub(cfg, t, select_every_s=None, clock=t.clock, sink_threads=False)
    with hub:
        res = t.step(item)
    assert res.frame_index == 1 and t.placement() == {"cam": "inline"}
