"""`pincex bench orders` against a real exchange: figures, trust flags, the stored run."""

from __future__ import annotations

import orjson
from click.testing import CliRunner

from collectors.bench.orders_cli import orders
from collectors.store.store import RunStore
from exchange_ref.server import ServerThread
from tests.factories import exchange_settings

KEYS = {
    "requests",
    "errors",
    "achieved_rate",
    "throughput_rps",
    "orders_per_s",
    "latency_ms",
    "service_time_ms",
    "trusted",
    "warnings",
}


def test_batch_benchmark_is_measured_flagged_and_stored(tmp_path):
    store = tmp_path / "runs.duckdb"
    with ServerThread(exchange_settings(tmp_path)) as server:
        result = CliRunner().invoke(
            orders,
            [
                "--target",
                server.url,
                "--rate",
                "2000",
                "--duration",
                "2",
                "--batch-size",
                "20",
                "--connections",
                "4",
                "--admin-key",
                "test-admin-key",
                "--store",
                str(store),
                "--label",
                "v-test",
                "--json",
            ],
        )
    assert result.exit_code == 0, result.output
    out = orjson.loads(result.stdout)
    assert out.keys() >= KEYS
    assert out["requests"] == 200 and out["errors"] == 0
    assert set(out["latency_ms"]) == {"mean", "p50", "p90", "p95", "p99", "p999", "max"}
    assert out["latency_ms"]["p99"] >= out["latency_ms"]["p50"] > 0
    assert out["batch"]["total_orders"] == 4000
    # 200 samples cannot carry a p99: the run says so instead of being trusted
    assert out["trusted"] is False
    assert any("too few for a p99" in r for r in out["trust_reasons"])
    run = RunStore(store).get(out["run_id"])
    assert run.kind == "orders" and run.label == "v-test" and run.profile == "batch"
    assert run.summaries[0].count == 200
    assert {h.view for h in run.histograms} == {"latency", "service"}
    assert any(p.series == "requests_per_s" for p in run.series)
    assert run.trusted is False
    # the server's side of the same seconds, scraped from the exchange's /metrics
    assert out["server"]["partial"] is False and out["server"]["scrapes"] >= 2
    server_names = {p.series for p in run.series if p.side == "server"}
    assert {"order_processing_p95_ms", "orders_per_s", "cpu_percent"} <= server_names


def test_no_store_keeps_nothing_and_bad_targets_are_one_line(tmp_path):
    result = CliRunner().invoke(
        orders, ["--target", "ftp://x", "--rate", "10", "--duration", "1", "--no-store"]
    )
    assert result.exit_code == 2
    result = CliRunner().invoke(
        orders, ["--target", "http://10.1.2.3:80", "--rate", "10", "--duration", "1", "--no-store"]
    )
    assert result.exit_code == 2 and "loopback" in result.output


def test_spec_output_prints_the_scripts_lines(tmp_path):
    with ServerThread(exchange_settings(tmp_path)) as server:
        result = CliRunner().invoke(
            orders,
            [
                "--target",
                server.url,
                "--rate",
                "1000",
                "--duration",
                "2",
                "--batch-size",
                "100",
                "--admin-key",
                "test-admin-key",
                "--no-store",
                "--spec-output",
            ],
        )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:4] == [
        "Starting order processing benchmark...",
        "Rate: 1000 orders/second",
        "Duration: 2 seconds",
        "Symbol: BTCUSD",
    ]
    assert lines[4:8] == ["", "Benchmark Results:", "Total Orders: 2000", "Successful: 2000"]
    assert lines[8] == "Success Rate: 100%"
    assert lines[9].startswith("Average Batch Latency: ") and lines[9].endswith("ms")
    assert lines[10].startswith("Maximum Batch Latency: ")
    assert lines[11] == "Effective Rate: 1000 orders/second"
    assert len(lines) == 12


def test_ps_round_prints_like_powershell():
    from collectors.bench.spec_output import ps_round

    assert [ps_round(v) for v in (99.5, 100.0, 12.345678, 0.1)] == ["99.5", "100", "12.35", "0.1"]
