"""YAML loading that remembers where every key came from, and pydantic validation that reports it.

Any config model in safecity is loaded with :func:`load_model`; a validation failure becomes a
:class:`~safecity.errors.ConfigError` whose message names the file, the key path, the YAML line, the
value that arrived and what was expected, one line per problem.

Example:
    >>> from pydantic import BaseModel
    >>> class C(BaseModel):
    ...     fps: int
    >>> doc = parse_yaml_text("fps: fast\\n", "cam.yaml")
    >>> try:
    ...     validate_model(C, doc)
    ... except Exception as exc:
    ...     print(str(exc).splitlines()[1])
      cam.yaml:1: fps: Input should be a valid integer, unable to parse string as an integer (got 'fast')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from safecity.errors import ConfigError

__all__ = ["YamlDocument", "format_validation_error", "load_model", "parse_yaml_text", "validate_model"]

M = TypeVar("M", bound=BaseModel)
KeyPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """Parsed YAML data plus the 1-based line of every key path."""

    data: Any
    source: str
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int | None:
        """Line of ``path`` or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)


def _walk(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            sub = (*path, key if isinstance(key, (str, int)) else str(key))
            lines[sub] = key_node.start_mark.line + 1
            out[key] = _walk(value_node, sub, lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(v, (*path, i), lines) for i, v in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def parse_yaml_text(text: str, source: str = "<string>") -> YamlDocument:
    """Parse YAML text, keeping the line of every key. Raises ConfigError on syntax errors."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ConfigError(
            f"{where}: not valid YAML ({getattr(exc, 'problem', exc)}); fix the syntax and run "
            "`safecity check-config` again"
        ) from exc
    lines: dict[KeyPath, int] = {}
    data = {} if node is None else _walk(node, (), lines)
    return YamlDocument(data=data, source=source, lines=lines)


def format_validation_error(exc: ValidationError, doc: YamlDocument) -> list[str]:
    """One ``file:line: key.path: message (got value)`` string per pydantic error."""
    out = []
    for err in exc.errors():
        loc: KeyPath = tuple(p for p in err["loc"] if isinstance(p, (str, int)))
        # discriminated unions add the tag name to the location; drop parts absent from the YAML
        clean: list[str | int] = []
        for part in loc:
            if (*clean, part) in doc.lines or not clean or isinstance(part, int):
                clean.append(part)
        line = doc.line_of(tuple(clean))
        key = ".".join(str(p) for p in clean) or "(top level)"
        got = err.get("input")
        got_s = "" if err["type"] == "missing" or isinstance(got, (dict, list)) else f" (got {got!r})"
        where = f"{doc.source}:{line}" if line else doc.source
        out.append(f"{where}: {key}: {err['msg']}{got_s}")
    return out


def validate_model(model: type[M], doc: YamlDocument) -> M:
    """Validate ``doc`` against ``model``; raise ConfigError listing every problem with its line."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        problems = format_validation_error(exc, doc)
        raise ConfigError(
            f"{doc.source}: {len(problems)} problem(s) in the config:\n  " + "\n  ".join(problems)
        ) from exc


def load_model(model: type[M], path: str | Path) -> M:
    """Read a YAML file and validate it against ``model``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {p} does not exist; pass the path of a YAML config") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {p} cannot be read as UTF-8 text: {exc}") from exc
    return validate_model(model, parse_yaml_text(text, str(p)))
