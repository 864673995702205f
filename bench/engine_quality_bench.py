"""Quality of the engine-cost modes on the labelled suite, in one run (issue 9: no event type may lose
recall with the gate or detection on demand).

Every label file of ``--suite`` (default ``tests/data/labels``) whose clip is here is evaluated three
times with :func:`safecity.monitor.evaluation.suite.evaluate_labels`, the same detector and rules:

* ``off``: every frame decoded, ``detection: motion`` (the path before issue 9);
* ``gate``: the clip read through the compressed-domain gate as the live worker reads it (watch
  keyframes to the health checks only, the gate held active while the camera is busy);
* ``gate+on_demand``: the gate and ``detection: on_demand``.

``--precision fp32 int8`` runs each mode with the float and the int8 NanoDet (``detector.precision``
laid over every label file's detector; files whose detector is not NanoDet run once, the setting
does not apply to them), named ``mode/precision``.

Writes ``engine_quality.json``: TP/FP/FN, recall and F1 per event type pooled over the clips, per
mode, plus per clip, detector calls and CPU seconds. Label files that need the shared data
(``$SAFECITY_SHARED``) are skipped with a note when it is absent; ``--skip`` drops files by name
(the MOT17 files analyse every frame of 1080p video: minutes each on the shared machine).

Usage::

    .venv/bin/python bench/engine_quality_bench.py --out bench/results [--skip MOT17] [--only one-by-one]
        [--modes off gate] [--precision fp32 int8]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from safecity.errors import SafecityError
from safecity.monitor.evaluation.labels import find_label_files, load_labels
from safecity.monitor.evaluation.suite import evaluate_labels, sum_scores

REPO = Path(__file__).resolve().parents[1]
MODES: dict[str, dict[str, Any] | None] = {
    "off": None,
    "gate": {"gate": {"mode": "auto"}, "detection": {"mode": "motion"}},
    "gate+on_demand": {"gate": {"mode": "auto"}, "detection": {"mode": "on_demand"}},
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for engine_quality.json")
    ap.add_argument("--suite", type=Path, default=REPO / "tests" / "data" / "labels", help="label folder")
    ap.add_argument("--skip", nargs="*", default=["MOT17"], help="skip label files whose name contains these")
    ap.add_argument("--only", nargs="*", default=None, help="only label files whose name contains these")
    ap.add_argument("--modes", nargs="*", default=list(MODES), choices=list(MODES), help="engine modes")
    ap.add_argument(
        "--precision", nargs="*", default=[], choices=["fp32", "int8"],
        help="NanoDet precisions to compare (default: each label file's own setting)",
    )  # fmt: skip
    a = ap.parse_args(argv)
    runs: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]] = {}
    for mode in a.modes:
        for prec in a.precision or [None]:
            name = f"{mode}/{prec}" if prec else mode
            runs[name] = (MODES[mode], {"precision": prec} if prec else None)
    a.out.mkdir(parents=True, exist_ok=True)
    files = [f for f in find_label_files(a.suite) if not any(s in f.name for s in a.skip)]
    if a.only:
        files = [f for f in files if any(s in f.name for s in a.only)]
    per_clip: list[dict[str, Any]] = []
    pooled: dict[str, dict[str, list[Any]]] = {m: {} for m in runs}
    skipped: list[str] = []
    load0 = os.getloadavg()
    for f in files:
        try:
            lab = load_labels(f)
        except SafecityError as exc:
            skipped.append(f"{f.name}: {exc}")
            continue
        if not Path(lab.clip).exists():
            skipped.append(f"{f.name}: clip {lab.clip} not here")
            continue
        row: dict[str, Any] = {"labels": f.name}
        for mode, (engine, det) in runs.items():
            log(f"{f.name} {mode}")
            c0 = time.process_time()
            rep = evaluate_labels(f, engine=engine, detector_settings=det)
            row[mode] = {
                "cpu_s": round(time.process_time() - c0, 2),
                "detector_calls": rep.counters.get("detector_calls"),
                "frames": rep.counters.get("frames"),
                "events": {t: s.as_dict() for t, s in rep.events.items()},
            }
            for t, sc in rep.events.items():
                pooled[mode].setdefault(t, []).append(sc)
        per_clip.append(row)
    summary = {
        mode: {t: sum_scores(scores).as_dict() for t, scores in sorted(by_type.items())}
        for mode, by_type in pooled.items()
    }
    out = {
        "load_before": [round(x, 1) for x in load0],
        "load_after": [round(x, 1) for x in os.getloadavg()],
        "modes": {name: {"engine": eng, "detector": det} for name, (eng, det) in runs.items()},
        "pooled": summary,
        "clips": per_clip,
        "skipped": skipped,
    }
    (a.out / "engine_quality.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    log("type               mode                  TP  FP  FN  recall  F1")
    types = sorted({t for m in summary.values() for t in m})
    for t in types:
        for mode in runs:
            row_t = summary[mode].get(t)
            if row_t:
                tp, fp, fn = row_t["tp"], row_t["fp"], row_t["fn"]
                log(f"{t:18s} {mode:20s} {tp:3d} {fp:3d} {fn:3d}  {row_t['recall']}  {row_t['f1']}")
    for note in skipped:
        log(f"skipped {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
