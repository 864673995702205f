"""``safecity evidence export|verify|public-key``: permission and camera checks, audit, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safecity.cli import main
from safecity.store.audit import AuditFilter
from safecity.store.users import UserStore
from tests.unit.evidence.conftest import World

PASSWORD = "correct horse battery staple 7"


def _cli(world: World, *args: str) -> list[str]:
    return [*args, "--database-url", str(world.engine.url), "--media-dir", str(world.media)]


def test_export_needs_the_permission_and_the_camera(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAFECITY_HOME", str(world.home))
    users = UserStore(world.engine)
    users.add_user("viewer1", PASSWORD, "viewer")
    users.upsert_group("west", ["cam1"])
    users.add_user("op1", PASSWORD, "operator", groups=["west"])
    users.upsert_group("east", ["cam9"])
    users.add_user("op2", PASSWORD, "operator", groups=["east"])
    base = ["evidence", "export", "--event", "ev-a", "--reason", "112 신고 대응"]
    assert main(_cli(world, *base, "--user", "viewer1")) == 1
    assert "may not export evidence" in capsys.readouterr().err
    assert main(_cli(world, *base, "--user", "op2")) == 1  # cam1 is outside op2's groups
    assert "outside the camera groups" in capsys.readouterr().err
    refused = world.audit.query(AuditFilter(action="export_evidence", allowed=False))
    assert sorted(e.username or "" for e in refused) == ["op2", "viewer1"]
    assert main([*_cli(world, *base, "--user", "op1"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert main(["evidence", "verify", out["zip"]]) == 0
    assert "OK: signature valid" in capsys.readouterr().out
    assert main(["evidence", "public-key"]) == 0
    pem = capsys.readouterr().out
    key_file = world.home / "trusted.pem"
    key_file.write_text(pem)
    assert main(["evidence", "verify", out["folder"], "--public-key", str(key_file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["key_trusted"] is True
    assert world.audit.verify().ok


def test_verify_of_something_that_is_no_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evidence", "verify", str(tmp_path / "nothing")]) == 1
    assert "no evidence package" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["evidence", "verify", str(tmp_path / "empty")]) == 3
    assert "manifest.json is missing" in capsys.readouterr().out
