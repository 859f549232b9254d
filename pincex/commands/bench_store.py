"""The `pincex bench store` command."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from collectors.bench.figures import Verdict
from collectors.bench.runs import keep_figures_run, measured_run
from collectors.bench.store_bench import StoreBenchResult, run_store_bench
from collectors.store.model import Run
from collectors.store.summarise import summarise
from pincex.commands.bench_command import BenchCommand
from pincex.options import (
    BenchContext,
    echo_json,
    fail_if_not_stored,
    json_option,
    keep_options,
    progress_bar,
)

__all__ = ["store"]


@click.command(cls=BenchCommand)
@click.option(
    "--runs", type=click.IntRange(min=1), default=10_000, show_default=True,
    help="Runs stored before listing them.",
)  # fmt: skip
@click.option(
    "--samples", type=click.IntRange(min=1), default=1_000_000, show_default=True,
    help="Latency samples in the big run whose store is timed.",
)  # fmt: skip
@click.option(
    "--merge-runs", type=click.IntRange(min=1), default=1_000, show_default=True,
    help="Runs whose histograms are merged for a p99.",
)  # fmt: skip
@click.option(
    "--repeat", type=click.IntRange(min=1, max=100), default=5, show_default=True,
    help="Timings of each task; the figures are their medians.",
)  # fmt: skip
@keep_options
@json_option
def store(
    runs: int,
    samples: int,
    merge_runs: int,
    repeat: int,
    bench: BenchContext,
    as_json: bool,
) -> None:
    """The run store's own speed, in a temporary directory: store, list, merge (medians of
    --repeat timings). The result is kept as a run of kind `store` in the real store."""
    wall = time.time()
    with (
        tempfile.TemporaryDirectory(prefix="pincex-store-bench-") as tmp,
        progress_bar(not as_json, "runs filled and tasks timed") as progress,
    ):
        result = run_store_bench(
            Path(tmp),
            runs=runs,
            samples=samples,
            merge_runs=merge_runs,
            repeat=repeat,
            progress=progress,
        )
    data = result.as_dict()
    if bench.store_path is not None:
        run = _run(result, data, wall, bench.label, bench.tags)
        keep_figures_run(bench.store_path, run, data)
    if as_json:
        echo_json(data)
        return
    met = data["met"]
    for key, name in result.task_names().items():
        target = data["targets"][key]
        click.echo(
            f"{name}: {data[key] * 1000:.1f} ms median of {repeat} "
            f"(target < {target * 1000:.0f} ms, {'met' if met[key] else 'MISSED'})"
        )
    click.echo(f"merged p99 = {result.merged_p99_ms:.3f} ms")
    if "run_id" in data:
        click.echo(f"stored as run {data['run_id']}")
    fail_if_not_stored(data)


def _run(
    result: StoreBenchResult, data: dict[str, Any], wall: float, label: str, tags: tuple[str, ...]
) -> Run:
    """The benchmark as a run: one summary per task, its timings as the latency samples."""
    summaries = []
    histograms = []
    for key, name in result.task_names().items():
        timings_us = np.asarray(result.timings[key]) * 1e6
        summary, hists = summarise(
            name, timings_us, None, errors=0, duration_s=float(timings_us.sum() / 1e6)
        )
        summaries.append(summary)
        histograms.extend(hists)
    missed = [
        f"target missed: {name} took {data[key]:.3f} s (target < {data['targets'][key]} s)"
        for key, name in result.task_names().items()
        if not data["met"][key]
    ]
    return measured_run(
        kind="store",
        profile="bench",
        target="duckdb (temporary file)",
        label=label,
        tags=tags,
        started_at=wall,
        measured_s=time.time() - wall,
        config={k: data[k] for k in ("runs", "samples", "merge_runs", "repeat")},
        verdict=Verdict(warnings=tuple(missed)),
        summaries=summaries,
        histograms=histograms,
        client_series=[],
        server=None,
        host={},
    )
