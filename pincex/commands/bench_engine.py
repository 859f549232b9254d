"""The `pincex bench engine` command: the matching engine's book on a recorded order flow."""

from __future__ import annotations

import time
from pathlib import Path

import click
import orjson

from collectors.bench.engine_flow import FlowError, read_flow, write_flow
from collectors.bench.engine_replay import replay_report, summary_lines
from common.errors import UsageFailure
from exchange_ref.engine.types import DEFAULT_SYMBOLS

__all__ = ["engine"]


@click.command("engine")
@click.option(
    "--generate", type=click.IntRange(min=1), metavar="N", help="Write a flow of N operations."
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the generated flow.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File --generate writes.",
)
@click.option(
    "--replay",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Replay a flow into the engine's book and the baseline book.",
)
@click.option(
    "--symbol",
    type=click.Choice(sorted(DEFAULT_SYMBOLS)),
    default="BTCUSD",
    show_default=True,
    help="Symbol whose tick and lot the flow's prices and quantities use.",
)
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Timed throughput passes per book; the median is reported.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def engine(
    generate: int | None,
    seed: int,
    output: Path | None,
    replay: Path | None,
    symbol: str,
    repeat: int,
    as_json: bool,
) -> None:
    """Matching-engine benchmark: generate an order flow, or replay one into the order book.

    \b
    pincex bench engine --generate 1000000 --seed 1 -o flow.csv
    pincex bench engine --replay flow.csv --json
    """
    spec = DEFAULT_SYMBOLS[symbol]
    if (generate is None) == (replay is None):
        raise UsageFailure("give either --generate N (with -o FILE) or --replay FILE")
    if generate is not None:
        if output is None:
            raise UsageFailure("--generate needs -o FILE")
        started = time.perf_counter()
        try:
            summary = write_flow(output, generate, seed, spec)
        except OSError as exc:
            raise UsageFailure(f"{output}: {exc.strerror or exc}") from None
        took = time.perf_counter() - started
        if as_json:
            doc = {"file": str(output), "seed": seed, "symbol": symbol, "seconds": round(took, 3)}
            doc |= {
                "operations": summary.operations,
                "limits": summary.limits,
                "markets": summary.markets,
                "cancels": summary.cancels,
                "resting_orders": summary.live_orders,
            }
            click.echo(orjson.dumps(doc).decode())
        else:
            click.echo(
                f"wrote {summary.operations:,} operations to {output} in {took:.1f} s:"
                f" {summary.limits:,} limit, {summary.markets:,} market, {summary.cancels:,}"
                f" cancel; {summary.live_orders:,} orders resting at the end"
            )
        return
    assert replay is not None
    try:
        ops = read_flow(replay, spec)
    except FlowError as exc:
        raise UsageFailure(str(exc)) from None
    if not ops:
        raise UsageFailure(f"{replay}: the flow has no operations")
    report = replay_report(ops, symbol, repeat)
    if as_json:
        click.echo(orjson.dumps(report.to_json()).decode())
    else:
        for line in summary_lines(report, str(replay)):
            click.echo(line)
    if not report.baseline_agrees:
        raise UsageFailure(
            "the engine's book and the baseline book disagree on this flow", exit_code=1
        )
