from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from safecity.errors import ConfigError
from safecity.yamlconf import load_model, parse_yaml_text


class Zone(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    polygon: list[tuple[float, float]]


class Cfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fps: float = Field(gt=0)
    zones: list[Zone] = []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fps: 0\n", r"cfg.yaml:1: fps: Input should be greater than 0 \(got 0\)"),  # bound
        (
            "fps: 5\nzones:\n  - name: a\n    polygon: [[0, 0]]\n    colour: red\n",
            r"cfg.yaml:5: zones.0.colour",
        ),
        ("fps: 5\nfpz: 3\n", r"cfg.yaml:2: fpz: Extra inputs are not permitted"),  # typo in a key
        ("zones: []\n", r"cfg.yaml:1: \(top level\)|fps: Field required"),  # missing key
    ],
)
def test_validate_reports_line_and_key(text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        from safecity.yamlconf import validate_model

        validate_model(Cfg, parse_yaml_text(text, "cfg.yaml"))


def test_syntax_error_names_line() -> None:
    with pytest.raises(ConfigError, match=r"x.yaml:3: not valid YAML"):
        parse_yaml_text("a: 1\nb: [1,\n", "x.yaml")


def test_load_model_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_model(Cfg, tmp_path / "nope.yaml")


def test_load_model_ok(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("fps: 5\nzones:\n  - name: door\n    polygon: [[0, 0], [1, 0], [1, 1]]\n")
    cfg = load_model(Cfg, p)
    assert cfg.zones[0].polygon[1] == (1.0, 0.0)


BILLION_LAUGHS = "".join(
    f"{k}: &{k} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
    for p, k in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)


@pytest.mark.timeout(60)  # a hang guard: before the limit this took minutes and hundreds of MB
def test_alias_bomb_is_refused_with_a_clear_message() -> None:
    assert len(BILLION_LAUGHS) < 400  # 9 levels of 9: 387,420,489 values once expanded
    with pytest.raises(ConfigError, match=r"expands to more than 100,000 values .*billion laughs"):
        parse_yaml_text(BILLION_LAUGHS, "bomb.yaml")


def test_too_many_aliases_are_refused() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 1001) + "]\n"
    with pytest.raises(ConfigError, match=r"bomb.yaml:2: more than 1,000 YAML aliases"):
        parse_yaml_text(text, "bomb.yaml")


def test_ordinary_aliases_still_work() -> None:
    doc = parse_yaml_text("base: &b {fps: 5, ok: yes}\ncams:\n  - *b\n  - *b\nwhen: 2026-01-01\n", "c.yaml")
    assert doc.data["cams"] == [{"fps": 5, "ok": True}] * 2
    assert str(doc.data["when"]) == "2026-01-01" and doc.line_of(("when",)) == 5
