"""``safecity replay | monitor | check-config | eval``: the monitoring commands.

* ``safecity replay VIDEO --config CFG [--events-jsonl OUT] [--tracks-mot OUT] [--annotate OUT.mp4]``
  runs one camera's pipeline over a file as fast as it decodes; events as JSON lines (one per
  event; stdout when no file is given), tracks in MOTChallenge format.
* ``safecity monitor --config cameras.yaml`` runs every camera in worker processes until Ctrl-C;
  events go to the store (``SAFECITY_DATABASE_URL`` / ``--database-url``) and/or a JSON-lines file.
* ``safecity check-config CFG`` validates a config, its sources and its detector model.
* ``safecity eval`` scores the engine against labelled events or MOT boxes (see ``monitor.eval``).

Heavy modules are imported inside the handlers so ``safecity --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from safecity.errors import ConfigError, InputError, SafecityError

__all__ = ["Annotator", "ended_early", "register"]

log = logging.getLogger(__name__)


def _fps_arg(text: str) -> float | str | None:
    """``--detect-fps``: a rate, ``full`` (every frame: None) or ``camera`` (the config's rate)."""
    if text.lower() in ("full", "all", "0"):
        return None
    if text == "camera":
        return text
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected frames per second (e.g. 5) or 'full', got {text!r}"
        ) from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"frames per second must be > 0 (or 'full'), got {text!r}")
    return v


def register(sub: Any) -> None:
    """Add the monitoring subcommands to the ``safecity`` parser."""
    p = sub.add_parser(
        "replay",
        help="analyse a video file with one camera's config (events, tracks)",
        epilog="exit codes: 0 the whole video was analysed; 1 an error (nothing written, an existing "
        "--events-jsonl/--tracks-mot file is left as it was); 3 the video ended early: it is damaged or "
        "truncated (the analysis stopped at the point named on stderr; the events and tracks up to "
        "that point are written)",
    )
    p.add_argument("video", type=Path, help="video file")
    p.add_argument("--config", "-c", type=Path, required=True, help="monitoring config (zones, lines, rules)")
    p.add_argument(
        "--camera", help="camera id in the config (default: the one whose source is VIDEO, or the first)"
    )
    p.add_argument(
        "--events-jsonl", type=Path, help="write events here, one JSON object per event (default: stdout)"
    )
    p.add_argument("--tracks-mot", type=Path, help="write tracks here in MOTChallenge format")
    p.add_argument("--annotate", type=Path, help="write an annotated MP4 (boxes, ids, zones, lines, events)")
    p.add_argument(
        "--detect-fps",
        type=_fps_arg,
        default="camera",
        help="analysis rate (default: the camera's; 'full' = every frame)",
    )
    p.add_argument(
        "--all-messages", action="store_true", help="write every start/update/end message, not one per event"
    )
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("monitor", help="run every camera of a config until Ctrl-C")
    p.add_argument("--config", "-c", type=Path, required=True, help="cameras config")
    p.add_argument("--database-url", help="store events in this database (default: settings)")
    p.add_argument("--events-jsonl", type=Path, help="also append every event message to this file")
    p.add_argument("--no-store", action="store_true", help="do not write events to the database")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--loop", action="store_true", help="file cameras start again at their end")
    p.add_argument("--realtime", action="store_true", help="file cameras play at their frame rate")
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    p.add_argument("--json", action="store_true", help="print final counters as JSON on stdout")
    p.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="run the cameras in local worker processes (default) or in Ray actors (needs the 'scale' extra)",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="with --backend ray: 'auto' (the cluster of this node), HOST:6379 or ray://HOST:10001 "
        "(default: start a local Ray)",
    )
    p.add_argument(
        "--cameras-per-actor",
        type=int,
        default=8,
        metavar="N",
        help="with --backend ray: most cameras per Ray actor (default 8)",
    )
    p.set_defaults(func=cmd_monitor)

    p = sub.add_parser("check-config", help="validate a monitoring config, its sources and detector model")
    p.add_argument("config", type=Path, help="monitoring config file")
    p.add_argument("--json", action="store_true", help="print the problems as JSON")
    p.add_argument("--no-model", action="store_true", help="do not load the detector model")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("eval", help="score the engine against labelled events or MOT boxes")
    p.add_argument("--clip", type=Path, help="video file")
    p.add_argument("--config", "-c", type=Path, help="monitoring config with the zones/lines/rules")
    p.add_argument("--camera", help="camera id in the config (default: the first)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--gt-mot", type=Path, help="MOT gt.txt: true events from these boxes, plus MOTA/IDF1")
    g.add_argument(
        "--gt-events", type=Path, help="label file with the true events (tests/data/labels format)"
    )
    p.add_argument(
        "--gt-format",
        choices=("auto", "mot15", "mot17"),
        default="auto",
        help="layout of --gt-mot: mot17 = 9 columns (..., consider, class, visibility), mot15 = 10 columns "
        "(..., conf, wx, wy, wz); auto (default) decides by the column count",
    )
    p.add_argument(
        "--suite",
        type=Path,
        help="evaluate every label file of this folder (files whose clip or gt is absent are skipped, "
        "with a note)",
    )
    p.add_argument(
        "--detect-fps", type=_fps_arg, default="camera", help="analysis rate ('full' = every frame)"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_eval)


