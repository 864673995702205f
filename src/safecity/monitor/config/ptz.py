"""The ``ptz:`` block of a camera: ONVIF access, presets with their rules, patrol tours, hand-off geometry.

A rotating camera's zones and rules only make sense where it points, so on a PTZ camera a rule is armed
only at the presets that list it (``presets[].rules``, by rule name; ``camera_health`` rules are always
armed). Tours visit presets in order (``loop`` or ``back_and_forth``), each for ``dwell_s`` seconds
after arriving, while their schedule is active. Positions are ONVIF generic space (pan/tilt -1..1,
zoom 0..1). The password is never in the file: ``onvif.password_env`` names the environment variable
that holds it. See ``docs/ptz.md``.

Example:
    >>> cfg = PtzConfig.model_validate({
    ...     "onvif": {"host": "10.0.0.7", "user": "admin", "password_env": "PTZ7_PASSWORD"},
    ...     "presets": [{"name": "gate"}, {"name": "road"}],
    ...     "tours": [{"name": "day", "stops": [{"preset": "gate", "dwell_s": 30},
    ...                                         {"preset": "road", "dwell_s": 20}]}],
    ...     "home_preset": "gate"})
    >>> [s.preset for s in cfg.tours[0].stops]
    ['gate', 'road']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Protocol

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from safecity.monitor.config.problems import config_problem
from safecity.monitor.config.schedule import parse_schedule

__all__ = [
    "OnvifConfig",
    "PTZ_ONLY_KEYS",
    "PresetConfig",
    "PtzConfig",
    "TourConfig",
    "TourStopConfig",
    "misplaced_ptz_keys",
    "ptz_problems",
]

_FROZEN = ConfigDict(extra="forbid", frozen=True)
_NAME = r"^[A-Za-z0-9_.\-]+$"

#: keys that belong in a camera's ``ptz:`` block; found directly on a camera they get a clear message
PTZ_ONLY_KEYS = ("onvif", "presets", "tours", "home_preset", "return_after_release_s", "lease_s")


def _check_schedule(items: list[str]) -> list[str]:
    try:
        parse_schedule(items)
    except ValueError as exc:
        raise PydanticCustomError("bad_schedule", "{msg}", {"msg": str(exc)}) from None
    return items


def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, str) else v


def _check_env_name(v: str) -> str:
    if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", v):
        raise PydanticCustomError(
            "bad_env_name",
            "{msg}",
            {
                "msg": "password_env is the NAME of the environment variable that holds the password "
                "(capital letters, digits, _; e.g. PTZ7_PASSWORD), never the password itself"
            },
        )
    return v


_Schedule = Annotated[list[str], BeforeValidator(_as_list), AfterValidator(_check_schedule)]


class OnvifConfig(BaseModel):
    """How to reach the camera's ONVIF services."""

    model_config = _FROZEN

    host: str = Field(
        min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.\-:\[\]]+$",
        description="Camera address (name or IP, no scheme); /onvif/device_service is asked there.",
    )  # fmt: skip
    port: int = Field(default=80, ge=1, le=65535, description="ONVIF HTTP port.")
    user: str = Field(min_length=1, max_length=64, description="ONVIF user name.")
    password_env: Annotated[str, AfterValidator(_check_env_name)] = Field(
        max_length=64,
        description="Name of the environment variable holding the password (never the password itself).",
    )
    timeout_s: float = Field(default=5.0, ge=0.5, le=60.0, description="Limit of each ONVIF call.")
    profile: str | None = Field(
        default=None, max_length=64, description="Media profile token; none = the first with PTZ."
    )


