"""What every benchmark does around its measurement: watch the server, describe the host,
keep the run.

    watch = ServerWatch(target, interval=1.0).start()   # scrapes the target's /metrics
    ...                                                 # drive load
    server = watch.stop()                               # ScrapeResult, or None when not watched
    run = Run(..., host=host_facts(generator_cpu_pct=cpu), series=client + server_points(server))
    run_id = keep_run(store_path, run)
"""

from __future__ import annotations

import asyncio
import os
import platform
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import numpy as np

from collectors.scrape import DirectScrape, Scraper, ScrapeResult
from collectors.settings import get_settings
from collectors.store.limits import trimmed
from collectors.store.model import Histogram, LatencyFigures, Point, Run, Summary, new_run_id
from collectors.store.spool import spool_run
from collectors.store.store import DuplicateRun, InvalidRun, RunStore, StoreError, StoreLocked

__all__ = [
    "Progress",
    "ServerWatch",
    "figures_ms",
    "hold_for",
    "host_facts",
    "keep_figures_run",
    "keep_run",
    "measured_run",
    "server_points",
    "server_summary",
]

Progress = Callable[[float, float], None]  # (done, total): requests answered, seconds held

_SUMMARY_SERIES = (
    "order_processing_p95_ms",
    "order_processing_p99_ms",
    "orders_per_s",
    "cpu_percent",
    "memory_rss_bytes",
    "queue_depth",
    "event_loop_lag_p99_ms",
    "ws_connections",
)


class ServerWatch:
    """Scrape the target's /metrics every `interval` seconds while a benchmark runs.

    An interval of 0 watches nothing (`stop()` then returns None). A target that does not answer
    never fails the benchmark: the result is marked partial with the reason.
    """

    def __init__(self, target: str, interval: float = 1.0) -> None:
        self.target = target
        self.interval = interval
        self._source: DirectScrape | None = None
        self._scraper: Scraper | None = None

    def start(self) -> ServerWatch:
        if self.interval > 0:
            self._source = DirectScrape(self.target)
            self._scraper = Scraper(self._source, interval=self.interval).start()
        return self

    def stop(self) -> ScrapeResult | None:
        if self._scraper is None:
            return None
        result = self._scraper.stop()
        if self._source is not None:
            self._source.close()
        self._scraper = self._source = None
        return result


def server_points(server: ScrapeResult | None, started_at: float | None = None) -> list[Point]:
    """The server-side points of a watch, or none; with `started_at` (epoch s, the load's
    start), their seconds are moved onto the client's time base (second 0 = the load's start)."""
    if server is None:
        return []
    if started_at is None or server.origin_wall is None:
        return list(server.points)
    shift = server.origin_wall - started_at
    return [replace(p, second=round(p.second + shift, 3)) for p in server.points]


def server_summary(server: ScrapeResult) -> dict[str, Any]:
    """What the target's /metrics said during the run: scrapes, problems, series medians."""
    medians = {}
    for name in _SUMMARY_SERIES:
        values = [v for _, v in server.series(name)]
        if values:
            medians[name] = round(float(np.median(values)), 3)
    return {
        "scrapes": server.scrapes,
        "failed_scrapes": server.failed_scrapes,
        "partial": server.partial,
        "reason": server.reason,
        "median_per_second": medians,
    }


def host_facts(**extra: Any) -> dict[str, Any]:
    """The machine the generator ran on, plus the benchmark's own facts (its CPU, limits)."""
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "hostname": platform.node(),
        "kernel": platform.release(),
        **extra,
    }


def figures_ms(f: LatencyFigures) -> dict[str, float]:
    """A view's figures as the benchmarks print them (ms, 3 decimals)."""
    return {
        "mean": round(f.mean_ms, 3),
        "p50": round(f.p50_ms, 3),
        "p90": round(f.p90_ms, 3),
        "p95": round(f.p95_ms, 3),
        "p99": round(f.p99_ms, 3),
        "p999": round(f.p999_ms, 3),
        "max": round(f.max_ms, 3),
    }


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


def keep_figures_run(store_path: str, run: Run, figures: dict[str, Any]) -> None:
    """Keep the run and note its id in `figures` (`run_id`); when the store refuses it, note
    why instead (`store_error`), so the measured figures are still printed before the command
    fails."""
    try:
        figures["run_id"] = keep_run(store_path, run)
    except StoreError as exc:
        figures["store_error"] = str(exc)


async def hold_for(seconds: float, progress: Progress | None = None, tick: float = 0.5) -> None:
    """Sleep `seconds`, telling `progress(elapsed, seconds)` every `tick` seconds."""
    start = time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        if progress is not None:
            progress(min(elapsed, seconds), seconds)
        if elapsed >= seconds:
            return
        await asyncio.sleep(min(tick, seconds - elapsed))


def measured_run(
    *,
    kind: str,
    profile: str,
    target: str,
    label: str,
    tags: tuple[str, ...] | list[str],
    started_at: float,
    measured_s: float,
    figures: dict[str, Any],
    summaries: list[Summary],
    histograms: list[Histogram],
    client_series: list[Point],
    server: ScrapeResult | None,
    host: dict[str, Any],
    notes: str = "",
) -> Run:
    """A benchmark's run as the store keeps it. `figures` is the command's own output: its
    `config`, `trusted`, `trust_reasons` and `warnings` go with the run; the run is partial when
    the server's side could not be had."""
    started = datetime.fromtimestamp(started_at, tz=UTC)
    return Run(
        id=new_run_id(),
        kind=kind,
        profile=profile,
        target=target,
        label=label,
        started_at=started,
        ended_at=started + timedelta(seconds=measured_s),
        status="partial" if server is not None and server.partial else "complete",
        config=dict(figures["config"]),
        host=host_facts(**host),
        tags=list(tags),
        summaries=summaries,
        series=client_series + server_points(server, started_at),
        histograms=histograms,
        trusted=figures["trusted"],
        warnings=[*figures["trust_reasons"], *figures["warnings"]],
        notes=notes,
    )
