"""`pincex regress detect --store` on a store of imported runs (`pincex runs import` of JSON
files with a planted step): the step is found at the run where it starts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from collectors.settings import get_settings
from collectors.store import run_to_json
from collectors.store.samples import sample_run
from pincex.cli import cli

RUNS = 20
STEP_AT = 12  # runs from here on are 30 % slower
SERIES = "orders/smoke/POST /api/v1/orders"


def pincex(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A store of RUNS imported orders runs, imported in shuffled order; ids in start order."""
    base = tmp_path_factory.mktemp("imported")
    store = base / "runs.duckdb"
    ids: list[str] = []
    files: list[Path] = []
    for i in range(RUNS):
        run = sample_run(
            kind="orders",
            label=f"v{i}",
            seed=100 + i,
            scale_us=2000.0 if i < STEP_AT else 2600.0,
            started_at=datetime(2026, 2, 1, tzinfo=UTC) + timedelta(hours=i),
        )
        ids.append(run.id)
        files.append(base / f"run-{i:02d}.json")
        files[-1].write_bytes(run_to_json(run))
    random.Random(3).shuffle(files)
    for file in files:
        result = pincex("runs", "--store", store, "import", file)
        assert result.exit_code == 0, result.output
    return store, ids


@pytest.fixture
def default_store(
    imported: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    monkeypatch.setenv("PINCEX_STORE_PATH", str(imported[0]))
    get_settings.cache_clear()
    yield imported[0]
    get_settings.cache_clear()


def test_the_planted_step_is_found_at_the_run_where_it_starts(imported):
    store, ids = imported
    result = pincex("regress", "detect", "--store", store, "--json")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert set(doc) >= {"series", "trends", "outliers", "not_enough_data", "noise"}
    for figure in ("latency_p50_ms", "latency_p95_ms", "service_p50_ms"):
        (change,) = doc["series"][f"{SERIES}/{figure}"]
        assert change["index"] == STEP_AT and change["direction"] == "regression"
        assert change["run_id"] == ids[STEP_AT]
        assert change["previous_run_id"] == ids[STEP_AT - 1]
        assert change["label"] == f"v{STEP_AT}"
    assert doc["series"][f"{SERIES}/throughput_per_s"] == []


def test_human_lines_name_the_run(imported):
    store, ids = imported
    result = pincex("regress", "detect", "--store", store)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"7 histories from {RUNS} stored runs (in start order)"
    at = lines.index(f"{SERIES}/latency_p95_ms: regression at run {STEP_AT} (8 runs since)")
    assert lines[at + 1] == f"  starts at   v{STEP_AT} · 2026-02-01 12:00:00 · {ids[STEP_AT][:8]}"
    assert (
        lines[at + 2]
        == f"  last before v{STEP_AT - 1} · 2026-02-01 11:00:00 · {ids[STEP_AT - 1][:8]}"
    )


def test_ci_fails_on_the_regression_and_filters_narrow_the_runs(imported):
    store, _ = imported
    assert pincex("regress", "detect", "--store", store, "--ci").exit_code == 1
    quiet = pincex("regress", "detect", "--store", store, "--kind", "db", "--ci")
    assert quiet.exit_code == 0 and quiet.stdout == "no stored runs match: kind db\n"
    one = pincex("regress", "detect", "--store", store, "--label", "v3", "--json")
    assert len(orjson.loads(one.stdout)["not_enough_data"]) == 7


def test_from_store_reads_the_default_store(default_store):
    result = pincex("regress", "detect", "--from-store", "--profile", "smoke", "--json")
    assert result.exit_code == 0, result.output
    assert f"{SERIES}/latency_p99_ms" in orjson.loads(result.stdout)["series"]


def one_error(result: Result, starts: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {starts}"), result.stderr


def test_bad_input_is_one_error_line(imported, tmp_path):
    store, _ = imported
    csv = tmp_path / "h.csv"
    csv.write_text("series,metric,value\ns,order_processing_p95_ms,1\n")
    one_error(pincex("regress", "detect", "--input", csv, "--store", store),
              "give one of --input, --store or --from-store, not --input and --store")  # fmt: skip
    one_error(
        pincex("regress", "detect"), "Missing option '--input' (or --store PATH, or --from-store)"
    )
    one_error(
        pincex("regress", "detect", "--input", csv, "--kind", "orders"), "--kind applies to --store"
    )
    one_error(pincex("regress", "detect", "--store", store, "--higher-is-worse", "x"),
              "--higher-is-worse/--lower-is-worse apply to --input only")  # fmt: skip
    missing = tmp_path / "none.duckdb"
    one_error(pincex("regress", "detect", "--store", missing), f"no run store at {missing}")
    assert not missing.exists()
