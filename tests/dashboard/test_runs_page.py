"""The Runs page through Streamlit's AppTest on real runs: the filtered history, the trend of a
figure, one run's detail (trust in words, charts, SLO verdicts), a bad id; and the trend chart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.charts.trend import figure_column, figure_title, trend
from tests.dashboard.conftest import RAMP_RATES, FilledStore


def listing(at: AppTest) -> pd.DataFrame:
    """The history table (the dataframe with a `detail` link per run)."""
    return next(df.value for df in at.dataframe if "detail" in df.value.columns)


def texts(at: AppTest) -> str:
    """Every caption, markdown, notice and error of the page, joined."""
    parts = [*at.caption, *at.markdown, *at.success, *at.warning, *at.info, *at.error]
    return "\n".join(str(p.value) for p in parts)


def test_history_lists_every_run_newest_first(
    filled_store: FilledStore, page: Callable[..., AppTest]
) -> None:
    at = page(filled_store.path, "runs.py")
    assert not at.exception
    frame = listing(at)
    assert len(frame) == 7
    assert "7 of 7 runs match" in texts(at)
    assert frame["detail"].iloc[0] == f"runs?run={filled_store.db}"  # the db run came last
    assert all(" · " in title for title in frame["run"])  # label · kind · start
    assert at.get("plotly_chart")  # the trend of the most common summary


def test_filters_narrow_the_history(
    filled_store: FilledStore, page: Callable[..., AppTest]
) -> None:
    at = page(filled_store.path, "runs.py")
    at.selectbox(key="runs_label").set_value("v1").run()
    assert not at.exception
    assert len(listing(at)) == len(RAMP_RATES)
    assert set(listing(at)["label"]) == {"v1"}
    assert f"{len(RAMP_RATES)} of 7 runs match" in texts(at)
    at.selectbox(key="runs_label").set_value("any")
    at.selectbox(key="runs_kind").set_value("db").run()
    assert list(listing(at)["detail"]) == [f"runs?run={filled_store.db}"]
    at.selectbox(key="runs_kind").set_value("any")
    at.selectbox(key="runs_tag").set_value("ramp").run()
    assert len(listing(at)) == len(RAMP_RATES)
    long_ago = date.today() - timedelta(days=3 * 365)  # within the picker's ten years
    at.date_input(key="runs_dates").set_value((long_ago, long_ago + timedelta(days=1))).run()
    assert not at.exception
    assert "no run matches" in texts(at)


def test_trend_pickers(filled_store: FilledStore, page: Callable[..., AppTest]) -> None:
    at = page(filled_store.path, "runs.py")
    at.radio(key="trend_view").set_value("service").run()
    assert not at.exception and at.get("plotly_chart")
    at.radio(key="trend_figure").set_value("throughput").run()
    assert not at.exception and at.get("plotly_chart")
    at.toggle(key="trend_order").set_value(True).run()
    assert not at.exception and at.get("plotly_chart")


@pytest.mark.parametrize("prefix", [False, True])
def test_one_run_in_detail(
    filled_store: FilledStore, page: Callable[..., AppTest], prefix: bool
) -> None:
    run_id = filled_store.ramp[-1]
    at = page(filled_store.path, "runs.py", query={"run": run_id[:8] if prefix else run_id})
    assert not at.exception
    assert not at.error
    words = [*at.success, *at.warning]
    assert words and ("Trusted" in words[0].value or "Not trusted" in words[0].value)
    assert run_id in texts(at)  # the id, in the run's detail only
    assert f"pincex runs pin {run_id}" in texts(at)
    assert len(at.get("plotly_chart")) >= 4  # load, latency, distribution, errors, resources
    slo = next(df.value for df in at.dataframe if "how" in df.value.columns)
    assert "order_processing_p99_ms" in set(slo["metric"])
    assert set(slo["status"]) <= {"✓ met", "✗ missed"}
    assert any("not measured" in e.label for e in at.expander)
    headers = [h.value for h in at.subheader]
    for section in ("SLO verdicts", "Summaries", "Warnings", "Resources"):
        assert section in headers


def test_db_run_blanks_what_it_did_not_measure(
    filled_store: FilledStore, page: Callable[..., AppTest]
) -> None:
    at = page(filled_store.path, "runs.py", query={"run": filled_store.db})
    assert not at.exception
    assert "no latency histogram" not in texts(at)  # a db run keeps histograms
    assert "one latency view only" in texts(at)  # and no service-time view


def test_an_unknown_run_is_one_error_line(
    filled_store: FilledStore, page: Callable[..., AppTest]
) -> None:
    at = page(filled_store.path, "runs.py", query={"run": "bogus"})
    assert not at.exception
    assert len(at.error) == 1 and "bogus" in at.error[0].value
    assert not at.get("plotly_chart")


def test_runs_on_an_empty_store_shows_the_guide(
    tmp_path: Path, page: Callable[..., AppTest]
) -> None:
    at = page(tmp_path / "empty.duckdb", "runs.py")
    assert not at.exception
    assert "No runs" in at.info[0].value


def _history(trusted: list[bool]) -> pd.DataFrame:
    n = len(trusted)
    return pd.DataFrame(
        {
            "run_id": [f"run-{i}" for i in range(n)],
            "kind": "orders",
            "profile": "single",
            "name": "POST /api/v1/orders",
            "label": "v1",
            "started_at": pd.date_range("2026-01-01", periods=n, freq="h"),
            "trusted": trusted,
            "latency_p99_ms": [float(i + 1) for i in range(n)],
            "service_p99_ms": [None] * n,
        }
    )


def test_trend_draws_untrusted_runs_apart() -> None:
    fig = trend(_history([True, False, True]), "latency_p99_ms", x="order")
    assert fig is not None
    line, legend = fig.data
    assert list(line.x) == [1, 2, 3]
    assert list(line.marker.symbol) == ["circle", "x-thin-open", "circle"]
    assert (
        "run-1" in line.customdata[1][2]
        and "v1 · orders · 2026-01-01 01:00:00" in line.customdata[1][0]
    )
    assert legend.name == "not trusted"


def test_trend_without_values_is_none() -> None:
    assert trend(_history([True, True]), "service_p99_ms") is None
    assert trend(_history([]), "latency_p99_ms") is None
    assert trend(_history([True]), "no_such_column") is None


def test_figure_columns() -> None:
    assert figure_column("p99.9", "service") == "service_p999_ms"
    assert figure_column("p50") == "latency_p50_ms"
    assert figure_title("latency_p999_ms") == "p99.9 from due time (ms)"
    assert figure_title("throughput_per_s") == "throughput (per s)"
