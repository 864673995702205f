"""Geometry helpers: polygon membership, line sides, crossings, IoU (tables + Hypothesis properties)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from safecity.monitor.geometry import (
    box_centres,
    crossing_direction,
    foot_points,
    iou_matrix,
    point_line_side,
    points_in_polygon,
    segments_intersect,
    to_frac,
)

coord = st.floats(-2.0, 3.0, allow_nan=False, allow_infinity=False)
point = st.tuples(coord, coord)
SQUARE = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
L_SHAPE = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]


@pytest.mark.parametrize(
    ("pt", "poly", "inside"),
    [
        ((0.5, 0.5), SQUARE, True),  # centre of the square
        ((1.5, 0.5), SQUARE, False),  # right of it
        ((0.5, -0.1), SQUARE, False),  # above it
        ((1.5, 1.5), L_SHAPE, False),  # in the notch of the L
        ((0.5, 1.5), L_SHAPE, True),  # in the L's leg
    ],
)
def test_points_in_polygon_table(
    pt: tuple[float, float], poly: list[tuple[float, float]], inside: bool
) -> None:
    assert points_in_polygon(np.array([pt]), poly).tolist() == [inside]


@settings(deadline=None)
@given(st.lists(point, min_size=1, max_size=20), st.lists(point, min_size=3, max_size=8))
def test_points_in_polygon_matches_shapely(
    pts: list[tuple[float, float]], poly: list[tuple[float, float]]
) -> None:
    shape = shapely.Polygon(poly)
    assume(shape.is_valid and shape.area > 1e-3)
    boundary = shape.boundary
    got = points_in_polygon(np.array(pts), poly)
    for (x, y), g in zip(pts, got, strict=True):
        p = shapely.Point(x, y)
        if boundary.distance(p) < 1e-6:
            continue  # on the edge either answer is fine
        assert bool(g) == shape.contains(p)


def test_points_in_polygon_nearly_flat_edge_gives_no_warning() -> None:
    # an edge with a denormal height used to overflow in the crossing formula
    poly = [(0.0, 0.0), (0.0, 1.0), (1.0, 5e-324)]
    assert points_in_polygon(np.array([(0.0, 1.0), (0.2, 0.5)]), poly).tolist()[1] is True


def test_points_in_polygon_rejects_two_corners() -> None:
    with pytest.raises(ValueError, match="at least 3 corners"):
        points_in_polygon(np.zeros((1, 2)), [(0, 0), (1, 1)])


def test_side_convention_above_a_left_to_right_line_is_left() -> None:
    # a->b drawn left to right on screen: above (smaller y) is the left, negative side
    d = point_line_side(np.array([[0.5, 0.2], [0.5, 0.8]]), (0.0, 0.5), (1.0, 0.5))
    assert d[0] == pytest.approx(-0.3) and d[1] == pytest.approx(0.3)


@settings(deadline=None)
@given(point, point, point)
def test_mirror_point_is_on_the_opposite_side(p: tuple[float, float], a: tuple[float, float],
                                              b: tuple[float, float]) -> None:  # fmt: skip
    ab = np.subtract(b, a)
    assume(np.hypot(*ab) > 1e-3)
    d = point_line_side(np.array([p]), a, b)[0]
    assume(abs(d) > 1e-6)
    # reflect p across the line
    u = ab / np.hypot(*ab)
    ap = np.subtract(p, a)
    proj = np.asarray(a) + u * float(ap @ u)
    mirror = 2 * proj - np.asarray(p)
    dm = point_line_side(mirror[None, :], a, b)[0]
    assert np.sign(dm) == -np.sign(d)
    assert abs(dm) == pytest.approx(abs(d), rel=1e-6, abs=1e-9)


@settings(deadline=None)
@given(point, point, point, point)
def test_crossing_iff_sides_differ_and_segments_intersect(
    p: tuple[float, float], q: tuple[float, float], a: tuple[float, float], b: tuple[float, float]
) -> None:
    assume(np.hypot(b[0] - a[0], b[1] - a[1]) > 1e-3)
    d = point_line_side(np.array([p, q]), a, b)
    assume(abs(d[0]) > 1e-6 and abs(d[1]) > 1e-6)
    oracle = shapely.LineString([p, q]).intersects(shapely.LineString([a, b]))
    expected = 0
    if np.sign(d[0]) != np.sign(d[1]) and oracle:
        expected = 1 if d[1] > 0 else -1
    assert crossing_direction(p, q, a, b) == expected
    # reversing the move reverses the direction
    assert crossing_direction(q, p, a, b) == -expected


@pytest.mark.parametrize(
    ("prev", "cur", "hyst", "expected"),
    [
        ((0.5, 0.2), (0.5, 0.8), 0.0, 1),  # straight down through the middle: left -> right
        ((0.5, 0.8), (0.5, 0.2), 0.0, -1),  # back up
        ((1.5, 0.2), (1.5, 0.8), 0.0, 0),  # past the end of the segment: no crossing
        ((0.5, 0.49), (0.5, 0.51), 0.02, 0),  # jitter inside the hysteresis band
        ((0.5, 0.45), (0.5, 0.55), 0.02, 1),  # clear of the band on both sides
        ((0.2, 0.2), (0.8, 0.3), 0.0, 0),  # stays on one side
    ],
)
def test_crossing_direction_table(
    prev: tuple[float, float], cur: tuple[float, float], hyst: float, expected: int
) -> None:
    assert crossing_direction(prev, cur, (0.0, 0.5), (1.0, 0.5), hyst) == expected


def test_segments_intersect_touching_and_collinear() -> None:
    starts = np.array([[0.0, 0.0], [0.5, 0.0], [2.0, 0.0]])
    ends = np.array([[0.0, 1.0], [1.5, 0.0], [3.0, 0.0]])
    # touching an end, overlapping collinear, collinear but apart
    assert segments_intersect(starts, ends, (0.0, 0.0), (1.0, 0.0)).tolist() == [True, True, False]


boxes = st.tuples(coord, coord, st.floats(0.01, 2.0), st.floats(0.01, 2.0)).map(
    lambda t: [t[0], t[1], t[0] + t[2], t[1] + t[3]]
)


@settings(deadline=None)
@given(st.lists(boxes, min_size=1, max_size=6), st.lists(boxes, min_size=1, max_size=6))
def test_iou_bounds_and_symmetry(a: list[list[float]], b: list[list[float]]) -> None:
    m = iou_matrix(a, b)
    assert m.shape == (len(a), len(b))
    assert np.all((m >= 0) & (m <= 1 + 1e-9))
    np.testing.assert_allclose(m, iou_matrix(b, a).T)
    np.testing.assert_allclose(np.diag(iou_matrix(a, a)), 1.0)


def test_iou_of_empty_sets() -> None:
    assert iou_matrix(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)


def test_points_of_boxes_and_fractions() -> None:
    b = np.array([[10, 20, 30, 60]], np.float32)
    assert foot_points(b).tolist() == [[20.0, 60.0]]
    assert box_centres(b).tolist() == [[20.0, 40.0]]
    assert to_frac(foot_points(b), (40, 120)).tolist() == [[0.5, 0.5]]
    with pytest.raises(ValueError, match="frame_wh must be positive"):
        to_frac(foot_points(b), (0, 120))
