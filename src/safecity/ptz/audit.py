"""The PTZ moves safecity makes by itself, in the audit chain next to the operators' moves.

An operator's moves are audited by the console (:mod:`safecity.web.routes_ptz`: ``ptz_move``,
``ptz_release``, ...). A hand-off swings a camera without anyone pressing a button, and the patrol takes
the camera back when the hand-off's hold ends; both go to the same chain
(:class:`safecity.store.audit.AuditLog`) with the same action names, the camera as target
(``target_type`` ``camera``) and a ``system:`` actor instead of a user name:

* ``ptz_move`` by ``system:handoff``: the swing (detail: the command as the console writes it, ``mode``
  ``preset`` or ``absolute``, plus the fixed camera, its event and the hold's end); a camera error is
  ``allowed`` with ``error`` (as for an operator), an operator holding the camera ``allowed=False`` with
  ``refused``;
* ``ptz_release`` by ``system:handoff``: the hold ended, the patrol resumes (detail: ``resume`` = the
  preset the patrol goes back to, ``mode``).

Writing is best effort: a store that does not answer is logged and never stops a hand-off or a patrol.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["AuditRecorder", "SYSTEM_HANDOFF", "record_system"]

log = logging.getLogger(__name__)

SYSTEM_HANDOFF = "system:handoff"
"""The audit actor (``username``) of hand-off moves and of the patrol's return after a hand-off."""


class AuditRecorder(Protocol):
    """What the PTZ side needs of :class:`safecity.store.audit.AuditLog`."""

    def record(
        self,
        action: str,
        *,
        username: str | None,
        allowed: bool,
        target_type: str | None = None,
        target_id: str | None = None,
        remote_addr: str | None = None,
        detail: str | None = None,
    ) -> int: ...


def record_system(
    audit: AuditRecorder | None,
    action: str,
    camera: str,
    detail: Mapping[str, Any],
    *,
    allowed: bool = True,
    actor: str = SYSTEM_HANDOFF,
) -> None:
    """One audit row for a PTZ action safecity took by itself (nothing without ``audit``).

    Example:
        >>> rows = []
        >>> class Log:
        ...     def record(self, action, **kw):
        ...         rows.append((action, kw["username"], kw["target_id"], kw["detail"]))
        ...         return len(rows)
        >>> record_system(Log(), "ptz_move", "ptz-1", {"mode": "preset", "preset": "lot"})
        >>> rows
        [('ptz_move', 'system:handoff', 'ptz-1', '{"mode": "preset", "preset": "lot"}')]
    """
    if audit is None:
        return
    text = json.dumps(dict(detail), ensure_ascii=False, default=str)[:2000]
    try:
        audit.record(action, username=actor, allowed=allowed, target_type="camera", target_id=camera,
                     detail=text)  # fmt: skip
    except Exception:  # the audit store being down must not stop a hand-off or a patrol
        log.exception("PTZ %s: audit row %s of %s could not be written", camera, action, actor)
