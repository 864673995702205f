"""Planning configuration (``configs/plan.yaml``): score weights, camera types, costs, replacement rules.

Every default is derived from the Guro-gu figures in ``docs/planning.md`` (from the shared planning-domain
notes); the comment beside each field says how. Load a file with :func:`load_plan_config`.

Example:
    >>> cfg = PlanConfig()
    >>> sorted(cfg.camera_types)
    ['fixed', 'ptz']
    >>> cfg.camera_types["ptz"].radius_m
    50.0
    >>> cfg.camera_types["fixed"].headings_deg
    (0.0, 60.0, 120.0, 180.0, 240.0, 300.0)
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from safecity.yamlconf import load_model

__all__ = [
    "CameraTypeConfig",
    "EventHistoryConfig",
    "LayerWeights",
    "LightingConfig",
    "PlanConfig",
    "ReplacementConfig",
    "SiteCosts",
    "load_plan_config",
    "verify_camera_fits_site",
]

M = 1_000_000.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerWeights(_Strict):
    """Weights of the priority layers; each layer is scaled to 0..1 over the area before weighting."""

    coverage_gap: float = Field(
        3.0, ge=0, description="cell has no existing camera within gap_radius_m (0/1)"
    )
    population: float = Field(1.0, ge=0, description="dong population per cell, scaled to 0..1 over the area")
    one_person_households: float = Field(
        1.0, ge=0, description="dong one-person households per cell, scaled 0..1 (MOIS: vulnerable residents)"
    )
    crime: float = Field(
        1.0, ge=0, description="five major crimes per km² of the cell's gu (2021), scaled 0..1"
    )
    lighting: float = Field(
        1.0,
        ge=0,
        description="value of the LED light a new smart pole adds where people live and few lights stand "
        "(dark-and-active layer of the pole's cell, 0..1); counts only for new poles",
    )
    requests: float = Field(3.0, ge=0, description="police/resident requests in the cell, scaled 0..1")
    event_history: float = Field(
        2.0, ge=0, description="the control room's own events near the cell, by type, severity and age (0..1)"
    )


class CameraTypeConfig(_Strict):
    """One camera type on a pole: what it sees and what it costs.

    ``fov_deg: 360`` is a disc (PTZ); anything narrower is a sector that the model turns to one of
    ``headings`` compass directions spaced evenly from north.
    """

    radius_m: float = Field(gt=0, le=500, description="range: points within it (and in the view) are covered")
    fov_deg: float = Field(360.0, description="field of view in degrees, (0, 360]; 360 = all around (PTZ)")
    headings: int = Field(
        1, ge=1, le=36, description="headings the model may choose, every 360/headings degrees from north"
    )
    max_per_site: int = Field(1, ge=1, le=16, description="cameras of this type one pole can carry")
    cost_krw: float = Field(ge=0, description="price of one camera of this type, installed, with AI licence")
    replacement_cost_krw: float = Field(ge=0, description="swap of one aged camera of this type")

    @model_validator(mode="after")
    def _check_view(self) -> CameraTypeConfig:
        if not 0 < self.fov_deg <= 360:
            raise ValueError(f"fov_deg must be in (0, 360], got {self.fov_deg}")
        if self.fov_deg >= 360 and self.headings != 1:
            raise ValueError(
                f"a 360° camera sees the same disc in every heading; headings must be 1, got {self.headings}"
            )
        if self.fov_deg < 360 and self.headings * self.fov_deg < 360 - 1e-9 and self.headings < 2:
            raise ValueError(
                f"one heading of a {self.fov_deg:g}° camera always looks north; give headings >= 2 so the "
                f"model can turn it (got {self.headings})"
            )
        return self

    @property
    def headings_deg(self) -> tuple[float, ...]:
        if self.fov_deg >= 360:
            return ()
        return tuple(round(i * 360.0 / self.headings, 6) for i in range(self.headings))


class SiteCosts(_Strict):
    """Cost of preparing a site, by kind of candidate (pole, power, network, works)."""

    new_pole: float = Field(13.0 * M, ge=0, description="new smart pole (CCTV + LED security light)")
    reuse_streetlight: float = Field(6.0 * M, ge=0, description="bracket, power tap and backhaul on a pole")
    reuse_utility_pole: float = Field(
        7.0 * M,
        ge=0,
        description="KEPCO utility pole: bracket, lease, power and backhaul (no data layer yet)",
    )
    existing_site: float = Field(1.5 * M, ge=0, description="add a camera where power and network exist")


class EventHistoryConfig(_Strict):
    """How the control room's events become the ``event_history`` layer."""

    radius_m: float = Field(
        100.0, gt=0, le=1000, description="an event counts for cells within this distance"
    )
    half_life_days: float = Field(180.0, gt=0, description="an event's weight halves every this many days")
    type_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "intrusion": 1.0,
            "loitering": 0.6,
            "line_crossing": 0.5,
            "crowding": 0.8,
            "fall": 1.0,
            "fight": 1.2,
            "camera_health": 0.0,
        },
        description="weight per event type; types not listed weigh default_type_weight",
    )
    default_type_weight: float = Field(0.5, ge=0, description="weight of event types not in type_weights")
    severity_exponent: float = Field(1.0, ge=0, description="an event weighs (severity / 3) ** this")
    escalated_factor: float = Field(
        2.0,
        ge=0,
        description="an escalated event (or one of an escalated incident) weighs this many times more",
    )