class PresetConfig(BaseModel):
    """A preset: where the camera looks and which of the camera's rules are armed there."""

    model_config = _FROZEN

    name: str = Field(min_length=1, max_length=64, pattern=_NAME, description="Preset name (the camera's).")
    token: str | None = Field(
        default=None, max_length=64, description="The camera's preset token; none = found by name."
    )
    position: tuple[
        Annotated[float, Field(ge=-1.0, le=1.0)], Annotated[float, Field(ge=-1.0, le=1.0)],
        Annotated[float, Field(ge=0.0, le=1.0)],
    ] | None = Field(
        default=None, description="[pan, tilt, zoom] to store in the camera if it lacks this preset."
    )  # fmt: skip
    rules: list[str] = Field(
        default_factory=list, max_length=64, description="Names of the camera's rules armed at this preset."
    )
    settle_s: float = Field(
        default=2.0, ge=0.0, le=60.0,
        description="After arriving, seconds before the motion gate and rules resume (re-calibration).",
    )  # fmt: skip
    lat: float | None = Field(default=None, ge=33.0, le=39.0, description="Latitude of the place it shows.")
    lon: float | None = Field(default=None, ge=124.0, le=132.0, description="Longitude of that place.")
    radius_m: float = Field(
        default=30.0, gt=0.0, le=1000.0, description="Hand-off: it covers points this close to lat/lon."
    )


def _dwell_problem(v: float, loc: tuple[str | int, ...]) -> InitErrorDetails:
    msg = (
        f"dwell_s must be more than 0 seconds, got {v:g}: the camera would leave the preset without "
        "looking; give the seconds to stay after arriving (e.g. 20)"
    )
    return config_problem("zero_dwell", msg, loc, v)


class TourStopConfig(BaseModel):
    """One stop of a tour."""

    model_config = _FROZEN

    preset: str = Field(min_length=1, max_length=64, description="Preset name (see presets).")
    dwell_s: float = Field(le=86400.0, description="Seconds to stay after arriving (more than 0).")


class TourConfig(BaseModel):
    """A patrol: presets visited in turn while the schedule is active."""

    model_config = _FROZEN

    name: str = Field(min_length=1, max_length=64, pattern=_NAME, description="Tour name.")
    stops: list[TourStopConfig] = Field(min_length=1, max_length=64, description="Stops in order.")
    order: Literal["loop", "back_and_forth"] = Field(
        default="loop", description="loop: 1 2 3 1 2 3; back_and_forth: 1 2 3 2 1 2 (shorter swings)."
    )
    schedule: _Schedule = Field(
        default_factory=list, description="When the tour runs; [] = always. The first active tour wins."
    )


class PtzConfig(BaseModel):
    """A rotating camera (``cameras[].ptz``)."""

    model_config = _FROZEN

    onvif: OnvifConfig = Field(description="ONVIF address and account.")
    presets: list[PresetConfig] = Field(default_factory=list, max_length=256, description="Presets used.")
    tours: list[TourConfig] = Field(default_factory=list, max_length=16, description="Patrol tours.")
    home_preset: str | None = Field(
        default=None, max_length=64, description="Where the camera rests when no tour runs."
    )
    return_after_release_s: float = Field(
        default=60.0, ge=1.0, le=3600.0,
        description="After an operator releases it, back on tour or home within this, else a health event.",
    )  # fmt: skip
    lease_s: float = Field(
        default=60.0, ge=5.0, le=3600.0, description="An operator's control lease; renewed by each move."
    )
    pan_zero_heading_deg: float | None = Field(
        default=None, ge=0.0, lt=360.0, description="Hand-off: compass heading at pan 0 (0 north, 90 east)."
    )
    pan_span_deg: float = Field(
        default=360.0, gt=0.0, le=720.0, description="Hand-off: degrees covered by pan -1..1."
    )
    range_m: float = Field(default=150.0, gt=0.0, le=5000.0, description="Hand-off: how far it sees well.")
    handoff_hold_s: float = Field(
        default=120.0, ge=5.0, le=3600.0, description="A hand-off holds it this long, then it patrols."
    )

    @model_validator(mode="after")
    def _verify(self) -> PtzConfig:
        problems: list[InitErrorDetails] = []
        names = [p.name for p in self.presets]
        seen: set[str] = set()
        for i, n in enumerate(names):
            if n in seen:
                msg = f"duplicate preset name {n!r}: names must be unique"
                problems.append(config_problem("duplicate_name", msg, ("presets", i, "name"), n))
            seen.add(n)
        defined = ", ".join(dict.fromkeys(names)) or "none"

        def unknown(name: str, loc: tuple[str | int, ...]) -> None:
            msg = f"preset {name!r} does not exist in this camera's ptz.presets; defined presets: {defined}"
            problems.append(config_problem("unknown_preset", msg, loc, name))

        tour_names: set[str] = set()
        for ti, tour in enumerate(self.tours):
            if tour.name in tour_names:
                msg = f"duplicate tour name {tour.name!r}: names must be unique"
                problems.append(config_problem("duplicate_name", msg, ("tours", ti, "name"), tour.name))
            tour_names.add(tour.name)
            for si, stop in enumerate(tour.stops):
                if stop.dwell_s <= 0:  # checked here, not on the field, so it comes with the other problems
                    problems.append(_dwell_problem(stop.dwell_s, ("tours", ti, "stops", si, "dwell_s")))
                if stop.preset not in seen:
                    unknown(stop.preset, ("tours", ti, "stops", si, "preset"))
        if self.home_preset is not None and self.home_preset not in seen:
            unknown(self.home_preset, ("home_preset",))
        if problems:
            raise _errors("PtzConfig", problems)
        return self

    def preset(self, name: str) -> PresetConfig:
        """The preset called ``name`` (KeyError if none)."""
        for p in self.presets:
            if p.name == name:
                return p
        raise KeyError(name)


