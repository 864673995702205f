"""Map polygons of a search (safecity.search.area)."""

from __future__ import annotations

import pytest

from safecity.errors import InputError
from safecity.search.area import bounding_box, cameras_in_polygon, parse_polygon

SQUARE = "37.48,126.84;37.48,126.86;37.50,126.86;37.50,126.84"


def test_closed_ring_and_edge_cameras() -> None:
    poly = parse_polygon(SQUARE + ";37.48,126.84")  # the closing corner is dropped
    assert len(poly) == 4 and bounding_box(poly) == (37.48, 126.84, 37.50, 126.86)
    cams = {"in": (37.49, 126.85), "edge": (37.48, 126.85), "out": (37.51, 126.85), "nowhere": None}
    assert cameras_in_polygon(poly, cams) == {"in", "edge"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least 3 corners"),
        ("37.48,126.84;37.5,126.86", "at least 3 corners"),
        ("37.48,126.84;37.5,126.86;50,126.8", "outside the district"),
        ("37.48,126.84;37.49,126.85;37.5,126.86", "no area"),
        ("37.48,126.84;37.50,126.86;37.48,126.86;37.50,126.84", "crosses itself"),
        ("37.48;37.5,126.86;37.4,126.8", "latitude,longitude"),
        ("nan,126.84;37.5,126.86;37.4,126.8", "outside the district"),
        (";".join(["37.4,126.8"] * 201), "at most 200"),
    ],
)
def test_bad_polygons_say_what_is_expected(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_polygon(text)
