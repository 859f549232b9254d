"""A database benchmark's result as a stored run: a summary and histogram per query type."""

from __future__ import annotations

import numpy as np

from collectors.bench.db_bench import DbBenchResult
from collectors.bench.db_figures import DbFigures
from collectors.bench.percentiles import percentiles_ms
from collectors.bench.runs import measured_run
from collectors.store.model import Histogram, Point, Run, Summary
from collectors.store.summarise import summarise
from common.redact import mask_url

__all__ = ["db_run", "shown_url"]


def shown_url(url: str) -> str:
    """The database URL as kept with the run: any password hidden."""
    return mask_url(url)


def _series(result: DbBenchResult) -> list[Point]:
    """Queries per second and their p95 (ms), per second of the query phase, by start time."""
    starts = np.concatenate(
        [np.asarray(s.starts_s, dtype=np.float64) for s in result.by_type.values()] or [np.empty(0)]
    )
    durations = np.concatenate(
        [np.asarray(s.durations_ms, dtype=np.float64) for s in result.by_type.values()]
        or [np.empty(0)]
    )
    points: list[Point] = []
    if not starts.size:
        return points
    seconds = np.floor(starts).astype(np.int64)
    for second in np.unique(seconds):
        mask = seconds == second
        points.append(Point("client", "queries_per_s", float(second), float(mask.sum())))
        points.append(
            Point(
                "client",
                "query_p95_ms",
                float(second),
                percentiles_ms(durations[mask], (95,))[95.0],
            )
        )
    return points


def db_run(
    result: DbBenchResult,
    figures: DbFigures,
    url: str,
    label: str,
    tags: tuple[str, ...] = (),
) -> Run:
    """The run the store keeps for `result` (the samples) and its `figures` (counts, verdict)."""
    summaries: list[Summary] = []
    hists: list[Histogram] = []
    for name, samples in result.by_type.items():
        if not samples.durations_ms:
            continue
        summary, histograms = summarise(
            name,
            np.asarray(samples.durations_ms, dtype=np.float64) * 1000,
            None,
            errors=0,
            duration_s=result.wall_s,
        )
        summaries.append(summary)
        hists.extend(histograms)
    counts = figures.seed.counts
    notes = (
        f"{counts['users']:,} users, {counts['balances']:,} balances, {counts['orders']:,} "
        f"orders, {counts['trades']:,} trades ({'seeded' if figures.seed.seeded else 'reused'}); "
        f"rows returned {figures.overall.rows:,}"
        + ("; stopped early at --max-seconds" if figures.stopped_early else "")
    )
    return measured_run(
        kind="db",
        profile=figures.backend,
        target=shown_url(url),
        label=label,
        tags=tags,
        started_at=result.started_at,
        measured_s=result.wall_s,
        config={
            "connections": figures.connections,
            "queries_per_connection": figures.queries_per_connection,
            "seed": figures.seed.config_json(),
        },
        verdict=figures.verdict,
        summaries=summaries,
        histograms=hists,
        client_series=_series(result),
        server=None,
        host={"generator_cpu_pct": figures.client_cpu_pct},
        notes=notes,
        aborted=figures.aborted,
    )
