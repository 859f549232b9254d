"""The `pincex loadtest worker` command: a Locust worker for a master on another machine."""

from __future__ import annotations

import click

from collectors.loadtest.locust_engine import parse_master, run_worker_process
from common.errors import UsageFailure

__all__ = ["worker"]


@click.command("worker")
@click.option(
    "--master",
    "master",
    required=True,
    metavar="HOST[:PORT]",
    help="The address of the master (`pincex loadtest run --engine locust`); port 5557 when "
    "left out.",
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=1.0),
    default=60.0,
    show_default=True,
    help="Seconds to wait for the master to answer.",
)
@click.pass_context
def worker(ctx: click.Context, master: str, connect_timeout: float) -> None:
    """Join a Locust load test as one of its workers, until its master lets go.

    The worker needs only the master's address: the plan (routes, schedule, keys) comes
    from the master. It sends its share of the requests at their due times and reports every
    answer to the master. Its clock must agree with the master's (same machine, or NTP).
    Exit 0 when the master ends the run; 2 when no master answered.
    """
    try:
        host, port = parse_master(master)
    except ValueError as exc:
        raise UsageFailure(f"--master: {exc}") from None
    ctx.exit(run_worker_process(host, port, connect_timeout))
