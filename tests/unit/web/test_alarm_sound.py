"""The bundled alarm sound is what scripts/make_alarm_sound.py makes (provenance), and a valid short WAV."""

from __future__ import annotations

import importlib.util
import wave
from pathlib import Path

from safecity.web.app import STATIC_DIR

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "make_alarm_sound.py"


def test_bundled_alarm_is_the_generated_one(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_alarm_sound", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--out", str(tmp_path / "a.wav")]) == 0
    bundled = STATIC_DIR / "audio" / "alarm.wav"
    assert (tmp_path / "a.wav").read_bytes() == bundled.read_bytes()
    with wave.open(str(bundled)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16_000)
        assert 0.5 < w.getnframes() / w.getframerate() < 1.5
