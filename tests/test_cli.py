"""The command line documents itself and reports mistakes in one line (`pincex demo`:
tests/test_demo.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pincex.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[1]


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    ctx = click.Context(group)
    out = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        out.append((*prefix, name))
        if isinstance(command, click.Group):
            out.extend(_commands(command, (*prefix, name)))
    return out


@pytest.mark.parametrize("path", _commands(cli), ids=" ".join)
def test_every_command_has_help_and_is_in_the_readme(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert f"pincex {' '.join(path)}" in (ROOT / "README.md").read_text(), path


def test_bad_settings_are_one_line_errors():
    result = CliRunner().invoke(cli, ["exchange", "serve", "--symbols", "DOGEUSD"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: invalid setting symbols")
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["exchange", "seed-users", "0"], 2),
        (["nosuch"], 2),
        (["bench", "orders", "--rate", "x"], 2),
    ],
)
def test_usage_errors_are_one_line_on_stderr(args, code):
    result = subprocess.run(
        [sys.executable, "-m", "pincex", *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == code
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


def test_a_command_exit_code_reaches_the_shell(tmp_path):
    results = tmp_path / "r.json"
    results.write_text('{"order_processing_p95_ms": 99}')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pincex",
            "slo",
            "check",
            "--results",
            str(results),
            "--allow-unmeasured",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr


@pytest.mark.parametrize("group", [[], ["bench"], ["runs"], ["exchange"]])
def test_a_group_without_a_command_shows_its_help_and_exits_0(group):
    result = subprocess.run(
        [sys.executable, "-m", "pincex", *group], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: pincex") and "Commands:" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("threshold", ["-0.5", "0", "10.5"])
def test_regress_check_refuses_a_threshold_outside_0_to_10(threshold, tmp_path):
    results = tmp_path / "r.json"
    results.write_text('{"order_processing_p95_ms": 99}')
    result = CliRunner().invoke(
        cli,
        ["regress", "check", "--baseline-file", str(results), "--current-results", str(results),
         "--threshold", threshold],
    )  # fmt: skip
    assert result.exit_code == 2 and "--threshold" in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_listed_summary_is_the_commands_own(name):
    """`pincex --help` lists commands from pincex.cli.COMMANDS without importing them: a
    command whose help's first paragraph changed needs its summary there changed too."""
    real = COMMANDS[name].load()
    stub = click.Command(name, help=COMMANDS[name].summary)
    for limit in (45, 60, 1000):
        assert stub.get_short_help_str(limit) == real.get_short_help_str(limit), name


_HEAVY = ("pincex.commands", "collectors", "planning", "dashboard", "exchange_ref", "duckdb",
          "pandas", "numpy", "scipy", "pydantic")  # fmt: skip


def test_pincex_help_imports_no_command_and_no_heavy_library():
    probe = (
        "import sys\n"
        "from pincex.cli import cli\n"
        "try:\n"
        "    cli.main(['--help'], prog_name='pincex', standalone_mode=False)\n"
        "finally:\n"
        f"    print(sorted(m for m in sys.modules if m.split('.')[0] in {_HEAVY!r}\n"
        f"                 or m.startswith('pincex.commands')), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Commands:" in result.stdout and "runs" in result.stdout
    assert result.stderr.strip() == "[]"
    # a command's own help does import it
    result = subprocess.run(
        [sys.executable, "-m", "pincex", "runs", "--help"], capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0 and "--store" in result.stdout
