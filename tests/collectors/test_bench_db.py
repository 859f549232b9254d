"""`pincex bench db`: every query type runs on real rows, counts add up, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from collectors.bench.db_bench import QUERY_TYPES
from pincex.commands.bench_db import db

TINY = ("--seed-users", "30", "--seed-orders", "300", "--seed-trades", "120")


def _run(*args: str) -> Result:
    return CliRunner().invoke(db, list(args))


def _check_report(doc: dict, connections: int, queries: int) -> None:
    assert doc["connections"] == connections
    assert doc["queries_per_connection"] == queries
    assert doc["stopped_early"] is False
    assert set(doc["queries"]) == set(QUERY_TYPES)
    total = sum(row["count"] for row in doc["queries"].values())
    assert total == doc["overall"]["count"] == connections * queries
    assert doc["overall"]["rows"] == sum(row["rows"] for row in doc["queries"].values())
    for name, row in doc["queries"].items():
        assert row["count"] > 0, name
        assert row["rows"] > 0, name
        assert 0 <= row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"] <= row["max_ms"], name
        assert row["queries_per_second"] > 0
    assert doc["seed"] | {"seconds": 0} == {
        "seeded": True,
        "seconds": 0,
        "users": 30,
        "balances": doc["seed"]["balances"],
        "orders": 300,
        "trades": 120,
        "symbols": ["BTCUSD", "ETHUSD", "SOLUSD"],
    }
    assert doc["seed"]["balances"] >= 60
    assert any("300 s" in note for note in doc["notes"])


def test_sqlite_json_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    result = _run(
        "--url", url, "--connections", "4", "--queries-per-connection", "60", *TINY, "--json"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["backend"] == "sqlite"
    _check_report(doc, 4, 60)
    assert [key for key in doc if key != "run_id"] == [
        "backend", "connections", "queries_per_connection", "planned_queries", "seed", "wall_s",
        "client_cpu_pct", "stopped_early", "overall", "queries", "notes", "trusted",
        "trust_reasons",
    ]  # fmt: skip


def test_sqlite_text_report_has_the_spec_lines(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    result = _run("--url", url, "--connections", "2", "--queries-per-connection", "25", *TINY)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "Total Queries: 50" in lines
    for prefix in ("Total Rows: ", "Average Duration: ", "P95 Duration: ", "P99 Duration: "):
        assert any(line.startswith(prefix) for line in lines), prefix
    assert any(line.startswith("Queries per Second: ") for line in lines)
    for name in QUERY_TYPES:
        assert any(line.startswith(f"{name} Average: ") and line.endswith("ms") for line in lines)


def test_refuses_a_database_with_rows_unless_reuse(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    small = ("--connections", "2", "--queries-per-connection", "10", *TINY)
    assert _run("--url", url, *small).exit_code == 0
    refused = _run("--url", url, *small)
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: the database already has rows")
    assert len(refused.stderr.splitlines()) == 1
    reused = _run("--url", url, *small, "--json")
    assert reused.exit_code == 2
    again = _run("--url", url, *small, "--reuse", "--json")
    assert again.exit_code == 0, again.output
    doc = json.loads(again.stdout)
    assert doc["seed"]["seeded"] is False
    assert doc["seed"]["orders"] == 300
    assert all(row["rows"] > 0 for row in doc["queries"].values())


def test_max_seconds_bounds_the_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    args = ("--connections", "2", "--queries-per-connection", "1000000", "--max-seconds", "0.2")
    result = _run("--url", url, *args, *TINY, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["stopped_early"] is True
    assert 0 < doc["overall"]["count"] < 2_000_000
    assert doc["wall_s"] < 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--url", "mysql://x/y"), "unsupported database URL"),
        (("--url", "URL", "--connections", "0"), "--connections must be at least 1"),
        (("--url", "URL", "--queries-per-connection", "-5"), "--queries-per-connection"),
        (("--url", "URL", "--seed-users", "-1"), "--seed-users"),
        (("--url", "URL", "--seed-trades", "-1"), "--seed-trades"),
        (("--url", "URL", "--max-seconds", "-1"), "--max-seconds must be positive"),
        (("--url", "postgresql://nobody@127.0.0.1:1/none"), "database postgresql://"),
        (("--url", "sqlite:////proc/no/such/dir/x.db"), "database sqlite:"),
    ],
)
def test_bad_arguments_fail_with_one_line(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    args = tuple(f"sqlite:///{tmp_path / 'x.db'}" if a == "URL" else a for a in args)
    result = _run(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.postgres
def test_postgres_json_report(pg_url: str) -> None:
    url = pg_url.replace("postgresql+psycopg://", "postgresql://", 1)
    result = _run(
        "--url", url, "--connections", "5", "--queries-per-connection", "40", *TINY, "--json"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["backend"] == "postgresql"
    _check_report(doc, 5, 40)


def test_each_query_types_p99_needs_its_own_samples() -> None:
    from collectors.bench.db_bench import DbBenchResult, QuerySamples, SeedInfo
    from collectors.bench.db_figures import db_trust_reasons

    info = SeedInfo([], ["BTCUSD"], 0, {}, {}, seeded=True)

    def result(counts: dict[str, int]) -> DbBenchResult:
        by_type = {n: QuerySamples([1.0] * c, c) for n, c in counts.items()}
        return DbBenchResult("postgresql", 4, 100, info, 1.0, False, by_type, 0.0, 20.0)

    assert db_trust_reasons(result({"orders_by_user": 1500, "order_book": 1200})) == []
    (reason,) = db_trust_reasons(result({"orders_by_user": 1500, "order_book": 150}))
    assert reason.endswith("order_book 150")
    (reason,) = db_trust_reasons(result({"orders_by_user": 400, "order_book": 150}))
    assert reason.startswith("only 550 samples")
