"""`pincex bench store` runs at tiny sizes and prints its keys (no timing asserted)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from click.testing import CliRunner

from collectors.store.store import RunStore
from pincex.commands.bench_store import store


def test_bench_store_prints_one_json_object_and_keeps_its_run(tmp_path: Path) -> None:
    kept = tmp_path / "runs.duckdb"
    result = CliRunner().invoke(
        store,
        [
            "--json",
            "--runs",
            "20",
            "--samples",
            "1000",
            "--merge-runs",
            "5",
            "--repeat",
            "3",
            "--store",
            str(kept),
            "--label",
            "v9",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"write_s", "list_s", "merge_s", "targets", "met", "merged_p99_ms"} <= set(data)
    assert data["listed"] == 20 and data["merge_runs"] == 5
    assert set(data["met"]) == set(data["targets"]) == {"write_s", "list_s", "merge_s"}
    for key in ("write_s", "list_s", "merge_s"):  # the figure is the median of the timings
        assert len(data["timings"][key]) == 3
        assert data[key] == statistics.median(data["timings"][key])
    run = RunStore(kept).get(data["run_id"])
    assert (run.kind, run.label) == ("store", "v9")
    assert [s.count for s in run.summaries] == [3, 3, 3]
    assert run.summaries[0].name == "store a run of 1,000 latency samples"


def test_bench_store_human_output() -> None:
    result = CliRunner().invoke(
        store, ["--runs", "3", "--samples", "100", "--merge-runs", "2", "--no-store"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and lines[0].startswith("store a run of 100 latency samples: ")
    assert "median of 5" in lines[0] and lines[3].startswith("merged p99 = ")
