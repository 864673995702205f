#!/usr/bin/env python3
"""Reproduction of issue 11, item 1: restarted file cameras must not swallow alarms.

Runs ``safecity monitor`` RUNS times (default 3) on the same cameras into ONE database, each run with
``--events-jsonl`` of its own, then compares the event starts the runs emitted with the distinct events
in the store. Before the fix, uids were ``<camera>-<type>-<zone>-<file time ms>-<n>`` with a counter
per process, so every restart produced the same uids and the store merged them into the old rows
(53 starts over 3 runs became 20 rows).

    .venv/bin/python scripts/repro/restart_identity.py            # bundled 15 s clip, 3 runs
    .venv/bin/python scripts/repro/restart_identity.py --config configs/demo-cameras.yaml --duration 40

Prints one JSON object (starts per run, distinct events, media files, ok) and exits 0 when the number
of distinct events equals the sum of the starts and no snapshot or clip was overwritten, else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO / "data" / "video" / "intel-sample-videos" / "person-bicycle-car-detection.mp4"
CLIP_CONFIG = """
detector: {{type: nanodet, conf: 0.25}}
tracker: {{high_thresh: 0.3, new_track_thresh: 0.3, lost_s: 2.0}}
outputs: {{media_dir: {media}}}
cameras:
  - id: lot
    source: {clip}
    zones:
      - {{name: bays, polygon: [[0.3, 0.0], [1.0, 0.0], [1.0, 0.35], [0.3, 0.35]]}}
    rules:
      - {{type: intrusion, zone: bays, classes: [person, bicycle], min_s: 0.5}}
"""


def _bundled_config(work: Path) -> Path:
    clip = work / "lot15.mp4"  # the first 15 s: a cyclist rides through the bays
    cut = ["ffmpeg", "-v", "error", "-y", "-i", str(CLIP), "-t", "15", "-an", "-c:v", "copy", str(clip)]
    subprocess.run(cut, check=True)
    cfg = work / "cams.yaml"
    cfg.write_text(CLIP_CONFIG.format(clip=clip, media=work / "media"), encoding="utf-8")
    return cfg


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--runs", type=int, default=3, choices=range(2, 11), metavar="N", help="monitor runs (2-10)"
    )
    ap.add_argument("--config", type=Path, help="cameras config (default: the bundled 15 s clip)")
    ap.add_argument("--duration", type=float, default=120.0, help="seconds per run at most (default 120)")
    ap.add_argument("--workdir", type=Path, help="keep the database and logs here (default: a temp folder)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="safecity-repro-") as tmp:
        work = (args.workdir or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        cfg = args.config.resolve() if args.config else _bundled_config(work)
        url = f"sqlite:///{work / 'events.db'}"
        env = {**os.environ, "SAFECITY_HOME": str(work / "home")}
        starts: list[int] = []
        for i in range(args.runs):
            jsonl = work / f"run{i + 1}.jsonl"
            cmd = [sys.executable, "-m", "safecity.cli", "-q", "monitor", "--config", str(cfg),
                   "--database-url", url, "--events-jsonl", str(jsonl),
                   "--duration", str(args.duration)]  # fmt: skip
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            if proc.returncode != 0:
                print(f"run {i + 1} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}", file=sys.stderr)
                return 2
            lines = [json.loads(x) for x in jsonl.read_text(encoding="utf-8").splitlines() if x.strip()]
            starts.append(sum(1 for x in lines if x["kind"] == "start"))
            print(f"run {i + 1}: {starts[-1]} event start(s)", file=sys.stderr)
        from sqlalchemy import func, select

        from safecity.store.db import connect
        from safecity.store.schema import events

        engine = connect(url)
        with engine.connect() as c:
            distinct = int(c.execute(select(func.count()).select_from(events)).scalar_one())
            uids = [r[0] for r in c.execute(select(events.c.uid))]
        engine.dispose()
        media = sorted(p.name for p in work.rglob("*") if p.suffix in (".jpg", ".mp4") and "media" in p.parts)
        out = {
            "runs": args.runs,
            "starts_per_run": starts,
            "starts_total": sum(starts),
            "distinct_events": distinct,
            "distinct_uids": len(set(uids)),
            "media_files": len(media),
            "ok": distinct == sum(starts) and sum(starts) > 0,
        }
        print(json.dumps(out))
        return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
