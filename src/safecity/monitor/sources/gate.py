"""The compressed-domain gate: is anything happening, judged from packet sizes alone (pure, no I/O).

In H.264/HEVC a predicted frame codes what changed since the frames before it, so the bytes per
second of the non-key frames rise when something moves: on the bundled
``one-by-one-person-detection.mp4`` 0-1 KB/s with the room empty, 15-24 KB/s when someone walks in
(stack-notes.md §12). Sensor noise raises the floor (2.4 KB per P-frame with ``noise=alls=4``),
so every threshold is relative to the camera's own learned floor.

:class:`CompressedGate` is fed one packet at a time (time, size, keyframe flag) and answers with a
:class:`GateStep`:

* **rate**: bytes per second of the non-key packets over the last ``window_s`` (1 s). A sliding
  one-second sum averages out the size pattern inside a GOP (P and B frames, the larger first
  P-frame after a keyframe) without knowing the GOP's layout.
* **floor**: median and robust sigma (1.4826 x MAD) of that rate over the last ``floor_s`` (120 s)
  of quiet packets, recomputed every ``floor_every`` samples. Only samples taken in watch mode
  below the trigger level enter it, so activity never teaches the floor; the floor follows slow
  changes (dusk, night noise) within a minute.
* **states**: ``learning`` (the first ``learn_s``: decode everything and learn the floor),
  ``watch`` (decode nothing but a keyframe every ``health_every_s`` for the health checks), and
  ``active`` (decode everything). Watch -> active when the rate exceeds
  ``floor + margin`` with ``margin = max(k_on x sigma, rel_on x floor, min_on_bps)``; active ->
  watch once the *mean* rate over the last ``quiet_s`` (5 s) is below ``floor + release x margin``
  (hysteresis: a quarter of the margin; the 5 s mean is steady enough under sensor noise to sit
  that close to the floor, so a person standing still keeps it active) and no
  :meth:`~CompressedGate.hold` is pending. An active period whose rate is steady for
  ``relearn_s`` (robust spread < ``steady_cv``) while the decoded picture stayed still
  (:meth:`~CompressedGate.picture`, reported by the source: a new noise level after lights or IR
  switched, not people moving) becomes the new floor. Without such reports the gate never
  relearns: it stays active, which costs decoding but never blinds the camera.
* **drop**: in watch mode the rate falling below a quarter of the floor (floors of at least
  ``min_on_bps / 2``) makes the gate active once per drop: a frozen, blurred or covered picture
  codes to almost nothing, and the health checks must see it when it happens, not at the next
  health keyframe (their durations, e.g. ``frozen_s``, count from the first frame that shows it).
* **fallback**: :meth:`~CompressedGate.fallback` switches the gate off for good (decode every
  frame); the gate itself calls it when nearly every packet of the learning period is a keyframe
  (all-intra streams, MJPEG): ``all_intra``. The source adds the reasons it sees in the bytes
  (filler data of constant-bitrate streams, corrupt packets, GOPs over the memory bound, a
  resolution change).

Latency: the gate triggers on the first packet that lifts the one-second rate over the trigger
level, which for a person entering is within 0.1-0.5 s of the first pixels changing on the
clips measured (docs/monitoring.md, bench/gate_bench.py); the source then decodes from the last
keyframe, so no frame between that keyframe and the trigger is lost.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "CompressedGate",
    "FALLBACK_REASONS",
    "GateConfig",
    "GateMode",
    "GateState",
    "GateStep",
]

_DROP_SHARE = 0.25  # the rate falling below this share of the floor is a drop (frozen, blurred, covered)

GateState = Literal["learning", "watch", "active"]
GateMode = Literal["compressed", "decode"]

FALLBACK_REASONS: dict[str, str] = {
    "configured": "the camera's config asks to decode every frame",
    "all_intra": "every packet is a keyframe (all-intra or MJPEG): sizes do not say what moved",
    "constant_bitrate": "constant-bitrate stream (HRD cbr_flag or filler data): sizes carry no signal",
    "gop_exceeds_memory": "keyframes are further apart than the packet memory bound allows",
    "corrupt_packet": "a corrupt packet arrived (transmission error): decoding every frame to stay safe",
    "resolution_change": "the stream changed its resolution mid-stream",
}
"""Why the gate falls back to decoding every frame (reason -> text for the camera's status)."""


@dataclass(frozen=True, slots=True)
class GateConfig:
    """Settings of :class:`CompressedGate` (defaults measured on the bundled clips, see module doc).

    Attributes:
        window_s: the byte rate is summed over this many seconds of non-key packets.
        learn_s: learning period after a start (everything decoded).
        k_on: trigger margin in robust sigmas of the floor ...
        rel_on: ... or as a multiple of the floor ...
        min_on_bps: ... or in bytes per second, whichever is largest.
        release: the gate releases when the mean rate over the last ``quiet_s`` ...
        quiet_s: ... is below ``floor + release x margin`` (and it was active at least this long).
        floor_s: history of quiet rates the floor is taken from.
        floor_every: recompute the floor every this many samples.
        health_every_s: in watch mode, decode a keyframe at most this often.
        relearn_s: an active period with a steady rate this long becomes the new floor.
        steady_cv: "steady": robust sigma / median of the rate below this.
        all_intra_share: share of keyframes in the learning period that means all-intra.
        max_buffer_bytes: memory for the packets since the last keyframe (the source's bound).
    """

    window_s: float = 1.0
    learn_s: float = 4.0
    k_on: float = 6.0
    rel_on: float = 0.5
    min_on_bps: float = 2000.0
    release: float = 0.25
    quiet_s: float = 5.0
    floor_s: float = 120.0
    floor_every: int = 10
    health_every_s: float = 5.0
    relearn_s: float = 120.0
    steady_cv: float = 0.15
    all_intra_share: float = 0.9
    max_buffer_bytes: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        positive = ("window_s", "learn_s", "k_on", "quiet_s", "floor_s", "health_every_s", "relearn_s")
        for name in positive:
            v = getattr(self, name)
            if not (v > 0 and np.isfinite(v)):
                raise ValueError(f"GateConfig.{name} must be a positive number, got {v!r}")
        if not 0.0 < self.release <= 1.0:
            raise ValueError(f"GateConfig.release must be in (0, 1], got {self.release!r}")
        if self.max_buffer_bytes < 64 * 1024:
            raise ValueError(
                f"GateConfig.max_buffer_bytes must be at least 64 KiB, got {self.max_buffer_bytes}"
            )
        if self.floor_every < 1 or not 0.0 < self.all_intra_share <= 1.0:
            raise ValueError("GateConfig.floor_every must be >= 1 and all_intra_share in (0, 1]")


@dataclass(frozen=True, slots=True)
class GateStep:
    """The gate's answer to one packet.

    Attributes:
        state: state after this packet.
        changed: the state changed at this packet.
        decode_keyframe: (watch) decode this keyframe for the health checks.
        rate_bps: non-key bytes per second over the window.
        on_bps: the trigger level (None while learning).
        reason: why the state changed (``bytes``, ``hold``, ``keyframe_change``, ``quiet``,
            ``relearned``, ``learned``, ``restart``, or a fallback reason).
    """

    state: GateState
    changed: bool
    decode_keyframe: bool
    rate_bps: float
    on_bps: float | None
    reason: str | None = None


class CompressedGate:
    """Watch / active state machine over packet sizes and timestamps (seconds).

    Example:
        >>> g = CompressedGate(GateConfig(learn_s=2.0, quiet_s=1.0))
        >>> steps = [g.observe(i / 10, 2000 if i % 10 == 0 else 60, i % 10 == 0) for i in range(40)]
        >>> steps[-1].state
        'watch'
        >>> g.observe(4.0, 2000, True).state, g.observe(4.1, 3000, False).state
        ('watch', 'active')
    """

    def __init__(self, config: GateConfig | None = None) -> None:
        self.config = config or GateConfig()
        self.state: GateState = "learning"
        self.fallback_reason: str | None = None
        self.activations = 0
        self._window: deque[tuple[float, int]] = deque()
        self._wsum = 0
        self._floor: deque[tuple[float, float]] = deque()
        self._active_rates: deque[tuple[float, float]] = deque()
        self._since_floor = 0
        self._median: float | None = None
        self._sigma = 0.0
        self._start_t: float | None = None
        self._now = -np.inf
        self._learn_packets = 0
        self._learn_keys = 0
        self._recent: deque[tuple[float, float]] = deque()  # active: rates over the last quiet_s
        self._recent_sum = 0.0
        self._active_since: float | None = None
        self._hold_until = -np.inf
        self._last_health = -np.inf
        self._static_since: float | None = None
        self._dropped = False  # the rate is below the drop level (a drop triggers once per episode)

    # -- levels ----------------------------------------------------------------------------------

    @property
    def mode(self) -> GateMode:
        """``compressed`` while the gate works, ``decode`` after a fallback."""
        return "decode" if self.fallback_reason is not None else "compressed"

    @property
    def active_since(self) -> float | None:
        """Time of the packet that made the gate active (None in watch / learning / fallback)."""
        return self._active_since if self.state == "active" and self.fallback_reason is None else None

    @property
    def floor_bps(self) -> float | None:
        """Learned quiet rate (bytes per second of non-key packets), None before learning."""
        return self._median

    def _margin(self) -> float:
        c = self.config
        m = self._median or 0.0
        return max(c.k_on * self._sigma, c.rel_on * m, c.min_on_bps)

    @property
    def on_bps(self) -> float | None:
        """Trigger level in bytes per second (None before learning)."""
        return None if self._median is None else self._median + self._margin()

    @property
    def drop_bps(self) -> float | None:
        """Drop level: the rate falling below it (a frozen, blurred or covered picture codes to almost
        nothing) makes the gate active once, so the health checks see the change when it happens."""
        m = self._median
        if m is None or m < self.config.min_on_bps / 2:  # a floor this low has nowhere to drop to
            return None
        return _DROP_SHARE * m

    @property
    def release_bps(self) -> float | None:
        """Release level in bytes per second (None before learning)."""
        return None if self._median is None else self._median + self.config.release * self._margin()

    def _refit(self, rates: list[float] | None = None) -> None:
        r = np.asarray(rates if rates is not None else [v for _, v in self._floor], dtype=np.float64)
        if r.size == 0:
            return
        med = float(np.median(r))
        self._median = med
        self._sigma = float(1.4826 * np.median(np.abs(r - med)))
        self._since_floor = 0

    # -- input -----------------------------------------------------------------------------------

    def hold(self, until_t_s: float) -> None:
        """Stay (or go) active until ``until_t_s`` (the pipeline has live tracks or open events)."""
        self._hold_until = max(self._hold_until, until_t_s)

    def picture(self, t_s: float, static: bool) -> None:
        """The decoded picture at ``t_s`` did (not) change since the previous report (~1 s)."""
        if not static:
            self._static_since = None
        elif self._static_since is None:
            self._static_since = t_s

    def force_active(self, t_s: float, reason: str) -> GateStep:
        """Go active now (e.g. a decoded keyframe differs from the last quiet picture)."""
        return self._to_active(t_s, reason)

    def fallback(self, reason: str) -> None:
        """Switch the gate off for good: decode every frame from now on."""
        if self.fallback_reason is None:
            self.fallback_reason = reason
        self.state = "active"

    def restart(self, t_s: float) -> None:
        """A new stream session (reconnect, loop): keep the floor, decode until quiet again."""
        self._window.clear()
        self._wsum = 0
        self._now = t_s
        if self.fallback_reason is not None:
            return
        if self._median is None:
            self.state = "learning"
            self._start_t = None
        else:
            self._to_active(t_s, "restart")

    def _to_active(self, t_s: float, reason: str) -> GateStep:
        changed = self.state != "active"
        if changed:
            self.activations += 1
            self._active_since = t_s
            self._active_rates.clear()
            self._static_since = None
            self._recent.clear()
            self._recent_sum = 0.0
        self.state = "active"
        return GateStep("active", changed, False, self._wsum / self.config.window_s, self.on_bps, reason)

    def observe(self, t_s: float, size: int, keyframe: bool) -> GateStep:
        """One packet (decode order; ``t_s`` its presentation time in seconds)."""
        c = self.config
        if self._start_t is None:
            self._start_t = t_s
        now = self._now = max(self._now, t_s)
        if not keyframe:
            self._window.append((t_s, size))
            self._wsum += size
        while self._window and self._window[0][0] <= now - c.window_s:
            self._wsum -= self._window.popleft()[1]
        rate = self._wsum / c.window_s
        full = now - self._start_t >= c.window_s
        if self.fallback_reason is not None:
            return GateStep("active", False, False, rate, None, None)
        if self.state == "learning":
            return self._learn(now, keyframe, rate, full)
        on = self.on_bps
        assert on is not None
        if self.state == "watch":
            if rate > on or now < self._hold_until:
                step = self._to_active(now, "bytes" if rate > on else "hold")
                return GateStep("active", True, False, rate, on, step.reason)
            drop = self.drop_bps
            below = full and drop is not None and rate < drop
            if below and not self._dropped:  # the picture froze, blurred or went dark: let health see it
                self._dropped = True
                step = self._to_active(now, "drop")
                return GateStep("active", True, False, rate, on, step.reason)
            self._dropped = below
            self._floor.append((now, rate))
            while self._floor and self._floor[0][0] < now - c.floor_s:
                self._floor.popleft()
            self._since_floor += 1
            if self._since_floor >= c.floor_every:
                self._refit()
            health = keyframe and now - self._last_health >= c.health_every_s
            if health:
                self._last_health = now
            return GateStep("watch", False, health, rate, self.on_bps)
        # active
        release = self.release_bps
        assert release is not None
        self._active_rates.append((now, rate))
        while self._active_rates and self._active_rates[0][0] < now - c.relearn_s:
            self._active_rates.popleft()
        self._recent.append((now, rate))
        self._recent_sum += rate
        while self._recent and self._recent[0][0] <= now - c.quiet_s:
            self._recent_sum -= self._recent.popleft()[1]
        quiet_from = max(self._active_since if self._active_since is not None else now, self._hold_until)
        if (
            now - quiet_from >= c.quiet_s
            and rate < release
            and self._recent_sum / len(self._recent) < release
        ):
            return self._to_watch(now, rate, "quiet")
        if (
            self._active_since is not None
            and now - self._active_since >= c.relearn_s
            and now >= self._hold_until
            and self._static_since is not None
            and now - self._static_since >= c.relearn_s
            and len(self._active_rates) >= 10
        ):
            rates = [v for _, v in self._active_rates]
            med = float(np.median(rates))
            spread = 1.4826 * float(np.median(np.abs(np.asarray(rates) - med)))
            if med > 0 and spread / med < c.steady_cv:
                self._floor = deque(self._active_rates)
                self._refit()
                return self._to_watch(now, rate, "relearned")
        return GateStep("active", False, False, rate, on)

    def _to_watch(self, now: float, rate: float, reason: str) -> GateStep:
        self.state = "watch"
        self._active_since = None
        self._last_health = now  # the pipeline has just seen fresh frames
        return GateStep("watch", True, False, rate, self.on_bps, reason)

    def _learn(self, now: float, keyframe: bool, rate: float, full: bool) -> GateStep:
        c = self.config
        assert self._start_t is not None
        self._learn_packets += 1
        self._learn_keys += int(keyframe)
        if full:
            self._floor.append((now, rate))
        if now - self._start_t < c.learn_s or self._learn_packets < 8:
            return GateStep("learning", False, False, rate, None)
        if self._learn_keys >= c.all_intra_share * self._learn_packets:
            self.fallback("all_intra")
            return GateStep("active", True, False, rate, None, "all_intra")
        if not self._floor:
            return GateStep("learning", False, False, rate, None)
        self._refit()
        self.state = "watch"
        self._last_health = now
        return GateStep("watch", True, False, rate, self.on_bps, "learned")
