"""The map layers of a stored plan (area outline, dongs, priority cells, existing cameras), rebuilt on demand.

The store keeps a plan's items, not its demand grid, so the console's priority layer and the HTML
download rebuild the grid with the planning stack (``safecity[plan]``) from the plan's area and the
config saved in its ``params``; the existing cameras come from the store's registry when it has the
area, else from the bundled 2018 CSV, as ``safecity plan`` does. Results are cached per (area,
config) because a Guro rebuild takes about 1.5 s and Seoul longer.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from safecity.errors import SafecityError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from safecity.plan.types import MapLayers
    from safecity.store.plans_read import PlanView

__all__ = ["LayersUnavailable", "clear_cache", "stored_layers"]

CACHE_SIZE = 4
_cache: OrderedDict[tuple[int, str, str], tuple[MapLayers, list[str]]] = OrderedDict()
_lock = threading.Lock()


class LayersUnavailable(SafecityError):
    """The planning stack cannot rebuild this plan's layers (extra missing, unknown area, bad data)."""


def clear_cache() -> None:
    """Forget the cached layers (tests; after a registry import)."""
    with _lock:
        _cache.clear()


def _config_json(plan: PlanView) -> str:
    cfg = plan.params.get("config")
    return json.dumps(cfg, sort_keys=True) if isinstance(cfg, dict) else ""


def stored_layers(engine: Engine, plan: PlanView) -> tuple[MapLayers, list[str]]:
    """``(layers, notes)`` for ``plan``; notes say where the rebuild differs from the original run.

    Raises:
        LayersUnavailable: the ``plan`` extra is not installed or the area cannot be loaded.
    """
    key = (id(engine), plan.area, _config_json(plan))
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit[0], list(hit[1])
    layers, notes = _build(engine, plan)
    with _lock:
        _cache[key] = (layers, notes)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return layers, notes


def _build(engine: Engine, plan: PlanView) -> tuple[MapLayers, list[str]]:
    try:
        from safecity.plan import data, sites
        from safecity.plan.areas import SEOUL, load_area
        from safecity.plan.config import PlanConfig
        from safecity.registry.repo import load_cameras
    except ImportError as exc:
        raise LayersUnavailable(
            f"the priority layer needs the planning stack, which is not installed ({exc}); "
            "install safecity[plan] on the console host"
        ) from exc
    notes: list[str] = []
    try:
        area = load_area(plan.area)
    except SafecityError as exc:
        raise LayersUnavailable(f"plan {plan.id}: cannot load its area {plan.area!r}: {exc}") from exc
    raw: Any = plan.params.get("config")
    try:
        cfg = PlanConfig.model_validate(raw) if isinstance(raw, dict) else PlanConfig()
    except ValueError:
        cfg = PlanConfig()
        notes.append("the plan's saved config no longer validates; the default weights were used")
    if not isinstance(raw, dict):
        notes.append("the plan saved no config; the default weights were used")
    if plan.params.get("requests"):
        notes.append("requests of the original run are not part of the rebuilt priority layer")
    cams = load_cameras(engine, None if area.key == SEOUL else area.name_ko)
    if not cams:
        cams = data.bundled_cameras()
    try:
        inputs = sites.build_inputs(area, cfg, cameras=cams, requests=data.Requests.empty())
        return sites.map_layers(area, inputs.grid, inputs.scores.score, cams), notes
    except (SafecityError, ValueError, OSError) as exc:
        raise LayersUnavailable(f"plan {plan.id}: cannot rebuild the priority layer: {exc}") from exc
