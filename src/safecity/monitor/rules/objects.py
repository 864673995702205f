"""Object rules as small pure state machines over tracks and time: intrusion, line crossing,
loitering, crowding, fall and abandoned object.

Every rule has ``update(tracks, t_s, frame_wh) -> list[(kind, Event)]`` where kind is ``start``,
``update`` or ``end``. Time comes only from ``t_s``. Objects are judged by their foot point (bottom
centre of the box) in frame fractions, so zones in 0..1 fit any resolution. Per-track state is
dropped ``forget_s`` after a track was last seen, so memory stays bounded by the live tracks.
Events are debounced by :class:`~safecity.monitor.rules.episode.Episode` (re-exported here, with
:class:`~safecity.monitor.rules.episode.UidMaker`). Event uids are
``<camera>-<type>-<zone>-<start ms>-<run>-<n>``: readable, and unique across processes,
restarts and nodes because ``run`` is a random token drawn when the rule is built (a restarted file or
demo camera, whose start times begin again at 0, gets new uids; the store refuses a start whose uid it
already has). Pass ``run`` to :class:`UidMaker` for reproducible uids in tests.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from safecity.monitor.config.model import (
    AbandonedObjectRuleConfig,
    CrowdingRuleConfig,
    FallRuleConfig,
    IntrusionRuleConfig,
    LineConfig,
    LineCrossingRuleConfig,
    LoiteringRuleConfig,
    Schedule,
    ZoneConfig,
    parse_schedule,
)
from safecity.monitor.geometry import (
    box_centres,
    foot_points,
    point_line_side,
    points_in_polygon,
    segments_intersect,
    to_frac,
)
from safecity.monitor.rules.episode import UID_MAX_LEN, Emission, Episode, UidMaker
from safecity.monitor.types import Event, EventType, Tracks

__all__ = [
    "AbandonedObjectRule",
    "Clock",
    "CrowdingRule",
    "Emission",
    "Episode",
    "FallRule",
    "IntrusionRule",
    "LineCrossingRule",
    "LoiteringRule",
    "UID_MAX_LEN",
    "UidMaker",
    "torso_angle_deg",
]

Clock = Callable[[float], datetime | None]
"""Maps a frame time to local wall-clock time (None: no clock, schedules always active)."""

DEFAULT_FORGET_S = 3.0
_RIDDEN = frozenset({"bicycle", "motorcycle", "car", "bus", "truck"})
"""Classes a person can ride or sit in (one intruder with its rider)."""


def _no_clock(_t: float) -> datetime | None:
    return None


def _box_frac(xyxy: npt.NDArray[np.float32], frame_wh: tuple[int, int]) -> tuple[float, float, float, float]:
    w, h = frame_wh
    x1, y1 = float(xyxy[:, 0].min()) / w, float(xyxy[:, 1].min()) / h
    x2, y2 = float(xyxy[:, 2].max()) / w, float(xyxy[:, 3].max()) / h
    c = [min(max(v, 0.0), 1.0) for v in (x1, y1, x2, y2)]
    return (c[0], c[1], c[2], c[3])


def _fields(tracks: Tracks, frame_wh: tuple[int, int]) -> dict[str, Any]:
    """Event fields describing the objects involved."""
    if len(tracks) == 0:
        return {"track_ids": (), "count": 0}
    names = Counter(str(c) for c in tracks.class_name)
    top = sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return {
        "track_ids": tuple(sorted(int(i) for i in tracks.track_id)),
        "count": len(tracks),
        "object_class": top,
        "box_frac": _box_frac(tracks.xyxy_px, frame_wh),
    }


class _ZoneRule:
    """Shared parts: class filter, zone membership of foot points, schedule, event template."""

    type_: EventType

    def __init__(
        self,
        camera: str,
        zone: ZoneConfig | None,
        classes: list[str],
        rule_schedule: list[str],
        severity: int,
        clock: Clock,
        importance: float = 1.0,
    ) -> None:
        self.camera = camera
        self.zone = zone
        self.classes = frozenset(classes)
        sched = rule_schedule or (zone.schedule if zone is not None else [])
        self.schedule: Schedule = parse_schedule(sched)
        self.clock = clock
        self.severity = severity
        self.zone_name = zone.name if zone is not None else None
        self.importance = zone.importance if zone is not None else importance

    def armed(self, t_s: float) -> bool:
        """Whether the rule's schedule is active at frame time ``t_s``."""
        return self.schedule.active_at(self.clock(t_s)) if self.schedule.windows else True

    def template(self) -> Event:
        """An event of this rule with no uid or times yet."""
        return Event(
            uid="",
            type=self.type_,
            camera=self.camera,
            start_s=0.0,
            last_s=0.0,
            severity=self.severity,
            zone=self.zone_name,
            detail={"importance": self.importance},
        )

    def select(self, tracks: Tracks, frame_wh: tuple[int, int]) -> npt.NDArray[np.bool_]:
        """Mask of tracks of the rule's classes whose foot point is in the zone.

        Foot points are clamped just inside the frame: a box cut by the bottom edge has its foot on
        y = 1.0, which a zone drawn to the edge must include.
        """
        mask = np.isin(tracks.class_name, list(self.classes))
        if self.zone is not None and mask.any():
            pts = np.clip(to_frac(foot_points(tracks.xyxy_px), frame_wh), 0.0, 1.0 - 1e-6)
            mask &= points_in_polygon(pts, self.zone.polygon)
        return np.asarray(mask)


