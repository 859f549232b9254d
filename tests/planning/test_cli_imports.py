"""The planning commands load no numerical library until they run (`pincex --help` stays fast)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("scipy", "pandas", "numpy")


@pytest.mark.parametrize(
    "module",
    ["pincex.commands.plan", "pincex.commands.slo", "pincex.commands.regress", "pincex.sources"],
)
def test_importing_a_planning_command_loads_no_numerical_library(module):
    code = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


def test_planning_imports_neither_click_nor_the_cli_failure():
    code = (
        "import sys, planning.sources, planning.slo, planning.capacity, planning.regress.check;"
        "print(','.join(m for m in ('click', 'common.errors') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
