"""Public surface: every __all__ is sorted and names things that exist; importing has no side effects."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import safecity

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(safecity.__path__, "safecity.")
    if ".migrations" not in m.name and not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_all_sorted_and_resolvable(name: str) -> None:
    mod = importlib.import_module(name)
    exported = getattr(mod, "__all__", None)
    if exported is None:
        return
    assert list(exported) == sorted(exported), f"{name}.__all__ is not sorted"
    for item in exported:
        assert hasattr(mod, item), f"{name}.__all__ names {item!r}, which does not exist"


def test_package_all_lists_errors() -> None:
    assert "SafecityError" in safecity.__all__
    assert safecity.__version__