# --------------------------------------------------------------------------------------------
# replay


def _pick_camera(cfg: Any, camera_id: str | None, video: Path) -> Any:
    if camera_id is not None:
        try:
            return cfg.camera(camera_id)
        except KeyError:
            ids = ", ".join(c.id for c in cfg.cameras)
            raise ConfigError(f"camera {camera_id!r} is not in the config; cameras: {ids}") from None
    for cam in cfg.cameras:
        if not cam.live and Path(cam.source).resolve() == video.resolve():
            return cam
    if len(cfg.cameras) > 1:
        log.warning(
            "several cameras in the config and none has %s as source; using %r", video, cfg.cameras[0].id
        )
    return cfg.cameras[0]


class _Progress:
    def __init__(self, label: str, total_s: float | None) -> None:
        self.label = label
        self.total_s = total_s
        self.next = 0.0
        self.tty = sys.stderr.isatty()

    def __call__(self, t_s: float) -> None:
        now = time.monotonic()
        if now < self.next:
            return
        self.next = now + (0.5 if self.tty else 10.0)
        total = f"/{self.total_s:.0f}" if self.total_s else ""
        end = "\r" if self.tty else "\n"
        print(f"{self.label}: {t_s:6.1f}{total} s", end=end, file=sys.stderr, flush=True)


def _duration(video: Path) -> float | None:
    try:
        import av

        with av.open(str(video)) as c:
            v = c.streams.video[0] if c.streams.video else None
            if v is not None and v.duration and v.time_base:
                return float(v.duration * v.time_base)  # the video's own length (audio may be longer)
            return float(c.duration) / 1e6 if c.duration else None
    except Exception:  # unreadable files fail later with a SourceError that explains
        return None


