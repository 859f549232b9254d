"""The one `pincex` command: each package contributes its own group of sub-commands."""

from __future__ import annotations

import click

from collectors.bench.orders_cli import orders
from collectors.cli import bench
from exchange_ref.cli import demo, exchange
from planning.plan_cli import plan
from planning.regress_cli import regress
from planning.slo_cli import diagnose, slo

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pincex-perf-lab")
def cli() -> None:
    """PinCEX Perf Lab: measure the exchange, judge it against its targets, plan its capacity."""


cli.add_command(exchange)
bench.add_command(orders)
cli.add_command(bench)
cli.add_command(demo)
cli.add_command(slo)
cli.add_command(diagnose)
cli.add_command(plan)
cli.add_command(regress)


def main() -> None:
    cli(prog_name="pincex")
