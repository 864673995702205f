"""The key reference of ``docs/config.md``, generated from the config models so it cannot drift.

Regenerate after changing :mod:`safecity.monitor.config.model`::

    .venv/bin/python -m safecity.monitor.config.reference docs/config.md

A unit test fails when the file and the models disagree.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from safecity.monitor.config import engine, policy, ptz
from safecity.monitor.config import model as c

__all__ = ["BEGIN", "END", "reference_markdown", "write_reference"]

BEGIN = "<!-- BEGIN GENERATED REFERENCE (safecity.monitor.config.reference) -->"
END = "<!-- END GENERATED REFERENCE -->"

SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("top level (`MonitorConfig`)", c.MonitorConfig),
    (
        "`cameras[]` (`CameraConfig`; its `detector` / `tracker` take the keys of the top-level ones)",
        c.CameraConfig,
    ),
    ("`cameras[].zones[]` (`ZoneConfig`)", c.ZoneConfig),
    ("`cameras[].lines[]` (`LineConfig`)", c.LineConfig),
    ("rule `type: intrusion`", c.IntrusionRuleConfig),
    ("rule `type: line_crossing`", c.LineCrossingRuleConfig),
    ("rule `type: loitering`", c.LoiteringRuleConfig),
    ("rule `type: crowding`", c.CrowdingRuleConfig),
    ("rule `type: fall`", c.FallRuleConfig),
    ("rule `type: abandoned_object`", c.AbandonedObjectRuleConfig),
    ("rule `type: camera_health`", c.CameraHealthRuleConfig),
    ("`detector` (`DetectorConfig`)", c.DetectorConfig),
    ("`detector.first_pass` / `detector.confirm` (`CascadeStageConfig`)", c.CascadeStageConfig),
    ("`tracker` (`TrackerConfig`)", c.TrackerConfig),
    ("`motion` (`MotionConfig`)", c.MotionConfig),
    (
        "`cameras[].gate` (`GateConfig`; see docs/monitoring.md#compressed-domain-gate-before-the-decoder)",
        engine.GateConfig,
    ),
    ("`cameras[].detection` (`DetectionConfig`; see docs/monitoring.md)", engine.DetectionConfig),
    ("`selection` (`SelectionConfig`)", c.SelectionConfig),
    ("`outputs` (`OutputsConfig`)", c.OutputsConfig),
    ("`policy` (`AlertPolicy`; see docs/console.md#alert-policy)", policy.AlertPolicy),
    ("`policy.rules[]` (`PolicyRule`)", policy.PolicyRule),
    ("`filters` (`BoxFilterConfig`)", policy.BoxFilterConfig),
    ("`cameras[].ptz` (`PtzConfig`; see docs/ptz.md)", ptz.PtzConfig),
    ("`cameras[].ptz.onvif` (`OnvifConfig`)", ptz.OnvifConfig),
    ("`cameras[].ptz.presets[]` (`PresetConfig`)", ptz.PresetConfig),
    ("`cameras[].ptz.tours[]` (`TourConfig`)", ptz.TourConfig),
    ("`cameras[].ptz.tours[].stops[]` (`TourStopConfig`)", ptz.TourStopConfig),
)


_BY_NAME = {
    "polygon": "polygon [[x, y], ...] in 0..1",
    "privacy_masks": "list of polygons",
    "liftable_privacy_masks": "list of polygons",
    "motion_masks": "list of polygons",
    "a": "[x, y] in 0..1",
    "b": "[x, y] in 0..1",
    "classes": "list of COCO class names",
    "rules": "list of rules (by `type`, below)",
    "schedule": "schedule string or list",
}


_BY_FIELD: dict[tuple[type[BaseModel], str], str] = {
    (policy.AlertPolicy, "rules"): "list of policy rules (below)",
    (policy.BoxFilterConfig, "max_box_frac"): "class -> fraction 0..1",
    (policy.BoxFilterConfig, "cameras"): "camera id -> {class: fraction}",
    (ptz.PresetConfig, "rules"): "list of rule names",
    (ptz.PresetConfig, "position"): "[pan, tilt, zoom] (-1..1, -1..1, 0..1)",
}


def _describe_type(name: str, info: FieldInfo, model: type[BaseModel] | None = None) -> str:
    if (model, name) in _BY_FIELD:
        return _BY_FIELD[(model, name)]  # type: ignore[index]
    if name in _BY_NAME:
        return _BY_NAME[name]
    ann = info.annotation
    if typing.get_origin(ann) is typing.Literal:
        return " | ".join(str(a) for a in typing.get_args(ann))
    text = str(ann)
    for prefix in (
        "typing.",
        "pathlib.",
        "datetime.",
        "safecity.monitor.config.model.",
        "safecity.monitor.config.ptz.",
        "safecity.monitor.config.engine.",
        "safecity.monitor.config.detector.",
        "safecity.monitor.types.",
    ):
        text = text.replace(prefix, "")
    text = text.replace("<class '", "").replace("'>", "")
    text = text.replace("Literal['intrusion', 'line_crossing', 'loitering', 'crowding', 'fall', "
                        "'abandoned_object', 'camera_offline', 'camera_frozen', 'camera_covered', "
                        "'camera_blurred', 'camera_moved']", "event type")  # fmt: skip
    text = text.replace(
        "Literal['online', 'offline', 'frozen', 'covered', 'blurred', 'moved']", "health state"
    )
    return text


def _bounds(info: FieldInfo) -> str:
    parts = []
    for m in info.metadata:
        for key, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"), ("min_length", "min len")):
            v = getattr(m, key, None)
            if v is not None:
                parts.append(f"{sym} {v}")
    return ", ".join(parts)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            fields = type(value).model_fields.values()
            if any(f.is_required() for f in fields):  # no section defaults: show the value itself
                return f"`{json.dumps(value.model_dump(mode='json', exclude_none=True))}`"
            return "(section defaults)"
    else:
        value = info.default
    if value is PydanticUndefined:
        return ""
    return f"`{json.dumps(value, ensure_ascii=False, default=str)}`"


def reference_markdown() -> str:
    """Markdown tables of every key: type, default, bounds, meaning."""
    out = [BEGIN, ""]
    for title, model in SECTIONS:
        out.append(f"### {title}")
        doc = (model.__doc__ or "").strip().splitlines()[0]
        out += ["", doc, "", "| key | type | default | bounds | meaning |", "|---|---|---|---|---|"]
        for name, info in model.model_fields.items():
            typ = _describe_type(name, info, model).replace("|", "\\|")
            desc = (info.description or "").replace("|", "\\|")
            out.append(f"| `{name}` | {typ} | {_default(info)} | {_bounds(info)} | {desc} |")
        out.append("")
    out.append(END)
    return "\n".join(out) + "\n"


def write_reference(path: str | Path) -> None:
    """Replace the generated part of ``path`` (between the markers) with :func:`reference_markdown`."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END + "\n")
    p.write_text(head + reference_markdown() + tail, encoding="utf-8")


if __name__ == "__main__":
    import sys

    write_reference(sys.argv[1] if len(sys.argv) > 1 else "docs/config.md")
