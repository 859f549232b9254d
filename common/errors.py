"""How the CLI reports a user's mistake: one line on stderr and a non-zero exit."""

from __future__ import annotations

import click

from common.redact import redact

__all__ = ["UsageFailure", "one_line"]


class UsageFailure(click.ClickException):
    """A clear, one-line failure (exit code 2 unless given)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: object = None) -> None:
        click.echo(f"error: {redact(one_line(self.format_message()))}", err=True)


def one_line(message: str) -> str:
    """The first line of a message, so that every failure is exactly one line on stderr."""
    lines = message.strip().splitlines()
    return lines[0].strip() if lines else "failed"
