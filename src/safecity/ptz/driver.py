"""Drive one PTZ camera's patrol: step the :class:`PatrolScheduler`, send the presets, notice arrivals,
stand aside while someone holds the lease, and tell the runtime when analytics may run.

This is the piece the runtime needs per PTZ camera (docs/ptz.md, runtime hooks 1, 2 and 4); it does not
touch the video pipeline itself: each poll ends with a :class:`DriverState` passed to ``on_state``, whose
``armed`` says whether the motion gate and rules of ``preset`` may run (the camera rests at a tour's
preset and ``settle_s`` has passed) and whose ``not_returned`` says that after a release the camera did
not get back to its patrol within ``return_after_release_s`` (a health event). :meth:`poll` is one step
(tests call it with their own clock); :meth:`start` runs it every ``poll_s`` in a daemon thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from safecity.errors import PtzError
from safecity.ptz.control import PtzUnit
from safecity.ptz.lease import LeaseBook
from safecity.ptz.patrol import PatrolScheduler, PatrolState
from safecity.ptz.types import PtzPosition

__all__ = ["DriverMode", "DriverState", "PatrolDriver"]

log = logging.getLogger(__name__)

DriverMode = Literal["patrol", "home", "idle", "held", "unreachable"]
_NEAR = 0.02  # generic-space distance that counts as "at the preset"


@dataclass(frozen=True, slots=True)
class DriverState:
    """What the driver saw and decided at one poll.

    Attributes:
        mode: patrol (a tour runs), home (resting at home), idle (nothing to do), held (an operator or
            a hand-off holds the lease), unreachable (the camera did not answer).
        preset: where the patrol wants the camera (None: nowhere in particular).
        moving: the camera's move status (None: not reported).
        armed: the camera rests at ``preset`` and its ``settle_s`` has passed: analytics may run.
        holder: the lease holder while held.
        not_returned: released more than ``return_after_release_s`` ago and not back at ``preset``.
        reason: for logs and the console.
    """

    camera: str
    t_s: float
    mode: DriverMode
    preset: str | None
    moving: bool | None
    armed: bool
    holder: str | None = None
    not_returned: bool = False
    reason: str = ""


def _near(a: PtzPosition | None, b: PtzPosition | None) -> bool:
    if a is None or b is None:
        return False
    return max(abs(a.pan - b.pan), abs(a.tilt - b.tilt), abs(a.zoom - b.zoom)) <= _NEAR


class PatrolDriver:
    """The patrol of one PTZ camera.

    Args:
        unit: the camera and its ``ptz`` config.
        leases: the console's lease book (a held lease pauses the patrol).
        timezone: IANA zone of the tours' schedules.
        on_state: called with every poll's :class:`DriverState` (runtime hooks: gate, health).
        clock: Unix seconds.
        poll_s: seconds between polls in :meth:`start`.
    """

    def __init__(
        self,
        unit: PtzUnit,
        leases: LeaseBook,
        timezone: str,
        *,
        on_state: Callable[[DriverState], None] | None = None,
        clock: Callable[[], float] = time.time,
        poll_s: float = 0.5,
    ) -> None:
        self.unit, self.leases, self.clock, self.poll_s = unit, leases, clock, poll_s
        self.on_state = on_state
        self.scheduler = PatrolScheduler(unit.config.tours, unit.config.home_preset, timezone)
        self.state: PatrolState | None = None
        self._sent: str | None = None  # preset last sent
        self._sent_at = 0.0
        self._target_pos: PtzPosition | None = None
        self._arrived_at: float | None = None
        self._held = False
        self._released_at: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"ptz-patrol-{self.unit.key}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # the patrol of a camera must survive anything one poll does
                log.exception("PTZ patrol of %s failed", self.unit.key)
            self._stop.wait(self.poll_s)

    def _emit(self, state: DriverState) -> DriverState:
        if self.on_state is not None:
            self.on_state(state)
        return state

    def poll(self) -> DriverState:
        """One step: read status, respect the lease, step the patrol, send a preset if it changed."""
        now = self.clock()
        key, cfg = self.unit.key, self.unit.config
        lease = self.leases.holder(key)
        if lease is not None:
            self._held = True
            self._sent, self._arrived_at = None, None  # re-send and re-settle after the release
            return self._emit(DriverState(key, now, "held", None, None, False, lease.holder,
                                          reason=f"held by {lease.holder}"))  # fmt: skip
        if self._held:
            self._held = False
            self._released_at = now
            self.state = self.scheduler.resume(self.state)
        step = self.scheduler.step(self.state, now)
        self.state = step.state
        mode: DriverMode = "patrol" if step.state.tour else "home" if step.preset else "idle"
        back_late = self._released_at is not None and now - self._released_at > cfg.return_after_release_s
        try:
            if step.preset is not None and step.preset != self._sent:
                token = self.unit.preset_token(step.preset)
                self._target_pos = next(
                    (p.position for p in self.unit.camera.presets() if p.token == token), None
                )
                self.unit.camera.goto_preset(token)
                self._sent, self._sent_at, self._arrived_at = step.preset, now, None
            status = self.unit.camera.status()
        except PtzError as exc:
            self._sent = None
            return self._emit(DriverState(key, now, "unreachable", step.preset, None, False,
                                          not_returned=back_late, reason=str(exc)))  # fmt: skip
        at_target = step.preset is not None and (
            _near(status.position, self._target_pos)
            if self._target_pos is not None and status.position is not None
            else now > self._sent_at  # no position to compare: settle_s (and the picture) must do
        )
        if at_target and status.moving is not True and self._arrived_at is None:
            self._arrived_at = now
            self.state = self.scheduler.arrived(self.state, now)
        if at_target:
            self._released_at = None
        settle = cfg.preset(step.preset).settle_s if step.preset is not None else 0.0
        armed = (
            step.preset is not None
            and self._arrived_at is not None
            and status.moving is not True
            and now - self._arrived_at >= settle
        )
        return self._emit(
            DriverState(
                key,
                now,
                mode,
                step.preset,
                status.moving,
                armed,
                not_returned=back_late and not at_target,
                reason=step.reason,
            )
        )