def cmd_replay(args: argparse.Namespace) -> int:
    from safecity.monitor.config.model import load_monitor_config
    from safecity.monitor.evaluation.jsonl import JsonlEventWriter, MotWriter
    from safecity.monitor.runtime.local import build_detector
    from safecity.monitor.runtime.replay import replay_clip

    if not args.video.is_file():
        raise InputError(f"video file {args.video} does not exist; pass the path of a video file")
    cfg = load_monitor_config(args.config)
    cam = _pick_camera(cfg, args.camera, args.video)
    fps = cam.detect_fps if args.detect_fps == "camera" else args.detect_fps
    detector = build_detector(cfg.detector_for(cam))
    # outputs go to temporary files renamed into place only once the video was read: a video that
    # cannot be read leaves an existing --events-jsonl / --tracks-mot file as it was
    events_tmp = _temp_for(args.events_jsonl)
    mot_tmp = _temp_for(args.tracks_mot)
    out = JsonlEventWriter(events_tmp or sys.stdout, only_final=not args.all_messages)
    mot = MotWriter(mot_tmp) if mot_tmp is not None else None
    annot: Annotator | None = None

    def on_frame(item: Any, res: Any, live: list[Any]) -> None:
        nonlocal annot
        if annot is None:
            annot = Annotator(args.annotate, cam, fps=fps or _native_fps(args.video), frame_wh=res.frame_wh)
        annot.write(item.bgr(), res, live)

    expected_s = _duration(args.video)
    done = False
    try:
        run = replay_clip(
            cam, args.video, detector, detect_fps=fps, config=cfg, sinks=[out], mot_out=mot,
            on_frame=on_frame if args.annotate else None,
            progress=_Progress(f"replay {args.video.name}", expected_s),
        )  # fmt: skip
        done = run.counters.get("frames", 0) > 0
    finally:
        out.close()
        if mot is not None:
            mot.close()
        if annot is not None:
            annot.close()
        for tmp, target in ((events_tmp, args.events_jsonl), (mot_tmp, args.tracks_mot)):
            if tmp is not None:
                if done:
                    tmp.replace(target)
                else:
                    tmp.unlink(missing_ok=True)
    c = run.counters
    print(
        f"replay {args.video.name}: {run.duration_s:.1f} s of video in {run.wall_s:.1f} s, "
        f"{c['frames']} frames, {c['detector_calls']} detector calls, {len(run.events)} events",
        file=sys.stderr,
    )
    if c.get("frames", 0) == 0:
        raise InputError(
            f"{args.video}: no frame could be decoded; the file is damaged or not a video FFmpeg reads"
        )
    if ended_early(run.duration_s, expected_s, fps):
        print(
            f"error: {args.video.name} ended early: the analysis stopped at {run.duration_s:.1f} s of "
            f"{expected_s:.1f} s because no further frame could be decoded (the file is damaged or "
            f"truncated there); the {len(run.events)} events up to that point were written; exit code 3",
            file=sys.stderr,
        )
        return 3
    return 0


def _temp_for(target: Path | None) -> Path | None:
    """A temporary file next to ``target`` (same file system, so the final rename is atomic)."""
    if target is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def ended_early(reached_s: float, expected_s: float | None, detect_fps: float | None) -> bool:
    """Whether an analysis that reached ``reached_s`` (time of its last frame) stopped before the
    end of a video that should last ``expected_s``, allowing for the last analysis period.

    >>> ended_early(2.5, 8.0, 2.0), ended_early(7.6, 8.0, 2.0), ended_early(7.9, 8.0, None)
    (True, False, False)
    """
    if expected_s is None or expected_s <= 0:
        return False
    period = 1.0 / detect_fps if detect_fps else 0.0
    return reached_s + max(1.0, 2 * period) < expected_s


def _native_fps(video: Path) -> float:
    import av

    with av.open(str(video)) as c:
        rate = c.streams.video[0].average_rate
    return float(rate) if rate else 10.0


