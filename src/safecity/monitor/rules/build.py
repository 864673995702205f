"""The rules of one camera, built from its config: :func:`build_rules` -> :class:`RuleSet`.

The rule classes live in :mod:`safecity.monitor.rules.objects` (intrusion, line crossing, loitering,
crowding, fall, abandoned object) and :mod:`safecity.monitor.rules.health` (camera health); they are
re-exported here. Every rule is a pure state machine: ``update(tracks, t_s, frame_wh)`` returns
``(kind, Event)`` pairs, kind being ``start``, ``update`` or ``end``.

Example:
    >>> from safecity.monitor.config.model import CameraConfig
    >>> cam = CameraConfig.model_validate({"id": "c1", "source": "x.mp4",
    ...     "zones": [{"name": "gate", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
    ...     "rules": [{"type": "intrusion", "zone": "gate", "min_s": 0}]})
    >>> import numpy as np
    >>> tracks = Tracks(1.0, np.array([7]), np.array([[10, 10, 20, 40]], np.float32),
    ...                 np.array([0.9], np.float32), np.array(["person"]), np.array([0.5]))
    >>> rs = build_rules(cam)
    >>> [(k, e.type, e.zone, e.track_ids) for k, e in rs.update(tracks, 1.0, (100, 100))]
    [('start', 'intrusion', 'gate', (7,))]
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Protocol

import numpy as np
import numpy.typing as npt

from safecity.monitor.config.model import (
    AbandonedObjectRuleConfig,
    CameraConfig,
    CameraHealthRuleConfig,
    CrowdingRuleConfig,
    FallRuleConfig,
    IntrusionRuleConfig,
    LineCrossingRuleConfig,
    LoiteringRuleConfig,
    ZoneConfig,
    local_time,
)
from safecity.monitor.rules.health import CameraHealthMonitor
from safecity.monitor.rules.objects import (
    AbandonedObjectRule,
    Clock,
    CrowdingRule,
    Emission,
    FallRule,
    IntrusionRule,
    LineCrossingRule,
    LoiteringRule,
    torso_angle_deg,
)
from safecity.monitor.types import Event, Tracks

__all__ = [
    "AbandonedObjectRule",
    "CameraHealthMonitor",
    "Clock",
    "CrowdingRule",
    "Emission",
    "FallRule",
    "IntrusionRule",
    "LineCrossingRule",
    "LoiteringRule",
    "ObjectRule",
    "RuleSet",
    "build_rules",
    "camera_clock",
    "torso_angle_deg",
]


class ObjectRule(Protocol):
    """What every object rule offers."""

    def update(self, tracks: Tracks, t_s: float, frame_wh: tuple[int, int]) -> list[Emission]: ...

    def live(self) -> list[Event]: ...

    def finish(self, t_s: float) -> list[Emission]: ...

    @property
    def state_size(self) -> int: ...


class RuleSet:
    """All rules of one camera plus its health monitor."""

    def __init__(self, camera: str, rules: list[ObjectRule], health: CameraHealthMonitor) -> None:
        self.camera = camera
        self.rules = rules
        self.health = health

    @property
    def wants_keypoints(self) -> bool:
        """True when a fall rule would use MoveNet keypoints."""
        return any(isinstance(r, FallRule) for r in self.rules)

    def update(
        self,
        tracks: Tracks,
        t_s: float,
        frame_wh: tuple[int, int],
        keypoints: npt.NDArray[np.float32] | None = None,
    ) -> list[Emission]:
        """Run every rule on this frame's tracks (``keypoints``: optional ``(n, 17, 3)`` for falls)."""
        out: list[Emission] = []
        for rule in self.rules:
            if isinstance(rule, FallRule):
                out += rule.update(tracks, t_s, frame_wh, keypoints)
            else:
                out += rule.update(tracks, t_s, frame_wh)
        return out

    def live(self) -> list[Event]:
        """Every live event of this camera (object rules and health)."""
        return [ev for r in self.rules for ev in r.live()] + self.health.live()

    def finish(self, t_s: float) -> list[Emission]:
        """End all live events (end of a file, camera removed)."""
        out: list[Emission] = []
        for r in self.rules:
            out += r.finish(t_s)
        return out + self.health.finish(t_s)

    @property
    def state_size(self) -> int:
        """Per-track states held by all rules (bounded by the live tracks)."""
        return sum(r.state_size for r in self.rules)


def camera_clock(camera: CameraConfig, tz: str = "Asia/Seoul") -> Clock:
    """Frame time -> local time for schedules (live: Unix time; replay: ``replay_start`` + t, or None)."""
    return partial(_clock, live=camera.live, tz=tz, replay_start=camera.replay_start)


def _clock(t_s: float, *, live: bool, tz: str, replay_start: datetime | None) -> datetime | None:
    return local_time(t_s, live=live, tz=tz, replay_start=replay_start)


def build_rules(camera: CameraConfig, *, tz: str = "Asia/Seoul", clock: Clock | None = None) -> RuleSet:
    """Build the enabled rules of a camera (names checked by the config already).

    A camera without a ``camera_health`` rule gets one with default thresholds.

    Args:
        camera: the camera's config.
        tz: time zone for schedules (``MonitorConfig.timezone``).
        clock: override the clock (tests); default :func:`camera_clock`.
    """
    clk = clock if clock is not None else camera_clock(camera, tz)
    zones: dict[str, ZoneConfig] = {z.name: z for z in camera.zones}
    lines = {ln.name: ln for ln in camera.lines}
    rules: list[ObjectRule] = []
    health_cfg: CameraHealthRuleConfig | None = None
    for cfg in camera.rules:
        if isinstance(cfg, CameraHealthRuleConfig):
            health_cfg = cfg
            continue
        if not cfg.enabled:
            continue
        if isinstance(cfg, IntrusionRuleConfig):
            rules.append(IntrusionRule(camera.id, cfg, zones[cfg.zone], clk))
        elif isinstance(cfg, CrowdingRuleConfig):
            rules.append(CrowdingRule(camera.id, cfg, zones[cfg.zone], clk))
        elif isinstance(cfg, LoiteringRuleConfig):
            rules.append(LoiteringRule(camera.id, cfg, zones[cfg.zone], clk))
        elif isinstance(cfg, LineCrossingRuleConfig):
            rules.append(LineCrossingRule(camera.id, cfg, lines[cfg.line], clk))
        elif isinstance(cfg, FallRuleConfig):
            rules.append(FallRule(camera.id, cfg, zones[cfg.zone] if cfg.zone else None, clk))
        elif isinstance(cfg, AbandonedObjectRuleConfig):
            rules.append(AbandonedObjectRule(camera.id, cfg, zones[cfg.zone] if cfg.zone else None, clk))
    return RuleSet(camera.id, rules, CameraHealthMonitor(camera.id, health_cfg))
