"""The PTZ side of a running safecity: one :class:`~safecity.ptz.driver.PatrolDriver` per PTZ camera,
its word passed on to the camera's analytics, and the health events it implies.

:class:`PtzRuntime` is built by :func:`safecity.service.build_services` when the monitoring config has
PTZ cameras, started by :meth:`Services.start <safecity.service.Services.start>` after the monitoring
runtime and stopped with it. Each driver polls its camera in a thread of its own (a camera that stops
answering holds up only its own patrol) and passes every :class:`~safecity.ptz.driver.DriverState` to
:meth:`PtzRuntime.on_state`, which

* sends :class:`~safecity.monitor.runtime.messages.ArmAnalytics` to the camera's worker through the hub
  (``preset`` when the driver says the analytics are armed, else None; ``wait_still`` when the camera
  reports no move status): on every change, and again every ``resend_s`` (a restarted worker pipeline
  starts paused and learns the state from the next message);
* turns ``not_returned`` (released by an operator or a hand-off, and not back on patrol within
  ``ptz.return_after_release_s``) into a ``camera_moved`` health event whose ``detail.ptz`` is
  ``not_returned`` (live until the camera is back), with ``moved`` health;
* logs once per outage why a camera cannot be driven (wrong password, no PTZ service, no answer, a
  preset the camera lacks) and keeps the reason for the console (:meth:`PtzRuntime.states`);
* audits the patrol's return after a hand-off (``ptz_release`` by ``system:handoff``,
  :mod:`safecity.ptz.audit`; the swing itself is audited by the hand-off sink).

:meth:`PtzRuntime.update_config` follows a changed config (the config watcher's ``on_applied``): new,
changed and removed PTZ cameras get a new driver, none, or lose theirs; the hand-off takes the new
positions and headings.

``safecity serve``/``demo`` and ``safecity monitor`` build it the same way,
:func:`safecity.service.build_ptz`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from safecity.errors import SafecityError
from safecity.monitor.runtime.messages import ArmAnalytics, EventMsg, HealthMsg
from safecity.monitor.types import Event
from safecity.ptz.audit import AuditRecorder, record_system
from safecity.ptz.control import PtzControl, PtzUnit, unit_from_config
from safecity.ptz.driver import DriverState, PatrolDriver
from safecity.ptz.handoff import HANDOFF_HOLDER

if TYPE_CHECKING:
    from safecity.monitor.config.model import MonitorConfig
    from safecity.ptz.handoff import HandoffSink

__all__ = ["ArmTarget", "PtzRuntime", "attach_ptz"]

log = logging.getLogger(__name__)


class ArmTarget(Protocol):
    """What the PTZ runtime needs of the hub (:class:`~safecity.monitor.runtime.hub.MonitorHub`)."""

    def arm_analytics(self, msg: ArmAnalytics) -> None: ...

    def deliver(self, msg: EventMsg | HealthMsg) -> None: ...


@dataclass(slots=True)
class _Track:
    sent: tuple[str | None, bool] | None = None
    sent_at: float = float("-inf")
    not_returned: Event | None = None
    problem: str | None = None
    holder: str | None = None  # who held the camera at the last poll


class PtzRuntime:
    """Patrol drivers of every PTZ camera of a :class:`~safecity.ptz.control.PtzControl`.

    Args:
        control: the PTZ cameras and the console's lease book.
        hub: where arming messages and health events go (None: drivers only, e.g. no monitoring).
        timezone: IANA zone of the tours' schedules (the config's ``timezone``).
        clock: Unix seconds (tests).
        poll_s: seconds between a driver's polls.
        resend_s: the arming state is sent again this often.
        audit: where the patrol's return after a hand-off is audited (an ``AuditLog``), or None.
    """

    def __init__(
        self,
        control: PtzControl,
        hub: ArmTarget | None,
        timezone: str,
        *,
        clock: Callable[[], float] = time.time,
        poll_s: float = 0.5,
        resend_s: float = 2.0,
        audit: AuditRecorder | None = None,
    ) -> None:
        self.control, self.hub, self.clock, self.resend_s = control, hub, clock, resend_s
        self.timezone, self.poll_s, self.audit = timezone, poll_s, audit
        self._lock = threading.Lock()
        self._update_lock = threading.Lock()  # start/stop vs a config change
        self._started = False
        self._track: dict[str, _Track] = {key: _Track() for key in control.units}
        self._states: dict[str, DriverState] = {}
        self.handoff: HandoffSink | None = None  # set by attach_ptz
        self.drivers: dict[str, PatrolDriver] = {
            key: self._driver(unit) for key, unit in control.units.items()
        }

    def _driver(self, unit: PtzUnit) -> PatrolDriver:
        return PatrolDriver(unit, self.control.leases, self.timezone, on_state=self.on_state,
                            clock=self.clock, poll_s=self.poll_s)  # fmt: skip

    def start(self) -> None:
        """Start every driver (each in its own thread); returns at once."""
        with self._update_lock:
            self._started = True
            for d in self.drivers.values():
                d.start()

    def stop(self) -> None:
        """Stop the drivers; live ``not_returned`` events end."""
        with self._update_lock:
            self._started = False
            for d in self.drivers.values():
                d.stop()
        now = self.clock()
        for key, tr in self._track.items():
            if tr.not_returned is not None:
                self._end_not_returned(key, tr, now)

    def states(self) -> Mapping[str, DriverState]:
        """The last state of each driver (camera id -> state)."""
        with self._lock:
            return dict(self._states)

    def on_state(self, state: DriverState) -> None:
        """One driver poll's outcome: arm or pause the analytics, raise or end the health event."""
        key, now = state.camera, state.t_s
        with self._lock:
            self._states[key] = state
            tr = self._track.setdefault(key, _Track())
        self._report_problem(key, tr, state)
        self._note_holder(key, tr, state)
        want = (state.preset if state.armed else None, state.moving is None)
        if self.hub is not None and (want != tr.sent or now - tr.sent_at >= self.resend_s):
            tr.sent, tr.sent_at = want, now
            self.hub.arm_analytics(ArmAnalytics(key, want[0], want[1]))
        if state.not_returned and tr.not_returned is None:
            self._start_not_returned(key, tr, state)
        elif not state.not_returned and tr.not_returned is not None and state.mode != "unreachable":
            self._end_not_returned(key, tr, now)

    def update_config(self, config: MonitorConfig, env: Mapping[str, str] | None = None) -> None:
        """Follow a changed monitoring config (``ConfigWatcher`` ``on_applied``, ``Services.apply_config``).

        A PTZ camera whose ``ptz`` block or name changed (or every one, when the time zone changed) gets
        a new driver (its tour starts afresh; the ONVIF connection is kept when ``ptz.onvif`` did not
        change); a new PTZ camera gets a driver; a removed or disabled one (or one that lost its ``ptz``
        block) loses its driver, its connection and its lease. The hand-off takes the new positions,
        headings and PTZ sites. A new camera whose password variable is not set is logged and left out
        (the others are updated). Leases of cameras that stay are kept.
        """
        wanted = {c.id: c for c in config.cameras if c.enabled and c.ptz is not None}
        tz_changed = config.timezone != self.timezone
        with self._update_lock:
            self.timezone = config.timezone
            for key in [k for k in self.control.units if k not in wanted]:
                self._drop(key)
            for key, cam in wanted.items():
                old = self.control.units.get(key)
                if (
                    old is not None
                    and old.config == cam.ptz
                    and old.name == (cam.name or key)
                    and not tz_changed
                ):
                    continue
                try:
                    unit = unit_from_config(cam, env)
                except SafecityError as exc:
                    log.error("PTZ %s: not driven after the config change: %s", key, exc)
                    continue
                if old is not None and old.config.onvif == unit.config.onvif:
                    unit.camera.close()
                    unit = PtzUnit(unit.key, unit.name, unit.config, old.camera)  # keep the connection
                self._replace(key, unit, old)
        if self.handoff is not None:
            from safecity.monitor.config.policy import BoundPolicy

            self.handoff.policy = BoundPolicy(config.policy, {c.id: c.group for c in config.cameras},
                                              config.timezone)  # fmt: skip
            self.handoff.update_config(config)

    # ------------------------------------------------------------------ internals
    def _replace(self, key: str, unit: PtzUnit, old: PtzUnit | None) -> None:
        driver = self.drivers.pop(key, None)
        if driver is not None:
            driver.stop()
        if old is not None and old.camera is not unit.camera:
            old.camera.close()
        self.control.units[key] = unit
        with self._lock:
            tr = self._track.setdefault(key, _Track())
            tr.sent = None  # the new driver's first word goes out at once
        self.drivers[key] = new = self._driver(unit)
        if self._started:
            new.start()
        log.info("PTZ %s: %s driver after the config change", key, "new" if old is None else "changed")

    def _drop(self, key: str) -> None:
        driver = self.drivers.pop(key, None)
        if driver is not None:
            driver.stop()
        unit = self.control.units.pop(key, None)
        if unit is not None:
            unit.camera.close()
        lease = self.control.leases.holder(key)
        if lease is not None:
            self.control.leases.release(key, lease.holder, force=True)
        with self._lock:
            tr = self._track.pop(key, None)
            self._states.pop(key, None)
        if tr is not None and tr.not_returned is not None:
            self._end_not_returned(key, tr, self.clock())
        log.info("PTZ %s: driver stopped (no longer a PTZ camera of the config)", key)

    def _note_holder(self, key: str, tr: _Track, state: DriverState) -> None:
        """A hand-off's hold that ended: the patrol takes the camera back (audited)."""
        holder = state.holder if state.mode == "held" else None
        if tr.holder == HANDOFF_HOLDER and holder is None:
            detail = {"reason": "hand-off hold ended", "resume": state.preset, "mode": state.mode}
            record_system(self.audit, "ptz_release", key, detail)
        tr.holder = holder

    def _report_problem(self, key: str, tr: _Track, state: DriverState) -> None:
        problem = state.reason if state.mode == "unreachable" else None
        if problem != tr.problem:
            if problem is not None:
                log.warning("PTZ %s: patrol paused: %s", key, problem)
            elif tr.problem is not None:
                log.info("PTZ %s: patrol resumed", key)
            tr.problem = problem

    def _start_not_returned(self, key: str, tr: _Track, state: DriverState) -> None:
        unit = self.control.units.get(key)
        after = unit.config.return_after_release_s if unit is not None else 0.0
        where = state.preset or "its patrol position"
        reason = (
            f"PTZ camera {key} did not return to {where} within {after:g} s after it was released "
            f"({state.reason or state.mode}); check the camera, or steer it back from the console"
        )
        ev = Event(
            f"{key}-ptz-not-returned-{int(state.t_s * 1000)}", "camera_moved", key, state.t_s, state.t_s,
            severity=3, detail={"ptz": "not_returned", "reason": reason[:200], "preset": state.preset or ""},
        )  # fmt: skip
        tr.not_returned = ev
        log.warning("%s", reason)
        if self.hub is not None:
            self.hub.deliver(EventMsg("start", ev, self.clock()))
            self.hub.deliver(HealthMsg(key, "moved"))

    def _end_not_returned(self, key: str, tr: _Track, now: float) -> None:
        ev, tr.not_returned = tr.not_returned, None
        if ev is None or self.hub is None:
            return
        from dataclasses import replace

        self.hub.deliver(EventMsg("end", replace(ev, last_s=now, end_s=now), self.clock()))
        self.hub.deliver(HealthMsg(key, "online"))


