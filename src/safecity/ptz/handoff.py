"""Hand-off: an alert-level event on a fixed camera swings the nearest PTZ that can look at the place.

:class:`HandoffSink` is an event sink (the hub feeds it from its own thread, like the store and the
alert sinks). For the ``start`` of an object event (not a camera-health event) on a fixed camera with
``lat``, ``lon`` and ``heading_deg``, whose policy action is ``alert``:

1. the place: :func:`~safecity.ptz.geometry.place_in_view` at the event box's centre x, at
   ``distance_m`` (the picture alone does not tell the distance; see docs/ptz.md);
2. the PTZ: :func:`~safecity.ptz.geometry.choose_ptz` (nearest in its ``range_m``; a preset whose
   ``radius_m`` covers the place, else an absolute pan from ``pan_zero_heading_deg``, tilt kept);
3. a system lease (holder ``handoff``) for the PTZ's ``handoff_hold_s``: its patrol driver stands
   aside and resumes its tour when the lease ends. An operator who holds the camera keeps it (no
   hand-off then); a newer hand-off renews the lease;
4. the move (preset or absolute position), then the wall: the fixed camera pinned where it is and the
   PTZ pinned in the slot next to it, both until the lease ends (``MonitorHub.pin``).

Every hand-off (done or not, and why) is kept in :attr:`HandoffSink.log` for the console and tests.
A camera error is logged and recorded; it never reaches the other sinks. With an audit log, every swing
(and every refusal because an operator holds the camera) is also an audit row ``ptz_move`` by
``system:handoff`` (:mod:`safecity.ptz.audit`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from safecity.errors import PtzError
from safecity.health import HEALTH_OF_TYPE
from safecity.monitor.config.model import CameraConfig, MonitorConfig
from safecity.monitor.types import Event, EventKind
from safecity.ptz.audit import AuditRecorder, record_system
from safecity.ptz.control import PtzControl
from safecity.ptz.geometry import HandoffTarget, PtzSite, choose_ptz, place_in_view

__all__ = ["HANDOFF_HOLDER", "Handoff", "HandoffSink", "PolicyLike"]

log = logging.getLogger(__name__)

HANDOFF_HOLDER = "handoff"
"""The lease holder name of a hand-off (shown in the console's PTZ bar)."""


class PolicyLike(Protocol):
    """The incident policy's action (:class:`~safecity.monitor.config.policy.BoundPolicy`)."""

    def action(self, camera: str, type_: str, severity: int, zone: str | None, at: datetime) -> str: ...


@dataclass(frozen=True, slots=True)
class Handoff:
    """One hand-off decision.

    Attributes:
        event: the fixed camera's event uid.
        fixed: the fixed camera.
        t_s: when it was decided (Unix seconds).
        ptz: the PTZ that was swung (None: none could look there, or it was held).
        target: how the PTZ looks there (preset or pan/zoom), None if not swung.
        place: (lat, lon) of the place.
        until_s: when the PTZ returns to its patrol.
        outcome: ``swung``, ``no_ptz``, ``held`` (an operator steers it), ``camera_error``.
        message: for people.
    """

    event: str
    fixed: str
    t_s: float
    ptz: str | None
    target: HandoffTarget | None
    place: tuple[float, float]
    until_s: float | None
    outcome: str
    message: str


class HandoffSink:
    """Swings PTZ cameras to alert-level events of fixed cameras (an ``EventSink``).

    Args:
        config: the monitoring config (camera positions, headings, PTZ blocks).
        control: the PTZ cameras and their lease book.
        policy: the incident policy (``alert`` events hand off), e.g. ``service.bound_policy(config)``.
        wall: the monitoring hub (``pin``/``wall``), or None (no wall).
        audit: where the system's moves are audited (an ``AuditLog``), or None.
        distance_m: assumed distance of the event from the fixed camera.
        clock: Unix seconds.
    """

    def __init__(
        self,
        config: MonitorConfig,
        control: PtzControl,
        policy: PolicyLike,
        wall: Any = None,
        *,
        audit: AuditRecorder | None = None,
        distance_m: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.control, self.policy, self.wall, self.distance_m, self.clock = (
            control,
            policy,
            wall,
            distance_m,
            clock,
        )
        self.audit = audit
        self.log: deque[Handoff] = deque(maxlen=200)
        self._lock = threading.Lock()
        self.update_config(config)

    def update_config(self, config: MonitorConfig) -> None:
        """Use the positions of a changed config."""
        fixed = {c.id: c for c in config.cameras if c.enabled and c.ptz is None}
        sites = [
            PtzSite(c.id, c.lat, c.lon, c.ptz)
            for c in config.cameras
            if c.enabled
            and c.ptz is not None
            and c.lat is not None
            and c.lon is not None
            and c.id in self.control.units
        ]
        with self._lock:
            self._fixed: dict[str, CameraConfig] = fixed
            self._sites: Sequence[PtzSite] = sites

    def publish(self, kind: EventKind, event: Event) -> None:
        if kind != "start" or event.type in HEALTH_OF_TYPE:
            return
        with self._lock:
            cam, sites = self._fixed.get(event.camera), self._sites
        if cam is None or cam.lat is None or cam.lon is None or cam.heading_deg is None or not sites:
            return
        at = datetime.fromtimestamp(event.start_s, UTC)
        if self.policy.action(event.camera, event.type, event.severity, event.zone, at) != "alert":
            return
        self._hand_off(event, cam, sites)

    def _hand_off(self, event: Event, cam: CameraConfig, sites: Sequence[PtzSite]) -> Handoff:
        assert cam.lat is not None and cam.lon is not None and cam.heading_deg is not None
        now = self.clock()
        box = event.box_frac
        x_frac = 0.5 if box is None else (box[0] + box[2]) / 2.0
        place = place_in_view(cam.lat, cam.lon, cam.heading_deg, cam.fov_deg, x_frac, self.distance_m)
        target = choose_ptz(place[0], place[1], sites)

        def done(outcome: str, message: str, ptz: str | None = None, until: float | None = None) -> Handoff:
            h = Handoff(event.uid, cam.id, now, ptz, target if outcome == "swung" else None, place, until,
                        outcome, message)  # fmt: skip
            self.log.append(h)
            (log.info if outcome == "swung" else log.warning)("PTZ hand-off: %s", message)
            return h

        if target is None:
            return done("no_ptz", f"{event.type} on {cam.id}: no PTZ within range can look at {place}")
        unit = self.control.units[target.camera]
        hold = unit.config.handoff_hold_s
        lease = self.control.leases.holder(unit.key)
        why = {"handoff": event.uid, "fixed": cam.id, "event_type": event.type}
        if lease is not None and lease.holder != HANDOFF_HOLDER:
            record_system(self.audit, "ptz_move", unit.key, {**why, "refused": f"held by {lease.holder}"},
                          allowed=False)  # fmt: skip
            return done(
                "held", f"{event.type} on {cam.id}: {unit.key} is steered by {lease.holder}; not swung"
            )
        self.control.leases.acquire(unit.key, HANDOFF_HOLDER, hold)
        until = now + hold
        command: dict[str, Any] = {"mode": "preset", "preset": target.preset}
        try:
            if target.preset is not None:
                unit.camera.goto_preset(unit.preset_token(target.preset))
                how = f"preset {target.preset}"
            else:
                assert target.pan is not None
                status = unit.camera.status()
                tilt = status.position.tilt if status.position is not None else 0.0
                zoom = target.zoom if target.zoom is not None else 0.0
                command = {"mode": "absolute", "pan": target.pan, "tilt": tilt, "zoom": zoom}
                unit.camera.absolute_move(target.pan, tilt, zoom)
                how = f"pan {target.pan:+.3f} zoom {target.zoom or 0.0:.2f}"
        except PtzError as exc:
            self.control.leases.release(unit.key, HANDOFF_HOLDER, force=True)  # the patrol goes on
            record_system(self.audit, "ptz_move", unit.key, {**command, **why, "error": str(exc)})
            return done(
                "camera_error", f"{event.type} on {cam.id}: {unit.key} could not be swung: {exc}", unit.key
            )
        until_iso = datetime.fromtimestamp(until, UTC).isoformat(timespec="seconds")
        done_detail = {**command, **why, "until": until_iso, "distance_m": round(target.distance_m, 1)}
        record_system(self.audit, "ptz_move", unit.key, done_detail)
        self._pin(cam.id, unit.key, until)
        return done(
            "swung",
            f"{event.type} on {cam.id} -> {unit.key} ({how}, {target.distance_m:.0f} m away) until "
            f"{datetime.fromtimestamp(until, UTC).isoformat(timespec='seconds')}",
            unit.key,
            until,
        )

    def _pin(self, fixed: str, ptz: str, until_s: float) -> None:
        """The fixed camera stays where it is on the wall and the PTZ goes next to it (best effort)."""
        pin = getattr(self.wall, "pin", None)
        if not callable(pin):
            return
        try:
            fixed_slot = int(pin(fixed, None, until_s=until_s, by="ptz-handoff").slot)
            tiles = getattr(self.wall, "max_tiles", None)
            wanted = [fixed_slot + 1, fixed_slot - 1]
            for slot in [s for s in wanted if s >= 0 and (tiles is None or s < tiles)] + [None]:
                try:
                    pin(ptz, slot, until_s=until_s, by="ptz-handoff")
                    return
                except Exception as exc:  # that slot is taken by an operator's pin: try the next
                    log.debug("hand-off pin of %s in slot %s: %s", ptz, slot, exc)
        except Exception as exc:  # the wall must not stop the hand-off
            log.warning("PTZ hand-off: wall pin failed: %s", exc)
