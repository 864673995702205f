"""Operator workload with the default alert policy: events raised, incidents, items needing acknowledgement.

Writes ``triage.json`` into ``--out``. Two parts, in the same run:

* ``workload``: every enabled camera of ``configs/demo-cameras.yaml`` replays its bundled clip,
  looped, for ``--minutes`` of video (as fast as it decodes; the hub and worker of the live runtime
  through :class:`~safecity.monitor.runtime.replay.InlineTransport`), into two real event stores
  (SQLite) folding incidents with the config's policy (the defaults: the demo config has no
  ``policy:`` section). Store *A* has no operator (grouping alone); store *B* has a simulated
  operator who looks at the queue every 30 s of video, acknowledges what rings and closes
  acknowledged incidents once they have been quiet (no live event) for 60 s — later events then
  start a new incident that rings again. Reported per camera and in total, per camera-hour:
  ``events_raised`` (each was an item to acknowledge in the console before incidents: every event
  arrived ``new``), ``incidents``, ``alert_incidents``, ``items_needing_ack`` (rings: an incident
  starting as an alert, a record incident becoming one, a more severe event after an acknowledgement),
  and the ratio events / items. Target (issue 10): ratio >= 10.
* ``labels``: every label file of ``tests/data/labels/`` with labelled intrusion, loitering, crowding,
  fall, abandoned-object or camera-health (tamper) events whose clip is present: its camera replayed
  once into a store with the default policy; each labelled event matched to an engine event within
  the KISA window (:func:`~safecity.monitor.evaluation.suite.match_events`: -2 s .. +10 s) and that
  event's incident looked up. ``in_alert_incident`` counts matched labels whose event sits in an
  ``alert``-level incident (not suppressed); ``missed_by_engine`` are labels no engine event matched
  (detection, not policy).

Usage::

    .venv/bin/python bench/triage_bench.py --out bench/results [--minutes 30] [--jobs 6] [--cameras ID ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import platform
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select

from safecity.errors import ConfigError
from safecity.monitor.config.model import MonitorConfig, load_monitor_config
from safecity.monitor.config.policy import ALERT_TYPES
from safecity.monitor.evaluation.labels import find_label_files, load_labels
from safecity.monitor.evaluation.suite import match_events
from safecity.monitor.runtime.hub import MonitorHub
from safecity.monitor.runtime.replay import InlineTransport, replay_clip
from safecity.monitor.sources.readers import FileSource
from safecity.monitor.types import Detections, Event, EventKind
from safecity.monitor.vision.base import Detector
from safecity.monitor.vision.factory import build_detector
from safecity.service import bound_policy
from safecity.store.db import connect
from safecity.store.events import EventStore
from safecity.store.incident_store import IncidentStore
from safecity.store.schema import events as events_t
from safecity.store.schema import incidents as incidents_t

U8 = npt.NDArray[np.uint8]
ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "demo-cameras.yaml"
LABELS = ROOT / "tests" / "data" / "labels"
EPOCH = datetime(2026, 12, 7, 0, 0, tzinfo=UTC).timestamp()  # fixed: the same incidents every run
OPERATOR_EVERY_S = 30.0
OPERATOR_QUIET_S = 60.0
# the labelled types that must reach an alert-level incident: the rules' and every camera tamper
REQUIRED = tuple(t for t in ALERT_TYPES if t != "camera_offline")


class CachedDetector:
    """A detector that remembers its output per input picture (blake2b of the pixels and shape).

    The demo clips loop: every round decodes the very same frames, and the motion gate mostly cuts
    the same crops, so the same pixels reach the detector again. The detector is deterministic, so
    the cached output is what it would compute; only its CPU time is saved. Hits are reported.
    """

    def __init__(self, inner: Detector) -> None:
        self.inner = inner
        self.name = inner.name
        self.input_size = inner.input_size
        self.cache: dict[bytes, Detections] = {}
        self.hits = 0
        self.misses = 0

    def detect_batch(self, images_bgr: Sequence[U8]) -> list[Detections]:
        keys = []
        for im in images_bgr:
            h = hashlib.blake2b(np.ascontiguousarray(im).data, digest_size=16)
            h.update(repr(im.shape).encode())
            keys.append(h.digest())
        todo = [i for i, k in enumerate(keys) if k not in self.cache]
        if todo:
            for i, det in zip(todo, self.inner.detect_batch([images_bgr[i] for i in todo]), strict=True):
                self.cache[keys[i]] = det
        self.misses += len(todo)
        self.hits += len(keys) - len(todo)
        return [self.cache[k] for k in keys]


class Starts:
    """Counts event starts (events raised) per type."""

    def __init__(self) -> None:
        self.by_type: Counter[str] = Counter()

    def publish(self, kind: EventKind, event: Event) -> None:
        if kind == "start":
            self.by_type[event.type] += 1


def _store_figures(engine: Any) -> dict[str, Any]:
    with engine.connect() as c:
        rows = c.execute(
            select(incidents_t.c.level, func.count(), func.sum(incidents_t.c.rings)).group_by(
                incidents_t.c.level
            )
        ).all()
        reasons = dict(
            c.execute(
                select(incidents_t.c.closed_reason, func.count()).group_by(incidents_t.c.closed_reason)
            ).all()
        )
        suppressed = c.execute(
            select(func.count()).select_from(events_t).where(events_t.c.suppressed_by.is_not(None))
        ).scalar_one()
        no_incident = c.execute(
            select(func.count()).select_from(events_t).where(events_t.c.incident_id.is_(None))
        ).scalar_one()
        longest = c.execute(select(func.max(incidents_t.c.event_count))).scalar()
    by_level = {str(level): (int(n), int(r or 0)) for level, n, r in rows}
    return {
        "incidents": sum(n for n, _ in by_level.values()),
        "alert_incidents": by_level.get("alert", (0, 0))[0],
        "record_incidents": by_level.get("record", (0, 0))[0],
        "items_needing_ack": sum(r for _, r in by_level.values()),
        "closed_by": {str(k): int(v) for k, v in reasons.items() if k is not None},
        "events_suppressed": int(suppressed),
        "events_without_incident": int(no_incident),
        "largest_incident_events": int(longest or 0),
    }


def _operator(store: IncidentStore, now: datetime) -> None:
    """The simulated operator: acknowledge what rings, close acknowledged incidents quiet for 60 s."""
    _, ringing = store.list_incidents(needs_ack=True, limit=1000)
    for inc in ringing:
        store.acknowledge(int(inc["id"]), "bench-operator", "simulated")
    _, acked = store.list_incidents(state="acknowledged", limit=1000)
    for inc in acked:
        if inc["open_events"] == 0 and (now - inc["last_at"]).total_seconds() >= OPERATOR_QUIET_S:
            store.close(int(inc["id"]), "bench-operator", "quiet")


def run_camera(args: tuple[str, str, float, str]) -> dict[str, Any]:
    """Replay one camera (looped) for ``seconds`` of video; figures of both stores."""
    config_path, camera_id, seconds, tmp = args
    config = load_monitor_config(config_path)
    cam = config.camera(camera_id)
    one = config.model_copy(update={"cameras": [cam]})
    detector = CachedDetector(build_detector(config.detector_for(cam)))
    folder = Path(tmp) / camera_id
    stores, engines = [], []
    for name in ("no_operator", "operator"):
        folder.mkdir(parents=True, exist_ok=True)
        engine = connect(f"sqlite:///{folder / name}.db")
        engines.append(engine)
        stores.append(
            EventStore(engine, spool_dir=folder / f"spool-{name}", epoch_s=EPOCH, policy=bound_policy(one))
        )
    starts = Starts()
    transport = InlineTransport(one, cam, detector)
    hub = MonitorHub(
        one,
        transport,
        sinks=[starts, *stores],
        select_every_s=None,
        clock=transport.clock,
        sink_threads=False,
    )
    src = FileSource(
        cam.source, camera=cam.id, detect_fps=cam.detect_fps, max_height=cam.max_height, loop=True
    )
    operator = IncidentStore(engines[1])
    t0 = time.perf_counter()
    next_look = OPERATOR_EVERY_S
    t_last = 0.0
    hub.start()
    try:
        for item in src:
            res = transport.step(item)
            t_last = res.t_s
            if t_last >= next_look:
                assert stores[1].flush(60)
                _operator(operator, datetime.fromtimestamp(EPOCH + t_last, UTC))
                next_look += OPERATOR_EVERY_S
            if t_last >= seconds:
                break
        transport.finish()
    finally:
        src.close()
        hub.stop()
    for s in stores:
        assert s.close(60), "the event store could not write everything"
    out: dict[str, Any] = {
        "camera": cam.id,
        "name": cam.name,
        "video_s": round(t_last, 1),
        "wall_s": round(time.perf_counter() - t0, 1),
        "detector_cache": {"hits": detector.hits, "misses": detector.misses},
        "events_raised": sum(starts.by_type.values()),
        "events_by_type": dict(sorted(starts.by_type.items())),
        "no_operator": _store_figures(engines[0]),
        "operator": _store_figures(engines[1]),
    }
    for e in engines:
        e.dispose()
    return out


def _per_hour(n: float, hours: float) -> float:
    return round(n / hours, 1) if hours > 0 else 0.0


def summarise(cams: list[dict[str, Any]]) -> dict[str, Any]:
    hours = sum(c["video_s"] for c in cams) / 3600.0
    raised = sum(c["events_raised"] for c in cams)
    out: dict[str, Any] = {"camera_hours": round(hours, 3), "events_raised": raised,
                           "events_per_camera_hour": _per_hour(raised, hours)}  # fmt: skip
    for mode in ("no_operator", "operator"):
        inc = sum(c[mode]["incidents"] for c in cams)
        alert = sum(c[mode]["alert_incidents"] for c in cams)
        items = sum(c[mode]["items_needing_ack"] for c in cams)
        out[mode] = {
            "incidents": inc,
            "alert_incidents": alert,
            "items_needing_ack": items,
            "incidents_per_camera_hour": _per_hour(inc, hours),
            "items_per_camera_hour": _per_hour(items, hours),
            "reduction_events_per_item": round(raised / items, 2) if items else None,
            "target_10x_met": bool(items) and raised / items >= 10.0,
        }
    return out


def check_labels(tmp: Path) -> dict[str, Any]:
    """Labelled events of the required types: matched by an engine event in an alert-level incident?"""
    files: list[dict[str, Any]] = []
    totals: Counter[str] = Counter()
    for path in find_label_files(LABELS):
        try:
            labels = load_labels(path)
        except ConfigError as exc:  # another kind of file in the folder (e.g. track colours)
            files.append(
                {"file": path.name, "skipped": f"not an event label file: {str(exc).splitlines()[0]}"}
            )
            continue
        wanted = [e for e in labels.doc.events if e.type in REQUIRED]
        if not wanted:
            continue
        if not labels.clip.is_file():
            files.append({"file": path.name, "skipped": f"clip {labels.clip} not present"})
            continue
        config: MonitorConfig = load_monitor_config(labels.config_path)
        cam = config.camera(labels.doc.camera) if labels.doc.camera else config.cameras[0]
        engine = connect(f"sqlite:///{tmp / path.stem}.db")
        store = EventStore(
            engine, spool_dir=tmp / f"spool-{path.stem}", epoch_s=EPOCH, policy=bound_policy(config)
        )
        detector = build_detector(config.detector_for(cam))
        res = replay_clip(cam, labels.clip, detector, detect_fps=labels.doc.detect_fps or cam.detect_fps,
                          config=config, sinks=[store])  # fmt: skip
        assert store.close(60)
        truth = [e for e in labels.truth_events(cam.id) if e.type in REQUIRED]
        m = match_events(res.events, truth)
        matched = {ti: res.events[pi].uid for ti, pi in m.pairs}
        rows = []
        with engine.connect() as c:
            for ti, t in enumerate(truth):
                uid = matched.get(ti)
                level = None
                if uid is not None:
                    level = c.execute(
                        select(incidents_t.c.level)
                        .select_from(events_t.join(incidents_t, events_t.c.incident_id == incidents_t.c.id))
                        .where(events_t.c.uid == uid, events_t.c.suppressed_by.is_(None))
                    ).scalar()
                ok = level == "alert"
                totals["labelled"] += 1
                totals["matched"] += uid is not None
                totals["in_alert_incident"] += ok
                totals["missed_by_engine"] += uid is None
                rows.append({"type": t.type, "zone": t.zone, "start_s": t.start_s, "event": uid,
                             "incident_level": level, "in_alert_incident": ok})  # fmt: skip
        engine.dispose()
        files.append({"file": path.name, "camera": cam.id, "labels": rows})
    n_matched = totals["matched"]
    return {
        "types": list(REQUIRED),
        "labelled": totals["labelled"],
        "matched_within_kisa_window": n_matched,
        "in_alert_incident": totals["in_alert_incident"],
        "missed_by_engine": totals["missed_by_engine"],
        "every_matched_label_in_alert_incident": totals["in_alert_incident"] == n_matched,
        "files": files,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for triage.json")
    ap.add_argument("--config", type=Path, default=DEMO, help="monitoring config (default: the demo's)")
    ap.add_argument("--minutes", type=float, default=30.0, help="minutes of video per camera (default 30)")
    ap.add_argument("--jobs", type=int, default=6, help="cameras replayed at once (processes)")
    ap.add_argument("--cameras", nargs="*", default=None, help="camera ids (default: every enabled camera)")
    ap.add_argument("--skip-labels", action="store_true", help="only the workload part")
    a = ap.parse_args(argv)
    if a.minutes <= 0 or a.jobs < 1:
        ap.error("--minutes must be > 0 and --jobs >= 1")
    config = load_monitor_config(a.config)
    ids = a.cameras or [c.id for c in config.cameras if c.enabled]
    unknown = sorted(set(ids) - {c.id for c in config.cameras})
    if unknown:
        ap.error(f"unknown camera ids {unknown}; the config has {[c.id for c in config.cameras]}")
    a.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as tmp:
        jobs = [(str(a.config), cid, a.minutes * 60.0, tmp) for cid in ids]
        print(
            f"replaying {len(ids)} cameras x {a.minutes:g} min of video, {a.jobs} at a time ...", flush=True
        )
        cams = []
        procs = min(a.jobs, len(ids)) + (0 if a.skip_labels else 1)
        with mp.get_context("spawn").Pool(procs) as pool:
            # the label replays run beside the cameras (their own process), not after them
            pending = None if a.skip_labels else pool.apply_async(check_labels, (Path(tmp),))
            for got in pool.imap_unordered(run_camera, jobs):
                cams.append(got)
                items = (got["operator"]["items_needing_ack"], got["no_operator"]["items_needing_ack"])
                print(f"  {got['camera']}: {got['video_s']:.0f} s video in {got['wall_s']:.0f} s, "
                      f"{got['events_raised']} events -> {items[0]} items (operator) / {items[1]} (none)",
                      flush=True)  # fmt: skip
            labels = None if pending is None else pending.get()
        cams.sort(key=lambda c: c["camera"])
    result = {
        "bench": "triage",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "jobs": a.jobs},
        "config": str(a.config.relative_to(ROOT) if a.config.is_relative_to(ROOT) else a.config),
        "policy": "defaults (AlertPolicy())" if config.policy == type(config.policy)() else "from the config",
        "minutes_per_camera": a.minutes,
        "operator_model": {"looks_every_s": OPERATOR_EVERY_S, "closes_after_quiet_s": OPERATOR_QUIET_S},
        "total": summarise(cams),
        "cameras": cams,
        "labels": labels,
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    (a.out / "triage.json").write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    tot = result["total"]
    print(json.dumps({k: tot[k] for k in ("camera_hours", "events_raised", "events_per_camera_hour")}))
    for mode in ("no_operator", "operator"):
        print(mode, json.dumps(tot[mode]))
    if labels is not None:
        print("labels", json.dumps({k: v for k, v in labels.items() if k != "files"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
