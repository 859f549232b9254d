"""`pincex bench ...`: benchmarks that drive the exchange or its parts."""

from __future__ import annotations

import click

__all__ = ["bench"]


@click.group()
def bench() -> None:
    """Benchmarks: each prints a human summary, or one JSON object with --json."""
