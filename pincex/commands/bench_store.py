"""The `pincex bench store` command."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import click

from collectors.bench.runs import kept
from collectors.bench.store_bench import TARGETS, run_store_bench, store_bench_run
from pincex.commands.bench_command import BenchCommand, echo_outcome, exit_for
from pincex.options import (
    BenchContext,
    echo_json,
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
    if bench.store_path is not None:
        run = store_bench_run(result, wall, bench.label, bench.tags)
        result = kept(result, bench.store_path, run)
    if as_json:
        echo_json(result.to_json())
    else:
        met = result.met
        for key, name in result.task_names().items():
            click.echo(
                f"{name}: {result.medians[key] * 1000:.1f} ms median of {repeat} "
                f"(target < {TARGETS[key] * 1000:.0f} ms, {'met' if met[key] else 'MISSED'})"
            )
        click.echo(f"merged p99 = {result.merged_p99_ms:.3f} ms")
        echo_outcome(result, bench.store_path)
    exit_for(result.store_error, aborted=False, errors_over_limit=False)
