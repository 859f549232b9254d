"""A database benchmark's result as a stored run: a summary and histogram per query type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from collectors.bench.db_bench import DbBenchResult
from collectors.bench.host import host_facts
from collectors.bench.percentiles import percentiles_ms
from collectors.bench.trust import TrustInputs, trust_reasons
from collectors.store.model import Histogram, Point, Run, Summary, new_run_id
from collectors.store.summarise import summarise
from common.redact import mask_url

__all__ = ["db_run", "db_trust_reasons", "shown_url"]

_P99_SAMPLES = 1_000


def shown_url(url: str) -> str:
    """The database URL as kept with the run: any password hidden."""
    return mask_url(url)


def db_trust_reasons(result: DbBenchResult) -> list[str]:
    """Trust rules of the query phase, for the whole and for each query type's own p99. With
    SQLite the database runs inside this process, so its CPU is the database's work too, not a
    sign that the client was the limit."""
    count = sum(len(s.durations_ms) for s in result.by_type.values())
    reasons = trust_reasons(
        TrustInputs(
            generator_cpu_pct=0.0 if result.backend == "sqlite" else result.client_cpu_pct,
            target_rate=0.0,
            achieved_rate=0.0,
            samples=count,
            error_rate=0.0,
            highest_claimed=99.0,  # avg, p50, p95, p99 and max are reported
        )
    )
    if count >= _P99_SAMPLES:
        few = {
            name: len(s.durations_ms)
            for name, s in result.by_type.items()
            if len(s.durations_ms) < _P99_SAMPLES
        }
        if few:
            listed = ", ".join(f"{name} {n}" for name, n in few.items())
            reasons.append(
                f"too few samples for the p99 of some query types (needs 1,000 each): {listed}"
            )
    return reasons


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
    result: DbBenchResult, url: str, label: str, tags: tuple[str, ...] = ()
) -> tuple[Run, list[str]]:
    """The run the store keeps for `result`, and its trust reasons."""
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
    reasons = db_trust_reasons(result)
    doc = result.as_dict()
    seed = doc["seed"]
    notes = (
        f"{seed['users']:,} users, {seed['balances']:,} balances, {seed['orders']:,} orders, "
        f"{seed['trades']:,} trades ({'seeded' if seed['seeded'] else 'reused'}); "
        f"rows returned {doc['overall']['rows']:,}"
        + ("; stopped early at --max-seconds" if result.stopped_early else "")
    )
    started = datetime.fromtimestamp(result.started_at, tz=UTC)
    run = Run(
        id=new_run_id(),
        kind="db",
        profile=result.backend,
        target=shown_url(url),
        label=label,
        started_at=started,
        ended_at=started + timedelta(seconds=result.wall_s),
        status="complete",
        config={
            "connections": result.connections,
            "queries_per_connection": result.queries_per_connection,
            "seed": {k: v for k, v in seed.items() if k != "seconds"},
        },
        host=host_facts(generator_cpu_pct=round(result.client_cpu_pct, 1)),
        tags=list(tags),
        summaries=summaries,
        series=_series(result),
        histograms=hists,
        trusted=not reasons,
        warnings=list(reasons),
        notes=notes,
    )
    return run, reasons
