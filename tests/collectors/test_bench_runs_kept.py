"""Every benchmark keeps its run: market data, connections and database runs in the store,
with summaries, histograms, client and server series; seed-json reads them back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import orjson
import pytest
from click.testing import CliRunner

from collectors.store.store import RunStore
from exchange_ref.server import ServerThread
from pincex.commands.bench_db import db
from pincex.commands.bench_orders import orders
from pincex.commands.bench_ws import market_data, ws_connections
from pincex.commands.runs import runs
from tests.collectors.stub_server import serving
from tests.factories import exchange_settings

ADMIN = ["--admin-key", "test-admin-key-0123456"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    thread = ServerThread(exchange_settings(tmp_path_factory.mktemp("kept"))).start()
    try:
        yield thread
    finally:
        thread.stop()


def _json(command: click.Command, args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(command, [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = orjson.loads(result.stdout)
    return doc


def test_market_data_run_is_kept_with_both_sides(server: ServerThread, tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    out = _json(
        market_data,
        [
            "--target",
            server.url,
            *ADMIN,
            "--connections",
            "4",
            "--duration",
            "2.5",
            "--order-rate",
            "40",
            "--store",
            str(store),
            "--label",
            "v1",
            "--tag",
            "ws",
        ],
    )
    run = RunStore(store).get(out["run_id"])
    assert (run.kind, run.label, run.tags, run.profile) == (
        "market-data",
        "v1",
        ["ws"],
        "4 connections",
    )
    (summary,) = run.summaries
    assert summary.count == out["messages_received"] > 0
    assert summary.errors == 0 and not any("errors" in r for r in out["trust_reasons"])
    assert summary.latency.p99_ms == pytest.approx(out["latency_ms"]["p99"], rel=0.01, abs=0.01)
    assert [h.view for h in run.histograms] == ["latency"]
    client = [p for p in run.series if p.side == "client" and p.series == "messages_per_s"]
    assert sum(p.value for p in client) == out["messages_received"]
    server_names = {p.series for p in run.series if p.side == "server"}
    assert {"ws_connections", "ws_messages_sent_per_s", "match_to_broadcast_p99_ms"} <= server_names
    assert out["server"]["partial"] is False
    # both sides on one time base: second 0 is the start of the measurement
    server_seconds = [p.second for p in run.series if p.side == "server"]
    assert min(server_seconds) > -1.5 and max(server_seconds) < 2.5 + 2
    assert "messages per stream" in run.notes
    # too few frames for a p99 in 2.5 s: said first, in words, and kept with the run
    assert out["trusted"] is (not out["trust_reasons"])
    assert run.trusted == out["trusted"]


def test_ws_connections_run_is_kept(server: ServerThread, tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    out = _json(
        ws_connections,
        [
            "--target",
            server.url,
            *ADMIN,
            "--connections",
            "10",
            "--duration",
            "2",
            "--messages-per-second",
            "100",
            "--store",
            str(store),
        ],
    )
    run = RunStore(store).get(out["run_id"])
    assert run.kind == "ws-connections"
    assert "10 of 10 connections opened" in run.notes
    assert run.summaries[0].count == out["messages_received"]
    assert any(p.series == "messages_per_s" for p in run.series)
    held = [p.value for p in run.series if p.side == "server" and p.series == "ws_connections"]
    assert held and max(held) >= 10
    listing = CliRunner().invoke(runs, ["--store", str(store), "list", "--json"])
    assert listing.exit_code == 0, listing.output
    assert [r["id"] for r in orjson.loads(listing.stdout)["runs"]] == [out["run_id"]]


def test_db_runs_and_orders_runs_make_the_seed_json(server: ServerThread, tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    db_out = _json(
        db,
        [
            "--url",
            f"sqlite:///{tmp_path / 'b.db'}",
            "--connections",
            "3",
            "--queries-per-connection",
            "40",
            "--seed-users",
            "20",
            "--seed-orders",
            "200",
            "--seed-trades",
            "80",
            "--store",
            str(store),
            "--label",
            "v7",
        ],
    )
    run = RunStore(store).get(db_out["run_id"])
    assert run.kind == "db" and run.profile == "sqlite"
    assert {s.name for s in run.summaries} == set(db_out["queries"])
    assert sum(s.count for s in run.summaries) == db_out["overall"]["count"] == 120
    assert sum(p.value for p in run.series if p.series == "queries_per_s") == 120
    orders_out = _json(
        orders,
        [
            "--target",
            server.url,
            *ADMIN,
            "--rate",
            "1000",
            "--duration",
            "1",
            "--batch-size",
            "10",
            "--store",
            str(store),
            "--label",
            "v7",
        ],
    )
    exported = tmp_path / "perf.json"
    result = CliRunner().invoke(
        runs,
        [
            "--store",
            str(store),
            "export",
            orders_out["run_id"],
            "--format",
            "seed-json",
            "-o",
            str(exported),
        ],
    )
    assert result.exit_code == 0, result.output
    seed = orjson.loads(exported.read_bytes())
    # orders per second counts orders, not batches: ten per accepted batch
    assert seed["orders_per_second"] == pytest.approx(orders_out["orders_per_s"], rel=0.02)
    assert seed["orders_per_second"] > 5 * orders_out["throughput_rps"]
    # p95 over every query type's merged histogram, between the overall p50 and max
    overall = db_out["overall"]
    assert overall["p50_ms"] * 0.99 <= seed["database_query_p95_ms"] <= overall["max_ms"] * 1.01


def test_a_target_without_metrics_gives_a_partial_run(tmp_path: Path) -> None:
    with serving() as url:
        result = CliRunner().invoke(
            orders,
            [
                "--target",
                url,
                "--rate",
                "50",
                "--duration",
                "1",
                "--store",
                str(tmp_path / "s"),
                "--json",
            ],
        )
    assert result.exit_code == 0, result.output
    out = orjson.loads(result.stdout)
    run = RunStore(tmp_path / "s").get(out["run_id"])
    assert run.status == "partial"
    assert any("/metrics did not answer" in w for w in run.warnings)
