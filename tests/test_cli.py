"""The command line documents itself, and `pincex demo` serves an exchange until stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner

from collectors.store.store import RunStore
from pincex.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, command in group.commands.items():
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


def test_demo_serves_an_exchange_with_demo_users_until_interrupted(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pincex",
            "demo",
            "--port",
            "0",
            "--db",
            f"sqlite:///{tmp_path / 'demo.db'}",
            "--load-seconds",
            "2",
            "--store",
            str(tmp_path / "runs.duckdb"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=dict(os.environ),
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        while not any(line.startswith("Press Ctrl-C") for line in lines):
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
            lines.append(proc.stdout.readline().strip())
        url = next(line.split(": ", 1)[1] for line in lines if line.startswith("PinCEX"))
        assert url.startswith("http://127.0.0.1:")
        keys = [line.split()[-1] for line in lines if line.startswith("demo-")]
        assert len(keys) == 3
        # a real load test ran against it and its run is in the store
        stored = [line for line in lines if line.startswith("stored as run ")]
        assert len(stored) == 1, lines
        run = RunStore(tmp_path / "runs.duckdb").get(stored[0].split()[-1])
        assert (run.kind, run.label, run.tags) == ("orders", "demo", ["demo"])
        assert run.summaries[0].count == 2000 and run.summaries[0].errors == 0
        r = httpx.post(
            f"{url}/api/v1/orders",
            headers={"X-API-Key": keys[0]},
            json={
                "symbol": "BTCUSD",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": 0.5,
                "price": 50000,
            },
        )
        assert r.status_code == 201, r.text
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


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
