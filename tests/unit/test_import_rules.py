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


# --------------------------------------------------------------------------------------------
# No import cycles, no private names from other modules (imports anywhere in a module count)


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)


MODULES = {
    _module_name(p): p for p in SRC.rglob("*.py") if "migrations" not in p.parts and "vendor" not in p.parts
}


def _edges(name: str, path: Path) -> tuple[set[str], list[str]]:
    """Modules of safecity that ``name`` imports (anywhere in it), and the private names it imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    private: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = pkg.split(".")
                up = parts[: len(parts) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                target = full if full in MODULES else base
                if target in MODULES and target != name:
                    out.add(target)
                    if alias.name.startswith("_") and not alias.name.startswith("__") and full not in MODULES:
                        private.append(f"{name} imports {base}.{alias.name}")
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in MODULES and a.name != name)
    return out, private


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                # a package's __init__ re-exporting its own submodules is not a cycle between concerns
                if len(comp) > 1 and not all(x.startswith(min(comp, key=len)) for x in comp):
                    found.append(sorted(comp))
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    # a -> b -> c -> a is one cycle; d only points into it
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_safecity() -> None:
    edges = {name: _edges(name, path)[0] for name, path in MODULES.items()}
    cycles = _cycles(edges)
    assert not cycles, f"import cycles (break them with a module both sides import): {cycles}"


def test_no_module_imports_a_private_name_of_another() -> None:
    private = [p for name, path in MODULES.items() for p in _edges(name, path)[1]]
    assert not private, f"private names imported across modules (make them public or move them): {private}"
