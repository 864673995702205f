"""The group editor's camera search (admins): by name, address or key, a group's members, their groups."""

from __future__ import annotations

from sqlalchemy import insert

from safecity.store.schema import cameras, sites
from tests.unit.web.conftest import EAST, WEST, Env


def _registry(env: Env, n: int) -> None:
    with env.services.engine.begin() as c:
        sid = c.execute(
            insert(sites).values(
                site_key="s:1:1",
                district="구로구",
                lat=37.5,
                lon=126.85,
                x_m=1.0,
                y_m=1.0,
                address="서울특별시 구로구 고척로45길 39",
            )
        ).inserted_primary_key[0]
        c.execute(
            insert(cameras),
            [
                {
                    "camera_key": f"reg-{i:03d}",
                    "site_id": sid if i % 2 == 0 else None,
                    "name": f"{'어린이보호' if i % 3 == 0 else '방범'} · 구로동 {i}",
                    "purpose": "어린이보호" if i % 3 == 0 else "방범",
                    "district": "구로구",
                    "count": 1,
                    "ptz": False,
                }
                for i in range(n)
            ],
        )


def test_search_by_hangul_words_and_page(env: Env) -> None:
    _registry(env, 300)
    h = env.bearer("admin")
    r = env.client.get("/api/admin/cameras", params={"q": "어린이보호", "limit": 20}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 100 and len(body["cameras"]) == 20
    assert all("어린이보호" in c["name"] for c in body["cameras"])
    # all words must match (name and the site's address)
    body = env.client.get("/api/admin/cameras", params={"q": "고척로45길 방범"}, headers=h).json()
    assert body["total"] == 100 and all(c["address"] and "방범" in c["name"] for c in body["cameras"])
    # the monitored cameras come first, by their config name, with their groups
    body = env.client.get("/api/admin/cameras", params={"q": "west gate"}, headers=h).json()
    assert [(c["key"], c["name"], c["live"], c["groups"]) for c in body["cameras"]] == [
        (WEST, "West gate", True, ["west"])
    ]


def test_members_of_a_group_include_unknown_keys(env: Env) -> None:
    _registry(env, 10)
    h = env.bearer("admin")
    assert env.client.put(
        "/api/groups/mixed", json={"cameras": ["reg-003", EAST, "gone-cam"]}, headers=h
    ).is_success
    body = env.client.get("/api/admin/cameras", params={"group": "mixed"}, headers=h).json()
    got = {c["key"]: (c["name"], c.get("unknown", False), c["groups"]) for c in body["cameras"]}
    assert got == {
        "reg-003": ("어린이보호 · 구로동 3", False, ["mixed"]),
        EAST: (EAST, False, ["east", "mixed"]),  # monitored, no config name
        "gone-cam": ("gone-cam", True, ["mixed"]),
    }
    assert env.client.get("/api/admin/cameras", params={"group": "nope"}, headers=h).status_code == 404
    assert env.client.get("/api/admin/cameras", headers=env.bearer("operator")).status_code == 403
    assert env.client.get("/api/admin/cameras", params={"q": "x" * 101}, headers=h).status_code == 422
