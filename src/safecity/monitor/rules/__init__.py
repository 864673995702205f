"""Rules as pure state machines over tracks and time: object rules (``objects``), camera health (``health``)
and the per-camera rule set built from config (``build``)."""
