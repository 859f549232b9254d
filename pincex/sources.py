"""The run store handed to the planning commands through click's context.

The root command puts a `planning.sources.RunSource` in the context (`provide`); a command that
reads stored runs takes it back (`run_source`) and turns its failures into one `error:` line:

    with source_failures():                 # a SourceError becomes one `error:` line
        judged = run_source(ctx).judged_run(store_path, "latest")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from common.errors import UsageFailure
from planning.sources import SourceError

if TYPE_CHECKING:
    from planning.sources import RunSource

__all__ = ["provide", "run_source", "source_failures"]


class _Holder:
    def __init__(self, source: RunSource) -> None:
        self.source = source


def provide(ctx: click.Context, source: RunSource) -> None:
    """Make `source` the context's RunSource (called by the root command)."""
    ctx.obj = _Holder(source)


def run_source(ctx: click.Context) -> RunSource:
    """The RunSource the root command put in the context; a usage error when there is none."""
    found = ctx.find_object(_Holder)
    if found is None:
        raise UsageFailure("stored runs cannot be read here (run through the pincex command)")
    return found.source


@contextmanager
def source_failures() -> Iterator[None]:
    """Turn a SourceError into the CLI's one-line failure with its exit code."""
    try:
        yield
    except SourceError as exc:
        raise UsageFailure(str(exc), exc.exit_code) from None
