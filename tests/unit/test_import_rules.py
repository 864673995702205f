"""Layering: plan/ and monitor/ never import each other; pure modules import no I/O adapters."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "safecity"

FORBIDDEN = {
    "plan": ("safecity.monitor", "safecity.web"),
    "monitor": ("safecity.plan", "safecity.web"),
    "registry": ("safecity.monitor", "safecity.plan", "safecity.web"),
    "store": ("safecity.monitor", "safecity.plan", "safecity.web", "safecity.registry"),
    "alerts": ("safecity.plan", "safecity.web"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


CASES = [(pkg, f) for pkg in FORBIDDEN for f in sorted((SRC / pkg).rglob("*.py"))]


@pytest.mark.parametrize(("pkg", "path"), CASES, ids=[str(f.relative_to(SRC)) for _, f in CASES])
def test_layering(pkg: str, path: Path) -> None:
    bad = {m for m in _imports(path) if m.startswith(FORBIDDEN[pkg])}
    assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}, which {pkg}/ must not depend on"


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_module_size(path: Path) -> None:
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= 850, f"{path.relative_to(SRC)} has {n} lines; split it (limit ~800)"