def attach_ptz(
    control: PtzControl, runtime: Any, config: MonitorConfig, *, audit: AuditRecorder | None = None
) -> PtzRuntime:
    """The PTZ runtime of a monitoring runtime (a ``MonitorHub``) and its hand-off sink (added to it);
    with ``audit`` the system's moves (hand-off swings, the patrol's return) are audit rows.

    Called by :func:`safecity.service.build_ptz`; the caller starts and stops the result.
    """
    from safecity.monitor.config.policy import BoundPolicy
    from safecity.ptz.handoff import HandoffSink

    hub = runtime if hasattr(runtime, "arm_analytics") else None
    transport = getattr(runtime, "transport", None)
    if hub is not None and not callable(getattr(transport, "arm", None)):
        log.warning(
            "the %s transport cannot pause the analytics of PTZ cameras while they move: their object "
            "rules stay paused (health only); run PTZ cameras with the local backend",
            getattr(transport, "name", "?"),
        )
    ptz = PtzRuntime(control, hub, config.timezone, audit=audit)
    if hasattr(runtime, "add_sink"):
        policy = BoundPolicy(config.policy, {c.id: c.group for c in config.cameras}, config.timezone)
        ptz.handoff = HandoffSink(config, control, policy, runtime, audit=audit)
        runtime.add_sink(ptz.handoff)
    return ptz
