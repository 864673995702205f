"""/api/search/cases: a request collects a search result, an event clip and a synopsis and is
answered by one signed package that `safecity evidence verify` accepts; scope, bad input, audit."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from safecity.evidence.verify import verify_package
from safecity.store.tracks import TrackIndex

from .conftest import EAST, WEST, Env
from .search_data import T0, iso, record_tracks_and_clip

CASE = {"number": "2026-구로-0042", "agency": "구로경찰서", "reason": "red jacket seen near the station",
        "since": iso(T0 - 60), "until": iso(T0 + 3600), "cameras": [WEST]}  # fmt: skip


@pytest.fixture
def recorded(env: Env) -> Env:
    return record_tracks_and_clip(env)


def _post(env: Env, who: str, url: str, body: object) -> tuple[int, dict[str, object]]:
    r = env.client.post(url, json=body, headers=env.bearer(who))
    return r.status_code, r.json()


def test_case_collects_and_exports_one_signed_package(recorded: Env, tmp_path: Path) -> None:
    env = recorded
    status, case = _post(env, "operator", "/api/search/cases", CASE)
    assert status == 200, case
    cid = case["id"]
    status, syn = _post(env, "operator", "/api/search/synopsis",
                        {"camera": WEST, "since": iso(T0 - 10), "until": iso(T0 + 3600)})  # fmt: skip
    assert status == 200, syn
    uid = TrackIndex(env.services.engine).get(f"{WEST}-0-{int(T0 * 1000)}")
    assert uid is not None
    items = [{"kind": "track", "ref": f"{WEST}-0-{int(T0 * 1000)}"}, {"kind": "event", "ref": "west-ev-1"},
             {"kind": "synopsis", "ref": syn["id"], "camera": WEST}]  # fmt: skip
    for item in items:
        status, got = _post(env, "operator", f"/api/search/cases/{cid}/items", item)
        assert status == 200, got
    assert [i["kind"] for i in got["items"]] == ["track", "event", "synopsis"]  # type: ignore[index]
    status, out = _post(env, "operator", f"/api/search/cases/{cid}/export", {})
    assert status == 200, out
    z = env.client.get(str(out["download"]), headers=env.bearer("operator"))
    assert z.status_code == 200
    pkg = tmp_path / "case.zip"
    pkg.write_bytes(z.content)
    report = verify_package(pkg)
    assert report.ok, report
    names = zipfile.ZipFile(pkg).namelist()
    assert any("/tracks/" in n and n.endswith(".jpg") for n in names)
    assert any("/synopses/" in n and n.endswith(".mp4") for n in names)
    assert any(n.endswith("/media/west-ev-1.mp4") for n in names) and any(
        n.endswith("case.json") for n in names
    )
    for action in ("create_case", "add_case_item", "export_case"):
        assert env.audit(action=action, allowed="true"), action
    assert (
        env.client.get(f"/api/search/cases/{cid}", headers=env.bearer("operator")).json()["export_id"]
        == out["export_id"]
    )


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"since": iso(T0 + 10), "until": iso(T0)}, 400, "until must be after since"),
        ({"number": "bad<number>"}, 400, "case number must be"),
        ({"cameras": [EAST]}, 403, "outside the user's camera groups"),
        ({"cameras": []}, 422, ""),
    ],
)
def test_bad_cases_are_clear_and_store_nothing(recorded: Env, change: dict[str, object], status: int,
                                               message: str) -> None:  # fmt: skip
    env = recorded
    env.client.app.state.console.users.set_user_groups("operator", ["west"])  # type: ignore[attr-defined]
    got, body = _post(env, "operator", "/api/search/cases", {**CASE, **change})
    assert got == status and message in str(body["detail"]), body
    assert env.client.get("/api/search/cases", headers=env.bearer("admin")).json()["cases"] == []


def test_items_and_export_refusals(recorded: Env) -> None:
    env = recorded
    _, case = _post(env, "operator", "/api/search/cases", CASE)
    cid = case["id"]
    assert _post(env, "operator", "/api/search/cases", CASE)[0] == 400  # the number is taken
    status, body = _post(env, "operator", f"/api/search/cases/{cid}/export", {})
    assert status == 400 and "holds nothing yet" in str(body["detail"])
    status, body = _post(env, "operator", f"/api/search/cases/{cid}/items", {"kind": "track", "ref": "nope"})
    assert status == 404
    east_uid = f"{EAST}-1-{int(T0 * 1000)}"
    status, body = _post(
        env, "operator", f"/api/search/cases/{cid}/items", {"kind": "track", "ref": east_uid}
    )
    assert status == 400 and "not one of case" in str(body["detail"])
    assert env.audit(action="add_case_item", allowed="false")
    assert _post(env, "viewer", "/api/search/cases", CASE)[0] == 403
    assert env.client.get("/api/search/cases/999", headers=env.bearer("operator")).status_code == 404
