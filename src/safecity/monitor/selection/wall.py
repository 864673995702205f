"""Wall selection: which cameras the operator sees, and why (pure; its only state is the wall).

Every camera gets a score from its events and its health::

    score = camera_importance × Σ_events severity_w × type_w × 0.5^(age / half_life)
                                    × (1 + ln(1 + dwell_s)) × zone_importance × (1 + ln(objects))
            + health_w[state]

``age`` is the time since the event's last update (or its end), ``dwell_s`` how long it has lasted,
``zone_importance`` comes from the zone (rules put it in ``Event.detail["importance"]``). Health events
(``camera_*``) count through the health term, not twice. Each term gives a human reason.

The wall shows at most ``max_tiles`` cameras. Cameras with an unacknowledged event of severity
>= ``pin_severity`` are pinned: always shown (if there are more than tiles, the most severe, then
newest). A tile stays at least ``hold_s`` after it went up unless a pinned camera needs its place; a
challenger replaces the weakest tile that is not held only when its score is higher by ``margin``.

Example:
    >>> from safecity.monitor.types import Event
    >>> ev = Event("u1", "intrusion", "cam1", start_s=0.0, last_s=10.0, severity=4, zone="gate",
    ...            track_ids=(3,), object_class="person", count=1)
    >>> sel = Selector(max_tiles=4, hold_s=10, weights=SelectionWeights())
    >>> wall = sel.select([ev], {"cam1": "online", "cam2": "online"}, now=10.0)
    >>> [(t.camera, t.pinned, t.reason) for t in wall.tiles]
    [('cam1', True, "intrusion in zone 'gate': 1 person, 10 s")]
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from safecity.monitor.config.model import CameraConfig, SelectionConfig
from safecity.monitor.types import CameraScore, Event, HealthState, WallLayout, WallTile

__all__ = ["SelectionWeights", "Selector", "event_reason", "score_cameras"]

_HEALTH_REASON: dict[str, str] = {
    "offline": "camera offline",
    "frozen": "picture frozen",
    "covered": "camera covered or dark",
    "blurred": "picture blurred",
    "moved": "camera moved",
}
_HEALTH_SEVERITY = 2


_DEFAULTS = SelectionConfig()  # the one home of the default weights is the config model


@dataclass(frozen=True, slots=True)
class SelectionWeights:
    """Weights of the wall score (defaults: those of ``SelectionConfig``, their one home)."""

    severity: Mapping[int, float] = field(default_factory=lambda: dict(_DEFAULTS.severity_weights))
    type: Mapping[str, float] = field(default_factory=dict)  # missing types weigh 1
    health: Mapping[str, float] = field(
        default_factory=lambda: {str(k): v for k, v in _DEFAULTS.health_weights.items() if k != "online"}
    )
    camera_importance: Mapping[str, float] = field(default_factory=dict)  # missing cameras weigh 1
    pin_severity: int = _DEFAULTS.pin_severity
    margin: float = _DEFAULTS.margin
    half_life_s: float = _DEFAULTS.recency_half_life_s

    @classmethod
    def from_config(
        cls, selection: SelectionConfig, cameras: Sequence[CameraConfig] = ()
    ) -> SelectionWeights:
        """Weights from the config (camera importances from ``cameras`` when given)."""
        return cls(
            severity=dict(selection.severity_weights),
            type={str(k): v for k, v in selection.type_weights.items()},
            health={str(k): v for k, v in selection.health_weights.items()},
            camera_importance={c.id: c.importance for c in cameras},
            pin_severity=selection.pin_severity,
            margin=selection.margin,
            half_life_s=selection.recency_half_life_s,
        )


def _objects(ev: Event) -> int:
    return max(ev.count, len(ev.track_ids), 1)


def _dwell(ev: Event, now: float) -> float:
    end = ev.end_s if ev.end_s is not None else max(now, ev.last_s)
    return max(0.0, end - ev.start_s)


def event_reason(ev: Event, now: float) -> str:
    """Human text for an event: ``intrusion in zone 'gate': 2 person, 14 s``."""
    what = ev.type.replace("_", " ")
    where = ""
    if ev.zone:
        where = f" on line '{ev.zone}'" if ev.type == "line_crossing" else f" in zone '{ev.zone}'"
    direction = f" ({ev.direction})" if ev.direction else ""
    cls = f" {ev.object_class}" if ev.object_class else ""
    ended = ", ended" if ev.end_s is not None else ""
    return f"{what}{where}{direction}: {_objects(ev)}{cls}, {_dwell(ev, now):.0f} s{ended}"


def _importance(ev: Event) -> float:
    v = ev.detail.get("importance", 1.0)
    return float(v) if isinstance(v, (int, float)) else 1.0


@dataclass(slots=True)
class _Acc:
    score: float = 0.0
    parts: list[tuple[float, str, str]] = field(default_factory=list)  # (contribution, reason, uid)
    severity: int = 0
    pinned: bool = False
    pin_key: tuple[int, float] = (0, -math.inf)  # (severity, newest start) of pinning events


def _accumulate(
    events: Sequence[Event],
    health: Mapping[str, HealthState],
    now: float,
    w: SelectionWeights,
    acknowledged: Collection[str],
) -> dict[str, _Acc]:
    # only cameras with events or bad health can score; quiet online cameras are left out
    acc: dict[str, _Acc] = {cam: _Acc() for cam, state in health.items() if state != "online"}
    for ev in events:
        a = acc.setdefault(ev.camera, _Acc())
        if ev.severity >= w.pin_severity and ev.uid not in acknowledged:
            a.pinned = True
            a.pin_key = max(a.pin_key, (ev.severity, ev.start_s))
        if ev.type.startswith("camera_"):
            a.parts.append((0.0, event_reason(ev, now), ev.uid))
            a.severity = max(a.severity, ev.severity)
            continue
        ref = ev.end_s if ev.end_s is not None else ev.last_s
        decay = 0.5 ** (max(0.0, now - ref) / w.half_life_s)
        c = (
            w.severity.get(ev.severity, 1.0)
            * w.type.get(ev.type, 1.0)
            * decay
            * (1.0 + math.log1p(_dwell(ev, now)))
            * _importance(ev)
            * (1.0 + math.log(_objects(ev)))
        )
        a.score += c
        a.parts.append((c, event_reason(ev, now), ev.uid))
        a.severity = max(a.severity, ev.severity)
    for cam, a in acc.items():
        a.score *= w.camera_importance.get(cam, 1.0)
        state = health.get(cam, "online")
        hw = w.health.get(state, 0.0) if state != "online" else 0.0
        if hw > 0:
            a.score += hw
            a.parts.append((hw, _HEALTH_REASON.get(state, state), ""))
            a.severity = max(a.severity, _HEALTH_SEVERITY)
    return acc


def score_cameras(
    live_events: Sequence[Event],
    health: Mapping[str, HealthState],
    now: float,
    weights: SelectionWeights,
    acknowledged: Collection[str] = (),
) -> list[CameraScore]:
    """Score every camera named in ``health`` or in an event, best first (ties by camera id)."""
    acc = _accumulate(live_events, health, now, weights, acknowledged)
    for cam in health:
        acc.setdefault(cam, _Acc())
    out = [
        CameraScore(
            camera=cam,
            t_s=now,
            score=a.score,
            reasons=tuple(r for _, r, _ in sorted(a.parts, key=lambda p: (-p[0], p[1]))),
            pinned=a.pinned,
        )
        for cam, a in acc.items()
    ]
    return sorted(out, key=lambda s: (-s.score, s.camera))


class Selector:
    """Chooses the wall every tick, with hysteresis and pinning.

    Args:
        max_tiles: tiles on the wall.
        hold_s: a tile stays at least this long after it went up (unless a pinned camera needs it).
        weights: score weights, pin severity and challenger margin.
    """

    def __init__(self, *, max_tiles: int, hold_s: float, weights: SelectionWeights | None = None) -> None:
        if max_tiles < 1 or hold_s < 0:
            raise ValueError(f"need max_tiles >= 1 and hold_s >= 0, but got {max_tiles} and {hold_s}")
        self.max_tiles = max_tiles
        self.hold_s = hold_s
        self.weights = weights if weights is not None else SelectionWeights()
        self._since: dict[str, float] = {}  # camera on the wall -> when it went up

    @classmethod
    def from_config(cls, selection: SelectionConfig, cameras: Sequence[CameraConfig] = ()) -> Selector:
        """A selector configured by ``selection`` (camera importances from ``cameras``)."""
        return cls(
            max_tiles=selection.max_tiles,
            hold_s=selection.hold_s,
            weights=SelectionWeights.from_config(selection, cameras),
        )

    @property
    def shown(self) -> dict[str, float]:
        """Cameras on the wall now and when each went up."""
        return dict(self._since)

    def select(
        self,
        live_events: Sequence[Event],
        health: Mapping[str, HealthState],
        now: float,
        acknowledged: Collection[str] = (),
    ) -> WallLayout:
        """The wall at ``now``. ``live_events`` may include recently ended events (scored with decay)."""
        acc = _accumulate(live_events, health, now, self.weights, acknowledged)
        score = {cam: a.score for cam, a in acc.items()}
        cands = {cam for cam, a in acc.items() if a.score > 0 or a.pinned}
        wall = self._since

        def held(cam: str) -> bool:
            return now - wall[cam] < self.hold_s

        for cam in sorted(wall):
            if cam not in cands and not held(cam):
                del wall[cam]

        pinned = sorted(
            (c for c in cands if acc[c].pinned), key=lambda c: (-acc[c].pin_key[0], -acc[c].pin_key[1], c)
        )[: self.max_tiles]
        top_pins = set(pinned)
        for cam in pinned:
            if cam in wall:
                continue
            if len(wall) >= self.max_tiles:
                victims = sorted(
                    (v for v in wall if v not in top_pins),
                    key=lambda v: (held(v), score.get(v, 0.0), v),
                )
                del wall[victims[0]]
            wall[cam] = now

        outside = sorted((c for c in cands if c not in wall), key=lambda c: (-score[c], c))
        while outside and len(wall) < self.max_tiles:
            wall[outside.pop(0)] = now
        while outside:
            open_tiles = sorted(
                (v for v in wall if v not in top_pins and not held(v)), key=lambda v: (score.get(v, 0.0), v)
            )
            if not open_tiles:
                break
            weakest, challenger = open_tiles[0], outside[0]
            ws = score.get(weakest, 0.0)
            if score[challenger] <= ws * (1.0 + self.weights.margin) or score[challenger] <= ws:
                break
            del wall[weakest]
            wall[challenger] = now
            outside.pop(0)

        tiles = []
        for cam in wall:
            a = acc.get(cam, _Acc())
            parts = sorted(a.parts, key=lambda p: (-p[0], p[1]))
            tiles.append(
                WallTile(
                    camera=cam,
                    score=a.score,
                    reason=parts[0][1] if parts else "held on the wall (quiet now)",
                    severity=a.severity,
                    pinned=a.pinned,
                    since_s=wall[cam],
                    event_uids=tuple(uid for _, _, uid in parts if uid),
                )
            )
        tiles.sort(key=lambda t: (not t.pinned, -t.score, t.camera))
        return WallLayout(t_s=now, tiles=tuple(tiles))
