"""Area names resolve to the bundled KOSTAT polygons; unknown names list the valid ones."""

from __future__ import annotations

import pytest

from safecity.errors import InputError
from safecity.plan.areas import area_names, load_area


@pytest.mark.parametrize(
    ("name", "key", "code"),
    [
        ("guro", "guro", "11170"),  # English key
        ("Guro-gu", "guro", "11170"),  # English name as in the boundary file
        ("구로구", "guro", "11170"),  # Korean name
        ("11170", "guro", "11170"),  # KOSTAT code
        ("gangnam", "gangnam", "11230"),  # any other gu
        ("seoul", "seoul", "11"),  # the whole city
        ("서울특별시", "seoul", "11"),  # the whole city in Korean
    ],
)
def test_names_resolve(name: str, key: str, code: str) -> None:
    a = load_area(name)
    assert (a.key, a.code) == (key, code)


def test_guro_has_its_dongs_and_area() -> None:
    a = load_area("guro")
    assert a.districts == ("구로구",)
    assert len(a.dongs) == 15
    assert 19.0 < a.area_km2 < 21.0


def test_seoul_is_all_gus() -> None:
    a = load_area("seoul")
    assert len(a.districts) == 25
    assert 600 < a.area_km2 < 610


@pytest.mark.parametrize("name", ["atlantis", "guro-dong", ""])
def test_unknown_area_lists_valid_names(name: str) -> None:
    with pytest.raises(InputError, match=r"unknown planning area.*valid names: seoul, .*guro"):
        load_area(name)


def test_area_names_sorted_after_seoul() -> None:
    names = area_names()
    assert names[0] == "seoul" and names[1:] == sorted(names[1:]) and len(names) == 26


def test_area_label_matches_load_area_for_every_spelling() -> None:
    from safecity.plan.areas import area_label

    for key in area_names():
        a = load_area(key)
        spellings = [key, a.name_ko, a.code[:5]] if key != "seoul" else [key, "서울특별시", "11"]
        for s in spellings:
            assert area_label(s) == (a.key, a.name_ko), s
    with pytest.raises(InputError):
        area_label("atlantis")
