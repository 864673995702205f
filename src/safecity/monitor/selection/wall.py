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

Slots: each tile has a fixed place (``slot`` 0 .. max_tiles-1) that it keeps while its camera stays
on the wall; a new camera takes a free slot, or the slot of the tile it replaced. An operator can
pin a camera to a slot (:meth:`Selector.pin`, optionally until a time): it stays there, events or
not, until unpinned or the pin expires, and no other camera takes that slot.

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

from safecity.errors import InputError
from safecity.monitor.config.model import CameraConfig, SelectionConfig
from safecity.monitor.types import CameraScore, Event, HealthState, WallLayout, WallTile

__all__ = ["Pin", "PinError", "SelectionWeights", "Selector", "event_reason", "score_cameras"]

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


class PinError(InputError):
    """A pin that cannot be made (slot out of range or held by another pinned camera)."""


@dataclass(frozen=True, slots=True)
class Pin:
    """An operator's pin: ``camera`` stays in ``slot`` until ``until_s`` (None = until unpinned)."""

    camera: str
    slot: int
    until_s: float | None = None
    by: str = ""


class Selector:
    """Chooses the wall every tick, with hysteresis, pinning and fixed slots.

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
        self._slot: dict[str, int] = {}  # camera on the wall -> its slot
        self._pins: dict[str, Pin] = {}  # operator pins by camera
        self._score: dict[str, float] = {}  # scores of the last selection (the weakest slot)

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

    @property
    def slots(self) -> dict[str, int]:
        """Cameras on the wall now and their slots."""
        return dict(self._slot)

    def pins(self, now: float | None = None) -> list[Pin]:
        """The operator pins (those not expired at ``now`` when given), by slot."""
        return sorted(
            (p for p in self._pins.values() if now is None or p.until_s is None or p.until_s > now),
            key=lambda p: p.slot,
        )

    def pin(
        self, camera: str, slot: int | None = None, *, until_s: float | None = None, by: str = "", now: float
    ) -> Pin:
        """Pin ``camera`` to ``slot`` (None: its slot if on the wall, else a free one, else the weakest).

        A camera in the chosen slot moves to a free slot, or leaves the wall when none is free.
        Raises :class:`PinError` when the slot is outside the wall or pinned to another camera.
        """
        self._expire(now)
        others = {p.slot: p.camera for p in self._pins.values() if p.camera != camera}
        if slot is not None and not 0 <= slot < self.max_tiles:
            msg = f"slot {slot} is not on the wall: it has slots 0 to {self.max_tiles - 1}"
            raise PinError(msg)
        if slot is not None and slot in others:
            msg = f"slot {slot} is pinned to camera {others[slot]!r}; unpin it first or choose another slot"
            raise PinError(msg)
        if slot is None:
            slot = self._choose_slot(camera, set(others))
        self._slot.pop(camera, None)
        occupant = next((c for c, s in self._slot.items() if s == slot), None)
        if occupant is not None:
            del self._slot[occupant]
            free = [s for s in self._free_slots() if s != slot]
            if free:
                self._slot[occupant] = free[0]
            else:
                self._since.pop(occupant, None)
        self._slot[camera] = slot
        self._since.setdefault(camera, now)
        pin = Pin(camera, slot, until_s, by)
        self._pins[camera] = pin
        return pin

    def unpin(self, camera: str) -> bool:
        """Remove the operator pin of ``camera`` (it stays while held or scoring); False if none."""
        return self._pins.pop(camera, None) is not None

    def _choose_slot(self, camera: str, taken: set[int]) -> int:
        current = self._slot.get(camera)
        if current is not None and current < self.max_tiles and current not in taken:
            return current
        free = [s for s in self._free_slots() if s not in taken]
        if free:
            return free[0]
        weakest = sorted(
            (c for c, s in self._slot.items() if s not in taken),
            key=lambda c: (self._score.get(c, 0.0), c),
        )
        if not weakest:
            msg = f"every slot of the wall is pinned ({self.max_tiles}); unpin a camera first"
            raise PinError(msg)
        return self._slot[weakest[0]]

    def _free_slots(self) -> list[int]:
        used = set(self._slot.values())
        return [s for s in range(self.max_tiles) if s not in used]

    def _expire(self, now: float) -> None:
        for cam in [c for c, p in self._pins.items() if p.until_s is not None and p.until_s <= now]:
            del self._pins[cam]

    def select(
        self,
        live_events: Sequence[Event],
        health: Mapping[str, HealthState],
        now: float,
        acknowledged: Collection[str] = (),
    ) -> WallLayout:
        """The wall at ``now``. ``live_events`` may include recently ended events (scored with decay)."""
        self._expire(now)
        acc = _accumulate(live_events, health, now, self.weights, acknowledged)
        score = {cam: a.score for cam, a in acc.items()}
        cands = {cam for cam, a in acc.items() if a.score > 0 or a.pinned}
        wall = self._since
        manual = {p.camera for p in self._pins.values() if p.slot < self.max_tiles}
        for cam in sorted(manual):
            wall.setdefault(cam, now)

        def held(cam: str) -> bool:
            return cam in manual or now - wall[cam] < self.hold_s

        for cam in sorted(wall):
            if cam not in cands and not held(cam):
                del wall[cam]

        pinned = sorted(
            (c for c in cands if acc[c].pinned and c not in manual),
            key=lambda c: (-acc[c].pin_key[0], -acc[c].pin_key[1], c),
        )[: max(0, self.max_tiles - len(manual))]
        top_pins = set(pinned) | manual
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

        self._place(wall, score)
        self._score = {cam: score.get(cam, 0.0) for cam in wall}
        tiles = []
        for cam in wall:
            a = acc.get(cam, _Acc())
            parts = sorted(a.parts, key=lambda p: (-p[0], p[1]))
            pin = self._pins.get(cam)
            quiet = f"pinned by {pin.by or 'an operator'}" if pin else "held on the wall (quiet now)"
            tiles.append(
                WallTile(
                    camera=cam,
                    score=a.score,
                    reason=parts[0][1] if parts else quiet,
                    severity=a.severity,
                    pinned=a.pinned,
                    since_s=wall[cam],
                    event_uids=tuple(uid for _, _, uid in parts if uid),
                    slot=self._slot[cam],
                    pinned_by=(pin.by or "operator") if pin else "",
                )
            )
        tiles.sort(key=lambda t: (not t.pinned, -t.score, t.camera))
        return WallLayout(t_s=now, tiles=tuple(tiles))

    def _place(self, wall: dict[str, float], score: Mapping[str, float]) -> None:
        """Give every camera on the wall a slot: pinned cameras theirs, others keep theirs, new ones
        take the free slots (those left by the cameras they replaced), strongest first."""
        for cam in [c for c in self._slot if c not in wall]:
            del self._slot[cam]
        for pin in self._pins.values():
            if pin.camera in wall and pin.slot < self.max_tiles:
                self._slot[pin.camera] = pin.slot
        taken: dict[int, str] = {}
        for cam in sorted(self._slot, key=lambda c: (c not in self._pins, c)):
            s = self._slot[cam]
            if s >= self.max_tiles or s in taken:
                del self._slot[cam]
            else:
                taken[s] = cam
        free = [s for s in range(self.max_tiles) if s not in taken]
        for cam in sorted((c for c in wall if c not in self._slot), key=lambda c: (-score.get(c, 0.0), c)):
            if free:
                self._slot[cam] = free.pop(0)
            else:  # more cameras than slots (the wall shrank): the weakest newcomers wait
                del wall[cam]