class CrowdingRule(_ZoneRule):
    """At least ``min_count`` objects in the zone for ``min_s``: one zone-level event per episode."""

    type_: EventType = "crowding"

    def __init__(
        self, camera: str, cfg: CrowdingRuleConfig, zone: ZoneConfig, clock: Clock = _no_clock
    ) -> None:
        super().__init__(camera, zone, cfg.classes, cfg.schedule, cfg.severity, clock)
        self.min_count = cfg.min_count
        self.episode = Episode(
            self.template(),
            UidMaker(camera, self.type_, zone.name),
            cfg.min_s,
            cfg.end_after_s,
            cfg.update_every_s,
        )

    def update(self, tracks: Tracks, t_s: float, frame_wh: tuple[int, int]) -> list[Emission]:
        """Judge this frame's tracks; returns event messages."""
        inside = tracks[self.select(tracks, frame_wh)] if self.armed(t_s) else Tracks.empty(t_s)
        crowded = len(inside) >= self.min_count
        return self.episode.step(t_s, crowded, _fields(inside, frame_wh) if crowded else None)

    def live(self) -> list[Event]:
        """The rule's live events."""
        return [self.episode.event] if self.episode.event else []

    def finish(self, t_s: float) -> list[Emission]:
        """End the live events at ``t_s`` (end of a file, camera stopped)."""
        return self.episode.finish(t_s)

    @property
    def state_size(self) -> int:
        """Per-track states held (none: this rule keeps one episode for the zone)."""
        return 0


@dataclass(slots=True)
class _TrackState:
    last_seen_s: float
    episode: Episode


@dataclass(slots=True)
class _Visit(_TrackState):
    entered_s: float = 0.0
    last_in_s: float = 0.0
    x: float = 0.0  # last foot point in the zone (frame fractions)
    y: float = 0.0
    had_event: bool = False


@dataclass(slots=True)
class _Side(_TrackState):
    side: float = 0.0  # -1 left of a->b, +1 right, 0 not decided yet
    x: float = 0.0  # last foot point outside the hysteresis band (frame fractions)
    y: float = 0.0


@dataclass(slots=True)
class _Posture(_TrackState):
    last_upright_s: float | None = None
    lying_since_s: float | None = None
    upright_h: float = 0.0  # tallest upright box of the last upright stretch (pixels)
    foot_x: float = 0.0  # foot point of the last upright box (pixels)
    foot_y: float = 0.0


@dataclass(slots=True)
class _Bag(_TrackState):
    x: float = 0.0  # centre where the bag came to rest (pixels)
    y: float = 0.0
    size: float = 1.0
    still_since_s: float = 0.0
    alone_since_s: float | None = None


S = TypeVar("S", bound=_TrackState)


