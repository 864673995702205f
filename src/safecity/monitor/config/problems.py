"""One cross-field config problem as pydantic reports it (so ``safecity.yamlconf`` names file, key and line).

Example:
    >>> config_problem("duplicate_name", "zone 'gate' is defined twice", ("zones", 1, "name"), "gate")["loc"]
    ('zones', 1, 'name')
"""

from __future__ import annotations

from pydantic_core import InitErrorDetails, PydanticCustomError

__all__ = ["config_problem"]


def config_problem(kind: str, msg: str, loc: tuple[str | int, ...], value: object) -> InitErrorDetails:
    """A validation problem of type ``kind`` with the message ``msg`` at the config path ``loc``."""
    return InitErrorDetails(type=PydanticCustomError(kind, "{msg}", {"msg": msg}), loc=loc, input=value)
