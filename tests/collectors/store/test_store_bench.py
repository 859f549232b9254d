"""`pincex bench store` runs at tiny sizes and prints its keys (no timing asserted)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from collectors.bench.store_cli import store


def test_bench_store_prints_one_json_object() -> None:
    result = CliRunner().invoke(
        store, ["--json", "--runs", "20", "--samples", "1000", "--merge-runs", "5"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"write_s", "list_s", "merge_s", "targets", "met", "merged_p99_ms"} <= set(data)
    assert data["listed"] == 20 and data["merge_runs"] == 5
    assert set(data["met"]) == set(data["targets"]) == {"write_s", "list_s", "merge_s"}


def test_bench_store_human_output() -> None:
    result = CliRunner().invoke(store, ["--runs", "3", "--samples", "100", "--merge-runs", "2"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3
