"""`pincex exchange ...` and `pincex demo`: run and seed the reference exchange."""

from __future__ import annotations

import click

__all__ = ["demo", "exchange"]


@click.group()
def exchange() -> None:
    """The reference exchange (the system under test)."""


@click.command()
def demo() -> None:
    """Start the exchange with demo users on 127.0.0.1 and stay up until Ctrl-C."""
    raise click.ClickException("not built yet")
