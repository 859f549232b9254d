"""The `pincex bench orders` command."""

from __future__ import annotations

from typing import Any

import click

from collectors.bench.orders import OrdersConfig, run_orders_benchmark
from collectors.bench.spec_output import spec_footer, spec_header
from collectors.bench.target import check_reachable, check_target
from collectors.settings import get_settings
from collectors.store.store import StoreError
from common.errors import UsageFailure
from pincex.options import (
    echo_json,
    fail_if_not_stored,
    progress_bar,
    scrape_option,
    store_options,
    store_path_of,
)

__all__ = ["orders"]


def _check_target(target: str, allow_remote: bool) -> str:
    check_target(target, allow_remote)
    return target.rstrip("/")


@click.command()
@click.option(
    "--target", default=None, help="exchange URL (default PINCEX_TARGET or http://127.0.0.1:8080)"
)
@click.option(
    "--rate",
    type=click.FloatRange(min=1),
    default=1000,
    show_default=True,
    help="orders per second (the specification's OrdersPerSecond)",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=1, max=3600),
    default=300,
    show_default=True,
    help="seconds (the specification's Duration)",
)
@click.option(
    "--batch-size",
    type=click.IntRange(0, 100_000),
    default=0,
    show_default=True,
    help="orders per batch to POST /api/v1/orders/batch (a batch over 1000 is sent as equal "
    "POSTs of at most 1000); 0 posts single orders",
)
@click.option("--symbol", default="BTCUSD", show_default=True, help="symbol the orders trade")
@click.option(
    "--connections",
    type=click.IntRange(1, 1024),
    default=16,
    show_default=True,
    help="keep-alive connections the requests are spread over",
)
@click.option(
    "--admin-key",
    default=None,
    help="seed users through the exchange's admin key (env PINCEX_ADMIN_KEY)",
)
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="seed of the order flow (sides, prices, sizes): the same seed sends the same orders",
)
@click.option("--allow-remote", is_flag=True, help="allow a target that is not on loopback")
@store_options
@scrape_option
@click.option(
    "--spec-output",
    is_flag=True,
    help="print exactly the lines of the specification's benchmark-orders.ps1",
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def orders(
    target: str | None,
    rate: float,
    duration: float,
    batch_size: int,
    symbol: str,
    connections: int,
    admin_key: str | None,
    seed: int,
    allow_remote: bool,
    label: str,
    tags: tuple[str, ...],
    store_path: str | None,
    no_store: bool,
    scrape_interval: float,
    spec_output: bool,
    as_json: bool,
) -> None:
    """Open-model order benchmark: requests due at start + i/R, latency from the due time."""
    settings = get_settings()
    cfg = OrdersConfig(
        _check_target(target or settings.target, allow_remote),
        rate,
        duration,
        batch_size,
        symbol.upper(),
        connections,
        admin_key or settings.admin_key or None,
        seed=seed,
        store_path=store_path_of(store_path, no_store),
        label=label,
        tags=tags,
        scrape_interval=scrape_interval,
    )
    if spec_output and as_json:
        raise UsageFailure("--spec-output and --json exclude each other")
    if batch_size > rate * duration:
        raise UsageFailure(
            f"--batch-size {batch_size} is more than the {rate * duration:g} orders the run "
            "sends (--rate x --duration)"
        )
    check_reachable(cfg.target)
    if spec_output:
        for line in spec_header(rate, duration, cfg.symbol):
            click.echo(line)
    try:
        with progress_bar(not (as_json or spec_output), "requests answered") as progress:
            result = run_orders_benchmark(cfg, progress)
    except StoreError as exc:
        raise UsageFailure(f"the run was measured but not stored: {exc}", 1) from None
    except (OSError, RuntimeError) as exc:
        raise UsageFailure(f"benchmark against {cfg.target} failed: {exc}", 1) from None
    if as_json:
        echo_json(result)
        return
    if spec_output:
        if not result["trusted"]:  # the script's lines stay exact; the verdict goes to stderr
            click.echo("NOT TRUSTED: " + "; ".join(result["trust_reasons"]), err=True)
        for line in spec_footer(result):
            click.echo(line)
        fail_if_not_stored(result)
        return
    for line in summary_lines(result):
        click.echo(line)
    for w in result["warnings"]:
        click.echo(f"warning: {w}")
    if "run_id" in result:
        click.echo(f"stored as run {result['run_id']}")
    fail_if_not_stored(result)


def summary_lines(result: dict[str, Any]) -> list[str]:
    """The human summary: the trust verdict first, then counts, both latency views and, for
    batches, the specification's batch figures."""
    lines = []
    if not result["trusted"]:
        lines.append("NOT TRUSTED: " + "; ".join(result["trust_reasons"]))
    lines.append(
        f"requests {result['requests']}  errors {result['errors']}  "
        f"orders/s {result['orders_per_s']}  achieved {result['achieved_rate']} req/s"
    )
    for title, key in (
        ("latency from due time (ms)", "latency_ms"),
        ("service time from send (ms)", "service_time_ms"),
    ):
        f = result[key]
        lines.append(
            f"{title}: p50 {f['p50']}  p95 {f['p95']}  p99 {f['p99']}  "
            f"p99.9 {f['p999']}  max {f['max']}"
        )
    batch = result.get("batch")
    if batch:
        lines.append(
            f"batches: {batch['total_orders']} orders, {batch['successful']} successful "
            f"({batch['success_rate_pct']}%), batch latency average "
            f"{batch['average_batch_latency_ms']} ms, maximum {batch['maximum_batch_latency_ms']} "
            f"ms, effective rate {batch['effective_rate']} orders/s over the measured time"
        )
    return lines
