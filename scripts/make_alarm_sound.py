"""Write the console's alarm sound, ``src/safecity/web/static/audio/alarm.wav`` (made here, no recording).

Three two-tone beeps (988 Hz + 1319 Hz, B5/E6: high, clear over room noise, not a siren), each 0.18 s with
10 ms fades, 0.08 s apart, 16 kHz mono 16-bit PCM, about 0.8 s and 26 KB. Deterministic: the same bytes
every run (``python scripts/make_alarm_sound.py [--out PATH]``).
"""

from __future__ import annotations

import argparse
import wave
from pathlib import Path

import numpy as np

RATE = 16_000
OUT = Path(__file__).resolve().parents[1] / "src" / "safecity" / "web" / "static" / "audio" / "alarm.wav"


def alarm_samples(rate: int = RATE) -> np.ndarray:
    """The alarm as int16 samples."""
    beep_s, gap_s, fade_s = 0.18, 0.08, 0.01
    t = np.arange(int(beep_s * rate)) / rate
    beep = 0.5 * np.sin(2 * np.pi * 988 * t) + 0.35 * np.sin(2 * np.pi * 1319 * t)
    fade = np.minimum(1.0, np.minimum(t, beep_s - t) / fade_s)
    beep *= fade
    gap = np.zeros(int(gap_s * rate))
    parts = [beep, gap, beep, gap, beep, gap]
    out = np.concatenate(parts) * 0.8
    return np.asarray(np.round(out * 32767), dtype=np.int16)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT, help=f"where to write the WAV (default {OUT})")
    args = ap.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(args.out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(alarm_samples().tobytes())
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
