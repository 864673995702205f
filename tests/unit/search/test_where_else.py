from __future__ import annotations

import math

import pytest

from safecity.search.where_else import SPEEDS, haversine_m, rank_candidates

RED = [0.0, 0.0, 0.0, 1.0] + [0.0] * 9
GRAY = [0.0, 1.0] + [0.0] * 11
SRC = {"uid": "s", "camera": "a", "object_class": "person", "last_s": 1000.0, "lat": 37.5, "lon": 126.9,
       "aspect": 0.4, "signature": {"upper": RED, "lower": GRAY}}  # fmt: skip


def _cand(
    uid: str, *, cam: str = "b", t: float = 1100.0, lat: float | None = 37.501, **kw: object
) -> dict[str, object]:
    return {**SRC, "uid": uid, "camera": cam, "first_s": t, "last_s": t + 10, "lat": lat, **kw}


def test_same_colours_rank_first_and_reasons_give_distance_and_speed() -> None:
    out = rank_candidates(SRC, [_cand("gray", signature={"upper": GRAY, "lower": GRAY}), _cand("red")])
    assert [c.record["uid"] for c in out] == ["red", "gray"]
    d = haversine_m(37.5, 126.9, 37.501, 126.9)
    assert out[0].distance_m == pytest.approx(d) and out[0].gap_s == 100.0
    assert out[0].appearance == pytest.approx(1.0) and out[1].appearance == pytest.approx(0.6)
    assert f"{d:.0f} m in 100 s" in out[0].reason


def test_other_group_same_camera_and_too_early_are_left_out() -> None:
    cands = [_cand("car", object_class="car"), _cand("self", cam="a"), _cand("early", t=900.0), _cand("s")]
    assert rank_candidates(SRC, cands) == []


def test_walking_speed_bounds_the_move() -> None:
    top = SPEEDS["person"][2]
    gap = 100.0
    near = 37.5 + (top * gap * 0.9) / 111_195  # 90 % of running speed: kept, less plausible
    far = 37.5 + (top * gap * 1.2) / 111_195  # faster than running: dropped
    out = rank_candidates(SRC, [_cand("near", lat=near), _cand("far", lat=far), _cand("walk")])
    assert [c.record["uid"] for c in out] == ["walk", "near"]
    typical = SPEEDS["person"][1]
    assert out[0].plausibility == 1.0
    assert out[1].plausibility == pytest.approx(math.exp(-(top * 0.9 - typical) / typical), rel=1e-3)


def test_a_car_may_cover_more_ground_and_long_waits_decay() -> None:
    car = {**SRC, "object_class": "car", "signature": {"body": RED}}
    moved = {**car, "uid": "c2", "camera": "b", "first_s": 1100.0, "last_s": 1110.0, "lat": 37.505}
    moved["object_class"] = "truck"  # the same class group
    (c,) = rank_candidates(car, [moved])
    assert c.plausibility == 1.0  # 556 m in 100 s = 5.6 m/s: typical for a vehicle, running for a person
    as_person = dict(moved, object_class="person", signature=SRC["signature"])
    assert rank_candidates(SRC, [as_person]) == []  # faster than running
    late = dict(moved, uid="c3", first_s=1000.0 + 4000.0)
    (d,) = rank_candidates(car, [late])
    assert d.plausibility < 0.1


def test_unknown_position_is_half_plausible() -> None:
    (c,) = rank_candidates(SRC, [_cand("x", lat=None)])
    assert c.plausibility == 0.5 and c.distance_m is None and "position unknown" in c.reason
