"""`pincex bench ...`: the benchmarks, assembled into one group here."""

from __future__ import annotations

import click

from pincex.commands.bench_abuse import abuse
from pincex.commands.bench_db import db
from pincex.commands.bench_engine import engine
from pincex.commands.bench_generators import generators
from pincex.commands.bench_orders import orders
from pincex.commands.bench_store import store
from pincex.commands.bench_ws import market_data, ws_connections
from pincex.commands.dashboard import dashboard_bench

__all__ = ["bench"]


@click.group()
def bench() -> None:
    """Benchmarks: each prints a human summary, or one JSON object with --json."""


for _command in (
    engine,
    orders,
    store,
    db,
    market_data,
    ws_connections,
    generators,
    dashboard_bench,
    abuse,
):
    bench.add_command(_command)
