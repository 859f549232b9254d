"""How the CLI reports a user's mistake: one line on stderr and a non-zero exit."""

from __future__ import annotations

import click

__all__ = ["UsageFailure"]


class UsageFailure(click.ClickException):
    """A clear, one-line failure (exit code 2 unless given)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: object = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)
