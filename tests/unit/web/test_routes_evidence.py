"""Evidence export and privacy-mask lift routes: permission, camera groups, audit, bounds, expiry."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from safecity.evidence.verify import verify_package
from safecity.media import media_paths, write_clip, write_jpeg
from tests.unit.web.conftest import EAST, WEST, Env

LIFTABLE = [(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)]  # the right half


def _with_media(env: Env, uid: str, camera: str) -> None:
    env.add_event(uid, camera)
    snap, clip = media_paths(env.media_root, camera, uid)
    img = np.full((90, 160, 3), 120, np.uint8)
    write_jpeg(snap, img)
    write_clip(clip, [(k * 0.25, img) for k in range(4)], codec="mpeg4")


def test_operator_exports_an_event_and_downloads_a_package_that_verifies(env: Env, tmp_path: Path) -> None:
    _with_media(env, "ev-w", WEST)
    h = env.bearer("operator")
    r = env.client.post(
        "/api/exports", json={"event_uid": "ev-w", "reason": "영등포서 요청 2026-77"}, headers=h
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["files"] == 3 and got["missing"] == []
    d = env.client.get(got["download"], headers=h)
    assert d.status_code == 200 and d.headers["content-type"] == "application/zip"
    z = tmp_path / "dl.zip"
    z.write_bytes(d.content)
    report = verify_package(z)
    assert report.ok and report.manifest["exported_by"] == "operator"
    actions = [(e["action"], e["allowed"]) for e in env.audit(username="operator")]
    assert ("export_evidence", True) in actions and ("download_export", True) in actions
    pem = env.client.get("/api/evidence/public-key", headers=h)
    assert pem.status_code == 200 and pem.text.startswith("-----BEGIN PUBLIC KEY-----")


def test_viewer_may_not_export_and_is_audited(env: Env) -> None:
    _with_media(env, "ev-v", WEST)
    r = env.client.post(
        "/api/exports", json={"event_uid": "ev-v", "reason": "curious"}, headers=env.bearer("viewer")
    )
    assert r.status_code == 403 and "export_evidence" in r.json()["detail"]
    refused = [e for e in env.audit(username="viewer") if e["action"] == "export_evidence"]
    assert refused and refused[0]["allowed"] is False


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"reason": "x"}, 422),  # no target
        ({"event_uid": "ev-x", "camera": WEST, "reason": "x"}, 422),  # both targets
        ({"camera": WEST, "reason": "x", "since": "2026-01-01T00:00:00Z"}, 422),  # no until
        (
            {"camera": WEST, "reason": "x", "since": "2026-01-01T00:00:00Z", "until": "2026-01-03T00:00:00Z"},
            422,
        ),
        ({"event_uid": "ev-x", "reason": ""}, 422),  # empty reason
        ({"event_uid": "ev-x", "reason": "r" * 2001}, 422),  # reason too long
        ({"event_uid": "nope", "reason": "x"}, 404),
    ],
)
def test_export_input_is_bounded(env: Env, body: dict[str, object], status: int) -> None:
    r = env.client.post("/api/exports", json=body, headers=env.bearer("admin"))
    assert r.status_code == status, r.text


def _right_half_mean(env: Env, headers: dict[str, str]) -> float:
    r = env.client.get(f"/api/cameras/{WEST}/frame.jpg", headers=headers)
    assert r.status_code == 200, r.text
    img = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
    return float(img[:, img.shape[1] * 3 // 4 :].mean())


def test_mask_lift_only_for_the_lifting_user_until_it_expires(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(env.monitor, "latest_frame", lambda _cam: np.full((90, 160, 3), 255, np.uint8))
    env.services.liftable_masks[WEST] = [LIFTABLE]  # type: ignore[index]
    admin, operator = env.bearer("admin"), env.bearer("operator")
    assert _right_half_mean(env, admin) < 10  # masked for everyone at first
    r = env.client.post(
        f"/api/cameras/{WEST}/mask-lift", json={"reason": "실종 아동 수색", "minutes": 10}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True
    assert _right_half_mean(env, admin) > 240  # lifted for the admin ...
    assert _right_half_mean(env, operator) < 10  # ... and for nobody else
    assert env.client.get(f"/api/cameras/{WEST}/mask-lift", headers=admin).json()["active"] is True
    env.clock.t += 601  # it ends by itself
    assert _right_half_mean(env, admin) < 10
    lifts = [e for e in env.audit(action="lift_privacy_mask") if e["allowed"]]
    assert len(lifts) == 1 and "실종 아동 수색" in str(lifts[0]["detail"])


def test_mask_lift_can_be_ended_early(env: Env) -> None:
    env.services.liftable_masks[WEST] = [LIFTABLE]  # type: ignore[index]
    admin = env.bearer("admin")
    env.client.post(f"/api/cameras/{WEST}/mask-lift", json={"reason": "check", "minutes": 5}, headers=admin)
    r = env.client.delete(f"/api/cameras/{WEST}/mask-lift", headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    assert env.client.get(f"/api/cameras/{WEST}/mask-lift", headers=admin).json() == {"active": False}
    assert env.client.delete(f"/api/cameras/{WEST}/mask-lift", headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("user", "camera", "body", "status"),
    [
        ("operator", WEST, {"reason": "x", "minutes": 5}, 403),  # operators may not lift
        ("admin", WEST, {"reason": "x", "minutes": 31}, 422),  # longer than 30 minutes
        ("admin", WEST, {"reason": "", "minutes": 5}, 422),  # no reason
        ("admin", EAST, {"reason": "x", "minutes": 5}, 404),  # EAST has no liftable masks
    ],
)
def test_mask_lift_is_checked_and_bounded(
    env: Env, user: str, camera: str, body: dict[str, object], status: int
) -> None:
    env.services.liftable_masks[WEST] = [LIFTABLE]  # type: ignore[index]
    r = env.client.post(f"/api/cameras/{camera}/mask-lift", json=body, headers=env.bearer(user))
    assert r.status_code == status, r.text