class Annotator:
    """Writes frames with boxes, track ids, zones, lines and live events to an MP4 file.

    Args:
        path: output ``.mp4``.
        camera: the ``CameraConfig`` (zones and lines are drawn).
        fps: frame rate of the written video (the analysis rate).
        frame_wh: frame size.
    """

    def __init__(self, path: Path, camera: Any, *, fps: float, frame_wh: tuple[int, int]) -> None:
        import cv2

        path.parent.mkdir(parents=True, exist_ok=True)
        self.camera = camera
        self.wh = frame_wh
        self.writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), float(fps), frame_wh)
        if not self.writer.isOpened():
            raise InputError(f"cannot write video {path}; use a writable .mp4 path")

    def write(self, bgr: Any, res: Any, live: list[Any]) -> None:
        import cv2
        import numpy as np

        img = bgr.copy()
        w, h = self.wh
        if img.shape[1] != w or img.shape[0] != h:
            img = cv2.resize(img, (w, h))
        zones_hit = {e.zone for e in live if e.type != "line_crossing"}
        lines_hit = {e.zone for e in live if e.type == "line_crossing"}
        for z in self.camera.zones:
            pts = np.array([[x * w, y * h] for x, y in z.polygon], np.int32)
            color = (0, 0, 255) if z.name in zones_hit else (0, 200, 255)
            cv2.polylines(img, [pts], True, color, 2)
            cv2.putText(
                img, z.name, tuple(int(v) for v in pts[0] + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1
            )
        for ln in self.camera.lines:
            a = (int(ln.a[0] * w), int(ln.a[1] * h))
            b = (int(ln.b[0] * w), int(ln.b[1] * h))
            color = (0, 0, 255) if ln.name in lines_hit else (255, 200, 0)
            cv2.arrowedLine(img, a, b, color, 2, tipLength=0.03)
            cv2.putText(img, ln.name, (a[0] + 4, a[1] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1)
        for tid, box, cls in zip(res.tracks.track_id, res.tracks.xyxy_px, res.tracks.class_name, strict=True):
            x1, y1, x2, y2 = (int(v) for v in box)
            cv2.rectangle(img, (x1, y1), (x2, y2), (0, 255, 0), 2)
            cv2.putText(
                img,
                f"{cls} #{int(tid)}",
                (x1, max(12, y1 - 4)),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.45,
                (0, 255, 0),
                1,
            )
        for x1, y1, x2, y2 in res.motion_boxes_frac:
            cv2.rectangle(img, (int(x1 * w), int(y1 * h)), (int(x2 * w), int(y2 * h)), (255, 0, 255), 1)
        y = 18
        cv2.putText(img, f"t={res.t_s:6.1f}s", (6, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
        for e in live[:6]:
            y += 18
            txt = f"{e.type} {e.zone or ''} {e.direction or ''} ids={list(e.track_ids)}"
            cv2.putText(img, txt, (6, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 255), 1)
        self.writer.write(img)

    def close(self) -> None:
        self.writer.release()


# --------------------------------------------------------------------------------------------
# monitor


def cmd_monitor(args: argparse.Namespace) -> int:
    from safecity.monitor.config.model import load_monitor_config
    from safecity.monitor.evaluation.jsonl import JsonlEventWriter
    from safecity.service import RuntimeChoice, build_outputs, build_ptz, build_runtime
    from safecity.settings import Settings

    cfg = load_monitor_config(args.config)
    choice = RuntimeChoice(
        backend=args.backend,
        workers=args.workers,
        loop=args.loop,
        realtime=args.realtime,
        ray_address=args.ray_address,
        cameras_per_actor=args.cameras_per_actor,
    )
    choice.check()
    settings = Settings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    store = bool(cfg.outputs.store and not args.no_store)
    # the same outputs as `safecity serve`: store + media folder + MQTT/webhook alerts from the settings
    outputs = build_outputs(settings, cfg, args.config, store=store)
    jsonl = None
    try:
        jsonl_path = args.events_jsonl or cfg.outputs.events_jsonl
        jsonl = JsonlEventWriter(jsonl_path, only_final=False, live=True) if jsonl_path else None
        sinks = [*outputs.sinks, *([jsonl] if jsonl is not None else [])]
        if not sinks:
            log.warning("no event output: pass --events-jsonl, enable outputs.store or set SAFECITY_MQTT_URL")
        alerts = ", ".join(type(s).__name__ for s in outputs.alert_sinks) or "none"
        print(f"monitor: store {'on' if store else 'off'}, alerts: {alerts}", file=sys.stderr)
        # snapshots and clips are written by the workers next to the store that points at them
        rt = build_runtime(cfg, sinks, media_root=outputs.media_root if store else None, choice=choice,
                           tracks=outputs.tracks)  # fmt: skip
        ptz = build_ptz(cfg, rt, engine=outputs.engine)  # PTZ patrols + hand-off, as `safecity serve`
        return _run_monitor(args, rt, ptz)
    finally:
        if jsonl is not None:
            jsonl.close()
        outputs.close()


def _run_monitor(args: argparse.Namespace, rt: Any, ptz: Any = None) -> int:
    stop = {"flag": False}

    def on_signal(_sig: int, _frame: Any) -> None:
        stop["flag"] = True

    old = signal.signal(signal.SIGTERM, on_signal)
    t0 = time.monotonic()
    next_status = t0 + 5.0
    from safecity.monitor.runtime.watch import ConfigWatcher

    # cameras added/changed/removed in the file apply while running (PTZ drivers too)
    watcher = ConfigWatcher(args.config, rt, on_applied=ptz.update_config if ptz is not None else None)
    try:
        rt.start()
        if ptz is not None:  # after the runtime: the drivers arm its PTZ cameras' analytics
            ptz.start()
        watcher.start()
        while not stop["flag"]:
            time.sleep(0.2)
            now = time.monotonic()
            if args.duration is not None and now - t0 >= args.duration:
                break
            if not args.loop and len(rt.stats()["ended"]) == len(rt.cameras()):
                break  # every camera is a file that has ended
            if now >= next_status:
                next_status = now + 10.0
                health = rt.health()
                bad = {c: s for c, s in health.items() if s != "online"}
                print(
                    f"monitor: {len(health)} cameras, {rt.stats()['events_received']} event messages, "
                    f"wall {[t.camera for t in rt.wall().tiles]}, not online: {bad or 'none'}",
                    file=sys.stderr,
                )
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, old)
        watcher.stop()
        if ptz is not None:
            ptz.stop()
            ptz.control.close()
        rt.stop()
    stats = rt.stats()
    if args.json:
        print(json.dumps({"health": rt.health(), "errors": rt.errors(), **stats}, indent=2, default=str))
    else:
        print(
            f"monitor: stopped after {time.monotonic() - t0:.1f} s, {stats['events_received']} messages",
            file=sys.stderr,
        )
    return 0


# --------------------------------------------------------------------------------------------
# check-config


def check_config(path: Path, *, load_model: bool = True) -> list[dict[str, Any]]:
    """Every problem of a monitoring config as ``{"file", "line", "key", "message"}`` (empty = fine)."""
    from safecity.monitor.config.model import load_monitor_config
    from safecity.yamlconf import parse_yaml_text

    try:
        cfg = load_monitor_config(path)
    except ConfigError as exc:
        return _parse_config_error(str(exc), path)
    try:
        doc = parse_yaml_text(path.read_text(encoding="utf-8"), str(path))
    except (ConfigError, OSError):
        doc = None

    def line(*key: str | int) -> int | None:
        return doc.line_of(tuple(key)) if doc is not None else None

    out: list[dict[str, Any]] = []
    for i, cam in enumerate(cfg.cameras):
        if not cam.enabled or cam.live:
            continue
        src = Path(cam.source)
        if not src.is_file():
            out.append(_problem(path, line("cameras", i, "source"), f"cameras.{i}.source",
                                f"video file {src} does not exist; fix the path (relative paths are "
                                "read from the config's folder)"))  # fmt: skip
    classes = set(cfg.detector.classes)
    for i, cam in enumerate(cfg.cameras):
        wanted: list[tuple[str, str]] = []
        for j, rule in enumerate(cam.rules):
            wanted += [(c, f"cameras.{i}.rules.{j}.classes") for c in getattr(rule, "classes", [])]
        for j, ln in enumerate(cam.lines):
            wanted += [(c, f"cameras.{i}.lines.{j}.classes") for c in ln.classes]
        for cls, key in wanted:
            if cls not in classes:
                parts: list[str | int] = [int(p) if p.isdigit() else p for p in key.split(".")]
                known = ", ".join(sorted(classes))
                msg = f"class {cls!r} is not in detector.classes ({known}); add it or the rule never fires"
                out.append(_problem(path, line(*parts), key, msg))
    if load_model:
        from safecity.monitor.runtime.local import build_detector

        try:
            build_detector(cfg.detector)
        except SafecityError as exc:
            out.append(_problem(path, line("detector"), "detector", str(exc)))
    return out


def _problem(path: Path, line: int | None, key: str, message: str) -> dict[str, Any]:
    return {"file": str(path), "line": line, "key": key, "message": message}


def _parse_config_error(text: str, path: Path) -> list[dict[str, Any]]:
    import re

    out = []
    pat = re.compile(r"^\s*(?P<file>.+?):(?P<line>\d+): (?P<key>[^:]+): (?P<msg>.*)$")
    for raw in text.splitlines():
        if re.search(r"\d+ problem\(s\) in the config:?$", raw):
            continue  # the summary line above the per-problem lines
        m = pat.match(raw)
        if m:
            out.append(_problem(Path(m["file"]), int(m["line"]), m["key"].strip(), m["msg"].strip()))
        elif raw.strip() and not out:
            out.append(_problem(path, None, "", raw.strip()))
        elif raw.strip():
            out[-1]["message"] += " " + raw.strip()
    return out or [_problem(path, None, "", text)]


def cmd_check_config(args: argparse.Namespace) -> int:
    problems = check_config(args.config, load_model=not args.no_model)
    if args.json:
        print(json.dumps({"ok": not problems, "problems": problems}, indent=2, ensure_ascii=False))
    elif problems:
        for p in problems:
            where = f"{p['file']}:{p['line']}" if p["line"] else p["file"]
            key = f" {p['key']}:" if p["key"] else ""
            print(f"{where}:{key} {p['message']}", file=sys.stderr)
        print(f"check-config: {len(problems)} problem(s) in {args.config}", file=sys.stderr)
    else:
        print(f"check-config: {args.config} is fine", file=sys.stderr)
    return 1 if problems else 0


# --------------------------------------------------------------------------------------------
# eval


def cmd_eval(args: argparse.Namespace) -> int:
    from safecity.monitor.evaluation.labels import find_label_files, load_labels
    from safecity.monitor.evaluation.suite import evaluate_clip, evaluate_labels, format_report

    # --detect-fps: "camera" (default: the label file's or camera's rate), None ("full"), or a rate
    fps: Any = (
        "full" if args.detect_fps is None else ("default" if args.detect_fps == "camera" else args.detect_fps)
    )
    reports = []
    skipped: list[dict[str, Any]] = []
    if args.suite is not None:
        files = find_label_files(args.suite)
        if not files:
            raise InputError(f"no label files (*.yaml) in {args.suite}; see tests/data/labels/README.md")
        for i, f in enumerate(files, 1):
            lab = load_labels(f)
            missing = [p for p in (lab.clip, lab.gt_mot) if p is not None and not p.is_file()]
            if missing:
                skipped.append({"label_file": f.name, "missing": [str(p) for p in missing]})
                print(
                    f"eval [{i}/{len(files)}] {f.name}: skipped, its data is not here ({missing[0]}); it is "
                    "test-only data from the shared/ folder next to the checkout (or $SAFECITY_SHARED), "
                    "see tests/data/labels/README.md",
                    file=sys.stderr,
                )
                continue
            print(f"eval [{i}/{len(files)}] {f.name}", file=sys.stderr)
            reports.append(evaluate_labels(f, detect_fps=fps))
        if not reports:
            raise InputError(
                f"none of the {len(files)} label files in {args.suite} has its clip here; "
                "see tests/data/labels/README.md for where the data comes from"
            )
    else:
        if args.clip is None or args.config is None or (args.gt_mot is None and args.gt_events is None):
            raise InputError("eval needs --suite DIR, or --clip, --config and one of --gt-mot / --gt-events")
        truth = None
        if args.gt_events is not None:
            lab = load_labels(args.gt_events)
            truth = lab.truth_events(args.camera or "")
        rate: Any = "camera" if args.detect_fps == "camera" else args.detect_fps
        reports.append(
            evaluate_clip(
                args.clip,
                args.config,
                camera_id=args.camera,
                truth=truth,
                gt_mot=args.gt_mot,
                detect_fps=rate,
                gt_format=args.gt_format,
            )
        )
    if args.json:
        from safecity.monitor.evaluation.suite import pooled, shared_wall_recall

        event_clips = [r for r in reports if r.truth]
        doc = {
            "pooled": {k: v.as_dict() for k, v in pooled(reports).items()},
            "shared_wall_recall": {
                f"{k}_tiles": shared_wall_recall(event_clips, max_tiles=k) for k in (1, 2)
            },
            "clips": [r.as_dict() for r in reports],
            "skipped": skipped,
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        print(format_report(reports))
    return 0
