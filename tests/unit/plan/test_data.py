"""Planning inputs: demand grid, requests file reader (CSV and GeoJSON) and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from safecity.errors import InputError
from safecity.plan import data
from safecity.plan.areas import load_area


def test_guro_grid_matches_baseline_size() -> None:
    grid = data.demand_grid(load_area("guro"))
    # the shared baseline (spopt_baseline.py) counts 1,982 cells with the same rule
    assert len(grid) == 1982
    assert set(np.unique(grid.dong_code)) <= {c for c in data.dong_stats().households}
    assert np.allclose((grid.xy - 50.0) % 100.0, 0.0)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_read_requests_csv_and_geojson(tmp_path: Path) -> None:
    csv_p = _write(
        tmp_path, "r.csv", "lat,lon,kind,note\n37.4954,126.8875,police,dark alley\n37.5,126.88,Resident,\n"
    )
    r = data.read_requests(csv_p)
    assert r.kind == ("police", "resident") and r.note == ("dark alley", "")
    import shapely

    assert shapely.contains_xy(load_area("guro").polygon, r.xy[0, 0], r.xy[0, 1])  # the Guro-gu office
    gj = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [126.8875, 37.4954]},
                "properties": {"kind": "police", "note": "n"},
            }
        ],
    }
    g = data.read_requests(_write(tmp_path, "r.geojson", json.dumps(gj)))
    assert g.kind == ("police",) and np.allclose(g.xy, r.xy[:1])


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("a.csv", "lat,lon,note\n37.5,126.9,x\n", r"missing column\(s\) \['kind'\]"),  # no kind column
        ("b.csv", "lat,lon,kind\n1943000,944000,police\n", "look like metres"),  # metres where degrees needed
        ("c.csv", "lat,lon,kind\n37.5,126.9,mayor\n", "kind must be one of"),  # unknown kind
        (
            "d.csv",
            "lat,lon,kind\n37.5,126.9,police\nabc,126.9,police\n",
            r"row 2 \(line 3\): column 'lat' is 'abc'",
        ),
        (
            "e.geojson",
            '{"type": "FeatureCollection", "features": [{"geometry": {"type": "LineString"}}]}',
            r"features\[0\] has a 'LineString' geometry; expected a Point",
        ),  # wrong geometry
        ("f.geojson", "{not json", "not valid GeoJSON"),  # broken file
    ],
)
def test_bad_requests_file(tmp_path: Path, name: str, text: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        data.read_requests(_write(tmp_path, name, text))


def test_missing_requests_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        data.read_requests(tmp_path / "nope.csv")


def _fc(*coords: object) -> str:
    feats = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": c}, "properties": {"kind": "police"}}
        for c in coords
    ]
    return json.dumps({"type": "FeatureCollection", "features": feats})


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            _fc([126.8875, 37.4954], [126.9]),
            r"features\[1\]: Point coordinates \[126.9\]; expected \[longitude, latitude\]",
        ),
        (_fc([126.8875, "37.49"]), r"features\[0\]: Point coordinates .*expected \[longitude, latitude\]"),
        ("[1, 2, 3]", "expected a GeoJSON FeatureCollection .* but the file holds a list"),
        ('{"type": "Feature", "geometry": null}', "but the file holds an object of type 'Feature'"),
        (
            '{"type": "FeatureCollection", "features": [5]}',
            r"features\[0\] has no geometry; expected a Point",
        ),
        (_fc([126.8875, 37.4954], [0.0, 0.0]), r"features\[1\] \(lat 0.0, lon 0.0\)"),
    ],
)
def test_bad_geojson_requests_name_the_feature(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        data.read_requests(_write(tmp_path, "r.geojson", text))


def test_requests_outside_the_area_are_listed(tmp_path: Path) -> None:
    guro = load_area("guro")
    # the Guro-gu office (inside), Seoul City Hall and Gangnam station (both outside Guro)
    text = _fc([126.8875, 37.4954], [126.9780, 37.5665], [127.0276, 37.4979])
    path = _write(tmp_path, "r.geojson", text)
    assert len(data.read_requests(path)) == 3  # no area: nothing to check against
    with pytest.raises(
        InputError, match=r"2 of 3 request\(s\) lie outside 구로구: features\[1\] .*features\[2\]"
    ):
        data.read_requests(path, guro)
    inside = data.read_requests(_write(tmp_path, "in.geojson", _fc([126.8875, 37.4954])), guro)
    assert len(inside) == 1


def test_bundled_cameras_of_an_area_are_the_same_records_for_less_parsing() -> None:
    guro = load_area("guro")
    full = data.bundled_cameras()
    near = data.bundled_cameras(area=guro)
    assert len(near) < len(full) / 4  # one district of the city-wide file
    xy_full, in_full = data.camera_sites(full, guro)
    xy_near, in_near = data.camera_sites(near, guro)
    assert in_near == in_full and len(in_full) > 1000  # same records, keys included
    assert np.array_equal(xy_near, xy_full)
