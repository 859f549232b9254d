"""`pincex bench orders` against a real exchange: figures, trust flags, the stored run."""

from __future__ import annotations

import orjson
from click.testing import CliRunner

from collectors.settings import get_settings
from collectors.store.store import RunStore
from exchange_ref.server import ServerThread
from pincex.commands.bench_orders import orders
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
                "test-admin-key-0123456",
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
                "test-admin-key-0123456",
                "--no-store",
                "--spec-output",
            ],
        )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # 20 batches cannot carry a p99: the verdict goes to stderr, the script's lines stay exact
    assert result.stderr.startswith("NOT TRUSTED: only 20 samples")
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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_target_is_one_line_and_quick(tmp_path, monkeypatch):
    import time

    url = f"http://127.0.0.1:{_free_port()}"
    for env in ({}, {"PINCEX_ADMIN_KEY": "k"}):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        started = time.monotonic()
        result = CliRunner().invoke(orders, ["--target", url, "--duration", "30", "--no-store"])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"error: cannot reach {url}")
        assert len(result.stderr.splitlines()) == 1
        assert time.monotonic() - started < 10  # refused at once, not after --duration


def test_a_server_that_is_not_the_exchange_gets_the_specs_bodies_and_a_clear_seed_error(
    tmp_path,
):
    from collectors.bench.workload import spec_order_batches

    (batch,) = spec_order_batches(1, 6, "BTCUSD", seed=3)
    assert [o["side"] for o in batch] == ["BUY", "SELL"] * 3
    for order in batch:
        assert order["type"] == "LIMIT" and order["timeInForce"] == "GTC"
        assert 0.1 <= order["quantity"] <= 10 and round(order["quantity"], 2) == order["quantity"]
        assert 45_000 <= order["price"] < 55_000 and order["price"] == int(order["price"])
    from tests.collectors.stub_server import serving

    with serving() as url:
        args = ["--target", url, "--rate", "20", "--duration", "1", "--no-store"]
        result = CliRunner().invoke(orders, [*args, "--admin-key", "k"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: benchmark against {url} failed: cannot seed users")
    assert "without an admin key" in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_batch_over_1000_is_split_and_the_batch_figures_are_printed(tmp_path):
    from collectors.bench.workload import chunk_size

    assert [chunk_size(n) for n in (0, 1, 1000, 1001, 2500, 5000)] == [0, 1, 1000, 501, 834, 1000]
    with ServerThread(exchange_settings(tmp_path)) as server:
        result = CliRunner().invoke(
            orders,
            [
                "--target",
                server.url,
                "--rate",
                "3000",
                "--duration",
                "2",
                "--batch-size",
                "1500",
                "--admin-key",
                "test-admin-key-0123456",
                "--no-store",
            ],
        )
        too_big = CliRunner().invoke(
            orders,
            [
                "--target",
                server.url,
                "--rate",
                "100",
                "--duration",
                "3",
                "--batch-size",
                "1000",
                "--no-store",
            ],
        )
    assert result.exit_code == 0, result.output
    # 6,000 orders in POSTs of 750: eight requests
    assert "requests 8  errors 0" in result.stdout
    assert "batches: 6000 orders, 6000 successful (100.0%)" in result.stdout
    assert "service time from send (ms): p50" in result.stdout
    assert result.stdout.startswith("NOT TRUSTED: only 8 samples")
    assert too_big.exit_code == 2
    assert "--batch-size 1000 is more than the 300 orders" in too_big.stderr


def test_seed_deposits_leave_room_for_hundreds_of_runs():
    from decimal import Decimal

    from collectors.bench.admin import SEED_BALANCES_BASE, SEED_BALANCES_USD
    from collectors.bench.orders import OrdersConfig
    from exchange_ref.engine.accounts import MAX_SUPPLY_ATOMS

    users = OrdersConfig("http://127.0.0.1:1", 1, 1).users
    for amount in (SEED_BALANCES_USD, SEED_BALANCES_BASE):
        per_run = Decimal(amount) * 10**8 * users
        assert MAX_SUPPLY_ATOMS // per_run >= 500
