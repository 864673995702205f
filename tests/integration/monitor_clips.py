"""A short real camera for `safecity monitor` tests.

The first 15 s of the bundled Intel lot clip (the white car leaves left, a cyclist rides through the
'bays' zone) and a config with one intrusion rule on that zone.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO / "data" / "video" / "intel-sample-videos" / "person-bicycle-car-detection.mp4"


def lot_camera_config(folder: Path) -> Path:
    """Cut the clip into ``folder`` and write the camera config next to it; returns the config's path."""
    clip = folder / "lot15.mp4"
    cut = ["ffmpeg", "-v", "error", "-y", "-i", str(CLIP), "-t", "15", "-an", "-c:v", "copy", str(clip)]
    subprocess.run(cut, check=True)
    cfg = folder / "cams.yaml"
    cfg.write_text(
        f"""
detector: {{type: nanodet, conf: 0.25}}
tracker: {{high_thresh: 0.3, new_track_thresh: 0.3, lost_s: 2.0}}
cameras:
  - id: lot
    source: {clip}
    zones:
      - {{name: bays, polygon: [[0.3, 0.0], [1.0, 0.0], [1.0, 0.35], [0.3, 0.35]]}}
    rules:
      - {{type: intrusion, zone: bays, classes: [person, bicycle], min_s: 0.5}}
""",
        encoding="utf-8",
    )
    return cfg
