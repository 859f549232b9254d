"""The `pincex bench store` command."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
import orjson

from collectors.bench.store_bench import run_store_bench

__all__ = ["store"]


@click.command()
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
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def store(runs: int, samples: int, merge_runs: int, as_json: bool) -> None:
    """The run store's own speed, in a temporary directory: store, list, merge."""
    with tempfile.TemporaryDirectory(prefix="pincex-store-bench-") as tmp:
        result = run_store_bench(Path(tmp), runs=runs, samples=samples, merge_runs=merge_runs)
    data = result.as_dict()
    if as_json:
        click.echo(orjson.dumps(data).decode())
        return
    met = data["met"]
    click.echo(
        f"store a run of {samples:,} samples: {result.write_s:.3f} s "
        f"(target < {data['targets']['write_s']} s, {'met' if met['write_s'] else 'MISSED'})"
    )
    click.echo(
        f"list {result.listed:,} runs with summaries: {result.list_s * 1000:.1f} ms "
        f"(target < {data['targets']['list_s'] * 1000:.0f} ms, "
        f"{'met' if met['list_s'] else 'MISSED'})"
    )
    click.echo(
        f"p99 over merged histograms of {result.merge_runs:,} runs: "
        f"{result.merge_s * 1000:.1f} ms = {result.merged_p99_ms:.3f} ms "
        f"(target < {data['targets']['merge_s'] * 1000:.0f} ms, "
        f"{'met' if met['merge_s'] else 'MISSED'})"
    )
