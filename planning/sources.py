"""What the planning commands ask of stored runs, as an interface the CLI fills in.

`planning` knows nothing of the run store, nor of the command line: a command such as
`pincex slo check --run` is handed a `RunSource` (the run store's, from `dashboard.queries`)
and asks it; a failure is a `SourceError` carrying the exit code it deserves.

    judged = source.judged_run(store_path, "latest")   # raises SourceError
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the real modules load pandas: the CLI imports this module at start-up
    from planning.ramp import LoadDefinition, Ramp
    from planning.regress.stored import Detected
    from planning.run_slo import JudgedRun
    from planning.slo import SloConfig

__all__ = ["RunSource", "SourceError"]


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
