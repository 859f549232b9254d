"""The packages import in one direction only, read from every module's source with `ast`
(imports inside functions and under TYPE_CHECKING count too):

    pincex -> dashboard -> planning, collectors (siblings) -> exchange_ref -> common

`click` is imported only by `pincex/` and `common/errors.py`; `UsageFailure` (a click
exception) is used only by `pincex/`: the libraries raise their own errors.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

ALLOWED: dict[str, frozenset[str]] = {
    "common": frozenset(),
    "exchange_ref": frozenset({"common"}),
    "collectors": frozenset({"exchange_ref", "common"}),
    "planning": frozenset({"exchange_ref", "common"}),
    "dashboard": frozenset({"planning", "collectors", "exchange_ref", "common"}),
    "pincex": frozenset({"dashboard", "planning", "collectors", "exchange_ref", "common"}),
}
"""Each package of ours and the packages of ours it may import (besides itself)."""

CLICK_ALLOWED = ("pincex", "common.errors")
USAGE_FAILURE_ALLOWED = ("pincex", "common.errors")  # common.errors defines it


def _modules() -> Iterator[tuple[str, Path]]:
    for package in ALLOWED:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def _imported(module: str, path: Path, tree: ast.AST) -> Iterator[str]:
    """Every module name `module` imports (relative imports made absolute)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")
                parent = parent[: len(parent) - node.level + (1 if is_package else 0)]
                base = ".".join([*parent, base] if base else parent)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _uses_usage_failure(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.alias) and node.name.split(".")[-1] == "UsageFailure":
            return True
        if isinstance(node, ast.Name) and node.id == "UsageFailure":
            return True
        if isinstance(node, ast.Attribute) and node.attr == "UsageFailure":
            return True
    return False


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(f"{p}.") for p in prefixes)


def breaks(module: str, path: Path) -> set[tuple[str, str]]:
    """(module, what) for each rule the module breaks: an upward or sideways package
    imported, `click`, or `UsageFailure`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    own = module.split(".")[0]
    found: set[tuple[str, str]] = set()
    for name in _imported(module, path, tree):
        top = name.split(".")[0]
        if top in ALLOWED and top != own and top not in ALLOWED[own]:
            found.add((module, top))
        if top == "click" and not _within(module, CLICK_ALLOWED):
            found.add((module, "click"))
    if _uses_usage_failure(tree) and not _within(module, USAGE_FAILURE_ALLOWED):
        found.add((module, "UsageFailure"))
    return found


MODULES = dict(_modules())


def test_every_package_is_walked() -> None:
    assert {m.split(".")[0] for m in MODULES} == set(ALLOWED)
    assert len(MODULES) > 100


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_downward_only(module: str) -> None:
    found = breaks(module, MODULES[module])
    assert not found, (
        f"{module} breaks the layering: {sorted(what for _, what in found)} "
        "(pincex -> dashboard -> planning | collectors -> exchange_ref -> common; click only "
        "in pincex/ and common/errors.py; UsageFailure only in pincex/)"
    )
