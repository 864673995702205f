"""Run the docstring examples of the planning modules."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "safecity.plan.areas",
    "safecity.plan.cache",
    "safecity.plan.config",
    "safecity.plan.coverage",
    "safecity.plan.geometry",
    "safecity.plan.greedy",
    "safecity.plan.history",
    "safecity.plan.lagrange",
    "safecity.plan.optimize",
    "safecity.plan.reduce",
    "safecity.plan.replace",
    "safecity.plan.score",
    "safecity.plan.sites",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
