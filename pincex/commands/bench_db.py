"""The `pincex bench db` command: the specification's database benchmark on real data."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import click
import psycopg
import sqlalchemy.exc

from collectors.bench.db_bench import DbBenchRefused, SeedSizes, run_db_bench
from collectors.bench.db_figures import DbFigures, QueryFigures, db_figures
from collectors.bench.db_run import db_run
from collectors.bench.runs import kept
from common.errors import UsageFailure
from exchange_ref.storage import normalize_url
from pincex.commands.bench_command import BenchCommand, echo_outcome, exit_for
from pincex.options import (
    BenchContext,
    echo_json,
    json_option,
    keep_options,
    progress_bar,
)

__all__ = ["db"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _count(name: str, default: int, help_text: str) -> Callable[[_F], _F]:
    return click.option(
        name, type=int, default=default, show_default=True, help=help_text, metavar="N"
    )


@click.command(cls=BenchCommand)
@click.option("--url", required=True, help="sqlite:///path.db or postgresql://user@host/db.")
@_count("--connections", 50, "Concurrent connections, one thread each.")
@_count("--queries-per-connection", 1000, "Queries each connection runs.")
@_count("--seed-users", 1_000, "Users seeded (each with 2-5 asset balances).")
@_count("--seed-orders", 50_000, "Orders seeded (open and finished, over the last 3 days).")
@_count("--seed-trades", 20_000, "Trades seeded (a tenth of them in the last hour).")
@click.option("--seed", "seed_value", type=int, default=1, show_default=True, help="RNG seed.")
@click.option(
    "--max-seconds", type=float, default=300.0, show_default=True,
    help="Stop the query phase after this long.",
)  # fmt: skip
@click.option("--reuse", is_flag=True, help="Benchmark the rows already in the database.")
@keep_options
@json_option
def db(
    url: str,
    connections: int,
    queries_per_connection: int,
    seed_users: int,
    seed_orders: int,
    seed_trades: int,
    seed_value: int,
    max_seconds: float,
    reuse: bool,
    bench: BenchContext,
    as_json: bool,
) -> None:
    """Database benchmark: seed users, balances, orders and trades, then run the spec's four
    queries and the order-book aggregation concurrently, with real parameters.

    \b
    pincex bench db --url sqlite:///bench.db
    pincex bench db --url postgresql://postgres@127.0.0.1/pincex --connections 20 --json

    Ctrl-C during the queries stops them, prints and keeps what was measured (marked
    aborted) and exits 130.
    """
    for option, value, minimum in (
        ("--connections", connections, 1),
        ("--queries-per-connection", queries_per_connection, 1),
        ("--seed-users", seed_users, 1),
        ("--seed-orders", seed_orders, 1),
        ("--seed-trades", seed_trades, 0),
    ):
        if value < minimum:
            raise UsageFailure(f"{option} must be at least {minimum}, not {value}")
    if not max_seconds > 0:
        raise UsageFailure(f"--max-seconds must be positive, not {max_seconds}")
    try:
        normalize_url(url)
    except ValueError as exc:
        raise UsageFailure(str(exc)) from None
    sizes = SeedSizes(users=seed_users, orders=seed_orders, trades=seed_trades)
    try:
        with progress_bar(not as_json, "queries run") as progress:
            result = run_db_bench(
                url,
                connections,
                queries_per_connection,
                sizes,
                seed_value,
                max_seconds,
                reuse,
                progress,
            )
    except KeyboardInterrupt:
        raise UsageFailure(_NOTHING_MEASURED, 130) from None
    except DbBenchRefused as exc:
        raise UsageFailure(str(exc)) from None
    except (
        sqlalchemy.exc.SQLAlchemyError,
        psycopg.Error,
        sqlite3.Error,
        OSError,
        ValueError,
    ) as exc:
        raise UsageFailure(f"database {url}: {_reason(exc)}") from None
    figures = db_figures(result)
    if figures.aborted and not figures.overall.count:
        raise UsageFailure(_NOTHING_MEASURED, 130)
    if bench.store_path is not None:
        figures = kept(
            figures, bench.store_path, db_run(result, figures, url, bench.label, bench.tags)
        )
    if as_json:
        echo_json(figures.to_json())
    else:
        if not figures.trusted:
            click.echo("NOT TRUSTED: " + "; ".join(figures.verdict.trust_reasons))
        for line in summary_lines(figures):
            click.echo(line)
        echo_outcome(figures, bench.store_path)
    exit_for(figures.store_error, figures.aborted, errors_over_limit=False)


_NOTHING_MEASURED = "aborted before any query was measured"


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "orig", None) or exc
    return " ".join(str(inner).split()) or type(inner).__name__


def summary_lines(figures: DbFigures) -> list[str]:
    """A short table per query type, then the specification's result lines."""
    seed = figures.seed
    counts = seed.counts
    overall = figures.overall
    how = f"seeded in {seed.seconds:.1f} s" if seed.seeded else "reused"
    lines = [
        f"{figures.backend}: {figures.connections} connections x "
        f"{figures.queries_per_connection} queries; data {how}: {counts['users']:,} users, "
        f"{counts['balances']:,} balances, {counts['orders']:,} orders, "
        f"{counts['trades']:,} trades, symbols " + ", ".join(seed.symbols),
        "",
        f"{'query':<24} {'count':>8} {'avg ms':>8} {'p50':>8} {'p95':>8} {'p99':>8} "
        f"{'max':>8} {'rows':>10} {'q/s':>9}",
    ]
    rows: list[tuple[str, QueryFigures]] = [*figures.queries.items(), ("overall", overall)]
    for name, row in rows:
        lines.append(
            f"{name:<24} {row.count:>8,} {_ms(row.avg_ms)} {_ms(row.p50_ms)} "
            f"{_ms(row.p95_ms)} {_ms(row.p99_ms)} {_ms(row.max_ms)} "
            f"{row.rows:>10,} {_num(row.queries_per_second)}"
        )
    stopped = " (stopped early at --max-seconds)" if figures.stopped_early else ""
    lines += [
        "",
        "Database Benchmark Results:",
        f"Total Queries: {overall.count}",
        f"Total Rows: {overall.rows}",
        f"Average Duration: {_plain(overall.avg_ms)}ms",
        f"P95 Duration: {_plain(overall.p95_ms)}ms",
        f"P99 Duration: {_plain(overall.p99_ms)}ms",
        f"Queries per Second: {_plain(overall.queries_per_second)} "
        f"(over the measured {figures.wall_s:.2f} s{stopped}, not the spec's assumed 300 s)",
    ]
    lines += [f"{name} Average: {_plain(row.avg_ms)}ms" for name, row in figures.queries.items()]
    lines.append("(per named query type; the spec groups by the first SQL word, all 'SELECT')")
    return lines


def _ms(value: float | None) -> str:
    return f"{'-':>8}" if value is None else f"{value:>8.2f}"


def _num(value: float | None) -> str:
    return f"{'-':>9}" if value is None else f"{value:>9,.0f}"


def _plain(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