class _PerTrackRule(_ZoneRule, Generic[S]):
    """A rule with one episode per track; states of tracks unseen for ``forget_s`` are ended and dropped."""

    HANDOVER_FRAC = 0.1  # an id switch: a new track this close (frame fraction) to where one vanished

    def __init__(self, *args: Any, forget_s: float = DEFAULT_FORGET_S, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.forget_s = forget_s
        self.states: dict[int, S] = {}
        self.uid = UidMaker(self.camera, self.type_, self.zone_name)

    def new_episode(self, min_s: float, end_after_s: float, update_every_s: float) -> Episode:
        """A fresh episode sharing the rule's uid counter."""
        return Episode(self.template(), self.uid, min_s, end_after_s, update_every_s)

    def handover(
        self, tid: int, x: float, y: float, present: set[int], t_s: float, within_s: float
    ) -> S | None:
        """Give track ``tid`` the state of a track that vanished where ``tid`` now is (an id switch).

        Candidates are states of tracks absent from this frame (``present``), last seen in the zone
        at most ``within_s`` ago, whose last foot point (``x``, ``y``: frame fractions) is within
        ``HANDOVER_FRAC`` of the frame; the nearest one moves to ``tid`` (its event, uid and clocks
        go on). Returns the state, or None.
        """
        best: tuple[float, int] | None = None
        for old, st in self.states.items():
            if old in present or not isinstance(st, _Visit) or t_s - st.last_in_s > within_s:
                continue
            d = math.hypot(x - st.x, y - st.y)
            if d <= self.HANDOVER_FRAC and (best is None or d < best[0]):
                best = (d, old)
        if best is None:
            return None
        st = self.states.pop(best[1])
        self.states[tid] = st
        return st

    def prune(self, t_s: float) -> list[Emission]:
        """End and drop the states of tracks unseen for more than ``forget_s``."""
        out: list[Emission] = []
        for tid in sorted(self.states):
            st = self.states[tid]
            if t_s - st.last_seen_s > self.forget_s:
                out += st.episode.finish(st.last_seen_s)
                del self.states[tid]
        return out

    def live(self) -> list[Event]:
        """The rule's live events, by track id."""
        return [s.episode.event for _, s in sorted(self.states.items()) if s.episode.event is not None]

    def finish(self, t_s: float) -> list[Emission]:
        """End the live events at ``t_s`` (end of a file, camera stopped)."""
        out: list[Emission] = []
        for _, st in sorted(self.states.items()):
            out += st.episode.finish(t_s)
        return out

    @property
    def state_size(self) -> int:
        """Per-track states held (bounded by the tracks seen in the last ``forget_s``)."""
        return len(self.states)


class IntrusionRule(_PerTrackRule[_Visit]):
    """Objects of ``classes`` in the zone (while armed) for ``min_s``: one event per object.

    Each intruder has its own event with its own start and end (KISA counts every intruder); the
    event keeps the zone and, in ``count``, the number of the rule's objects in the zone at its
    last message. An object's event ends once it has been out of the zone (or unseen) for
    ``end_after_s``. A new track that appears where a track with a live event vanished within
    ``end_after_s`` (an id switch, a person lost for a moment) takes over that event
    (:meth:`_PerTrackRule.handover`), so one intruder is not reported twice.
    """

    type_: EventType = "intrusion"

    def __init__(
        self, camera: str, cfg: IntrusionRuleConfig, zone: ZoneConfig, clock: Clock = _no_clock
    ) -> None:
        super().__init__(camera, zone, cfg.classes, cfg.schedule, cfg.severity, clock)
        self.cfg = cfg

    def update(self, tracks: Tracks, t_s: float, frame_wh: tuple[int, int]) -> list[Emission]:
        """Judge this frame's tracks (``frame_wh`` = the frame's pixel size); returns event messages."""
        out: list[Emission] = []
        cfg = self.cfg
        inside = self.select(tracks, frame_wh) if self.armed(t_s) else np.zeros(len(tracks), bool)
        inside &= ~self._riders(tracks, inside)
        n_in = int(inside.sum())
        feet = to_frac(foot_points(tracks.xyxy_px), frame_wh)
        present = {int(x) for x in tracks.track_id}
        for i, tid in enumerate(int(x) for x in tracks.track_id):
            st = self.states.get(tid)
            fx, fy = float(feet[i, 0]), float(feet[i, 1])
            if st is None:
                if not inside[i]:
                    continue
                st = self.handover(tid, fx, fy, present, t_s, cfg.end_after_s)
                if st is None:
                    st = _Visit(t_s, self.new_episode(cfg.min_s, cfg.end_after_s, cfg.update_every_s), t_s)
                    self.states[tid] = st
            st.last_seen_s = t_s
            if inside[i]:
                st.last_in_s, st.x, st.y = t_s, fx, fy
                fields = _fields(tracks[np.array([i])], frame_wh)
                fields["count"] = n_in
                out += st.episode.step(t_s, True, fields)
            else:
                out += st.episode.step(t_s, False)
        for tid in sorted(set(self.states) - present):  # unseen this frame: out of the zone
            st = self.states[tid]
            out += st.episode.step(t_s, False)
            if st.episode.event is None:  # over (or never started): nothing to remember
                del self.states[tid]
        return out

    def _riders(self, tracks: Tracks, inside: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Mask of the tracks that are part of another intruder: a person whose foot point lies in
        the box of a vehicle (bicycle, motorbike, car...) in the zone is its rider, and the two are
        one intruder. The one of the pair whose event is live carries it; with none live, the
        vehicle does."""
        out = np.zeros(len(tracks), bool)
        ids = [int(x) for x in tracks.track_id]
        people = [i for i in range(len(tracks)) if inside[i] and str(tracks.class_name[i]) == "person"]
        vehicles = [i for i in range(len(tracks)) if inside[i] and str(tracks.class_name[i]) in _RIDDEN]
        if not people or not vehicles:
            return out
        feet = foot_points(tracks.xyxy_px)

        def live(i: int) -> bool:
            st = self.states.get(ids[i])
            return st is not None and st.episode.event is not None

        for p in people:
            for v in vehicles:
                b = tracks.xyxy_px[v]
                if not (b[0] <= feet[p, 0] <= b[2] and b[1] <= feet[p, 1] <= b[3] + 0.1 * (b[3] - b[1])):
                    continue
                if live(p) and live(v):
                    continue  # both raised already: leave them
                out[v if live(p) else p] = True
                break
        return out


class LoiteringRule(_PerTrackRule[_Visit]):
    """A track staying in the zone at least ``dwell_s``: one event per visit of a track.

    A visit ends when the track is out of the zone (or unseen) for longer than ``end_after_s``.
    People standing still are the ones detectors lose most (a person seen from behind at a table
    may be missed for ten seconds) and they come back under a new track id. So a visit whose
    track vanished *inside* the zone before it reached ``dwell_s`` is remembered (at most
    ``MEMORY`` of them, for ``dwell_s``); a new track that appears within ``REJOIN_FRAC`` of the
    frame of where it vanished continues that visit's clock. A short id switch (the tracker gives the
    standing person a new id while the old track is not yet over) hands the whole visit over
    (:meth:`_PerTrackRule.handover`): dwell clock, and the live event with its uid.
    """

    type_: EventType = "loitering"
    MEMORY = 32
    REJOIN_FRAC = 0.1

    def __init__(
        self, camera: str, cfg: LoiteringRuleConfig, zone: ZoneConfig, clock: Clock = _no_clock
    ) -> None:
        super().__init__(camera, zone, cfg.classes, cfg.schedule, cfg.severity, clock)
        self.cfg = cfg
        self.lost: deque[tuple[float, float, float, float]] = deque(maxlen=self.MEMORY)  # x, y, entered, at

    def _rejoin(self, x: float, y: float, t_s: float) -> float | None:
        for item in list(self.lost):
            if t_s - item[3] > self.cfg.dwell_s:
                self.lost.remove(item)
        best = min(self.lost, key=lambda it: math.hypot(x - it[0], y - it[1]), default=None)
        if best is None or math.hypot(x - best[0], y - best[1]) > self.REJOIN_FRAC:
            return None
        self.lost.remove(best)
        return best[2]

    def update(self, tracks: Tracks, t_s: float, frame_wh: tuple[int, int]) -> list[Emission]:
        """Judge this frame's tracks; returns event messages."""
        out: list[Emission] = []
        cfg = self.cfg
        inside = self.select(tracks, frame_wh) if self.armed(t_s) else np.zeros(len(tracks), bool)
        feet = to_frac(foot_points(tracks.xyxy_px), frame_wh)
        present = {int(x) for x in tracks.track_id}
        for i, tid in enumerate(int(x) for x in tracks.track_id):
            st = self.states.get(tid)
            fx, fy = float(feet[i, 0]), float(feet[i, 1])
            if st is None:
                if not inside[i]:
                    continue
                st = self.handover(tid, fx, fy, present, t_s, cfg.end_after_s)
                if st is None:
                    entered = self._rejoin(fx, fy, t_s)
                    ep = self.new_episode(0.0, cfg.end_after_s, cfg.update_every_s)
                    st = _Visit(t_s, ep, t_s if entered is None else entered, t_s)
                    self.states[tid] = st
            st.last_seen_s = t_s
            if inside[i]:
                st.last_in_s, st.x, st.y = t_s, fx, fy
            last_in = st.last_in_s
            dwell = last_in - st.entered_s
            cond = bool(inside[i]) and dwell >= cfg.dwell_s
            if cond:
                st.had_event = True
            fields = _fields(tracks[np.array([i])], frame_wh)
            fields["detail"] = {"importance": self.importance, "dwell_s": round(dwell, 1)}
            out += st.episode.step(t_s, cond, fields if cond else None)
            if t_s - last_in >= cfg.end_after_s and not inside[i]:
                out += st.episode.finish(last_in)  # walked out: the visit is over
                del self.states[tid]
        for tid in sorted(set(self.states) - present):
            st = self.states[tid]
            last_in = st.last_in_s
            if t_s - last_in >= cfg.end_after_s:  # gone (or lost) for end_after_s: the visit is over
                out += st.episode.finish(last_in)
                if not st.had_event and st.last_seen_s == last_in:  # vanished inside the zone
                    self.lost.append((st.x, st.y, st.entered_s, last_in))
                del self.states[tid]
        out += self.prune(t_s)
        return out


class LineCrossingRule(_PerTrackRule[_Side]):
    """Foot point of a track crossing the line segment, with a hysteresis band against jitter.

    Direction ``a_to_b`` is from the left of a->b (as seen on screen) to its right. Each actual
    crossing is one event, ended ``end_after_s`` later.
    """

    type_: EventType = "line_crossing"

    def __init__(
        self, camera: str, cfg: LineCrossingRuleConfig, line: LineConfig, clock: Clock = _no_clock
    ) -> None:
        super().__init__(
            camera, None, line.classes, cfg.schedule, cfg.severity, clock, importance=line.importance
        )
        self.zone_name = line.name
        self.uid = UidMaker(camera, self.type_, line.name)
        self.line = line
        self.cfg = cfg
        self.pending: list[tuple[float, Event]] = []

    def update(self, tracks: Tracks, t_s: float, frame_wh: tuple[int, int]) -> list[Emission]:
        """Judge this frame's tracks; returns event messages."""
        out: list[Emission] = []
        keep = []
        for end_at, ev in self.pending:
            if t_s >= end_at:
                out.append(("end", replace(ev, end_s=t_s)))
            else:
                keep.append((end_at, ev))
        self.pending = keep
        mask = np.isin(tracks.class_name, list(self.classes))
        pts = to_frac(foot_points(tracks.xyxy_px), frame_wh)
        a, b = self.line.a, self.line.b
        dist = point_line_side(pts, a, b) if len(tracks) else np.zeros(0)
        armed = self.armed(t_s)
        for i, tid in enumerate(int(x) for x in tracks.track_id):
            if not mask[i]:
                continue
            st = self.states.get(tid)
            if st is None:
                st = _Side(t_s, self.new_episode(0.0, 0.0, 1.0))
                self.states[tid] = st
            st.last_seen_s = t_s
            d = float(dist[i])
            if abs(d) <= self.cfg.hysteresis_frac:
                continue  # in the band: the side is not decided yet
            side = 1.0 if d > 0 else -1.0
            if st.side != 0.0 and side != st.side:
                prev = np.array([[st.x, st.y]])
                if bool(segments_intersect(prev, pts[i : i + 1], a, b)[0]) and armed:
                    out += self._crossed(tracks[np.array([i])], t_s, frame_wh, side)
            st.side, st.x, st.y = side, float(pts[i, 0]), float(pts[i, 1])
        out += self.prune(t_s)
        return out

    def _crossed(self, one: Tracks, t_s: float, frame_wh: tuple[int, int], side: float) -> list[Emission]:
        direction = "a_to_b" if side > 0 else "b_to_a"
        if self.line.direction not in ("both", direction):
            return []
        ev = replace(self.template(), uid=self.uid(t_s), start_s=t_s, last_s=t_s, direction=direction,
                     **_fields(one, frame_wh))  # fmt: skip
        self.pending.append((t_s + self.cfg.end_after_s, ev))
        return [("start", ev)]

    def live(self) -> list[Event]:
        """Crossings still live (ended ``end_after_s`` after the crossing)."""
        return [ev for _, ev in self.pending]

    def finish(self, t_s: float) -> list[Emission]:
        """End the live crossing events at ``t_s``."""
        out: list[Emission] = [("end", replace(ev, end_s=t_s)) for _, ev in self.pending]
        self.pending = []
        return out


_TORSO = (5, 6, 11, 12)  # MoveNet: left/right shoulder, left/right hip


def torso_angle_deg(keypoints: npt.ArrayLike, min_score: float = 0.3) -> float | None:
    """Angle of the hip->shoulder line from horizontal (0 = lying flat, 90 = upright), or None.

    Args:
        keypoints: ``(17, 3)`` MoveNet keypoints (y, x, score).
        min_score: all four torso points need at least this score.
    """
    k = np.asarray(keypoints, dtype=np.float64).reshape(17, 3)
    if float(k[list(_TORSO), 2].min()) < min_score:
        return None
    sy, sx = k[[5, 6], 0].mean(), k[[5, 6], 1].mean()
    hy, hx = k[[11, 12], 0].mean(), k[[11, 12], 1].mean()
    return float(np.degrees(np.arctan2(abs(sy - hy), abs(sx - hx))))


class FallRule(_PerTrackRule[_Posture]):
    """A person's box turning from upright (w/h < ``upright_max_aspect``) to lying (> ``lying_min_aspect``)
    within ``transition_s`` and staying lying for ``min_s``; keypoints, when given, must agree.

    Real falls (GMDCSA24, ``tests/data/labels/falls-*.yaml``) taught three things:

    * the detector loses a falling person for a moment and finds the body on the floor under a
      new track id (often two: the legs and the torso). A lying track with no upright past of its
      own takes over the upright past of a person who stood within ``rejoin_radius`` standing
      heights of it (foot point of the upright box to the centre of the lying one) within
      ``transition_s`` before;
    * body parts (a head, a pair of feet) give small wide boxes: a lying box must be at least
      ``lying_min_width`` x the person's standing height wide;
    * one fall is one event: a lying track whose box overlaps a live fall event's joins that fall
      instead of raising another, and carries the event on when the event's own track is lost.
    """

    type_: EventType = "fall"

    def __init__(
        self, camera: str, cfg: FallRuleConfig, zone: ZoneConfig | None, clock: Clock = _no_clock
    ) -> None:
        super().__init__(camera, zone, ["person"], cfg.schedule, cfg.severity, clock)
        self.cfg = cfg
        # people seen upright lately: track id -> (last upright time, foot x, foot y, height), pixels
        self.stood: dict[int, tuple[float, float, float, float]] = {}

    def _stood_near(self, box: npt.NDArray[np.float32], tid: int, t_s: float) -> tuple[float, float] | None:
        """(time, height) of the latest person upright within ``rejoin_radius`` heights of ``box``."""
        cx, cy = float(box[0] + box[2]) / 2, float(box[1] + box[3]) / 2
        best: tuple[float, float] | None = None
        for other, (t_up, fx, fy, h) in self.stood.items():
            if other == tid or t_s - t_up > self.cfg.transition_s:
                continue
            near = math.hypot(cx - fx, cy - fy) <= self.cfg.rejoin_radius * h
            if near and (best is None or t_up > best[0]):
                best = (t_up, h)
        return best

    def update(
        self,
        tracks: Tracks,
        t_s: float,
        frame_wh: tuple[int, int],
        keypoints: npt.NDArray[np.float32] | None = None,
    ) -> list[Emission]:
        """``keypoints``: optional ``(n, 17, 3)`` MoveNet output aligned with ``tracks``."""
        if keypoints is not None and keypoints.shape[0] != len(tracks):
            raise ValueError(f"keypoints must have shape ({len(tracks)}, 17, 3), but got {keypoints.shape}")
        out: list[Emission] = []
        cfg = self.cfg
        self.stood = {k: v for k, v in self.stood.items() if t_s - v[0] <= cfg.transition_s}
        sel = self.select(tracks, frame_wh) if self.armed(t_s) else np.zeros(len(tracks), bool)
        wh = tracks.xyxy_px[:, 2:] - tracks.xyxy_px[:, :2]
        live = [(tid, st.episode.event.box_frac) for tid, st in self.states.items() if st.episode.event]
        present = {int(x) for x in tracks.track_id}
        for i, tid in enumerate(int(x) for x in tracks.track_id):
            if str(tracks.class_name[i]) != "person":
                continue
            st = self.states.get(tid)
            if st is None:
                st = _Posture(t_s, self.new_episode(0.0, cfg.end_after_s, cfg.update_every_s))
                self.states[tid] = st
            st.last_seen_s = t_s
            box = tracks.xyxy_px[i]
            w, h = float(wh[i, 0]), float(wh[i, 1])
            aspect = w / max(h, 1e-6)
            if aspect < cfg.upright_max_aspect:
                recent = st.last_upright_s is not None and t_s - st.last_upright_s <= cfg.transition_s
                st.upright_h = max(st.upright_h, h) if recent else h
                st.last_upright_s, st.lying_since_s = t_s, None
                st.foot_x, st.foot_y = float(box[0] + box[2]) / 2, float(box[3])
                self.stood[tid] = (t_s, st.foot_x, st.foot_y, st.upright_h)
            elif st.lying_since_s is None:
                own = st.last_upright_s is not None and t_s - st.last_upright_s <= cfg.transition_s
                ref = None if own else self._stood_near(box, tid, t_s)
                if ref is not None:  # the body of someone who stood here a moment ago, under a new id
                    st.last_upright_s, st.upright_h = ref
            lying = aspect > cfg.lying_min_aspect and w >= cfg.lying_min_width * st.upright_h
            if lying and keypoints is not None:
                angle = torso_angle_deg(keypoints[i])
                if angle is not None and angle > cfg.torso_max_deg:
                    lying = False  # the body is upright: a wide box from arms or a bag
            if lying and st.lying_since_s is None:
                st.lying_since_s = t_s
            last_up, lying_since = st.last_upright_s, st.lying_since_s
            fallen = (
                bool(sel[i])
                and lying_since is not None
                and last_up is not None
                and lying_since - last_up <= cfg.transition_s
                and t_s - lying_since >= cfg.min_s
            )
            owner = self._live_here(tid, box, frame_wh, live) if lying and st.episode.event is None else None
            if owner is not None:  # another box of a fall already raised here: the same fall
                fallen = False
                if owner not in present:  # its track is lost: this one carries the event on
                    st.episode, self.states[owner].episode = self.states[owner].episode, st.episode
            still = st.episode.event is not None and lying_since is not None
            fields = _fields(tracks[np.array([i])], frame_wh)
            fields["detail"] = {"importance": self.importance, "aspect": round(aspect, 2)}
            out += st.episode.step(t_s, fallen or still, fields if (fallen or still) else None)
        out += self.prune(t_s)
        return out

    @staticmethod
    def _live_here(
        tid: int,
        box: npt.NDArray[np.float32],
        frame_wh: tuple[int, int],
        live: list[tuple[int, tuple[float, float, float, float] | None]],
    ) -> int | None:
        """The track whose live fall event's box overlaps ``box`` (None: no such event)."""
        w, h = frame_wh
        x1, y1, x2, y2 = float(box[0]) / w, float(box[1]) / h, float(box[2]) / w, float(box[3]) / h
        for other, b in live:
            if other == tid or b is None:
                continue
            if min(x2, b[2]) > max(x1, b[0]) and min(y2, b[3]) > max(y1, b[1]):
                return other
        return None


class AbandonedObjectRule(_PerTrackRule[_Bag]):
    """A bag stationary for ``stationary_s`` with no person within ``owner_radius`` bag heights for
    ``unattended_s``.

    Small bags are often missed for a while and come back under a new track id; the rule remembers
    the place and times of recently lost bags (at most ``MEMORY`` of them, for
    ``stationary_s + unattended_s``) and a new bag track at the same place continues their clocks.
    """

    MEMORY = 32

    type_: EventType = "abandoned_object"

    def __init__(
        self, camera: str, cfg: AbandonedObjectRuleConfig, zone: ZoneConfig | None, clock: Clock = _no_clock
    ) -> None:
        super().__init__(camera, zone, cfg.classes, cfg.schedule, cfg.severity, clock)
        self.cfg = cfg
        # lost bags: (centre x, centre y, size, stationary since, unattended since, lost at)
        self.lost: deque[tuple[float, float, float, float, float | None, float]] = deque(maxlen=self.MEMORY)

    def _recall(self, cx: float, cy: float, size: float, t_s: float) -> tuple[float, float | None] | None:
        keep_s = self.cfg.stationary_s + self.cfg.unattended_s
        for item in list(self.lost):
            if t_s - item[5] > keep_s:
                self.lost.remove(item)
        for item in self.lost:
            x, y, sz, since, alone, _ = item
            if math.hypot(cx - x, cy - y) <= self.cfg.stationary_frac * max(size, sz):
                self.lost.remove(item)
                return since, alone
        return None

    def update(self, tracks: Tracks, t_s: float, frame_wh: tuple[int, int]) -> list[Emission]:
        """Judge this frame's tracks; returns event messages."""
        out: list[Emission] = []
        cfg = self.cfg
        sel = self.select(tracks, frame_wh) if self.armed(t_s) else np.zeros(len(tracks), bool)
        centres = box_centres(tracks.xyxy_px)
        people = centres[tracks.class_name == "person"]
        is_bag = np.isin(tracks.class_name, list(self.classes))
        for i, tid in enumerate(int(x) for x in tracks.track_id):
            if not is_bag[i]:
                continue
            st = self.states.get(tid)
            box = tracks.xyxy_px[i]
            size = float(max(box[2] - box[0], box[3] - box[1], 1.0))
            height = float(max(box[3] - box[1], 1.0))
            cx, cy = float(centres[i, 0]), float(centres[i, 1])
            if st is None:
                st = _Bag(t_s, self.new_episode(0.0, cfg.end_after_s, cfg.update_every_s), cx, cy, size, t_s)
                known = self._recall(cx, cy, size, t_s)
                if known is not None:  # the same bag, seen again under a new track id
                    st.still_since_s, st.alone_since_s = known
                self.states[tid] = st
            st.last_seen_s = t_s
            st.size = size
            if math.hypot(cx - st.x, cy - st.y) > cfg.stationary_frac * size:
                st.x, st.y, st.still_since_s = cx, cy, t_s  # moved: it rests here from now on
            near = (
                people.size > 0
                and float(np.hypot(*(people - centres[i]).T).min()) <= cfg.owner_radius * height
            )
            if near:
                st.alone_since_s = None
            elif st.alone_since_s is None:
                st.alone_since_s = t_s
            still_s = t_s - st.still_since_s
            alone_s = t_s - st.alone_since_s if st.alone_since_s is not None else 0.0
            cond = (
                bool(sel[i])
                and still_s >= cfg.stationary_s
                and st.alone_since_s is not None
                and alone_s >= cfg.unattended_s
            )
            fields = _fields(tracks[np.array([i])], frame_wh)
            fields["detail"] = {"importance": self.importance, "stationary_s": round(still_s, 1),
                                "unattended_s": round(alone_s, 1)}  # fmt: skip
            out += st.episode.step(t_s, cond, fields if cond else None)
        for st in self.states.values():
            if t_s - st.last_seen_s > self.forget_s:  # about to be pruned: remember where it rested
                self.lost.append((st.x, st.y, st.size, st.still_since_s, st.alone_since_s, st.last_seen_s))
        out += self.prune(t_s)
        return out
