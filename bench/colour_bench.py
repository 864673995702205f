"""Colour attribute quality: the palette classifier on real tracks of the bundled Intel clips.

Runs each clip's monitoring config (detector, tracker, zones) through ``CameraPipeline`` and a
``TrackSummariser``, then compares each record's *dominant* colour per part (the first named) with
the colour labelled by eye in ``tests/data/colours/track-colours.yaml`` (method in that file). Reports
per-colour precision and recall, accuracy of the dominant colour, and how often the labelled colour
is among the (at most two) named colours. Records missing from the labels (a detector change) are
listed, never guessed.

Usage::

    .venv/bin/python bench/colour_bench.py --out bench/results

Writes ``DIR/colour_bench.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import yaml
from where_else_bench import CONFIGS, track_records  # the same clips, one pipeline loop

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

LABELS = REPO / "tests/data/colours/track-colours.yaml"
# the labels name the records (uids) of the tracks the float NanoDet gave; the int8 default finds
# other tracks, so the bench runs the model the labels were made with
LABELLED_WITH = {"precision": "fp32"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for colour_bench.json")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    labels: dict[str, dict[str, str]] = yaml.safe_load(LABELS.read_text(encoding="utf-8"))["records"]
    pairs: list[tuple[str, str, str, tuple[str, ...]]] = []  # uid, part, truth, named
    unlabelled, excluded = [], []
    for config in CONFIGS:
        print(f"== {config.name}", file=sys.stderr, flush=True)
        for r in track_records(config, detector=LABELLED_WITH):
            lab = labels.get(r.uid)
            if lab is None:
                unlabelled.append(r.uid)
                continue
            if "exclude" in lab:
                excluded.append(r.uid)
                continue
            for part, truth in lab.items():
                pairs.append((r.uid, part, truth, tuple(r.colours.get(part, ()))))
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for _, _, truth, named in pairs:
        guess = named[0] if named else "none"
        if guess == truth:
            tp[truth] += 1
        else:
            fp[guess] += 1
            fn[truth] += 1
    colours = sorted(set(tp) | set(fp) | set(fn))
    per = {
        c: {
            "labelled": tp[c] + fn[c],
            "predicted": tp[c] + fp[c],
            "precision": round(tp[c] / (tp[c] + fp[c]), 3) if tp[c] + fp[c] else None,
            "recall": round(tp[c] / (tp[c] + fn[c]), 3) if tp[c] + fn[c] else None,
        }
        for c in colours
    }
    n = len(pairs)
    result = {
        "bench": "colour",
        "labels": str(LABELS.relative_to(REPO)),
        "parts": n,
        "dominant_accuracy": round(sum(tp.values()) / n, 3) if n else None,
        "labelled_among_named": round(sum(t in named for _, _, t, named in pairs) / n, 3) if n else None,
        "per_colour": per,
        "excluded": excluded,
        "unlabelled": unlabelled,
        "pairs": [{"uid": u, "part": p, "truth": t, "named": list(nm)} for u, p, t, nm in pairs],
    }
    (a.out / "colour_bench.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"{'colour':<8} {'labelled':>8} {'predicted':>9} {'precision':>9} {'recall':>7}")
    for c, v in per.items():
        print(f"{c:<8} {v['labelled']:>8} {v['predicted']:>9} {v['precision']!s:>9} {v['recall']!s:>7}")
    print(f"dominant colour right on {result['dominant_accuracy']} of {n} parts; labelled colour named on "
          f"{result['labelled_among_named']}; unlabelled records: {len(unlabelled)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
