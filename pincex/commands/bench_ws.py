"""The `pincex bench market-data` and `pincex bench ws-connections` commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from collectors.bench.market_data import MarketDataConfig, run_market_data, spec_lines
from collectors.bench.target import base_url, check_reachable
from collectors.bench.ws_connections import WsConnectionsConfig, run_ws_connections
from common.errors import UsageFailure
from common.redact import mask_url
from pincex.commands.bench_command import BenchCommand, exit_for, measuring
from pincex.options import (
    BenchContext,
    admin_key_option,
    allow_remote_option,
    echo_json,
    json_option,
    progress_bar,
    run_options,
    stored_line,
    symbol_option,
    target_option,
)

__all__ = ["market_data", "ws_connections"]

_MAX_CONNECTIONS = 200_000
_MAX_DURATION = 3600.0
_Config = TypeVar("_Config", MarketDataConfig, WsConnectionsConfig)
_F = TypeVar("_F", bound=Callable[..., Any])


def _ws_options(fn: _F) -> _F:
    """The options both WebSocket benchmarks take."""
    for option in reversed(
        [
            target_option(),
            admin_key_option,
            symbol_option,
            allow_remote_option,
            json_option,
            run_options,
        ]
    ):
        fn = option(fn)
    return fn


def _config(
    make: type[_Config],
    target: str,
    allow_remote: bool,
    connections: int,
    duration: float,
    bench: BenchContext,
    **specific: Any,
) -> _Config:
    """The benchmark's config, once its target is checked (and answers)."""
    base = base_url(target, allow_remote, ("http", "https", "ws", "wss"))
    check_reachable(base)
    return make(
        target=base,
        connections=connections,
        duration=duration,
        store_path=bench.store_path,
        label=bench.label,
        tags=bench.tags,
        scrape_interval=bench.scrape_interval,
        sources=bench.sources,
        **specific,
    )


def _check_counts(connections: int, duration: float) -> None:
    if not 1 <= connections <= _MAX_CONNECTIONS:
        raise UsageFailure(f"--connections must be 1 to {_MAX_CONNECTIONS}, got {connections}")
    if not 0 < duration <= _MAX_DURATION:
        raise UsageFailure(f"--duration must be over 0 and at most {_MAX_DURATION:.0f} s")


def _needs_key(key: str | None, needed: bool, what: str) -> str | None:
    if needed and not key:
        raise UsageFailure(f"{what} needs --admin-key (or PINCEX_ADMIN_KEY)")
    return key


def _measure(
    fn: Callable[[_Config, Any], dict[str, Any]], cfg: _Config, as_json: bool
) -> dict[str, Any] | None:
    """Run the benchmark and return its figures for the human summary; with --json print
    them and return None."""
    if not as_json:
        where = mask_url(cfg.target)
        click.echo(
            f"opening {cfg.connections} connections to {where}, then {cfg.duration:g} s ...",
            err=True,
        )
    with measuring(cfg.target), progress_bar(not as_json, "seconds measured") as progress:
        result = fn(cfg, progress)
    if as_json:
        echo_json(result)
        exit_for(None, bool(result.get("aborted")), False)
        return None
    if not result["trusted"]:
        click.echo("NOT TRUSTED: " + "; ".join(result["trust_reasons"]))
    return result


def _warnings_and_store(result: dict[str, Any], store_path: str | None) -> None:
    for w in result["warnings"]:
        click.echo(f"warning: {w}")
    if "run_id" in result:
        click.echo(stored_line(result["run_id"], store_path))
    exit_for(result.get("store_error"), bool(result.get("aborted")), False)


