"""Planning configuration (``configs/plan.yaml``): score weights, camera types, costs, replacement rules.

Every default is derived from the Guro-gu figures in ``docs/planning.md`` (from the shared planning-domain
notes); the comment beside each field says how. Load a file with :func:`load_plan_config`.

Example:
    >>> cfg = PlanConfig()
    >>> sorted(cfg.camera_types)
    ['fixed', 'ptz']
    >>> cfg.camera_types["ptz"].radius_m
    100.0
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from safecity.yamlconf import load_model

__all__ = [
    "CameraTypeConfig",
    "LayerWeights",
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
    """Weights of the MOIS-style priority layers; each layer is scaled to 0..1 before weighting."""

    coverage_gap: float = Field(3.0, description="cell has no existing camera within gap_radius_m (0/1)")
    population: float = Field(1.0, description="dong population per cell, scaled to 0..1 over the area")
    households: float = Field(0.5, description="dong households per cell, scaled 0..1")
    one_person_households: float = Field(
        1.0, description="dong one-person households per cell, scaled 0..1 (MOIS: vulnerable residents)"
    )
    crime: float = Field(1.0, description="five major crimes per km² of the cell's gu (2021), scaled 0..1")
    streetlight_density: float = Field(
        -0.5, le=0, description="poles within streetlight_radius_m, scaled 0..1; lowers risk (ESDA study)"
    )
    police_request: float = Field(3.0, ge=0, description="police requests in the cell, scaled 0..1")
    resident_request: float = Field(2.0, ge=0, description="resident requests in the cell, scaled 0..1")


class CameraTypeConfig(_Strict):
    """One camera option for a site: what it sees and what it costs."""

    radius_m: float = Field(
        gt=0, le=500, description="cells whose centre is within this distance are covered"
    )
    cost_krw: float = Field(ge=0, description="price of one camera of this type, installed, with AI licence")
    cameras_per_option: int = Field(
        1,
        ge=1,
        le=8,
        description="cameras installed when this type is chosen for a site (e.g. 2 fixed "
        "bullets facing both ways along a street see the whole radius)",
    )
    replacement_cost_krw: float = Field(ge=0, description="swap of one aged camera of this type")


class SiteCosts(_Strict):
    """Cost of preparing a site, by kind of candidate (pole, power, network, works)."""

    new_pole: float = Field(13.0 * M, ge=0, description="new smart pole (CCTV + LED security light)")
    reuse_streetlight: float = Field(6.0 * M, ge=0, description="bracket, power tap and backhaul on a pole")
    existing_site: float = Field(1.5 * M, ge=0, description="add a camera where power and network exist")


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
    cell_size_m: float = Field(100.0, gt=0, le=1000, description="demand grid cell (national 100 m grid)")
    gap_radius_m: float = Field(50.0, gt=0, description="an existing camera covers this radius (Donghae)")
    streetlight_radius_m: float = Field(100.0, gt=0, description="radius for the streetlight density layer")
    camera_types: dict[str, CameraTypeConfig] = Field(
        default_factory=lambda: {
            # fixed: 91 fixed cameras at 54 sites in Guro 2024 = 1.7 per site -> a pair of bullets per option;
            # 3.0 M KRW each (camera + AI licence + mounting), the rest of 22.6 M/site is the pole.
            "fixed": CameraTypeConfig(
                radius_m=50.0, cost_krw=3.0 * M, cameras_per_option=2, replacement_cost_krw=1.9 * M
            ),
            # ptz: 35 PTZ at 54 sites; several times a bullet's price; 2025 Guro swap 3.1 M per camera
            "ptz": CameraTypeConfig(
                radius_m=100.0, cost_krw=6.5 * M, cameras_per_option=1, replacement_cost_krw=3.1 * M
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
    time_limit_s: float = Field(60.0, gt=0, description="solver time limit")
    mip_rel_gap: float = Field(0.001, ge=0, le=1, description="stop when the proven gap is below this")

    @model_validator(mode="after")
    def _check(self) -> PlanConfig:
        verify_camera_fits_site(self)
        return self


def verify_camera_fits_site(cfg: PlanConfig) -> None:
    """Every camera option must fit on one pole (``cameras_per_option <= max_cameras_per_site``)."""
    for name, t in cfg.camera_types.items():
        if t.cameras_per_option > cfg.max_cameras_per_site:
            raise ValueError(
                f"camera type {name!r} installs {t.cameras_per_option} cameras but max_cameras_per_site is "
                f"{cfg.max_cameras_per_site}; raise max_cameras_per_site or lower cameras_per_option"
            )


def load_plan_config(path: str | Path | None) -> PlanConfig:
    """Load ``path`` (YAML) or return the defaults when ``path`` is None."""
    if path is None:
        return PlanConfig()
    return load_model(PlanConfig, path)
