"""The Compare page on real runs: defaults (baseline, previous run), `?a=&b=`, the differences
that matter in words, both charts, what else changed; an empty store and a bad id."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from collectors.store import frames
from collectors.store.store import RunStore
from planning.compare import Distribution
from tests.dashboard.conftest import FilledStore
from tests.dashboard.test_regressions_page import planted_runs


def _texts(at: AppTest) -> str:
    parts = [str(e.value) for kind in ("markdown", "caption", "info", "success", "warning")
             for e in getattr(at, kind)]  # fmt: skip
    return "\n".join(parts)


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    path = tmp_path / "planted.duckdb"
    RunStore(path).write_many(planted_runs())
    return path


def test_two_orders_runs_by_url(filled_store: FilledStore, page: Callable[..., AppTest]) -> None:
    a, b = filled_store.ramp[0], filled_store.v2
    at = page(filled_store.path, "compare.py", query={"a": a, "b": b})
    assert not at.exception
    assert at.selectbox(key="cmp_a").value == a
    assert at.selectbox(key="cmp_b").value == b
    assert len(at.get("plotly_chart")) == 2  # seconds aligned, distributions overlaid
    table = at.dataframe[0].value
    assert "p99 from due time" in set(table["figure"])
    assert {"throughput", "error rate"} <= set(table["figure"])
    changed = at.dataframe[1].value
    assert ("run", "label", "v1", "v2") in set(
        changed[["area", "key", "A", "B"]].itertuples(index=False, name=None)
    )
    assert "config" in set(changed["area"])  # the rate differs (150 vs 300)


def test_default_is_the_previous_run_when_none_is_pinned(
    planted: Path, page: Callable[..., AppTest]
) -> None:
    at = page(planted, "compare.py")
    assert not at.exception
    assert at.selectbox(key="cmp_b").value.startswith("planted-19")
    assert at.selectbox(key="cmp_a").value.startswith("planted-18")
    assert "earlier run of its kind and profile" in _texts(at)


def test_default_is_the_pinned_baseline_and_the_step_matters(
    planted: Path, page: Callable[..., AppTest]
) -> None:
    store = RunStore(planted)
    store.pin(store.resolve("planted-03"))
    at = page(planted, "compare.py")
    assert not at.exception
    assert at.selectbox(key="cmp_a").value.startswith("planted-03")
    text = _texts(at)
    assert "pinned baseline" in text
    assert ":red[**worse**]: p99 from due time" in text
    assert "95 % CI" in text


def test_same_run_twice_and_a_bad_id(
    filled_store: FilledStore, page: Callable[..., AppTest]
) -> None:
    at = page(filled_store.path, "compare.py", query={"a": "nosuchrun-000", "b": filled_store.v2})
    assert not at.exception
    assert any("nosuchrun-000" in w.value for w in at.warning)
    at = page(filled_store.path, "compare.py", query={"a": filled_store.v2, "b": filled_store.v2})
    assert not at.exception
    assert any("same run" in i.value for i in at.info)


def test_runs_with_nothing_in_common(
    filled_store: FilledStore, page: Callable[..., AppTest]
) -> None:
    at = page(filled_store.path, "compare.py", query={"a": filled_store.db, "b": filled_store.v2})
    assert not at.exception
    assert "share no summary" in _texts(at)


def test_empty_store(tmp_path: Path, page: Callable[..., AppTest]) -> None:
    at = page(tmp_path / "empty.duckdb", "compare.py")
    assert not at.exception
    assert "No runs in" in at.info[0].value


def test_histogram_buckets_give_the_stored_percentiles(filled_store: FilledStore) -> None:
    store = RunStore(filled_store.path)
    run_id = filled_store.v2
    buckets = frames.histogram_buckets(store, run_id)
    summ = frames.summaries(store, frames.RunFilter(run_ids=(run_id,))).iloc[0]
    part = buckets[(buckets["name"] == summ["name"]) & (buckets["view"] == "latency")]
    dist = Distribution.of(part["value_us"], part["count"])
    assert dist.total == summ["count"]
    assert dist.quantile_ms(99) == pytest.approx(summ["latency_p99_ms"])
    assert dist.quantile_ms(50) == pytest.approx(summ["latency_p50_ms"])


def test_default_pair_shares_a_kind_and_profile(
    filled_store: FilledStore, page: Callable[..., AppTest]
) -> None:
    # the newest runs of the filled store are a db and a market-data run, each alone of its
    # kind: the default pair is the newest orders run against the orders run before it
    at = page(filled_store.path, "compare.py")
    assert not at.exception
    a, b = at.selectbox(key="cmp_a").value, at.selectbox(key="cmp_b").value
    assert (a, b) == (filled_store.ramp[-1], filled_store.v2)
