"""Box, polygon and line maths for the rules and the tracker (numpy, vectorised, pure).

Points are ``(x, y)`` with y pointing down (image convention). The side of a line a->b is the sign of
the cross product ``(b - a) × (p - a)``: negative on the left of a->b as seen on screen (for a line
drawn left to right, above it), positive on the right. Rules judge an object by its box's bottom centre
(the "foot point"), as DeepStream's nvdsanalytics does.

Example:
    >>> import numpy as np
    >>> pts = np.array([[0.5, 0.5], [2.0, 0.5]])
    >>> points_in_polygon(pts, [(0, 0), (1, 0), (1, 1), (0, 1)]).tolist()
    [True, False]
    >>> crossing_direction((0.5, 0.2), (0.5, 0.8), (0.0, 0.5), (1.0, 0.5))
    1
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "box_centres",
    "crossing_direction",
    "foot_points",
    "iou_matrix",
    "point_line_side",
    "points_in_polygon",
    "segments_intersect",
    "to_frac",
]

F64 = npt.NDArray[np.float64]
Point = tuple[float, float]
_Num = F64 | np.float64


def foot_points(xyxy: npt.ArrayLike) -> F64:
    """Bottom centre of each box: ``(n, 4)`` xyxy -> ``(n, 2)``."""
    b = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.stack([(b[:, 0] + b[:, 2]) / 2.0, b[:, 3]], axis=1)


def box_centres(xyxy: npt.ArrayLike) -> F64:
    """Centre of each box: ``(n, 4)`` xyxy -> ``(n, 2)``."""
    b = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.stack([(b[:, 0] + b[:, 2]) / 2.0, (b[:, 1] + b[:, 3]) / 2.0], axis=1)


def to_frac(points_px: npt.ArrayLike, frame_wh: tuple[int, int]) -> F64:
    """Pixel points ``(n, 2)`` -> fractions of the frame.

    Raises:
        ValueError: a frame size that is not positive.
    """
    w, h = frame_wh
    if w <= 0 or h <= 0:
        raise ValueError(f"frame_wh must be positive (width, height), but got {frame_wh}")
    return np.asarray(points_px, dtype=np.float64).reshape(-1, 2) / np.array([w, h], dtype=np.float64)


def points_in_polygon(
    points: npt.ArrayLike, polygon: Sequence[Point] | npt.ArrayLike
) -> npt.NDArray[np.bool_]:
    """Even-odd (ray casting) test of many points against one polygon; points on an edge may go either way.

    Args:
        points: ``(n, 2)`` points.
        polygon: ``(m, 2)`` corners, m >= 3, in the same unit as the points.

    Returns:
        ``(n,)`` booleans.
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if poly.shape[0] < 3:
        raise ValueError(f"polygon must have at least 3 corners, but got {poly.shape[0]}")
    x, y = p[:, 0:1], p[:, 1:2]  # (n, 1)
    x1, y1 = poly[:, 0], poly[:, 1]  # (m,)
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    straddles = (y1 > y) != (y2 > y)  # (n, m)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    hits = straddles & (x < x_cross)
    return np.asarray(np.count_nonzero(hits, axis=1) % 2 == 1)


