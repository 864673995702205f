"""Analytics that know where a PTZ camera points: pause while it moves, per-preset rules when it rests.

A :class:`CameraPipeline <safecity.monitor.pipeline.CameraPipeline>` of a camera with a ``ptz:`` block
holds a :class:`PresetArming`. The camera's patrol driver (in the console process,
:mod:`safecity.ptz.runtime`) sends :class:`~safecity.monitor.runtime.messages.ArmAnalytics` through
the hub to the camera's worker, which calls :meth:`PresetArming.request`:

* ``preset=None`` (the camera moves, an operator steers it, it is unreachable): the motion gate,
  detector, tracker and rules are skipped; live object events end (tagged with the preset they were
  at). Frames still feed the tiles and the picture health checks, whose reference view is re-learnt
  at every frame (a PTZ pointed elsewhere on purpose is not a "moved" camera; covered, frozen and
  offline are still seen).
* ``preset="plaza"``: the camera rests at a preset. Analytics resume *after re-calibration*: the gate
  forgets its background (every pixel changed), the tracker starts afresh, the health monitor
  re-learns its reference view (another preset is not a "moved" camera), and the rules are the ones
  ``ptz.presets[plaza].rules`` lists (``camera_health`` always runs).
* ``wait_still=True`` (the camera reports no move status): the picture decides. Analytics stay
  paused until the picture has been still for ``still_s`` (mean absolute change of a 48-row picture
  below ``still_diff`` grey levels from frame to frame), and pause again as soon as it moves.

Object events of a PTZ camera carry the preset in ``detail["preset"]`` (stored with the event row and
sent in alert payloads). :meth:`PresetArming.before_frame` and :meth:`PresetArming.tag` are the two
calls the pipeline makes; requests come from another thread and are applied at the next frame.

Example:
    >>> from safecity.monitor.config.model import CameraConfig
    >>> cam = CameraConfig.model_validate({"id": "p1", "source": "rtsp://x/1",
    ...     "zones": [{"name": "a", "polygon": [[0, 0], [1, 0], [1, 1]]}],
    ...     "rules": [{"type": "intrusion", "zone": "a", "name": "in_a"}],
    ...     "ptz": {"onvif": {"host": "h", "user": "u", "password_env": "P"},
    ...             "presets": [{"name": "pa", "rules": ["in_a"]}, {"name": "pb"}]}})
    >>> [r.type for r in PresetArming(cam).camera_at("pa").rules]
    ['intrusion']
    >>> [r.type for r in PresetArming(cam).camera_at("pb").rules]
    []
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from safecity.health import HEALTH_OF_TYPE
from safecity.monitor.config.model import CameraConfig, CameraHealthRuleConfig
from safecity.monitor.types import Event, EventKind

if TYPE_CHECKING:
    from safecity.monitor.rules.build import ObjectRule, RuleSet
    from safecity.monitor.vision.motion import MotionGate
    from safecity.monitor.vision.track import ByteTracker

__all__ = ["PresetArming", "PtzPipeline"]

Emission = tuple[EventKind, Event]
_STILL_HEIGHT = 48


class PtzPipeline(Protocol):
    """The parts of a camera pipeline that arming resets (``CameraPipeline`` has them)."""

    gate: MotionGate
    tracker: ByteTracker
    rules: RuleSet


class PresetArming:
    """Where one PTZ camera points, as its analytics see it.

    Args:
        camera: the camera's config (with a ``ptz`` block).
        tz: time zone of its rules' schedules.
        still_diff: grey-level change (mean absolute, 0..255) under which the picture counts as still.
        still_s: seconds of still picture before ``wait_still`` requests arm.
    """

    def __init__(
        self, camera: CameraConfig, tz: str = "Asia/Seoul", *, still_diff: float = 3.0, still_s: float = 1.0
    ) -> None:
        self.camera = camera
        self.tz = tz
        self.still_diff = still_diff
        self.still_s = still_s
        self.armed = False
        self.preset: str | None = None  # the preset the rules belong to (None: no preset rules)
        self._target: str | None = None
        self._wait_still = False
        self._pending: tuple[str | None, bool] | None = None
        self._lock = threading.Lock()
        self._prev: npt.NDArray[np.float32] | None = None
        self._still_since: float | None = None
        self._moving_picture = False
        self._tracker_template: ByteTracker | None = None
        self._started = False

    @classmethod
    def for_camera(cls, camera: CameraConfig, tz: str = "Asia/Seoul") -> PresetArming | None:
        """A :class:`PresetArming` for a PTZ camera, None for a fixed one."""
        return None if camera.ptz is None else cls(camera, tz)

    # ------------------------------------------------------------------ requests (any thread)
    def request(self, preset: str | None, wait_still: bool = False) -> None:
        """The driver's word: rest at ``preset`` (arm after re-calibration) or None (pause)."""
        if preset is not None and self.camera.ptz is not None:
            names = {p.name for p in self.camera.ptz.presets}
            if preset not in names:
                preset = None  # an unknown preset arms nothing (the driver reports the problem)
        with self._lock:
            self._pending = (preset, wait_still)

    def camera_at(self, preset: str | None) -> CameraConfig:
        """The camera config with only the rules armed at ``preset`` (and ``camera_health``)."""
        listed: set[str] = set()
        if preset is not None and self.camera.ptz is not None:
            listed = set(self.camera.ptz.preset(preset).rules)
        rules = [r for r in self.camera.rules if isinstance(r, CameraHealthRuleConfig) or r.name in listed]
        return self.camera.model_copy(update={"rules": rules})

    # ------------------------------------------------------------------ the pipeline's calls
    def before_frame(
        self, pipe: PtzPipeline, gray: npt.NDArray[np.uint8], t_s: float
    ) -> tuple[bool, list[Emission]]:
        """Apply a pending request, watch the picture; (hold, events): hold = skip gate and rules."""
        out: list[Emission] = []
        if not self._started:  # a new pipeline: no preset known yet, only health rules
            self._started = True
            self._tracker_template = copy.deepcopy(pipe.tracker)
            pipe.rules.rules = []
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            target, wait_still = pending
            if target != self._target or wait_still != self._wait_still or (target is None and self.armed):
                out += self._disarm(pipe, t_s)
                self._target, self._wait_still = target, wait_still
                self._still_since = None
        still = self._still(gray, t_s)
        if self.armed and self._wait_still and not still:
            out += self._disarm(pipe, t_s)  # the picture moves: the camera did not say so
        if not self.armed and self._target is not None:
            settled = not self._wait_still or (
                self._still_since is not None and t_s - self._still_since >= self.still_s
            )
            if settled:
                self._arm(pipe, self._target)
        if not self.armed:  # pointed elsewhere on purpose: not a "moved" (or refocusing: "blurred") camera
            pipe.rules.health.relearn()
        return not self.armed, out

    def tag(self, events: Sequence[Emission]) -> list[Emission]:
        """Object events with ``detail["preset"]`` (health events as they are)."""
        if self.preset is None:
            return list(events)
        return [(k, self._tagged(e, self.preset)) for k, e in events]

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _tagged(ev: Event, preset: str) -> Event:
        if ev.type in HEALTH_OF_TYPE or "preset" in ev.detail:
            return ev
        return dataclasses.replace(ev, detail={**ev.detail, "preset": preset})

    def _disarm(self, pipe: PtzPipeline, t_s: float) -> list[Emission]:
        out: list[Emission] = []
        old: list[ObjectRule] = list(pipe.rules.rules)
        for rule in old:
            out += rule.finish(t_s)
        pipe.rules.rules = []
        preset, self.preset, self.armed = self.preset, None, False
        return [(k, self._tagged(e, preset)) for k, e in out] if preset is not None else out

    def _arm(self, pipe: PtzPipeline, preset: str) -> None:
        from safecity.monitor.rules.build import build_rules

        pipe.gate.reset()
        if self._tracker_template is not None:
            pipe.tracker = copy.deepcopy(self._tracker_template)
        pipe.rules.rules = build_rules(self.camera_at(preset), tz=self.tz).rules
        pipe.rules.health.relearn()
        self.preset, self.armed = preset, True

    def _still(self, gray: npt.NDArray[np.uint8], t_s: float) -> bool:
        h, w = gray.shape[:2]
        size = (max(8, round(w * _STILL_HEIGHT / max(1, h))), _STILL_HEIGHT)
        small = np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), np.float32)
        prev, self._prev = self._prev, small
        if prev is None or prev.shape != small.shape:
            self._still_since = None
            return False
        still = float(np.abs(small - prev).mean()) < self.still_diff
        if not still:
            self._still_since = None
        elif self._still_since is None:
            self._still_since = t_s
        return still
