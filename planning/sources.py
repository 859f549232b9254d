"""What the planning commands ask of stored runs, as an interface the CLI root fills in.

`planning` knows nothing of the run store: commands such as `pincex slo check --run` find a
`RunSource` in click's context object (the root command puts one there) and ask it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import click

from pincex.errors import UsageFailure
from planning.ramp import LoadDefinition, Ramp
from planning.regress.stored import Detected
from planning.run_slo import JudgedRun

__all__ = ["RunSource", "provide", "run_source"]


class RunSource(Protocol):
    """Stored runs, read for the planning commands."""

    def judged_run(self, store_path: Path | None, ref: str) -> JudgedRun:
        """The run `ref` (id, id prefix or `latest`) judged against the target tables."""
        ...

    def detected(
        self, store_path: Path | None, kind: str | None, label: str | None, profile: str | None
    ) -> Detected:
        """Change points in the histories of the matching runs."""
        ...

    def ramp(self, store_path: Path | None, label: str | None, load: LoadDefinition) -> Ramp:
        """(load, throughput) points of the orders runs with this label."""
        ...


def run_source(ctx: click.Context) -> RunSource:
    """The RunSource the root command put in the context; a usage error when there is none."""
    found = ctx.find_object(_Holder)
    if found is None:
        raise UsageFailure("stored runs cannot be read here (run through the pincex command)")
    return found.source


class _Holder:
    def __init__(self, source: RunSource) -> None:
        self.source = source


def provide(ctx: click.Context, source: RunSource) -> None:
    """Make `source` the context's RunSource (called by the root command)."""
    ctx.obj = _Holder(source)