@click.command("market-data", cls=BenchCommand)
@_ws_options
@click.option(
    "--connections",
    type=int,
    default=1000,
    show_default=True,
    help="WebSocket clients (the specification's Connections)",
)
@click.option(
    "--duration",
    type=float,
    default=300,
    show_default=True,
    help="seconds measured once every client subscribed (the specification's Duration)",
)
@click.option(
    "--order-rate",
    type=click.FloatRange(min=0, max=10_000),
    default=10,
    show_default=True,
    help="crossing orders per second placed through REST while measuring (0: none)",
)
def market_data(
    target: str,
    admin_key: str | None,
    symbol: str,
    allow_remote: bool,
    as_json: bool,
    connections: int,
    duration: float,
    order_rate: float,
    bench: BenchContext,
) -> None:
    """Market data latency: clients on btcusd@ticker and @depth, receipt - event time per frame."""
    _check_counts(connections, duration)
    cfg = _config(
        MarketDataConfig,
        target,
        allow_remote,
        connections,
        duration,
        bench,
        admin_key=_needs_key(admin_key, order_rate > 0, "placing orders"),
        order_rate=order_rate,
        symbol=symbol,
    )
    result = _measure(lambda c, p: run_market_data(c, p).to_json(), cfg, as_json)
    if result is None:
        return
    conns = result["connections"]
    lat = result["latency_ms"]
    click.echo("Starting market data latency benchmark...")
    click.echo(
        f"connections: {conns['opened']} opened, {conns['failed']} failed, "
        f"{conns['held_at_end']} held at the end (opened in {conns['open_seconds']} s)"
    )
    click.echo("")
    for line in spec_lines(result):
        click.echo(line)
    click.echo(f"P50 Latency: {lat['p50']}ms")
    per_stream = ", ".join(f"{k} {v}" for k, v in result["messages_per_stream"].items())
    click.echo(f"messages per stream: {per_stream or 'none'}")
    click.echo(f"messages per second: {result['messages_per_s']}")
    click.echo(
        f"depth gaps: {result['gaps']['total']} (on {result['gaps']['clients_with_gaps']} clients)"
    )
    if result["orders"]:
        o = result["orders"]
        click.echo(f"orders: {o['ok']} placed at {o['achieved_rate']}/s, {o['errors']} errors")
    _warnings_and_store(result, bench.store_path)


@click.command("ws-connections", cls=BenchCommand)
@_ws_options
@click.option(
    "--connections",
    type=int,
    default=50_000,
    show_default=True,
    help="connections to open and hold (the specification's 50,000)",
)
@click.option(
    "--duration",
    type=float,
    default=600,
    show_default=True,
    help="seconds to hold them (the specification's 10 minutes)",
)
@click.option(
    "--messages-per-second",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    help="frames per second to have pushed across all connections (orders/s = M / N, >= 1)",
)
def ws_connections(
    target: str,
    admin_key: str | None,
    symbol: str,
    allow_remote: bool,
    as_json: bool,
    connections: int,
    duration: float,
    messages_per_second: float,
    bench: BenchContext,
) -> None:
    """WebSocket connection stress: open, hold and feed N btcusd@depth clients."""
    _check_counts(connections, duration)
    cfg = _config(
        WsConnectionsConfig,
        target,
        allow_remote,
        connections,
        duration,
        bench,
        messages_per_second=messages_per_second,
        admin_key=_needs_key(admin_key, messages_per_second > 0, "--messages-per-second"),
        symbol=symbol,
    )
    result = _measure(lambda c, p: run_ws_connections(c, p).to_json(), cfg, as_json)
    if result is None:
        return
    click.echo(
        f"connections: {result['opened']} opened of {result['attempted']} attempted "
        f"({result['requested']} requested), {result['failed']} failed, "
        f"{result['held_at_end']} held at the end (opened in {result['open_seconds']} s)"
    )
    for reason, count in result["errors"].items():
        click.echo(f"  {count} x {reason}")
    target_rate = result["target_messages_per_s"]
    click.echo(
        f"messages: {result['messages_received']} received, {result['messages_per_s']}/s"
        + (f" (asked {target_rate:g}/s)" if target_rate else "")
    )
    lag = result["lag_ms"]
    click.echo(
        f"lag of the latest frame per connection (ms): p50 {lag['p50']}  p99 {lag['p99']}  "
        f"max {lag['max']} over {lag['clients_with_frames']} connections"
    )
    if result["capped"]:
        click.echo(f"CAPPED by this machine: {result['cap_reason']}")
    _warnings_and_store(result, bench.store_path)