class LightingConfig(_Strict):
    """The dark-and-active layer: cells where people live and few lights stand."""

    radius_m: float = Field(100.0, gt=0, description="lights within this distance of a cell centre count")
    lights_enough: int = Field(4, ge=1, description="this many lights within the radius count as well lit")


class ReplacementConfig(_Strict):
    """Rules for the aged-camera replacement plan."""

    service_life_years: float = Field(7.0, gt=0, description="내용연수 used across Seoul")
    min_megapixels: float = Field(2.0, gt=0, description="cameras below this are replaced (Gwacheon rule)")
    weight_site_priority: float = Field(1.0, ge=0, description="urgency weight of the site's priority (0..1)")
    weight_age: float = Field(1.0, ge=0, description="urgency weight of age / service life")
    weight_resolution: float = Field(1.0, ge=0, description="urgency weight of the missing resolution share")


class PlanConfig(_Strict):
    """Root of ``configs/plan.yaml``."""

    weights: LayerWeights = Field(default_factory=LayerWeights)
    cell_size_m: float = Field(100.0, gt=0, le=1000, description="score grid cell (national 100 m grid)")
    demand_step_m: float = Field(
        50.0,
        gt=0,
        le=1000,
        description="coverage is measured on points this far apart inside each cell (each inherits its "
        "cell's score); must divide cell_size_m",
    )
    gap_radius_m: float = Field(50.0, gt=0, description="an existing camera covers this radius (Donghae)")
    lighting: LightingConfig = Field(default_factory=LightingConfig)
    event_history: EventHistoryConfig = Field(default_factory=EventHistoryConfig)
    camera_types: dict[str, CameraTypeConfig] = Field(
        default_factory=lambda: {
            # fixed: a bullet looking down one street; 91 fixed at 54 sites in Guro 2024 = 1.7 per pole
            "fixed": CameraTypeConfig(
                radius_m=80.0,
                fov_deg=60.0,
                headings=6,
                max_per_site=3,
                cost_krw=3.0 * M,
                replacement_cost_krw=1.9 * M,
            ),
            # ptz: all around at shorter useful range (MOIS 50 m); 35 PTZ at 54 sites; one per pole
            "ptz": CameraTypeConfig(
                radius_m=50.0,
                fov_deg=360.0,
                headings=1,
                max_per_site=1,
                cost_krw=6.5 * M,
                replacement_cost_krw=3.1 * M,
            ),
        },
        min_length=1,
    )
    site_costs: SiteCosts = Field(default_factory=SiteCosts)
    max_cameras_per_site: int = Field(4, ge=1, le=16, description="cameras one pole can carry")
    grid_candidate_step: int = Field(
        1, ge=1, le=20, description="every k-th cell centre (in x and y) is a new-pole candidate"
    )
    replacement: ReplacementConfig = Field(default_factory=ReplacementConfig)
    time_limit_s: float = Field(60.0, gt=0, description="solver time limit (everything after loading)")
    mip_rel_gap: float = Field(0.001, ge=0, le=1, description="stop when the proven gap is below this")

    @model_validator(mode="after")
    def _check(self) -> PlanConfig:
        verify_camera_fits_site(self)
        ratio = self.cell_size_m / self.demand_step_m
        if abs(ratio - round(ratio)) > 1e-9:
            raise ValueError(
                f"demand_step_m must divide cell_size_m ({self.cell_size_m:g}), got {self.demand_step_m:g}"
            )
        return self


def verify_camera_fits_site(cfg: PlanConfig) -> None:
    """No camera type may allow more per pole than the pole holds, and the options must fit a mask."""
    for name, t in cfg.camera_types.items():
        if t.max_per_site > cfg.max_cameras_per_site:
            raise ValueError(
                f"camera type {name!r} allows max_per_site {t.max_per_site} but max_cameras_per_site is "
                f"{cfg.max_cameras_per_site}; raise max_cameras_per_site or lower max_per_site"
            )
    if sum(t.headings for t in cfg.camera_types.values()) > 64:
        raise ValueError("at most 64 camera options per pole (sum of headings over the camera types)")


def load_plan_config(path: str | Path | None) -> PlanConfig:
    """Load ``path`` (YAML) or return the defaults when ``path`` is None."""
    if path is None:
        return PlanConfig()
    return load_model(PlanConfig, path)
