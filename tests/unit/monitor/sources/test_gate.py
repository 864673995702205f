"""CompressedGate as a state machine: learning, trigger, hysteresis, quiet period, hold, floor, fallback.

Packet streams here are sequences of (time, size, keyframe) at 10 fps with a keyframe every second,
drawn from seeded generators; the real clips are in test_gated.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from safecity.monitor.sources.gate import CompressedGate, GateConfig, GateStep

FPS = 10


def _feed(gate: CompressedGate, t0: float, seconds: float, p_size: float, *, sd: float = 0.0, seed: int = 0,
          key_size: int = 15_000) -> list[GateStep]:  # fmt: skip
    """Packets from ``t0`` for ``seconds`` with P-frames of ``p_size`` bytes (+- ``sd``, seeded)."""
    rng = np.random.default_rng(seed)
    steps = []
    for i in range(round(seconds * FPS)):
        t = t0 + i / FPS
        key = round(t * FPS) % FPS == 0
        size = key_size if key else max(1, round(p_size + sd * rng.standard_normal()))
        steps.append(gate.observe(t, size, key))
    return steps


def _learned(cfg: GateConfig | None = None, p_size: float = 60, sd: float = 0.0) -> CompressedGate:
    gate = CompressedGate(cfg or GateConfig())
    steps = _feed(gate, 0.0, 10.0, p_size, sd=sd)
    assert steps[-1].state == "watch"
    return gate


def test_learning_then_watch_with_the_floor_of_the_quiet_stream() -> None:
    gate = CompressedGate()
    steps = _feed(gate, 0.0, 3.9, 60)
    assert {s.state for s in steps} == {"learning"} and gate.on_bps is None
    steps = _feed(gate, 3.9, 1.0, 60)
    assert steps[-1].state == "watch"
    assert [s.reason for s in steps if s.changed] == ["learned"]
    # 9 P-frames of 60 bytes per second
    assert gate.floor_bps == pytest.approx(540, abs=1)
    assert gate.on_bps == pytest.approx(540 + 2000, abs=1)  # min_on_bps dominates a clean floor


def test_activity_triggers_and_quiet_period_returns_to_watch() -> None:
    cfg = GateConfig(quiet_s=5.0)
    gate = _learned(cfg)
    steps = _feed(gate, 10.0, 3.0, 1_500)  # someone walks in: 13.5 KB/s
    trigger = next(i for i, s in enumerate(steps) if s.state == "active")
    assert steps[trigger].reason == "bytes" and steps[trigger].changed
    assert trigger <= 3  # within 0.3 s of the first bigger packet
    assert gate.active_since == pytest.approx(10.0 + trigger / FPS)
    steps = _feed(gate, 13.0, 8.0, 60)  # gone: the rate decays over the 1 s window, then 5 s quiet
    back = next(i for i, s in enumerate(steps) if s.state == "watch")
    assert steps[back].reason == "quiet"
    assert 5.0 <= back / FPS <= 6.5
    assert gate.activations == 1


def test_hysteresis_between_release_and_trigger_levels() -> None:
    gate = _learned()
    on, release = gate.on_bps, gate.release_bps
    assert on is not None and release is not None and release < on
    mid = (on + release) / 2 / 9  # a P-frame size whose rate lies between the two levels
    assert all(s.state == "watch" for s in _feed(gate, 10.0, 3.0, mid))  # not enough to trigger
    _feed(gate, 13.0, 1.0, 2_000)
    assert gate.state == "active"
    assert all(s.state == "active" for s in _feed(gate, 14.0, 20.0, mid))  # ... but enough to stay


def test_hold_keeps_the_gate_active_and_wakes_it() -> None:
    gate = _learned(GateConfig(quiet_s=2.0))
    gate.hold(30.0)
    step = gate.observe(10.0, 60, False)
    assert step.state == "active" and step.reason == "hold"
    assert all(s.state == "active" for s in _feed(gate, 10.1, 19.8, 60))
    assert _feed(gate, 29.9, 3.0, 60)[-1].state == "watch"


def test_noisy_floor_is_learned_and_an_entry_still_triggers() -> None:
    """Night-like noise: 2.4 KB +- 0.9 KB per P-frame (stack-notes §12); an entry adds 3-4 KB per frame."""
    gate = _learned(p_size=2_400, sd=900)
    assert gate.floor_bps == pytest.approx(9 * 2_400, rel=0.1)
    quiet = _feed(gate, 10.0, 120.0, 2_400, sd=900, seed=1)
    assert all(s.state == "watch" for s in quiet)  # two minutes of noise: no false trigger
    steps = _feed(gate, 130.0, 2.0, 2_400 + 3_500, sd=900, seed=2)
    trigger = next(i for i, s in enumerate(steps) if s.state == "active")
    assert trigger / FPS <= 1.0


def test_floor_follows_dusk_without_triggering() -> None:
    """Noise rising 4x over ten minutes (dusk, gain up) moves the floor with it."""
    gate = _learned(p_size=600, sd=150)
    rng_seed = 3
    t = 10.0
    for minute in range(10):
        size = 600 * (1.0 + 0.3 * (minute + 1))
        steps = _feed(gate, t, 60.0, size, sd=size / 4, seed=rng_seed + minute)
        assert all(s.state == "watch" for s in steps), f"minute {minute}"
        t += 60.0
    assert gate.floor_bps is not None and gate.floor_bps > 2.5 * 9 * 600


def _feed_with_picture(
    gate: CompressedGate, t0: float, seconds: int, p_size: float, *, static: bool
) -> list[GateStep]:
    steps = []
    for k in range(seconds):
        gate.picture(t0 + k, static)
        steps += _feed(gate, t0 + k, 1.0, p_size, sd=p_size / 20, seed=k)
    return steps


def test_a_new_steady_level_with_a_still_picture_is_relearned() -> None:
    """Lights switch: the floor jumps and stays, the picture is still: after relearn_s it is the floor."""
    cfg = GateConfig(relearn_s=30.0)
    gate = _learned(cfg, p_size=200, sd=20)
    steps = _feed_with_picture(gate, 10.0, 40, 2_000, static=True)
    assert steps[15].state == "active" and gate.activations == 1
    relearned = [s for s in steps if s.changed and s.reason == "relearned"]
    assert len(relearned) == 1 and steps[-1].state == "watch"
    assert gate.floor_bps == pytest.approx(9 * 2_000, rel=0.1)


@pytest.mark.parametrize("static", [False, None])
def test_steady_traffic_is_not_relearned_unless_the_picture_is_still(static: bool | None) -> None:
    """A steady rate from a moving picture (or with no picture reports at all) keeps decoding."""
    gate = _learned(GateConfig(relearn_s=30.0), p_size=200, sd=20)
    if static is None:
        steps = _feed(gate, 10.0, 90.0, 2_000, sd=100)
    else:
        steps = _feed_with_picture(gate, 10.0, 90, 2_000, static=static)
    assert all(s.state == "active" for s in steps[10:]) and gate.activations == 1


def test_health_keyframes_at_the_configured_rate() -> None:
    gate = _learned(GateConfig(health_every_s=5.0))
    steps = _feed(gate, 10.0, 30.0, 60)
    times = [10.0 + i / FPS for i, s in enumerate(steps) if s.decode_keyframe]
    assert len(times) == 6
    assert all(b - a == pytest.approx(5.0) for a, b in itertools.pairwise(times))


def test_all_intra_falls_back_during_learning() -> None:
    gate = CompressedGate()
    steps = [gate.observe(i / FPS, 12_000, True) for i in range(60)]
    assert gate.mode == "decode" and gate.fallback_reason == "all_intra"
    assert [s.reason for s in steps if s.changed] == ["all_intra"]
    assert gate.state == "active"
    assert gate.observe(6.0, 100, False).state == "active"  # for good


def test_fallback_is_permanent_and_restart_keeps_it() -> None:
    gate = _learned()
    gate.fallback("corrupt_packet")
    gate.fallback("constant_bitrate")  # the first reason stays
    gate.restart(20.0)
    assert gate.fallback_reason == "corrupt_packet" and gate.state == "active"
    assert all(s.state == "active" for s in _feed(gate, 20.0, 20.0, 60))


def test_restart_keeps_the_floor_and_decodes_until_quiet() -> None:
    gate = _learned(GateConfig(quiet_s=2.0))
    floor = gate.floor_bps
    gate.restart(50.0)
    assert gate.state == "active" and gate.floor_bps == floor
    steps = _feed(gate, 50.0, 4.0, 60)
    assert steps[-1].state == "watch"


@pytest.mark.parametrize(
    "kw",
    [{"window_s": 0.0}, {"quiet_s": -1.0}, {"release": 1.5}, {"max_buffer_bytes": 10}, {"floor_every": 0}],
)
def test_bad_config_is_refused(kw: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="GateConfig"):
        GateConfig(**kw)  # type: ignore[arg-type]


def test_a_drop_below_the_floor_makes_the_gate_active_once() -> None:
    """A frozen, blurred or covered picture codes to almost nothing: the rate falling under a quarter
    of the floor wakes the gate once (so the health checks see the change when it happens), not
    again while it stays low; a floor too low to drop from never does."""
    g = CompressedGate(GateConfig(learn_s=2.0, quiet_s=1.0))
    rng = np.random.default_rng(7)
    t = 0.0
    for _ in range(300):  # 30 s of a noisy camera: ~1 kB per P-frame at 10 fps (10 kB/s)
        t += 0.1
        g.observe(t, int(rng.normal(1000, 40)), False)
    assert g.state == "watch" and g.floor_bps is not None and g.drop_bps is not None
    reasons = []
    for _ in range(100):  # frozen: 30 bytes per P-frame
        t += 0.1
        step = g.observe(t, 30, False)
        if step.changed:
            reasons.append((step.state, step.reason))
    assert reasons[0] == ("active", "drop")
    assert [r for r in reasons if r[0] == "active"] == [("active", "drop")]  # once per drop
    quiet = CompressedGate(GateConfig(learn_s=2.0))
    for i in range(100):
        quiet.observe(i / 10, 30, False)
    assert quiet.drop_bps is None