def _errors(title: str, problems: list[InitErrorDetails]) -> Exception:
    from pydantic import ValidationError

    return ValidationError.from_exception_data(title, problems)


class _Rule(Protocol):
    @property
    def name(self) -> str | None: ...

    @property
    def type(self) -> str: ...


class _Camera(Protocol):
    @property
    def ptz(self) -> PtzConfig | None: ...

    @property
    def heading_deg(self) -> float | None: ...

    @property
    def rules(self) -> Sequence[_Rule]: ...


def ptz_problems(cam: _Camera) -> list[InitErrorDetails]:
    """Cross-checks between a camera and its ``ptz`` block (locations relative to the camera).

    * a preset lists a rule name the camera does not have;
    * a zone/line rule of a PTZ camera is armed at no preset (it would never run);
    * ``heading_deg`` on a PTZ camera (its direction comes from ``ptz.pan_zero_heading_deg``).
    """
    ptz = cam.ptz
    if ptz is None:
        return []
    out: list[InitErrorDetails] = []
    named = [r.name for r in cam.rules if r.name]
    listed: set[str] = set()
    for pi, preset in enumerate(ptz.presets):
        for ri, rule in enumerate(preset.rules):
            listed.add(rule)
            if rule not in named:
                have = ", ".join(named) or "none (give rules a name: to list them here)"
                msg = f"rule {rule!r} does not exist in this camera; named rules: {have}"
                out.append(config_problem("unknown_rule", msg, ("ptz", "presets", pi, "rules", ri), rule))
    for i, r in enumerate(cam.rules):
        if r.type != "camera_health" and (r.name is None or r.name not in listed):
            label = repr(r.name) if r.name else f"#{i + 1} ({r.type}, no name)"
            msg = (
                f"rule {label} of this PTZ camera is armed at no preset, so it would never run: name it and "
                "list the name in ptz.presets[].rules of the presets where it applies"
            )
            out.append(config_problem("rule_at_no_preset", msg, ("rules", i), r.name))
    if cam.heading_deg is not None:
        msg = (
            "heading_deg is for fixed cameras; a PTZ camera's direction is ptz.pan_zero_heading_deg "
            "(the compass heading at pan 0)"
        )
        out.append(config_problem("heading_on_ptz", msg, ("heading_deg",), cam.heading_deg))
    return out


def misplaced_ptz_keys(data: Any) -> Any:
    """Refuse PTZ settings written directly on a camera (e.g. ``presets:`` without a ``ptz:`` block),
    with a message that says where they belong. Returns ``data`` unchanged otherwise."""
    if isinstance(data, dict):
        stray = [k for k in PTZ_ONLY_KEYS if k in data]
        if stray:
            where = "its ptz: block" if "ptz" in data else "a ptz: block (this camera has none)"
            raise PydanticCustomError(
                "ptz_key_on_camera",
                "{msg}",
                {
                    "msg": f"{', '.join(stray)} belong(s) in {where}: a camera without ptz is fixed and "
                    "cannot move; write `ptz: {onvif: {...}, presets: [...], tours: [...]}` for a PTZ camera"
                },
            )
    return data
