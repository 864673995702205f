"""One cross-field config problem as pydantic reports it (so ``safecity.yamlconf`` names file, key and line),
and the ``ClassName`` field type (a COCO class name, with a "did you mean" for a typo).

Example:
    >>> config_problem("duplicate_name", "zone 'gate' is defined twice", ("zones", 1, "name"), "gate")["loc"]
    ('zones', 1, 'name')
"""

from __future__ import annotations

import difflib
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import InitErrorDetails, PydanticCustomError

from safecity.monitor.types import COCO_CLASSES

__all__ = ["ClassName", "config_problem"]


def config_problem(kind: str, msg: str, loc: tuple[str | int, ...], value: object) -> InitErrorDetails:
    """A validation problem of type ``kind`` with the message ``msg`` at the config path ``loc``."""
    return InitErrorDetails(type=PydanticCustomError(kind, "{msg}", {"msg": msg}), loc=loc, input=value)


def _check_class(name: str) -> str:
    if name not in COCO_CLASSES:
        close = difflib.get_close_matches(name, COCO_CLASSES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (e.g. person, car, backpack)"
        raise PydanticCustomError(
            "unknown_class",
            "{msg}",
            {"msg": f"unknown class name {name!r}: expected a COCO class name{hint}"},
        )
    return name


ClassName = Annotated[str, AfterValidator(_check_class)]
"""A COCO class name (``person``, ``car``, ...); a typo is refused with the closest name."""
