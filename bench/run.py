"""Run every ``bench/*_bench.py`` (each in its own subprocess) with ``--out DIR`` and summarise.

Each benchmark writes its own JSON files into ``DIR``; this runner only starts them one after another
(the machine is shared: never in parallel), records exit code and wall time per benchmark in
``DIR/run_summary.json`` and prints one line per benchmark plus the JSON files it produced.

Usage::

    .venv/bin/python bench/run.py --out bench/results
    .venv/bin/python bench/run.py --out bench/results --only plan detector
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for the JSON results")
    ap.add_argument("--only", nargs="*", default=None, help="names to run (e.g. plan for plan_bench.py)")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    scripts = sorted(HERE.glob("*_bench.py"))
    if a.only:
        scripts = [s for s in scripts if s.stem.removesuffix("_bench") in a.only]
    summary = []
    for script in scripts:
        before = {p: p.stat().st_mtime for p in a.out.glob("*.json")}
        print(f"== {script.name}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.run([sys.executable, str(script), "--out", str(a.out)]).returncode
        wall = time.perf_counter() - t0
        files = sorted(
            str(p.name)
            for p in a.out.glob("*.json")
            if p.name != "run_summary.json" and before.get(p) != p.stat().st_mtime
        )
        summary.append({"bench": script.name, "exit_code": rc, "wall_s": round(wall, 1), "files": files})
    (a.out / "run_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print("\nbenchmark            exit   wall_s  files")
    for s in summary:
        print(f"{s['bench']:<20} {s['exit_code']:>4} {s['wall_s']:>8}  {', '.join(s['files'])}")
    return 0 if all(s["exit_code"] == 0 for s in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
