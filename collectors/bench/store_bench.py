"""The run store's own speed: store a big run, list many runs, merge many histograms."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from collectors.bench.figures import Outcome, Verdict
from collectors.bench.runs import measured_run
from collectors.store import Histogram, Point, Run, RunStore, Summary
from collectors.store.model import Side
from collectors.store.summarise import summarise

__all__ = ["TARGETS", "TASKS", "StoreBenchFigures", "run_store_bench", "store_bench_run"]

TARGETS = {"write_s": 2.0, "list_s": 0.2, "merge_s": 0.5}
_NAME = "POST /api/v1/orders"
_BATCH = 2000
_TEMPLATES = 32
_SERIES: tuple[tuple[Side, str], ...] = (
    ("client", "requests_per_s"),
    ("server", "order_processing_p95_ms"),
)


TASKS = {  # figure -> what is timed
    "write_s": "store a run of {samples:,} latency samples",
    "list_s": "list {runs:,} runs with their summaries",
    "merge_s": "p99 over the merged histograms of {merge_runs:,} runs",
}


@dataclass(frozen=True)
class StoreBenchFigures(Outcome):
    """Median seconds per task over `repeat` timings, with the sizes used and the targets met
    or missed (the verdict's warnings); `timings` holds every timing of each task, `run_id` or
    `store_error` once it was kept."""

    samples: int
    runs: int
    merge_runs: int
    write_s: float
    list_s: float
    listed: int
    merge_s: float
    merged_p99_ms: float
    repeat: int = 1
    timings: dict[str, list[float]] = field(default_factory=dict)

    @property
    def medians(self) -> dict[str, float]:
        return {"write_s": self.write_s, "list_s": self.list_s, "merge_s": self.merge_s}

    @property
    def met(self) -> dict[str, bool]:
        medians = self.medians
        return {key: medians[key] < TARGETS[key] for key in TARGETS}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "samples": self.samples,
            "runs": self.runs,
            "merge_runs": self.merge_runs,
            "repeat": self.repeat,
            **self.medians,
            "timings": self.timings,
            "listed": self.listed,
            "merged_p99_ms": self.merged_p99_ms,
            "targets": TARGETS,
            "met": self.met,
        }
        return out | self.outcome_json()

    def task_names(self) -> dict[str, str]:
        """What each figure timed, in words."""
        return _task_names(self.samples, self.runs, self.merge_runs)


def _task_names(samples: int, runs: int, merge_runs: int) -> dict[str, str]:
    sizes = {"samples": samples, "runs": runs, "merge_runs": merge_runs}
    return {key: text.format(**sizes) for key, text in TASKS.items()}


def _run(index: int, summaries: list[Summary], hists: list[Histogram], series: list[Point]) -> Run:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=index)
    return Run(
        id=f"bench-{index:08d}",
        kind="store",
        profile="bench",
        target="memory",
        label="bench",
        started_at=start,
        ended_at=start + timedelta(seconds=len(series) // 2 or 1),
        config={"index": index},
        host={"cpu_count": 1},
        tags=["bench"],
        summaries=summaries,
        series=series,
        histograms=hists,
    )


def _big_run(samples: int, rng: np.random.Generator) -> Run:
    service = rng.lognormal(np.log(2000.0), 0.6, samples)
    latency = service + rng.exponential(200.0, samples)
    seconds = 300
    summary, hists = summarise(_NAME, latency, service, errors=0, duration_s=float(seconds))
    series = [
        Point(side, name, float(s), float(s % 17)) for side, name in _SERIES for s in range(seconds)
    ]
    return _run(0, [summary], hists, series)


def _fill(
    store: RunStore, runs: int, rng: np.random.Generator, progress: Callable[[int], None]
) -> None:
    templates = []
    for t in range(_TEMPLATES):
        latency = rng.lognormal(np.log(1000.0 + 50 * t), 0.5, 2000)
        templates.append(summarise(_NAME, latency, None, errors=0, duration_s=10.0))
    batch: list[Run] = []
    for index in range(1, runs + 1):
        summary, hists = templates[index % _TEMPLATES]
        batch.append(_run(index, [summary], hists, []))
        if len(batch) == _BATCH:
            store.write_many(batch)
            progress(len(batch))
            batch = []
    if batch:
        store.write_many(batch)
        progress(len(batch))


def run_store_bench(
    workdir: Path,
    *,
    runs: int = 10_000,
    samples: int = 1_000_000,
    merge_runs: int = 1_000,
    repeat: int = 5,
    progress: Callable[[float, float], None] | None = None,
) -> StoreBenchFigures:
    """Time the three tasks `repeat` times each against a fresh store in `workdir`; the figures
    are the medians. `progress(done, total)` counts runs filled and tasks timed."""
    rng = np.random.default_rng(7)
    store = RunStore(workdir / "bench.duckdb")
    total = runs + 3 * repeat
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], total)

    _fill(store, runs, rng, step)
    timings: dict[str, list[float]] = {key: [] for key in TASKS}
    big = _big_run(samples, rng)
    for k in range(repeat):
        run = big if k == 0 else dataclasses.replace(big, id=f"big-{k}")
        started = time.perf_counter()
        store.write(run)
        timings["write_s"].append(time.perf_counter() - started)
        step(1)
    listed: list[Any] = []
    for _ in range(repeat):
        started = time.perf_counter()
        listed = store.list_runs(limit=runs)
        timings["list_s"].append(time.perf_counter() - started)
        step(1)
    ids = [f"bench-{i:08d}" for i in range(1, min(merge_runs, runs) + 1)]
    merged: dict[float, float] = {}
    for _ in range(repeat):
        started = time.perf_counter()
        merged = store.merged_percentiles(ids, _NAME, "latency", (99,))
        timings["merge_s"].append(time.perf_counter() - started)
        step(1)
    medians = {key: statistics.median(values) for key, values in timings.items()}
    missed = tuple(
        f"target missed: {name} took {medians[key]:.3f} s (target < {TARGETS[key]} s)"
        for key, name in _task_names(samples, runs, len(ids)).items()
        if not medians[key] < TARGETS[key]
    )
    return StoreBenchFigures(
        verdict=Verdict(warnings=missed),
        samples=samples,
        runs=runs,
        merge_runs=len(ids),
        write_s=medians["write_s"],
        list_s=medians["list_s"],
        listed=len(listed),
        merge_s=medians["merge_s"],
        merged_p99_ms=merged[99.0],
        repeat=repeat,
        timings=timings,
    )


def store_bench_run(
    figures: StoreBenchFigures, started_at: float, label: str, tags: tuple[str, ...]
) -> Run:
    """The benchmark as a run: one summary per task, its timings as the latency samples."""
    summaries = []
    histograms = []
    for key, name in figures.task_names().items():
        timings_us = np.asarray(figures.timings[key]) * 1e6
        summary, hists = summarise(
            name, timings_us, None, errors=0, duration_s=float(timings_us.sum() / 1e6)
        )
        summaries.append(summary)
        histograms.extend(hists)
    return measured_run(
        kind="store",
        profile="bench",
        target="duckdb (temporary file)",
        label=label,
        tags=tags,
        started_at=started_at,
        measured_s=time.time() - started_at,
        config={
            "runs": figures.runs,
            "samples": figures.samples,
            "merge_runs": figures.merge_runs,
            "repeat": figures.repeat,
        },
        verdict=figures.verdict,
        summaries=summaries,
        histograms=histograms,
        client_series=[],
        server=None,
        host={},
    )
