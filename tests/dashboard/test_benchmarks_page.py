"""The Benchmarks page: a section per kind in the store (trends and the latest figures), a hint
with the command for each kind not measured yet; an empty store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import FilledStore


def test_sections_of_the_filled_store(
    filled_store: FilledStore, page: Callable[..., AppTest]
) -> None:
    at = page(filled_store.path, "benchmarks.py")
    assert not at.exception
    heads = [s.value for s in at.subheader]
    assert heads[:3] == ["Orders", "Database", "Market data"]
    assert "Not measured yet" in heads
    assert len(at.get("plotly_chart")) == 6  # p99 and throughput per kind
    tables = [d.value for d in at.dataframe]
    db_table = tables[1]
    assert len(db_table) == 5  # one row per query type
    assert "order_book" in set(db_table["name"])
    hints = "\n".join(m.value for m in at.markdown)
    assert "pincex bench ws-connections" in hints
    assert "does not keep runs yet" in hints


def test_empty_store(tmp_path: Path, page: Callable[..., AppTest]) -> None:
    at = page(tmp_path / "empty.duckdb", "benchmarks.py")
    assert not at.exception
    assert "No runs in" in at.info[0].value
