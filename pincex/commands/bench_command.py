"""How a benchmark command ends: the benchmarks' errors, and the verdicts that fail the
command after its figures are printed, each become one `error:` line and an exit code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from collectors.bench.errors import BenchFailed, BenchUsageError
from collectors.bench.figures import Outcome
from collectors.bench.trust import ERROR_RATE_LIMIT
from collectors.store.store import StoreError
from common.errors import UsageFailure
from pincex.options import stored_line

__all__ = ["BenchCommand", "echo_outcome", "exit_for", "measuring"]


class BenchCommand(click.Command):
    """A benchmark command: `BenchUsageError` exits 2, `BenchFailed` exits 1, a store that
    refused the measured run exits 1, each as one `error:` line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BenchUsageError as exc:
            raise UsageFailure(str(exc)) from None
        except BenchFailed as exc:
            raise UsageFailure(str(exc), 1) from None
        except StoreError as exc:
            raise UsageFailure(f"the run was measured but not stored: {exc}", 1) from None


@contextmanager
def measuring(target: str) -> Iterator[None]:
    """Around a benchmark's measurement: its failure (or the network's) is one line naming
    the target, exit 1."""
    try:
        yield
    except (BenchFailed, OSError) as exc:
        raise UsageFailure(f"benchmark against {target} failed: {exc}", 1) from None


def echo_outcome(figures: Outcome, store_path: str | None) -> None:
    """After a benchmark's human summary: its warnings, then the run it was kept as and the
    store it went to."""
    for w in figures.verdict.warnings:
        click.echo(f"warning: {w}")
    if figures.run_id is not None:
        click.echo(stored_line(figures.run_id, store_path))


def exit_for(store_error: str | None, aborted: bool, errors_over_limit: bool) -> None:
    """After the figures are printed: exit 1 when the store refused the run, 130 when it was
    interrupted (Ctrl-C), 1 when the target's errors passed the trust limit."""
    if store_error is not None:
        raise UsageFailure(f"the run was measured but not stored: {store_error}", 1)
    if aborted:
        raise UsageFailure("aborted: the figures above cover what was measured before it", 130)
    if errors_over_limit:
        raise UsageFailure(
            "the target answered too many requests with errors for the figures to stand "
            f"(over {ERROR_RATE_LIMIT:.0%}; see the errors by status above)",
            1,
        )
