""" "Where else" hit rate on real tracks: the same objects seen on two passes of the bundled clips.

Method (written so it can be rerun and checked):

1. Each of the three Intel clips (their monitoring configs in ``tests/data/labels``) is analysed
   twice through ``CameraPipeline`` + ``TrackSummariser`` (real NanoDet, tracker, colours):
   pass A is the file as it is; pass B is the same footage as a second camera would show it:
   re-encoded darker, with more contrast, less saturation and at 3/4 of the size (ffmpeg
   ``eq=brightness=-0.06:contrast=1.15:saturation=0.85,scale=iw*3/4:-2``), seen ``--gap-s`` later
   (default 110 s: 150 m at a walking pace of 1.4 m/s) and 150 m further north. Clip k's cameras
   stand 330 m apart from clip k+1's, all at the same time, so every search also sees the other
   clips' people and cars as distractors.
2. Same-object pairs: a B track is the pair of an A track of the same clip when it has the same
   class group, the largest overlap in file time (IoU >= 0.5) and its path's extent overlaps the A
   track's (IoU >= 0.3, frame fractions: the picture is the same scene). Every proposed pair is
   drawn side by side (the two best crops) in ``DIR/where_else_pairs.jpg`` and was checked by eye;
   pairs that are not the same object are listed in ``--exclude`` (uids of the A track). Checked
   on the committed run: 16 pairs proposed, all the same object on both passes; one excluded,
   ``clip1-a-5-1790000016800``, whose box holds two parked cars (no single object, as in the
   colour labels); ``clip1-a-7`` is a white car the detector calls a person (kept: the same object).
3. For each pair, "where else" is asked as the console asks it (records of every other camera, of
   the class group, first seen from 30 s before to 30 min after the A track was last seen; the
   same ranking as ``/api/search/tracks/{uid}/where-else``): hit@1 and hit@5 = the B track is first
   / among the first five.

Usage::

    .venv/bin/python bench/where_else_bench.py --out bench/results

Writes ``DIR/where_else_bench.json`` and ``DIR/where_else_pairs.jpg``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

CONFIGS = [
    REPO / "tests/data/labels/person-bicycle-car-detection.cameras.yaml",
    REPO / "tests/data/labels/car-detection.cameras.yaml",
    REPO / "tests/data/labels/one-by-one-person-detection.cameras.yaml",
]
PASS_B = "eq=brightness=-0.06:contrast=1.15:saturation=0.85,scale=iw*3/4:-2"
LAT0, LON0 = 37.4955, 126.8873
NORTH_150M = 150 / 111_320
T0 = 1_790_000_000.0


def track_records(
    config: Path,
    source: Path | None = None,
    cam_id: str | None = None,
    detector: dict[str, Any] | None = None,
) -> list[Any]:
    """The track records of ``config``'s first camera (its detector, tracker and zones) over its clip
    or ``source``, under ``cam_id`` (default: the camera's own id), with ``detector`` keys laid over
    its detector config. Also used by colour_bench."""
    from safecity.monitor.config.model import load_monitor_config
    from safecity.monitor.pipeline import CameraPipeline
    from safecity.monitor.sources.readers import open_source
    from safecity.monitor.vision.factory import build_detector
    from safecity.search.summary import TrackSummariser

    cfg = load_monitor_config(config)
    cam = cfg.cameras[0]
    if source is not None:
        cam = cam.model_copy(update={"source": str(source)})
    if cam_id is not None:
        cam = cam.model_copy(update={"id": cam_id})
    det = cfg.detector_for(cam)
    if detector:
        det = type(det).model_validate({**det.model_dump(), **detector})
    pipe = CameraPipeline(cam, build_detector(det), motion=cam.motion or cfg.motion,
                          tracker=cfg.tracker_for(cam), tz=cfg.timezone)  # fmt: skip
    summ = TrackSummariser.for_camera(cam)
    src = open_source(cam.source, camera=cam.id, detect_fps=cam.detect_fps, loop=False, realtime=False,
                      max_height=cam.max_height)  # fmt: skip
    out = []
    for item in src:
        res = pipe.step(item)
        out += summ.update(res.tracks, res.frame_wh, item.bgr)
    return out + summ.finish()


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area if area > 0 else 0.0


def _time_iou(a: Any, b: Any) -> float:
    inter = max(0.0, min(a.last_s, b.last_s) - max(a.first_s, b.first_s))
    union = max(a.last_s, b.last_s) - min(a.first_s, b.first_s)
    return inter / union if union > 0 else 0.0


def _grown(box: tuple[float, float, float, float], m: float = 0.05) -> tuple[float, float, float, float]:
    return box[0] - m, box[1] - m, box[2] + m, box[3] + m  # paths of a standing object are points


def _pairs(a_recs: list[Any], b_recs: list[Any]) -> list[tuple[Any, Any]]:
    from safecity.monitor.vision.track import class_group

    out = []
    for a in a_recs:
        best = max(
            (b for b in b_recs if class_group(b.object_class) == class_group(a.object_class)),
            key=lambda b: _time_iou(a, b),
            default=None,
        )
        if best is not None and _time_iou(a, best) >= 0.5 and _iou(_grown(a.box), _grown(best.box)) >= 0.3:
            out.append((a, best))
    return out


def _sheet(pairs: list[tuple[Any, Any]], path: Path) -> None:
    import cv2
    import numpy as np

    rows = []
    for a, b in pairs:
        tiles = []
        for r in (a, b):
            img = None
            if r.thumbnail:
                img = cv2.imdecode(np.frombuffer(r.thumbnail, np.uint8), cv2.IMREAD_COLOR)
            if img is None:
                img = np.zeros((96, 64, 3), np.uint8)
            img = cv2.resize(img, (max(8, int(img.shape[1] * 96 / img.shape[0])), 96))
            tiles.append(
                img[:, :160] if img.shape[1] > 160 else np.pad(img, ((0, 0), (0, 160 - img.shape[1]), (0, 0)))
            )
        row = np.hstack([tiles[0], np.full((96, 8, 3), 255, np.uint8), tiles[1]])
        label = np.zeros((96, 420, 3), np.uint8)
        cv2.putText(label, a.uid[-28:], (4, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
        cv2.putText(label, f"{a.object_class} / {b.object_class}", (4, 70), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (200, 200, 200), 1)  # fmt: skip
        rows.append(np.hstack([row, label]))
    if rows:
        cv2.imwrite(str(path), np.vstack(rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for where_else_bench.json")
    ap.add_argument("--gap-s", type=float, default=110.0, help="pass B is seen this much later (default 110)")
    ap.add_argument(
        "--exclude", nargs="*", default=[], help="A-track uids whose proposed pair is not the same object"
    )
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    from safecity.search.records import shifted
    from safecity.search.where_else import rank_candidates
    from safecity.store.db import connect
    from safecity.store.tracks import MAX_LIMIT, TrackIndex, TrackQuery

    t_start = time.perf_counter()
    all_recs: list[Any] = []
    pairs: list[tuple[Any, Any]] = []
    per_clip = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k, config in enumerate(CONFIGS):
            import yaml

            src = Path(yaml.safe_load(config.read_text())["cameras"][0]["source"])
            src = src if src.is_absolute() else (config.parent / src).resolve()
            b_file = Path(tmp) / f"{config.stem}-b.mp4"
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-vf", PASS_B, "-an", str(b_file)],
                           check=True, timeout=600)  # fmt: skip
            print(f"{config.stem}: pass A", file=sys.stderr, flush=True)
            lat = LAT0 + k * 3 * NORTH_150M * 2.2  # ~330 m between clips
            a_recs = [
                replace(shifted(r, T0), lat=lat, lon=LON0) for r in track_records(config, None, f"clip{k}-a")
            ]
            print(f"{config.stem}: pass B", file=sys.stderr, flush=True)
            b_raw = track_records(config, b_file, f"clip{k}-b")
            found = _pairs(a_recs, [replace(shifted(r, T0), lat=lat + NORTH_150M, lon=LON0) for r in b_raw])
            b_recs = [replace(shifted(r, T0 + a.gap_s), lat=lat + NORTH_150M, lon=LON0) for r in b_raw]
            by_uid = {shifted(r, T0).uid: b for r, b in zip(b_raw, b_recs, strict=True)}
            clip_pairs = [(x, by_uid[y.uid]) for x, y in found]
            pairs += clip_pairs
            all_recs += a_recs + b_recs
            per_clip[config.stem] = {
                "a_tracks": len(a_recs),
                "b_tracks": len(b_recs),
                "pairs": len(clip_pairs),
            }
        _sheet(pairs, a.out / "where_else_pairs.jpg")
        index = TrackIndex(connect(f"sqlite:///{Path(tmp) / 'tracks.db'}"))
        index.write(all_recs)
        from safecity.monitor.vision.track import CLASS_GROUPS, class_group

        hits1 = hits5 = 0
        rows = []
        used = [(x, y) for x, y in pairs if x.uid not in set(a.exclude)]
        for x, y in used:
            src_rec = index.get(x.uid)
            assert src_rec is not None
            group = class_group(x.object_class)
            classes = tuple(sorted(c for c, g in CLASS_GROUPS.items() if g == group)) or (x.object_class,)
            q = TrackQuery(x.last_s - 30.0, x.last_s + 1800.0, classes=classes, limit=MAX_LIMIT)
            ranked = rank_candidates(src_rec, index.search(q), limit=10)
            uids = [c.record["uid"] for c in ranked]
            rank = uids.index(y.uid) + 1 if y.uid in uids else None
            hits1 += rank == 1
            hits5 += rank is not None and rank <= 5
            rows.append(
                {"a": x.uid, "b": y.uid, "class": x.object_class, "rank": rank, "candidates": len(ranked)}
            )
    n = len(used)
    result = {
        "bench": "where_else",
        "pass_b": PASS_B,
        "gap_s": a.gap_s,
        "clips": per_clip,
        "pairs_proposed": len(pairs),
        "pairs_excluded_by_eye": sorted(a.exclude),
        "pairs_used": n,
        "hit_at_1": round(hits1 / n, 3) if n else None,
        "hit_at_5": round(hits5 / n, 3) if n else None,
        "rows": rows,
        "seconds": round(time.perf_counter() - t_start, 1),
    }
    path = a.out / "where_else_bench.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("pairs_used", "hit_at_1", "hit_at_5", "clips")}))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
