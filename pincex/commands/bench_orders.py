"""The `pincex bench orders` command."""

from __future__ import annotations

import click

from collectors.bench.orders import OrdersConfig, run_orders_benchmark
from collectors.bench.orders_figures import OrdersFigures
from collectors.bench.spec_output import spec_footer, spec_header
from collectors.bench.target import base_url, check_reachable
from common.errors import UsageFailure
from pincex.commands.bench_command import BenchCommand, echo_outcome, exit_for, measuring
from pincex.options import (
    BenchContext,
    admin_key_option,
    allow_remote_option,
    connections_option,
    echo_json,
    json_option,
    progress_bar,
    rate_option,
    run_options,
    symbol_option,
    target_option,
)

__all__ = ["orders", "summary_lines"]


@click.command(cls=BenchCommand)
@target_option()
@rate_option(1000, "orders per second (the specification's OrdersPerSecond)")
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
@symbol_option
@connections_option()
@admin_key_option
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="seed of the order flow (sides, prices, sizes): the same seed sends the same orders",
)
@allow_remote_option
@run_options
@click.option(
    "--spec-output",
    is_flag=True,
    help="print exactly the lines of the specification's benchmark-orders.ps1",
)
@json_option
def orders(
    target: str,
    rate: float,
    duration: float,
    batch_size: int,
    symbol: str,
    connections: int,
    admin_key: str | None,
    seed: int,
    allow_remote: bool,
    bench: BenchContext,
    spec_output: bool,
    as_json: bool,
) -> None:
    """Open-model order benchmark: requests due at start + i/R, latency from the due time.

    Ctrl-C stops the load, prints and keeps what was measured (marked aborted) and exits 130;
    errors past the trust limit (over 1%) exit 1 after the figures.
    """
    cfg = OrdersConfig(
        base_url(target, allow_remote),
        rate,
        duration,
        batch_size,
        symbol,
        connections,
        admin_key,
        seed=seed,
        store_path=bench.store_path,
        label=bench.label,
        tags=bench.tags,
        scrape_interval=bench.scrape_interval,
        sources=bench.sources,
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
    with (
        measuring(cfg.target),
        progress_bar(not (as_json or spec_output), "requests answered") as progress,
    ):
        figures = run_orders_benchmark(cfg, progress)
    doc = figures.to_json()
    if as_json:
        echo_json(doc)
    elif spec_output:
        if not figures.trusted:  # the script's lines stay exact; the verdict goes to stderr
            click.echo("NOT TRUSTED: " + "; ".join(figures.verdict.trust_reasons), err=True)
        for line in spec_footer(doc):
            click.echo(line)
    else:
        for line in summary_lines(figures):
            click.echo(line)
        echo_outcome(figures, bench.store_path)
    exit_for(figures.store_error, figures.aborted, figures.errors_over_limit)


def summary_lines(figures: OrdersFigures) -> list[str]:
    """The human summary: the trust verdict first, then counts and errors by status, both
    latency views and, for batches, the specification's batch figures."""
    lines = []
    if not figures.trusted:
        lines.append("NOT TRUSTED: " + "; ".join(figures.verdict.trust_reasons))
    lines.append(
        f"requests {figures.requests}  errors {figures.errors}  "
        f"orders/s {figures.orders_per_s}  achieved {figures.achieved_rate} req/s"
    )
    failed = {k: v for k, v in figures.status_counts.items() if not k.startswith("2")}
    if failed:
        by_status = ", ".join(
            f"{n} x {'no answer' if code == '0' else 'HTTP ' + code}"
            for code, n in sorted(failed.items())
        )
        lines.append(f"errors by status: {by_status}")
    for title, view in (
        ("latency from due time (ms)", figures.latency),
        ("service time from send (ms)", figures.service_time),
    ):
        lines.append(
            f"{title}: p50 {view.p50}  p95 {view.p95}  p99 {view.p99}  "
            f"p99.9 {view.p999}  max {view.max}"
        )
    batch = figures.batch
    if batch is not None:
        lines.append(
            f"batches: {batch.total_orders} orders, {batch.successful} successful "
            f"({batch.success_rate_pct}%), batch latency average "
            f"{batch.average_batch_latency_ms} ms, maximum {batch.maximum_batch_latency_ms} "
            f"ms, effective rate {batch.effective_rate} orders/s over the measured time"
        )
    return lines
