"""The exchange's layering: it imports only itself and `common`, never the CLI's click, and its
domain layers (engine, service, feed, storage) never import the HTTP layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "exchange_ref"
FIRST_PARTY = {"common", "exchange_ref", "pincex", "collectors", "planning", "dashboard"}
# Modules below the HTTP layer: they speak the domain and must not know the wire.
DOMAIN = ("engine/", "feed/", "storage/", "service.py", "ticker.py", "users.py", "errors.py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


_MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_exchange_imports_only_itself_and_common(path: Path) -> None:
    imported = _imports(path)
    outside = {n for n in imported if n.split(".")[0] in FIRST_PARTY - {"exchange_ref", "common"}}
    assert not outside, f"{path.relative_to(ROOT)} imports {sorted(outside)}"
    assert not {n for n in imported if n.split(".")[0] == "click"}


@pytest.mark.parametrize(
    "path",
    [p for p in _MODULES if str(p.relative_to(PACKAGE)).startswith(DOMAIN)],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_domain_modules_do_not_import_the_http_layer(path: Path) -> None:
    http = {n for n in _imports(path) if n.startswith("exchange_ref.api") or n == "fastapi"}
    assert not http, f"{path.relative_to(ROOT)} imports {sorted(http)}"
