"""Evaluation: KISA-window event scoring, tracking and detector metrics (``suite``), label files (``labels``),
plain-text outputs: event JSON lines and MOT tracks (``jsonl``)."""
