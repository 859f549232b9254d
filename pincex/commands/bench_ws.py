"""The `pincex bench market-data` and `pincex bench ws-connections` commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from collectors.bench.market_data import (
    MarketDataConfig,
    http_base,
    run_market_data,
    spec_lines,
)
from collectors.bench.target import check_reachable, check_target
from collectors.bench.ws_connections import WsConnectionsConfig, run_ws_connections
from collectors.settings import get_settings
from collectors.store.store import StoreError
from common.errors import UsageFailure
from common.redact import mask_url
from pincex.options import (
    echo_json,
    fail_if_not_stored,
    progress_bar,
    scrape_option,
    store_options,
    store_path_of,
)

__all__ = ["market_data", "ws_connections"]

_MAX_CONNECTIONS = 200_000
_MAX_DURATION = 3600.0


def _check_target(target: str, allow_remote: bool) -> str:
    check_target(target, allow_remote, ("http", "https", "ws", "wss"))
    base = http_base(target)
    check_reachable(base)
    return base


def _check_counts(connections: int, duration: float) -> None:
    if not 1 <= connections <= _MAX_CONNECTIONS:
        raise UsageFailure(f"--connections must be 1 to {_MAX_CONNECTIONS}, got {connections}")
    if not 0 < duration <= _MAX_DURATION:
        raise UsageFailure(f"--duration must be over 0 and at most {_MAX_DURATION:.0f} s")


def _admin_key(given: str | None, needed: bool, what: str) -> str | None:
    """The admin key from the option or the settings; a UsageFailure when needed and absent."""
    key = given or get_settings().admin_key or None
    if needed and not key:
        raise UsageFailure(f"{what} needs --admin-key (or PINCEX_ADMIN_KEY)")
    return key


def _run(fn: Callable[..., dict[str, Any]], cfg: Any, as_json: bool) -> dict[str, Any]:
    if not as_json:
        where = mask_url(cfg.target)
        click.echo(
            f"opening {cfg.connections} connections to {where}, then {cfg.duration:g} s ...",
            err=True,
        )
    try:
        with progress_bar(not as_json, "seconds measured") as progress:
            return fn(cfg, progress)
    except StoreError as exc:
        raise UsageFailure(f"the run was measured but not stored: {exc}", 1) from None
    except (OSError, RuntimeError) as exc:
        raise UsageFailure(f"benchmark against {cfg.target} failed: {exc}", 1) from None


def _trust_lines(result: dict[str, Any]) -> None:
    if not result["trusted"]:
        click.echo("NOT TRUSTED: " + "; ".join(result["trust_reasons"]))


def _stored_line(result: dict[str, Any]) -> None:
    if "run_id" in result:
        click.echo(f"stored as run {result['run_id']}")
    fail_if_not_stored(result)


def _target_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option(
                "--target",
                default=None,
                help="exchange URL (default PINCEX_TARGET or http://127.0.0.1:8080)",
            ),
            click.option(
                "--admin-key",
                default=None,
                help="seed users through the exchange's admin key (env PINCEX_ADMIN_KEY)",
            ),
            click.option("--symbol", default="BTCUSD", show_default=True),
            click.option("--allow-remote", is_flag=True, help="allow a target not on loopback"),
            click.option("--json", "as_json", is_flag=True, help="print one JSON object"),
            store_options,
            scrape_option,
        ]
    ):
        fn = option(fn)
    return fn


@click.command("market-data")
@_target_options
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
    target: str | None,
    admin_key: str | None,
    symbol: str,
    allow_remote: bool,
    as_json: bool,
    connections: int,
    duration: float,
    order_rate: float,
    label: str,
    tags: tuple[str, ...],
    store_path: str | None,
    no_store: bool,
    scrape_interval: float,
) -> None:
    """Market data latency: clients on btcusd@ticker and @depth, receipt - event time per frame."""
    _check_counts(connections, duration)
    key = _admin_key(admin_key, order_rate > 0, "placing orders")
    cfg = MarketDataConfig(
        _check_target(target or get_settings().target, allow_remote),
        connections,
        duration,
        key,
        order_rate,
        symbol.upper(),
        store_path=store_path_of(store_path, no_store),
        label=label,
        tags=tags,
        scrape_interval=scrape_interval,
    )
    result = _run(run_market_data, cfg, as_json)
    if as_json:
        echo_json(result)
        return
    _trust_lines(result)
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
    for w in result["warnings"]:
        click.echo(f"warning: {w}")
    _stored_line(result)


@click.command("ws-connections")
@_target_options
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
    target: str | None,
    admin_key: str | None,
    symbol: str,
    allow_remote: bool,
    as_json: bool,
    connections: int,
    duration: float,
    messages_per_second: float,
    label: str,
    tags: tuple[str, ...],
    store_path: str | None,
    no_store: bool,
    scrape_interval: float,
) -> None:
    """WebSocket connection stress: open, hold and feed N btcusd@depth clients."""
    _check_counts(connections, duration)
    key = _admin_key(admin_key, messages_per_second > 0, "--messages-per-second")
    cfg = WsConnectionsConfig(
        _check_target(target or get_settings().target, allow_remote),
        connections,
        duration,
        messages_per_second,
        key,
        symbol.upper(),
        store_path=store_path_of(store_path, no_store),
        label=label,
        tags=tags,
        scrape_interval=scrape_interval,
    )
    result = _run(run_ws_connections, cfg, as_json)
    if as_json:
        echo_json(result)
        return
    _trust_lines(result)
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
    for w in result["warnings"]:
        click.echo(f"warning: {w}")
    _stored_line(result)
