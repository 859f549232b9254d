"""How `bench db` and `bench generators` end when interrupted (Ctrl-C) or when the target
answered only errors: the figures first, the run kept, then one error line and the exit code."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
from click.testing import CliRunner

from collectors.store.store import RunStore
from pincex.cli import cli
from tests.collectors.known_server import realized_ms, spawn
from tests.collectors.stub_server import serving
from tests.collectors.test_bench_interrupt import Unauthorized

TINY = ["--seed-users", "30", "--seed-orders", "300", "--seed-trades", "120"]


def _interrupt_when(bench: subprocess.Popen[str], marker: str) -> tuple[str, str]:
    """SIGINT to `bench` once `marker` shows on its stderr (its progress bar), then its output."""
    assert bench.stderr is not None
    seen = ""
    deadline = time.monotonic() + 60
    while marker not in seen and time.monotonic() < deadline:
        char = bench.stderr.read(1)
        assert char, seen
        seen += char
    time.sleep(0.5)
    bench.send_signal(signal.SIGINT)
    out, err = bench.communicate(timeout=60)
    return out, seen + err


def test_ctrl_c_in_bench_db_keeps_the_queries_run(tmp_path: Path) -> None:
    store = tmp_path / "runs.duckdb"
    args = ["--url", f"sqlite:///{tmp_path / 'bench.db'}", "--connections", "2"]
    args += ["--queries-per-connection", "10000000", "--max-seconds", "120", *TINY]
    bench = subprocess.Popen(
        [sys.executable, "-m", "pincex", "bench", "db", *args, "--store", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = _interrupt_when(bench, "queries run")
    finally:
        bench.kill()
    assert bench.returncode == 130, err
    assert "warning: aborted (interrupted)" in out
    assert "error: aborted: the figures above cover" in err.strip().splitlines()[-1]
    total = int(out.split("Total Queries: ")[1].split()[0])
    assert 0 < total < 20_000_000
    run = RunStore(str(store)).get(out.split("stored as run ")[1].split()[0])
    assert (run.kind, run.status) == ("db", "aborted")
    assert any(w.startswith("aborted (interrupted)") for w in run.warnings)
    assert sum(s.count for s in run.summaries) == total


def test_ctrl_c_in_bench_generators_keeps_what_ours_measured(tmp_path: Path) -> None:
    store = tmp_path / "runs.duckdb"
    proc, url = spawn("--cycle", "0.001")
    try:
        args = ["--target", url, "--rate", "200", "--duration", "60", "--locust-classes", "fast"]
        args += ["--store", str(store), "--json"]
        bench = subprocess.Popen(
            [sys.executable, "-m", "pincex", "bench", "generators", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while len(realized_ms(url)) < 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        bench.send_signal(signal.SIGINT)
        out, err = bench.communicate(timeout=90)
    finally:
        proc.kill()
        proc.wait()
    assert bench.returncode == 130, err
    doc = orjson.loads(out)
    assert doc["aborted"] is True
    [ours] = doc["generators"]  # the Locust phase never began
    assert 200 <= ours["requests"] < 12_000
    assert ours["warnings"][0].startswith("aborted (interrupted)")
    assert err.strip().splitlines()[-1].startswith("error: aborted")
    run = RunStore(str(store)).get(doc["run_id"])
    assert (run.kind, run.status) == ("generators", "aborted")
    assert any(w.startswith("aborted (interrupted)") for w in run.warnings)
    assert [s.count for s in run.summaries] == [ours["requests"]]


def test_generators_against_errors_print_keep_and_exit_1(tmp_path: Path) -> None:
    store = tmp_path / "runs.duckdb"
    args = ["--rate", "50", "--duration", "1", "--locust-classes", "", "--store", str(store)]
    with serving(Unauthorized) as url:
        result = CliRunner().invoke(cli, ["bench", "generators", "--target", url, *args])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("generator")  # the figures come first ...
    assert "pincex open model NOT TRUSTED" in result.stdout
    run_id = result.stdout.split("stored as run ")[1].split()[0]
    assert RunStore(str(store)).get(run_id).summaries[0].errors == 50
    line = result.stderr.strip().splitlines()[-1]  # ... then one error line
    assert line.startswith("error: the target answered too many requests with errors")
