"""`pincex bench market-data` and `pincex bench ws-connections` against a real exchange."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from click.testing import CliRunner

from collectors.bench.target import http_base
from collectors.bench.ws_clients import ws_url
from collectors.settings import get_settings
from exchange_ref.server import ServerThread
from pincex.commands.bench_ws import market_data, ws_connections
from tests.factories import exchange_settings

ADMIN = ["--admin-key", "test-admin-key-0123456"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    thread = ServerThread(exchange_settings(tmp_path_factory.mktemp("ws"))).start()
    try:
        yield thread
    finally:
        thread.stop()


def test_urls() -> None:
    assert ws_url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/ws"
    assert ws_url("ws://127.0.0.1:8080/ws") == "ws://127.0.0.1:8080/ws"
    assert http_base("wss://x.test/ws") == "https://x.test"


def test_market_data_measures_ticker_and_depth(server: ServerThread) -> None:
    result = CliRunner().invoke(
        market_data,
        [
            "--target",
            server.url,
            *ADMIN,
            "--connections",
            "5",
            "--duration",
            "2",
            "--order-rate",
            "20",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = orjson.loads(result.stdout)
    assert out["connections"]["opened"] == 5 and out["connections"]["failed"] == 0
    assert out["messages_per_stream"]["btcusd@ticker"] > 0
    assert out["messages_per_stream"]["btcusd@depth"] > 0
    assert out["messages_received"] == sum(out["messages_per_stream"].values())
    lat = out["latency_ms"]
    assert set(lat) == {"average", "p50", "p95", "p99", "max"}
    assert 0 <= lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"] * 1.01
    assert lat["average"] >= 0
    assert out["gaps"] == {"total": 0, "clients_with_gaps": 0}
    assert out["orders"]["ok"] > 0 and out["orders"]["errors"] == 0


def test_market_data_prints_the_specifications_lines(server: ServerThread) -> None:
    result = CliRunner().invoke(
        market_data, ["--target", server.url, *ADMIN, "--connections", "2", "--duration", "1"]
    )
    assert result.exit_code == 0, result.output
    for start in ("Messages Received: ", "Average Latency: ", "P95 Latency: ", "P99 Latency: "):
        assert any(line.startswith(start) for line in result.stdout.splitlines()), start
    assert "Maximum Latency: " in result.stdout


def test_ws_connections_holds_them(server: ServerThread) -> None:
    result = CliRunner().invoke(
        ws_connections, ["--target", server.url, "--connections", "20", "--duration", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = orjson.loads(result.stdout)
    assert out["opened"] == 20 and out["held_at_end"] == 20 and out["failed"] == 0
    assert out["capped"] is False and out["cap_reason"] is None


def test_ws_connections_with_a_message_rate(server: ServerThread) -> None:
    result = CliRunner().invoke(
        ws_connections,
        [
            "--target",
            server.url,
            *ADMIN,
            "--connections",
            "20",
            "--duration",
            "2",
            "--messages-per-second",
            "200",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = orjson.loads(result.stdout)
    assert out["held_at_end"] == 20
    assert out["config"]["order_rate"] == 10
    assert out["messages_received"] > 0 and out["messages_per_s"] > 0
    assert out["lag_ms"]["clients_with_frames"] == 20
    assert 0 <= out["lag_ms"]["p50"] <= out["lag_ms"]["p99"]


@pytest.mark.parametrize(
    ("command", "args"),
    [
        (market_data, ["--target", "ftp://127.0.0.1:1"]),
        (market_data, ["--target", "http://10.1.2.3:80"]),
        (market_data, ["--target", "http://127.0.0.1:1"]),
        (market_data, ["--connections", "0"]),
        (market_data, ["--order-rate", "5", "--admin-key", ""]),
        (ws_connections, ["--connections", "0"]),
        (ws_connections, ["--duration", "-1"]),
        (ws_connections, ["--target", "not a url"]),
    ],
)
def test_bad_arguments_are_one_error_line(
    server: ServerThread, command: object, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINCEX_ADMIN_KEY", "")
    get_settings.cache_clear()
    if "--target" not in args:
        args = ["--target", server.url, *args]
    if "--duration" not in args:
        args = [*args, "--duration", "1"]
    try:
        result = CliRunner().invoke(command, args)  # type: ignore[arg-type]
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
