"""A write that fails part-way leaves nothing of its runs: the transaction is rolled back, not
committed (SIGKILL is tested in test_concurrency; this is an exception in the middle)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest

from collectors.store import RunStore, rows
from collectors.store.samples import sample_run

_TABLES = ("runs", "summaries", "series", "histograms", "warnings")


class DiskFull(Exception):
    pass


def _counts(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _TABLES}
    finally:
        con.close()


@pytest.fixture
def failing_table(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Make the insert into `failing["table"]` raise, after the tables before it were written."""
    failing = {"table": ""}
    real = rows._insert_columns

    def insert(con: Any, table: str, columns: Sequence[str], data: list[list[Any]]) -> None:
        if table == failing["table"]:
            raise DiskFull(f"no space left while writing {table}")
        real(con, table, columns, data)

    monkeypatch.setattr(rows, "_insert_columns", insert)
    return failing


@pytest.mark.parametrize("table", ["summaries", "histograms", "warnings"])
def test_an_insert_failing_on_a_later_table_stores_nothing_of_the_run(
    tmp_path: Path, failing_table: dict[str, str], table: str
) -> None:
    path = tmp_path / "runs.duckdb"
    store = RunStore(path)
    kept = sample_run(seed=1, status="partial")
    store.write(kept)
    before = _counts(path)
    assert all(before.values()), before  # every table holds the first run

    failing_table["table"] = table
    failed = sample_run(seed=2, status="partial")
    other = sample_run(seed=3, status="partial")
    with pytest.raises(DiskFull):
        store.write_many([failed, other])

    assert _counts(path) == before
    assert [r.id for r in store.list_runs()] == [kept.id]
    assert store.get(kept.id) == kept

    failing_table["table"] = ""  # the store is whole: the same runs can be written now
    store.write_many([failed, other])
    assert store.get(failed.id) == failed and store.get(other.id) == other
