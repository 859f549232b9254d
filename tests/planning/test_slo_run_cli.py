"""`pincex slo check --run` through the root command on a store of written runs: the table,
trust on every row, JSON, exit codes and one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from collectors.settings import get_settings
from collectors.store import Run, RunStore
from collectors.store.samples import sample_run
from pincex.cli import cli


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Path, dict[str, Run]]]:
    path = tmp_path / "runs.duckdb"
    runs = {
        "fast": sample_run(kind="orders", label="fast", seed=1),
        "slow": sample_run(kind="orders", label="slow", seed=2, scale_us=20000.0),
        "partial": sample_run(kind="orders", label="part", seed=3, status="partial"),
        "db": sample_run(kind="db", label="db", seed=4, endpoints=("select book", "insert order")),
    }
    RunStore(path).write_many(list(runs.values()))
    yield path, runs
    get_settings.cache_clear()


def check(path: Path | None, *args: str) -> Result:
    where = [] if path is None else ["--store", str(path)]
    return CliRunner().invoke(cli, ["slo", "check", *args, *where])


def one_error(result: Result, starts: str, code: int = 2) -> None:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {starts}"), result.stderr


def rows(out: str) -> dict[str, str]:
    return {line.split()[0]: line for line in out.splitlines() if "_" in line.split()[0]}


def test_a_run_that_met_what_it_measured(store):
    path, runs = store
    run = runs["fast"]
    result = check(path, "--run", run.id[:8])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == f"run fast · orders · 2026-01-01 00:01:00 (id {run.id}, profile smoke, complete)"
    )
    assert lines[1] == "target tables: trading_engine, system_resources, database"
    assert lines[2].split() == [
        "SLO",
        "target",
        "observed",
        "margin",
        "verdict",
        "how",
        "/",
        "why",
        "not",
    ]
    table = rows(result.stdout)
    p95 = table["order_processing_p95_ms"]
    assert " met " in p95 and "< 10 ms" in p95 and "p95 client, from each request's due time" in p95
    assert "%)" in p95  # the margin in percent
    throughput = table["order_throughput_per_second"]
    assert "not measured" in throughput and "below the 10,000/s target" in throughput
    assert "an orders run does not measure it" in table["database_query_p95_ms"]
    assert "the server's series hold no cpu_percent" in table["trading_engine_cpu_percent"]
    assert "NOT TRUSTED" not in result.stdout
    assert lines[-1].startswith("overall: MET (2 met, 0 missed, 29 not measured")


def test_a_missed_row_exits_1(store):
    path, runs = store
    result = check(path, "--run", runs["slow"].id)
    assert result.exit_code == 1
    assert "MISSED" in rows(result.stdout)["order_processing_p95_ms"]
    assert result.stdout.splitlines()[-1].startswith("overall: MISSED")


def test_strict_fails_on_rows_not_measured(store):
    path, runs = store
    result = check(path, "--run", runs["fast"].id, "--strict")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1].startswith("overall: NOT MEASURED")


def test_a_run_not_trusted_says_so_beside_every_verdict(store):
    path, runs = store
    result = check(path, "--run", runs["partial"].id)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == "NOT TRUSTED: run ended partial"
    table = rows(result.stdout)
    assert len(table) == 31 and all("NOT TRUSTED" in line for line in table.values())
    assert "NOT TRUSTED" in lines[-1]
    strict = check(path, "--run", runs["partial"].id, "--strict", "--json")
    assert strict.exit_code == 1
    assert orjson.loads(strict.stdout)["passed"] is False


def test_json_is_the_judged_run(store):
    path, runs = store
    result = check(path, "--run", runs["db"].id, "--json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = orjson.loads(result.stdout)
    assert doc["run"]["id"] == runs["db"].id and doc["run"]["kind"] == "db"
    assert doc["trusted"] is True and doc["passed"] is True and doc["allow_unmeasured"] is True
    assert doc["config"].endswith("slo.yaml")
    by_metric = {v["metric"]: v for v in doc["verdicts"]}
    assert by_metric["database_query_p95_ms"]["status"] == "met"
    assert by_metric["database_query_p95_ms"]["how"].startswith("p95 of the slowest of 2")
    assert by_metric["order_processing_p95_ms"]["why_not"] == "a db run does not measure it"


def test_latest_in_the_default_store(store, monkeypatch):
    path, runs = store
    monkeypatch.setenv("PINCEX_STORE_PATH", str(path))
    get_settings.cache_clear()
    result = check(None, "--run", "latest", "--json")
    assert orjson.loads(result.stdout)["run"]["id"] == runs["db"].id  # started last (seed 4)


def test_a_profile_judges_the_runs_request_figures(store):
    path, runs = store
    result = check(path, "--run", runs["fast"].id, "--profile", "peak")
    assert result.exit_code == 1, result.output  # 1 error in 100 requests: not below 1 %
    assert "profile: peak" in result.stdout
    table = rows(result.stdout)
    assert " met " in table["request_latency_p99_ms"]
    assert "MISSED" in table["request_error_rate_percent"]
    assert "10 errors in 1,000 requests" in table["request_error_rate_percent"]
    assert "a goal without a number" in result.stdout
    one_error(check(path, "--run", runs["db"].id, "--profile", "peak"),
              f"run {runs['db'].id} has none of the peak profile's figures")  # fmt: skip
    one_error(
        check(path, "--run", runs["db"].id, "--profile", "nightly"), "unknown profile 'nightly'"
    )


def test_bad_input_is_one_error_line(store, tmp_path):
    path, _ = store
    one_error(check(path, "--run", "0123456789"), "no run with id 0123456789")
    one_error(check(path, "--run", "latest", "--results", "x.json"),
              "give --results FILE or --run ID|latest, not both")  # fmt: skip
    one_error(check(None), "missing --results FILE or --run ID|latest")
    one_error(check(path), "--store applies to --run ID|latest only")
    one_error(check(None, "--results", "x.json", "--strict"), "--strict applies to --run")
    one_error(check(path, "--run", "latest", "--strict", "--allow-unmeasured"), "--strict and")
    missing = tmp_path / "none.duckdb"
    one_error(check(missing, "--run", "latest"), f"no run store at {missing}")
    assert not missing.exists()


def test_help_says_how_a_run_is_judged():
    result = CliRunner().invoke(cli, ["slo", "check", "--help"])
    assert result.exit_code == 0
    assert "--run ID|latest" in result.stdout and "--strict" in result.stdout
