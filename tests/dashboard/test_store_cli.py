"""The store-reading CLI commands on REAL runs (the `filled_store` fixture: a real exchange,
real orders, market-data and db runs): `slo check --run`, `plan usl --from-runs`,
`regress detect --store`, through the root command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from collectors.store import RunStore
from pincex.cli import cli
from tests.dashboard.conftest import FilledStore


def pincex(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def judged(store: FilledStore, ref: str, *extra: str) -> tuple[Result, dict[str, Any]]:
    result = pincex("slo", "check", "--run", ref, "--store", store.path, "--json", *extra)
    assert result.exit_code in (0, 1), result.output
    doc: dict[str, Any] = orjson.loads(result.stdout)
    return result, {v["metric"]: v for v in doc["verdicts"]} | {"_doc": doc}


def test_slo_check_judges_a_real_orders_run(filled_store: FilledStore) -> None:
    run = RunStore(filled_store.path).get(filled_store.v2)
    result, rows = judged(filled_store, filled_store.v2[:8])
    doc = rows["_doc"]
    assert doc["run"]["id"] == run.id and doc["run"]["label"] == "v2"
    assert doc["trusted"] is run.trusted
    (summary,) = run.summaries
    p95, p99 = rows["order_processing_p95_ms"], rows["order_processing_p99_ms"]
    assert p95["status"] in ("met", "missed") and p95["observed"] == summary.latency.p95_ms
    assert p99["status"] in ("met", "missed") and p99["observed"] == summary.latency.p99_ms
    assert p95["margin"] == pytest.approx(10 - summary.latency.p95_ms)  # the target is < 10 ms
    throughput = rows["order_throughput_per_second"]
    assert throughput["status"] == "not_measured"
    assert throughput["why_not"].startswith("offered 300 orders/s, below the 10,000/s target")
    # the server's series of the real exchange give the resource rows
    for metric in ("trading_engine_cpu_percent", "trading_engine_memory_gib",
                   "order_book_update_latency_ms"):  # fmt: skip
        assert rows[metric]["status"] in ("met", "missed"), rows[metric]
        assert rows[metric]["how"].startswith("server, exchange process")
    missed = any(v["status"] == "missed" for v in doc["verdicts"])
    assert result.exit_code == (1 if missed else 0)


def test_the_human_table_of_a_real_run(filled_store: FilledStore) -> None:
    run = RunStore(filled_store.path).get(filled_store.v2)
    result = pincex("slo", "check", "--run", run.id, "--store", filled_store.path)
    lines = result.stdout.splitlines()
    start = run.started_at.strftime("%Y-%m-%d %H:%M:%S")
    assert lines[0].startswith(f"run v2 · orders · {start} (id {run.id}")
    verdicts = [line for line in lines if line.split()[0].endswith(("_ms", "_percent", "_gib",
                "_mbps", "_second"))]  # fmt: skip
    assert len(verdicts) == 31
    if not run.trusted:
        assert lines[1].startswith("NOT TRUSTED: ")
        assert all("NOT TRUSTED" in line for line in verdicts)
    assert lines[-1].startswith("overall: ")


def test_market_data_and_db_runs_measure_their_rows(filled_store: FilledStore) -> None:
    _, md = judged(filled_store, filled_store.market_data)
    assert md["market_data_latency_ms"]["status"] in ("met", "missed")
    assert md["order_processing_p95_ms"]["why_not"] == "a market-data run does not measure it"
    _, db = judged(filled_store, filled_store.db)
    assert db["database_query_p95_ms"]["status"] in ("met", "missed")
    assert db["database_query_p95_ms"]["how"].startswith("p95 of the slowest of")


def test_latest_and_an_unknown_run(filled_store: FilledStore) -> None:
    _, rows = judged(filled_store, "latest")
    assert rows["_doc"]["run"]["id"] == filled_store.db  # the last run the fixture made
    bad = pincex("slo", "check", "--run", "deadbeefdeadbeef", "--store", filled_store.path)
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr == "error: no run with id deadbeefdeadbeef\n"


def test_plan_usl_from_the_real_ramp(filled_store: FilledStore) -> None:
    result = pincex("plan", "usl", "--from-runs", "--label", "v1", "--store", filled_store.path)
    if result.exit_code == 2:  # the documented failure: the fit did not converge
        assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("error: stored orders runs labelled v1: ")
        return
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("USL fit of stored orders runs labelled v1 (nls, 4 points")
    assert "load: requests in flight by Little's law" in out
    assert all(run_id in out for run_id in filled_store.ramp)
    store = RunStore(filled_store.path)
    best = [line for line in out.splitlines() if line.startswith("highest rate that met")]
    assert len(best) == 1
    if not any(store.get(r).trusted for r in filled_store.ramp):
        assert best[0].startswith(
            "highest rate that met the p99 SLO per pod, measured: none (no trusted run met"
        )


def test_regress_detect_on_the_real_store(filled_store: FilledStore) -> None:
    result = pincex("regress", "detect", "--store", filled_store.path, "--kind", "orders", "--json")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["series"] == {}  # five runs: too few to judge
    assert "orders/single/POST /api/v1/orders/latency_p99_ms" in doc["not_enough_data"]
