"""Signed evidence packages: a fresh export verifies; one changed byte, an added or removed file, a
re-signed manifest or another key is found and the file named (issue 11, item 4)."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
import pytest
from sqlalchemy import select

from safecity.cli import main
from safecity.errors import InputError
from safecity.evidence.keys import key_path, load_or_create_key, public_key_pem
from safecity.evidence.package import ExportRequest, watermark
from safecity.evidence.run import run_export
from safecity.evidence.verify import verify_package
from safecity.store.audit import AuditFilter
from safecity.store.schema import evidence_exports
from tests.unit.evidence.conftest import EPOCH, World

T0 = datetime.fromtimestamp(EPOCH, UTC)
T1 = datetime.fromtimestamp(EPOCH + 3600, UTC)


def _export(world: World, **kw: object) -> Path:
    req = ExportRequest(
        username="kim",
        reason="경찰 요청 2026-123",
        camera="cam1",
        start=T0,
        end=T1,
        **kw,  # type: ignore[arg-type]
    )
    res = run_export(
        world.engine,
        world.store,
        world.audit,
        home=world.home,
        media_root=world.media,
        req=req,
        codec="mpeg4",
    )
    return res.folder


def test_fresh_export_verifies_and_is_recorded_and_audited(world: World) -> None:
    folder = _export(world, event_uid="ev-a")
    report = verify_package(folder)
    assert report.ok, report.findings
    assert report.manifest["reason"] == "경찰 요청 2026-123" and report.manifest["events"] == ["ev-a"]
    assert {f["path"] for f in report.manifest["files"]} == {
        "events.json",
        "media/ev-a.jpg",
        "media/ev-a.mp4",
    }
    assert verify_package(folder.with_suffix(".zip")).ok  # the zip too
    with world.engine.connect() as c:
        row = c.execute(select(evidence_exports)).mappings().one()
    assert row["media"] == ["cam1/ev-a.jpg", "cam1/ev-a.mp4"] and row["username"] == "kim"
    entry = world.audit.query(AuditFilter(action="export_evidence"))[0]
    assert entry.target_id == "ev-a" and "경찰 요청" in (entry.detail or "")
    assert world.audit.verify().ok


def test_time_range_export_holds_every_event_of_the_camera(world: World) -> None:
    report = verify_package(_export(world))
    assert report.ok and report.manifest["events"] == ["ev-a", "ev-b"]


def test_every_clip_frame_is_watermarked(world: World) -> None:
    folder = _export(world, event_uid="ev-a")
    with av.open(str(folder / "media" / "ev-a.mp4")) as c:
        frames = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
    assert len(frames) == 8
    for img in frames:  # the bottom band is darkened and carries white text; the source has neither
        band = img[-20:]
        assert band.max() > 200 and np.median(band) < 60


@pytest.mark.parametrize("target", ["media/ev-a.mp4", "media/ev-a.jpg", "events.json"])
def test_one_changed_byte_is_found_and_named(
    world: World, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _export(world, event_uid="ev-a")
    p = folder / target
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))
    report = verify_package(folder)
    assert not report.ok
    assert [(f.kind, f.path) for f in report.findings] == [("altered", target)]
    assert main(["evidence", "verify", str(folder)]) == 3
    out = capsys.readouterr().out
    assert f"ALTERED  {target}" in out


def test_added_and_removed_files_are_named(world: World) -> None:
    folder = _export(world, event_uid="ev-a")
    (folder / "media" / "ev-a.jpg").unlink()
    (folder / "media" / "extra.mp4").write_bytes(b"x")
    kinds = [(f.kind, f.path) for f in verify_package(folder).findings]
    assert kinds == [("removed", "media/ev-a.jpg"), ("added", "media/extra.mp4")]


def test_edited_manifest_fails_the_signature(world: World) -> None:
    folder = _export(world, event_uid="ev-a")
    m = folder / "manifest.json"
    m.write_text(m.read_text(encoding="utf-8").replace("kim", "lee"), encoding="utf-8")
    report = verify_package(folder)
    assert not report.signature_ok and [f.kind for f in report.findings] == ["signature"]


def test_changed_byte_inside_the_zip_is_named(world: World, tmp_path: Path) -> None:
    folder = _export(world, event_uid="ev-a")
    src = folder.with_suffix(".zip")
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("events.json"):
                data = data.replace(b"intrusion", b"intrusioN", 1)
            zout.writestr(info, data)
    assert [(f.kind, f.path) for f in verify_package(bad).findings] == [("altered", "events.json")]


def test_trusted_key_detects_a_package_re_signed_with_another_key(world: World, tmp_path: Path) -> None:
    folder = _export(world, event_uid="ev-a")
    trusted = tmp_path / "trusted.pem"
    trusted.write_bytes(public_key_pem(load_or_create_key(world.home)))
    assert verify_package(folder, trusted_key=trusted).ok
    other = tmp_path / "other-home"
    forged_key = load_or_create_key(other)
    forged = tmp_path / "forged"
    shutil.copytree(folder, forged)
    manifest = json.loads((forged / "manifest.json").read_text(encoding="utf-8"))
    manifest["public_key"] = public_key_pem(forged_key).decode()
    body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"
    (forged / "manifest.json").write_bytes(body)
    import base64

    (forged / "manifest.sig").write_text(base64.b64encode(forged_key.sign(body)).decode())
    assert verify_package(forged).ok  # self-consistent ...
    report = verify_package(forged, trusted_key=trusted)  # ... but not signed by this installation
    assert not report.ok and [f.kind for f in report.findings] == ["untrusted_key"]


def test_key_is_private_and_reused(world: World) -> None:
    k1 = load_or_create_key(world.home)
    assert os.stat(key_path(world.home)).st_mode & 0o777 == 0o600
    assert public_key_pem(load_or_create_key(world.home)) == public_key_pem(k1)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"reason": "  "}, "reason"),
        ({"end": T0}, "range"),
        ({"end": datetime.fromtimestamp(EPOCH + 3 * 86400, UTC)}, "at most 24 h"),
    ],
)
def test_request_is_bounded(kw: dict[str, object], match: str) -> None:
    base: dict[str, object] = {"username": "kim", "reason": "r", "camera": "cam1", "start": T0, "end": T1}
    with pytest.raises(InputError, match=match):
        ExportRequest(**{**base, **kw})  # type: ignore[arg-type]


def test_watermark_leaves_the_input_untouched() -> None:
    img = np.full((100, 200, 3), 128, np.uint8)
    out = watermark(img, "김 | 2026-12-06 KST | cam1")
    assert (img == 128).all() and not np.array_equal(out, img)
