"""Keeping a benchmark's run: the run as the store keeps it, written (or spooled).

run = measured_run(kind="orders", ..., verdict=Verdict(trusted, reasons, warnings))
run_id = keep_run(store_path, run)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import duckdb

from collectors.bench.figures import Verdict
from collectors.bench.host import host_facts
from collectors.bench.server_watch import server_points
from collectors.scrape import ScrapeResult
from collectors.settings import get_settings
from collectors.store.limits import trimmed
from collectors.store.model import Histogram, Point, Run, Status, Summary, new_run_id
from collectors.store.spool import spool_run
from collectors.store.store import DuplicateRun, InvalidRun, RunStore, StoreError, StoreLocked

__all__ = ["ABORTED_STATUS", "keep_figures_run", "keep_run", "kept", "measured_run"]

# The status an interrupted benchmark's run is kept with (its first warning says why).
ABORTED_STATUS: Status = "aborted"


def keep_run(store_path: str, run: Run) -> str:
    """Write the run to the store at `store_path`, with the settings' lock timeout and spool
    (a `StoreError` says why it could not). Its notes and warnings are cut to the store's
    limits first; when the store itself fails (a damaged or newer file, not the run), the run
    is spooled for the next writer so that the measurement is not lost."""
    settings = get_settings()
    store = RunStore(
        store_path,
        spool_dir=settings.spool_dir or None,
        lock_timeout_s=settings.store_lock_timeout_s,
        read_retry_s=settings.store_read_retry_s,
    )
    run = trimmed(run)
    try:
        return store.write(run)
    except (InvalidRun, StoreLocked, DuplicateRun):
        raise
    except (StoreError, duckdb.Error) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        try:
            path = spool_run(store.spool_dir, run)
        except OSError as failed:
            raise StoreError(f"{reason}; the run could not be spooled either ({failed})") from None
        raise StoreError(f"{reason}; the run was spooled to {path} for the next writer") from None


class _Keepable(Protocol):
    """Frozen figures that note the run they were kept as, or why the store refused it."""

    @property
    def run_id(self) -> str | None: ...

    @property
    def store_error(self) -> str | None: ...


_Figures = TypeVar("_Figures", bound=_Keepable)


def kept(figures: _Figures, store_path: str, run: Run) -> _Figures:
    """`figures` (a frozen dataclass) with the id of `run` once kept at `store_path`, or with
    why the store refused it (`store_error`), so the measured figures are still printed before
    the command fails."""
    try:
        return replace(figures, run_id=keep_run(store_path, run))  # type: ignore[type-var]
    except StoreError as exc:
        return replace(figures, store_error=str(exc))  # type: ignore[type-var]


def keep_figures_run(store_path: str, run: Run, figures: dict[str, Any]) -> None:
    """Keep the run and note its id in `figures` (`run_id`); when the store refuses it, note
    why instead (`store_error`), so the measured figures are still printed before the command
    fails."""
    try:
        figures["run_id"] = keep_run(store_path, run)
    except StoreError as exc:
        figures["store_error"] = str(exc)


def measured_run(
    *,
    kind: str,
    profile: str,
    target: str,
    label: str,
    tags: tuple[str, ...] | list[str],
    started_at: float,
    measured_s: float,
    config: Mapping[str, Any],
    verdict: Verdict,
    summaries: list[Summary],
    histograms: list[Histogram],
    client_series: list[Point],
    server: ScrapeResult | None,
    host: dict[str, Any],
    notes: str = "",
    aborted: bool = False,
) -> Run:
    """A benchmark's run as the store keeps it, with its config and verdict (the trust reasons
    first, then the warnings); partial when the server's side could not be had,
    `aborted` when the benchmark was interrupted (its warnings say so)."""
    started = datetime.fromtimestamp(started_at, tz=UTC)
    return Run(
        id=new_run_id(),
        kind=kind,
        profile=profile,
        target=target,
        label=label,
        started_at=started,
        ended_at=started + timedelta(seconds=measured_s),
        status=(
            ABORTED_STATUS
            if aborted
            else "partial"
            if server is not None and server.partial
            else "complete"
        ),
        config=dict(config),
        host=host_facts(**host),
        tags=list(tags),
        summaries=summaries,
        series=client_series + server_points(server, started_at),
        histograms=histograms,
        trusted=verdict.trusted,
        warnings=[*verdict.trust_reasons, *verdict.warnings],
        notes=notes,
    )
