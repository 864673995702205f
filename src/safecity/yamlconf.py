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

__all__ = [
    "MAX_ALIASES",
    "MAX_EXPANDED_VALUES",
    "YamlDocument",
    "format_validation_error",
    "load_model",
    "parse_yaml_text",
    "validate_model",
]

M = TypeVar("M", bound=BaseModel)
KeyPath = tuple[str | int, ...]

#: values a config may expand to once aliases (``*name``) are resolved; a real config has hundreds,
#: a "billion laughs" document of 300 bytes expands to billions (and hangs or exhausts memory)
MAX_EXPANDED_VALUES = 100_000
#: aliases a config may use at all (merge keys ``<<: *defaults`` in a big config use dozens)
MAX_ALIASES = 1_000


class _Budget:
    """Counts the values built while walking the node graph; refuses past the limit."""

    def __init__(self, source: str, limit: int) -> None:
        self.source, self.limit, self.used = source, limit, 0

    def spend(self, node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
        self.used += 1
        if self.used > self.limit:
            top = path[:1]
            line = lines.get(top, node.start_mark.line + 1)
            where = f" (under key {top[0]!r})" if top else ""
            raise ConfigError(
                f"{self.source}:{line}: the YAML expands to more than {self.limit:,} values once its "
                f"aliases (*name) are resolved{where} - nested aliases that multiply (a 'billion laughs' "
                "document?); write the values out or use fewer, flatter aliases"
            )


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


def _scalar(node: yaml.Node) -> Any:
    """The value of a scalar node, as ``yaml.safe_load`` would build it (tags already resolved)."""
    return yaml.constructor.SafeConstructor().construct_object(node)


def _walk(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], budget: _Budget) -> Any:
    budget.spend(node, path, lines)
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = (
                _scalar(key_node)
                if isinstance(key_node, yaml.ScalarNode)
                else _walk(key_node, path, {}, budget)
            )
            if isinstance(key, (dict, list)):
                raise ConfigError(
                    f"{budget.source}:{key_node.start_mark.line + 1}: a mapping key must be a plain value, "
                    "not a list or mapping"
                )
            sub = (*path, key if isinstance(key, (str, int)) else str(key))
            lines[sub] = key_node.start_mark.line + 1
            out[key] = _walk(value_node, sub, lines, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(v, (*path, i), lines, budget) for i, v in enumerate(node.value)]
    return _scalar(node)


def _count_aliases(text: str, source: str) -> None:
    """Refuse a document with more than :data:`MAX_ALIASES` aliases before building anything."""
    n = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            n += 1
            if n > MAX_ALIASES:
                line = event.start_mark.line + 1 if event.start_mark is not None else "?"
                raise ConfigError(
                    f"{source}:{line}: more than {MAX_ALIASES:,} YAML aliases (*name); "
                    "write the values out or use fewer aliases"
                )


def parse_yaml_text(text: str, source: str = "<string>") -> YamlDocument:
    """Parse YAML text, keeping the line of every key.

    Raises ConfigError on syntax errors, and quickly (before anything large is built) for a document
    whose aliases expand beyond :data:`MAX_EXPANDED_VALUES` values or that has more than
    :data:`MAX_ALIASES` aliases.
    """
    try:
        _count_aliases(text, source)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ConfigError(
            f"{where}: not valid YAML ({getattr(exc, 'problem', exc)}); fix the syntax and run "
            "`safecity check-config` again"
        ) from exc
    lines: dict[KeyPath, int] = {}
    data = {} if node is None else _walk(node, (), lines, _Budget(source, MAX_EXPANDED_VALUES))
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
