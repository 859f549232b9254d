"""A store made by schema version 1 opens with the current code and keeps its runs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from collectors.store import RunStore, StoreError
from collectors.store.migrations import current_version, latest_version, migrate
from collectors.store.samples import sample_run


def v1_store(path: Path) -> str:
    """A store at version 1 holding one run, written with the v1 shape in raw SQL."""
    run = sample_run(samples=200, seconds=2)
    lat = run.summaries[0].latency
    con = duckdb.connect(str(path))
    try:
        assert migrate(con, upto=1) == 1
        con.execute(
            "INSERT INTO runs VALUES ('old-run', 'orders', 'smoke', 'http://x', 'v0.9', "
            "TIMESTAMP '2025-12-01 10:00:00', TIMESTAMP '2025-12-01 10:05:00', 'complete', "
            "'{\"rate\": 5}', '{\"cpu_count\": 2}', '[\"legacy\"]', true, 1, 2, 1, 1, "
            "TIMESTAMP '2025-12-01 10:05:01')"
        )
        con.execute(
            "INSERT INTO summaries VALUES ('old-run', 0, 'orders', 200, 1, 0.66, "
            "?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
            list(vars(lat).values()),
        )
        con.execute(
            "INSERT INTO series VALUES ('old-run', 0, 'client', 'requests_per_s', 0, 1.0), "
            "('old-run', 1, 'client', 'requests_per_s', 1, 2.0)"
        )
        con.execute(
            "INSERT INTO histograms VALUES ('old-run', 0, 'orders', 'latency', ?)",
            [run.histograms[0].encoded],
        )
        con.execute("INSERT INTO warnings VALUES ('old-run', 0, 'written by v1')")
        assert current_version(con) == 1
    finally:
        con.close()
    return "old-run"


def test_v1_store_upgrades_without_losing_a_run(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    run_id = v1_store(path)
    store = RunStore(path)

    run = store.get(run_id)
    assert run.label == "v0.9"
    assert run.config == {"rate": 5} and run.tags == ["legacy"]
    assert run.notes == ""
    assert run.summaries[0].count == 200 and run.summaries[0].service is None
    assert [p.value for p in run.series] == [1.0, 2.0]
    assert run.warnings == ["written by v1"]
    assert store.merged_percentiles([run_id], "orders", "latency", [50])[50.0] > 0

    con = duckdb.connect(str(path), read_only=True)
    try:
        assert current_version(con) == latest_version() == 3
        columns = {r[0] for r in con.execute("DESCRIBE runs").fetchall()}
        assert "notes" in columns
    finally:
        con.close()

    new = sample_run(seed=9)
    store.write(new)
    assert store.get(new.id) == new
    assert {r.id for r in store.list_runs()} == {run_id, new.id}


def test_a_store_from_newer_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    RunStore(path).create()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version VALUES (99, now()::TIMESTAMP)")
    con.close()
    with pytest.raises(StoreError, match="newer"):
        RunStore(path).list_runs()
    with pytest.raises(StoreError, match="newer"):
        RunStore(path).write(sample_run())
