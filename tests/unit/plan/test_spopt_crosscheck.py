"""Cross-check: our sparse HiGHS MCLP and PySAL spopt's MCLP give the same optimum on real Guro data."""

from __future__ import annotations

import numpy as np
import pytest

from safecity.geo import lonlat_to_xy
from safecity.plan import data
from safecity.plan.areas import load_area
from safecity.plan.optimize import CameraOption, SitingModel
from safecity.plan.score import per_cell_share


def _guro_window(half_m: float = 700.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells within a window around Guro-gu office, weights from dong households, real candidates."""
    area = load_area("guro")
    grid = data.demand_grid(area)
    stats = data.dong_stats()
    w = per_cell_share(grid.dong_code, stats.households) + per_cell_share(grid.dong_code, stats.one_person)
    cx, cy = lonlat_to_xy([126.8875], [37.4954])
    box = (np.abs(grid.xy[:, 0] - cx[0]) <= half_m) & (np.abs(grid.xy[:, 1] - cy[0]) <= half_m)
    lights, _ = data.streetlights(area)
    sites, _ = data.camera_sites(data.bundled_cameras(), area)
    cand = np.unique(np.vstack([lights, sites]), axis=0)
    near = (np.abs(cand[:, 0] - cx[0]) <= half_m + 75) & (np.abs(cand[:, 1] - cy[0]) <= half_m + 75)
    return grid.xy[box], w[box], cand[near]


@pytest.fixture(scope="module")
def guro_window() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _guro_window()


@pytest.mark.parametrize(
    ("radius_m", "p"),
    [
        (75.0, 10),  # the baseline's radius and a small p
        (100.0, 25),  # PTZ radius, more sites
    ],
)
def test_objective_equals_spopt_mclp(
    guro_window: tuple[np.ndarray, np.ndarray, np.ndarray], radius_m: float, p: int
) -> None:
    import pulp
    from scipy.spatial.distance import cdist
    from spopt.locate import MCLP

    cells, w, cand = guro_window
    assert len(cells) > 100 and len(cand) > 100  # a real instance, not a toy

    ref = MCLP.from_cost_matrix(cdist(cells, cand), w, service_radius=radius_m, p_facilities=p)
    ref = ref.solve(pulp.HiGHS(msg=False, gapRel=0.0))
    ref_obj = float(pulp.value(ref.problem.objective))

    ours = SitingModel.from_arrays(
        demand_xy=cells,
        weights=w,
        site_xy=cand,
        site_cost_krw=np.zeros(len(cand)),
        options=[CameraOption("cam", radius_m, 0.0)],
        max_sites=p,
    ).solve(mip_rel_gap=0.0)
    assert ours.status == "optimal"
    assert ours.objective == pytest.approx(ref_obj, rel=1e-9)
    assert len(ours.open_sites) <= p