def point_line_side(points: npt.ArrayLike, a: Point, b: Point) -> F64:
    """Signed distance of points to the infinite line a->b (negative = left, positive = right).

    The unit is that of the points (divide by nothing else), so a hysteresis band can be given in the
    same unit.
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    length = float(np.hypot(dx, dy))
    if length == 0.0:
        raise ValueError(f"line ends must differ, but got a={a}, b={b}")
    return np.asarray((dx * (p[:, 1] - ay) - dy * (p[:, 0] - ax)) / length)


def _orient(px: _Num, py: _Num, qx: _Num, qy: _Num, rx: _Num, ry: _Num) -> F64:
    return np.asarray(np.sign((qx - px) * (ry - py) - (qy - py) * (rx - px)))


def segments_intersect(p1: npt.ArrayLike, p2: npt.ArrayLike, a: Point, b: Point) -> npt.NDArray[np.bool_]:
    """Whether each segment ``p1[i]-p2[i]`` intersects the segment a-b (touching counts).

    Args:
        p1: ``(n, 2)`` segment starts.
        p2: ``(n, 2)`` segment ends.
        a: one end of the fixed segment.
        b: the other end.
    """
    s = np.asarray(p1, dtype=np.float64).reshape(-1, 2)
    e = np.asarray(p2, dtype=np.float64).reshape(-1, 2)
    ax, ay, bx, by = (np.float64(v) for v in (*a, *b))
    o1 = _orient(s[:, 0], s[:, 1], e[:, 0], e[:, 1], ax, ay)
    o2 = _orient(s[:, 0], s[:, 1], e[:, 0], e[:, 1], bx, by)
    o3 = _orient(ax, ay, bx, by, s[:, 0], s[:, 1])
    o4 = _orient(ax, ay, bx, by, e[:, 0], e[:, 1])
    general = (o1 != o2) & (o3 != o4)

    def on_seg(px: _Num, py: _Num, qx: _Num, qy: _Num, rx: _Num, ry: _Num) -> npt.NDArray[np.bool_]:
        # r lies on segment p-q given that the three are collinear
        return np.asarray(
            (np.minimum(px, qx) <= rx)
            & (rx <= np.maximum(px, qx))
            & (np.minimum(py, qy) <= ry)
            & (ry <= np.maximum(py, qy))
        )

    col = (
        ((o1 == 0) & on_seg(s[:, 0], s[:, 1], e[:, 0], e[:, 1], ax, ay))
        | ((o2 == 0) & on_seg(s[:, 0], s[:, 1], e[:, 0], e[:, 1], bx, by))
        | ((o3 == 0) & on_seg(ax, ay, bx, by, s[:, 0], s[:, 1]))
        | ((o4 == 0) & on_seg(ax, ay, bx, by, e[:, 0], e[:, 1]))
    )
    return np.asarray(general | col)


def crossing_direction(prev: Point, cur: Point, a: Point, b: Point, hysteresis: float = 0.0) -> int:
    """+1 if the move prev->cur crosses segment a-b from its left to its right, -1 for the reverse, else 0.

    A crossing needs both ends strictly outside the band ``|distance| <= hysteresis`` on opposite sides,
    and the move must intersect the segment (not just the infinite line).
    """
    d = point_line_side(np.array([prev, cur]), a, b)
    if abs(d[0]) <= hysteresis or abs(d[1]) <= hysteresis or np.sign(d[0]) == np.sign(d[1]):
        return 0
    if not bool(segments_intersect(np.array([prev]), np.array([cur]), a, b)[0]):
        return 0
    return 1 if d[1] > 0 else -1


def iou_matrix(a: npt.ArrayLike, b: npt.ArrayLike) -> F64:
    """Intersection over union of every box in ``a`` ``(n, 4)`` with every box in ``b`` ``(m, 4)``.

    Example:
        >>> iou_matrix([[0, 0, 2, 2]], [[1, 0, 3, 2], [5, 5, 6, 6]]).round(3).tolist()
        [[0.333, 0.0]]
    """
    x = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    y = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ix1 = np.maximum(x[:, None, 0], y[None, :, 0])
    iy1 = np.maximum(x[:, None, 1], y[None, :, 1])
    ix2 = np.minimum(x[:, None, 2], y[None, :, 2])
    iy2 = np.minimum(x[:, None, 3], y[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area_x = np.clip(x[:, 2] - x[:, 0], 0, None) * np.clip(x[:, 3] - x[:, 1], 0, None)
    area_y = np.clip(y[:, 2] - y[:, 0], 0, None) * np.clip(y[:, 3] - y[:, 1], 0, None)
    union = area_x[:, None] + area_y[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.where(union > 0, inter / union, 0.0)
    return np.asarray(out, dtype=np.float64)
