"""One strict reader for the YAML config files (`slo.yaml`, `capacity.yaml`).

    document = load_yaml(path)                       # ConfigError: no file, bad YAML, a key twice
    top = document.mapping(document.data, (), required=("version",), optional=("aliases",))
    document.fail(("version",), "unsupported version 2")   # "<file>: version: ... (line 3)"

PyYAML's SafeLoader, with two additions: a mapping that holds the same key twice is refused
(plain PyYAML keeps the last one silently), and the line of every entry is kept, so that a
validator can say where in the file an unknown key, a wrong type or a bad value is. Every
message is one line: `<file>: <where>: <problem>`, then `(line N)` when the entry came from a
file. A document built from plain data (`Document.of`) has no lines and says no line.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

__all__ = ["ConfigError", "Document", "Key", "describe", "load_yaml", "misspelt", "where"]

Key = str | int


class ConfigError(ValueError):
    """A config file that cannot be used; the message is one line naming the file (and line)."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice."""


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, Hashable):
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def where(path: Sequence[Key]) -> str:
    """A path as the messages write it: `tables.engine.slos[0]`; the top level when empty."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text or "top level"


def misspelt(missing: Sequence[str], present: Mapping[Any, object]) -> str:
    """`; is 'headrom' a misspelling?` when a key present is close to a missing one."""
    names = [str(k) for k in present]
    close = [m for key in missing for m in difflib.get_close_matches(key, names, n=1)]
    return f"; is {close[0]!r} a misspelling?" if close else ""


def describe(value: object) -> str:
    """What a value is, for 'expected X, got Y'."""
    if value is None:
        return "nothing"
    kinds: dict[type, str] = {dict: "a mapping", list: "a list", str: "text", bool: "a boolean"}
    return kinds.get(type(value), type(value).__name__)


@dataclass(frozen=True)
class Document:
    """A parsed config file: its data and the line (1-based) each entry starts on."""

    source: str
    data: object
    lines: Mapping[tuple[Key, ...], int] = field(default_factory=dict)
    error_type: type[ConfigError] = ConfigError

    @classmethod
    def of(cls, data: object, source: str, error_type: type[ConfigError] = ConfigError) -> Document:
        """Plain data (already parsed) as a document without lines."""
        return cls(source, data, {}, error_type)

    def line(self, path: Sequence[Key]) -> int | None:
        """The line of the entry at `path`, or of its nearest ancestor that has one."""
        keys = tuple(path)
        while keys:
            found = self.lines.get(keys)
            if found is not None:
                return found
            keys = keys[:-1]
        return None

    def error(self, path: Sequence[Key], message: str, shown: str | None = None) -> ConfigError:
        """The one-line error for the entry at `path` (`shown` replaces the written path)."""
        line = self.line(path)
        at = "" if line is None else f" (line {line})"
        prefix = f"{self.source}: " if self.source else ""
        return self.error_type(f"{prefix}{shown or where(path)}: {message}{at}")

    def fail(self, path: Sequence[Key], message: str, shown: str | None = None) -> NoReturn:
        """Raise `error(...)`."""
        raise self.error(path, message, shown)

    def mapping(
        self,
        value: object,
        path: Sequence[Key],
        required: Sequence[str] = (),
        optional: Sequence[str] = (),
        shown: str | None = None,
    ) -> dict[str, object]:
        """`value` checked to be a mapping; with key lists, every required key present and no
        other key than the required and optional ones."""
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {describe(value)}", shown)
        if required or optional:
            missing = [k for k in required if k not in value]
            if missing:
                self.fail(path, f"missing {', '.join(missing)}{misspelt(missing, value)}", shown)
            allowed = (*required, *optional)
            extra = [k for k in value if k not in allowed]
            if extra:
                self.fail(
                    (*path, str(extra[0])),
                    f"unknown key {str(extra[0])!r} (allowed: {', '.join(allowed)})",
                    shown or where(path),
                )
        return value


def load_yaml(
    path: Path, *, default: str | None = None, error_type: type[ConfigError] = ConfigError
) -> Document:
    """Read `path` as strict YAML; failures are `error_type`. `default`: the setting that chose
    the file, named in the message when it is missing (`PINCEX_CONFIG_DIR`)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        hint = "" if default is None else f" (the default config; set {default} to its folder)"
        raise error_type(f"{path}: no such file{hint}") from None
    except OSError as exc:
        raise error_type(f"{path}: cannot read: {exc.strerror or exc}") from None
    loader = _StrictLoader(raw)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise error_type(f"{path}: not valid YAML: {_problem(exc)}") from None
    finally:
        loader.dispose()
    lines: dict[tuple[Key, ...], int] = {}
    if node is not None:
        _collect_lines(node, (), lines)
    return Document(str(path), data, lines, error_type)


def _collect_lines(node: yaml.Node, path: tuple[Key, ...], out: dict[tuple[Key, ...], int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*path, str(key_node.value))
            out[key] = key_node.start_mark.line + 1
            _collect_lines(value_node, key, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[(*path, i)] = item.start_mark.line + 1
            _collect_lines(item, (*path, i), out)


def _problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    return " ".join(str(exc).split())
