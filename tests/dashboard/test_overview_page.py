"""The Overview page through Streamlit's AppTest: the three target tables with the latest
verdicts of real runs, the latest runs, regressions and baselines; an empty store's guide."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from collectors.store import RunStore
from planning.slo import load_config
from tests.dashboard.conftest import FilledStore


def frames_with(at: AppTest, column: str) -> list[pd.DataFrame]:
    """The values of the page's dataframes that have `column`."""
    return [df.value for df in at.dataframe if column in df.value.columns]


def test_overview_shows_the_three_target_tables(
    filled_store: FilledStore, page: Callable[..., AppTest]
) -> None:
    at = page(filled_store.path, "overview.py")
    assert not at.exception
    tables = load_config().tables
    headers = [h.value for h in at.subheader]
    for table in tables.values():
        assert table.title in headers
    verdicts = frames_with(at, "metric")
    assert len(verdicts) == len(tables)
    for frame, table in zip(verdicts, tables.values(), strict=True):
        assert list(frame["metric"]) == [s.metric for s in table.slos]
    engine = verdicts[0].set_index("metric")
    p99 = engine.loc["order_processing_p99_ms"]
    value, unit = p99["observed"].split()
    assert math.isfinite(float(value)) and unit == "ms"
    assert p99["status"] in ("✓ met", "✗ missed")
    assert "orders" in p99["run"]  # label · kind · start of the run it came from
    # the fixture's short runs have too few samples for a trusted p99: said beside the verdict
    assert p99["trust"] == "⚠ not trusted"
    statuses = pd.concat(verdicts)["status"]
    assert (statuses == "✓ met").any()
    # the throughput targets cannot be shown by a 300 orders/s run: not measured, with why
    throughput = engine.loc["order_throughput_per_second"]
    assert throughput["status"] == "– not measured"
    assert "below" in throughput["how measured / why not"]
    assert throughput["observed"] == throughput["margin"] == "—"
    # a count per table
    assert any("met" in m.value and "not measured" in m.value for m in at.markdown)


def test_overview_lists_latest_runs_and_baselines(
    filled_store: FilledStore, page: Callable[..., AppTest]
) -> None:
    at = page(filled_store.path, "overview.py")
    latest = frames_with(at, "headline")
    assert len(latest) == 1
    frame = latest[0]
    assert sorted(frame["kind"]) == ["db", "market-data", "orders"]
    orders = frame[frame["kind"] == "orders"].iloc[0]
    assert orders["detail"] == f"runs?run={filled_store.v2}"
    assert math.isfinite(orders["p99_ms"]) and orders["throughput_per_s"] > 0
    # a db run's summaries are query types: its headline is all of them together
    db = frame[frame["kind"] == "db"].iloc[0]
    overall = RunStore(filled_store.path).overall_summaries([filled_store.db])[filled_store.db]
    assert db["headline"] == "all queries"
    assert db["p99_ms"] == overall.latency.p99_ms
    assert db["throughput_per_s"] == pytest.approx(overall.throughput_per_s)
    captions = " ".join(c.value for c in at.caption)
    assert "baseline" in captions  # none pinned in the filled store: says how to pin one
    assert "Open regressions" in [h.value for h in at.subheader]


def test_overview_on_an_empty_store_shows_the_guide(
    tmp_path: Path, page: Callable[..., AppTest]
) -> None:
    store = tmp_path / "empty.duckdb"
    at = page(store, "overview.py")
    assert not at.exception
    assert "No runs" in at.info[0].value
    assert any("pincex bench orders" in m.value for m in at.markdown)
    assert not at.dataframe
    assert not store.exists()  # reading never creates the store
