"""`pincex runs import` refuses runs whose figures no measurement gives, naming the field,
and stores nothing from the file."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from collectors.store import RunStore, run_to_json
from collectors.store.samples import sample_run
from pincex.commands.runs import runs

Data = dict[str, Any]
FIGURES = ("mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms")
PERCENTILES = FIGURES[1:]
VIEWS = ("latency", "service")


def exported() -> Data:
    """A valid run as `pincex runs export ID --format json` writes it."""
    data: Data = json.loads(run_to_json(sample_run(kind="orders", label="v1", seed=7)))
    return data


def invoke(store_path: Path, *args: str | Path) -> Result:
    return CliRunner().invoke(runs, ["--store", str(store_path), *map(str, args)])


def import_file(tmp_path: Path, data: Data) -> tuple[Result, Path]:
    store_path = tmp_path / "runs.duckdb"
    file = tmp_path / "run.json"
    file.write_text(json.dumps(data))  # NaN and inf as Python's json writes them
    return invoke(store_path, "import", file), store_path


def refused(tmp_path: Path, data: Data, field: str) -> str:
    result, store_path = import_file(tmp_path, data)
    assert result.exit_code != 0, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert field in lines[0], lines[0]
    assert result.stdout == ""
    assert RunStore(store_path).list_runs() == []
    return lines[0]


def set_summary(key: str, value: Any) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        data["summaries"][0][key] = value

    return change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (set_summary("count", -1), "count is -1"),
        (set_summary("errors", -1), "errors is -1"),
    ],
    ids=["count-negative", "errors-negative"],
)
def test_counts(tmp_path: Path, change: Callable[[Data], None], field: str) -> None:
    data = exported()
    change(data)
    refused(tmp_path, data, field)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("figure", FIGURES)
def test_latency_figure_negative_or_not_finite(
    tmp_path: Path, figure: str, view: str, bad: float
) -> None:
    data = exported()
    data["summaries"][0][view][figure] = bad
    refused(tmp_path, data, f"{view}.{figure} is {bad}")


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize(("low", "high"), list(itertools.pairwise(PERCENTILES)))
def test_percentiles_out_of_order(tmp_path: Path, view: str, low: str, high: str) -> None:
    data = exported()
    figures = data["summaries"][0][view]
    figures[low] = figures[high] * 1.001
    refused(tmp_path, data, f"{view}.{low} is {figures[low]}, above {high}")


@pytest.mark.parametrize("bad", [-0.5, math.nan, math.inf])
def test_throughput_negative_or_not_finite(tmp_path: Path, bad: float) -> None:
    data = exported()
    data["summaries"][0]["throughput_per_s"] = bad
    refused(tmp_path, data, f"throughput_per_s is {bad}")


def test_end_before_start(tmp_path: Path) -> None:
    data = exported()
    data["ended_at"] = "2025-12-31T23:59:59Z"
    refused(tmp_path, data, "ended_at 2025-12-31T23:59:59+00:00 is before started_at")


@pytest.mark.parametrize(
    ("key", "bad", "field"),
    [
        ("value", math.nan, "series.3 (server/order_processing_p95_ms).value is nan"),
        ("value", math.inf, "series.3 (server/order_processing_p95_ms).value is inf"),
        ("second", -1.0, "series.3 (server/order_processing_p95_ms).second is -1.0"),
    ],
)
def test_series_point(tmp_path: Path, key: str, bad: float, field: str) -> None:
    data = exported()
    data["series"][3][key] = bad
    refused(tmp_path, data, field)


def test_a_valid_file_still_imports(tmp_path: Path) -> None:
    data = exported()
    # p99 above p999 within the 1e-6 relative tolerance for rounding
    data["summaries"][0]["latency"]["p99_ms"] = data["summaries"][0]["latency"]["p999_ms"] * (
        1 + 1e-7
    )
    data["series"][0]["value"] = -3.0  # only the second must not be negative
    result, store_path = import_file(tmp_path, data)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == data["id"]
    assert [r.id for r in RunStore(store_path).list_runs()] == [data["id"]]


def test_count_need_not_match_the_histogram(tmp_path: Path) -> None:
    data = exported()
    data["summaries"][0]["count"] = 5_000_000  # messages received, histogram of lags
    result, _ = import_file(tmp_path, data)
    assert result.exit_code == 0, result.output
