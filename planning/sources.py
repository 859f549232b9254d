"""What the planning commands ask of stored runs, as an interface the CLI root fills in.

`planning` knows nothing of the run store: commands such as `pincex slo check --run` find a
`RunSource` in click's context object (the root command puts one there) and ask it.

    source = run_source(ctx)
    with source_failures():                 # a SourceError becomes one `error:` line
        judged = source.judged_run(store_path, "latest")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import click

from common.errors import UsageFailure
from planning.ramp import LoadDefinition, Ramp
from planning.regress.stored import Detected
from planning.run_slo import JudgedRun
from planning.slo import SloConfig

__all__ = ["RunSource", "SourceError", "provide", "run_source", "source_failures"]


class SourceError(Exception):
    """The stored runs could not be read: a one-line reason and the exit code it deserves
    (2: the caller named something that is not there; 1: the store itself failed)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class RunSource(Protocol):
    """Stored runs, read for the planning commands. Failures are `SourceError`s."""

    def judged_run(
        self,
        store_path: Path | None,
        ref: str,
        *,
        slos: SloConfig | None = None,
        profile: str | None = None,
        allow_unmeasured: bool = False,
    ) -> JudgedRun:
        """The run `ref` (id, id prefix or `latest`) judged against the target tables, or
        against `profile`'s expected results."""
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


@contextmanager
def source_failures() -> Iterator[None]:
    """Turn a SourceError into the CLI's one-line failure with its exit code."""
    try:
        yield
    except SourceError as exc:
        raise UsageFailure(str(exc), exc.exit_code) from None


class _Holder:
    def __init__(self, source: RunSource) -> None:
        self.source = source


def provide(ctx: click.Context, source: RunSource) -> None:
    """Make `source` the context's RunSource (called by the root command)."""
    ctx.obj = _Holder(source)
