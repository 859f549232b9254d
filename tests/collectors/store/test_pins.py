"""`pincex runs pin|unpin` through the root command: a baseline per (kind, profile), named by
id, prefix or `latest`, marked in `runs list`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from collectors.store import Run, RunStore
from collectors.store.samples import sample_run
from pincex.cli import cli


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, dict[str, Run]]:
    path = tmp_path / "runs.duckdb"
    runs = {
        "a": sample_run(kind="orders", label="a", seed=1),
        "b": sample_run(kind="orders", label="b", seed=2),
        "db": sample_run(kind="db", label="d", seed=3),
    }
    RunStore(path).write_many(list(runs.values()))
    return path, runs


def pincex(path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["runs", "--store", str(path), *args])


def pinned(path: Path) -> dict[str, bool]:
    result = pincex(path, "list", "--json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = orjson.loads(result.stdout)
    return {run["label"]: run["pinned"] for run in doc["runs"]}


def test_pin_unpin_round_trip(stored):
    path, runs = stored
    a, b = runs["a"], runs["b"]
    result = pincex(path, "pin", a.id[:8])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"pinned {a.id} as the orders/smoke baseline\n"
    assert pinned(path) == {"a": True, "b": False, "d": False}
    assert RunStore(path).baselines() == {("orders", "smoke"): a.id}

    result = pincex(path, "pin", b.id)
    assert result.stdout == f"pinned {b.id} as the orders/smoke baseline (replacing {a.id})\n"
    assert (
        pincex(path, "pin", "latest").stdout == f"pinned {runs['db'].id} as the db/smoke baseline\n"
    )
    assert pinned(path) == {"a": False, "b": True, "d": True}

    table = pincex(path, "list").stdout.splitlines()
    assert table[0].split()[4] == "pinned"
    marks = {line.split()[0]: "pinned" in line.split() for line in table[1:]}
    assert marks == {a.id: False, b.id: True, runs["db"].id: True}

    result = pincex(path, "unpin", b.id[:10])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"unpinned {b.id}: orders/smoke has no pinned baseline now\n"
    assert RunStore(path).baselines() == {("db", "smoke"): runs["db"].id}


def one_error(result: Result, starts: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {starts}"), result.stderr


def test_bad_references_are_one_error_line(stored):
    path, runs = stored
    one_error(pincex(path, "pin", "no-such-run"), "no run with id no-such-run")
    one_error(pincex(path, "unpin", runs["a"].id), f"run {runs['a'].id} is not a pinned baseline")
    one_error(pincex(path, "pin", "abc"), "no run with id abc")  # a prefix needs 8+ characters
    # the console script makes click's own usage errors one line too
    done = subprocess.run([sys.executable, "-m", "pincex", "runs", "--store", str(path), "pin"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "error: pincex runs pin: Missing argument 'ID'.\n"


def test_help():
    for command in ("pin", "unpin"):
        result = CliRunner().invoke(cli, ["runs", command, "--help"])
        assert result.exit_code == 0 and "latest" in result.stdout
