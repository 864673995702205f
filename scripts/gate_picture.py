"""Draw docs/img/gate-packet-sizes.png: packet byte rate vs labelled activity on the bundled room clip.

Top: ``one-by-one-person-detection.mp4`` as shipped (768x432, 10 fps, GOP 1 s, B-frames). Bottom: the
same clip made night-like (darkened, ``noise=alls=4:allf=t``, 640x360, GOP 1 s) with ffmpeg into a
temporary folder. Each panel shows the non-key bytes per second over the gate's 1 s window, the
learned trigger level, the gate's state per packet (``CompressedGate`` fed by ``PacketReader``,
exactly as ``GatedSource`` feeds it; no hold from a pipeline) and the labelled intrusions
(tests/data/labels/one-by-one-person-detection.yaml).

Usage: ``.venv/bin/python scripts/gate_picture.py [--out docs/img/gate-packet-sizes.png]``
(needs matplotlib, which is not a project dependency: ``.venv/bin/pip install matplotlib``).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from safecity.monitor.evaluation.labels import load_labels
from safecity.monitor.sources.gate import CompressedGate
from safecity.monitor.sources.packets import Packet, PacketReader

REPO = Path(__file__).resolve().parents[1]
ROOM = REPO / "data" / "video" / "intel-sample-videos" / "one-by-one-person-detection.mp4"
LABELS = REPO / "tests" / "data" / "labels" / "one-by-one-person-detection.yaml"
COLORS = {"learning": "#9ecae1", "watch": "#d9d9d9", "active": "#fdae6b"}


def trace(path: Path) -> tuple[list[float], list[float], list[float | None], list[str]]:
    gate = CompressedGate()
    t, rate, on, state = [], [], [], []
    for item in PacketReader(path, camera="plot"):
        if isinstance(item, Packet):
            step = gate.observe(item.t_s, item.size, item.keyframe)
            t.append(item.t_s)
            rate.append(step.rate_bps / 1000)
            on.append(None if step.on_bps is None else step.on_bps / 1000)
            state.append(step.state)
    return t, rate, on, state


def panel(ax: plt.Axes, path: Path, title: str, intrusions: list[tuple[float, float]]) -> None:
    t, rate, on, state = trace(path)
    top = max(rate) * 1.1
    for (a, b), first in zip(intrusions, [True] + [False] * (len(intrusions) - 1), strict=True):
        ax.axvspan(a, b, ymin=0.93, ymax=1.0, color="#31a354", label="labelled intrusion" if first else None)
    start = 0
    for i in range(1, len(t) + 1):
        if i == len(t) or state[i] != state[start]:
            ax.axvspan(t[start], t[i - 1], ymax=0.06, color=COLORS[state[start]], lw=0)
            start = i
    ax.plot(t, rate, color="#08519c", lw=1.0, label="non-key bytes/s over 1 s (KB/s)")
    ax.plot(t, [v if v is not None else float("nan") for v in on], color="#de2d26", lw=1.0, ls="--",
            label="trigger level (learned floor + margin)")  # fmt: skip
    for name, color in COLORS.items():
        ax.plot([], [], color=color, lw=6, label=f"gate: {name}")
    ax.set_ylim(0, top)
    ax.set_xlim(0, t[-1])
    ax.set_ylabel("KB/s")
    ax.set_title(title, fontsize=10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "gate-packet-sizes.png")
    a = ap.parse_args()
    ev = load_labels(LABELS).doc.events
    intrusions = [(e.start_s, e.end_s or e.start_s) for e in ev if e.type == "intrusion"]
    with tempfile.TemporaryDirectory() as tmp:
        night = Path(tmp) / "night.mp4"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(ROOM), "-an", "-vf",
             "scale=640:360,eq=brightness=-0.25,noise=alls=4:allf=t", "-c:v", "libx264",
             "-preset", "veryfast", "-g", "10", "-pix_fmt", "yuv420p", str(night)], check=True,
        )  # fmt: skip
        fig, axes = plt.subplots(2, 1, figsize=(11, 6.2), sharex=True)
        panel(
            axes[0],
            ROOM,
            "one-by-one-person-detection.mp4 as shipped (768x432, GOP 1 s, B-frames)",
            intrusions,
        )
        panel(
            axes[1],
            night,
            "the same clip night-like: darkened, noise=alls=4:allf=t (640x360, GOP 1 s)",
            intrusions,
        )
    axes[1].set_xlabel("seconds")
    axes[0].legend(loc="upper left", fontsize=7, ncol=3, framealpha=0.9)
    fig.tight_layout()
    a.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out, dpi=110)
    print(a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
