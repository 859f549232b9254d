"""The Regressions page: a planted step in imported runs is alerted at the right run, with its
explanation in words; the filled store and an empty store show without an exception."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from collectors.store.model import Point, Run
from collectors.store.store import RunStore
from collectors.store.summarise import summarise
from tests.dashboard.conftest import FilledStore

START = datetime(2026, 5, 1, tzinfo=UTC)
SIGMA = 0.25  # lognormal shape of one run's latencies: p99 = median * exp(2.326 * SIGMA)


def planted_runs(before: int = 12, after: int = 8, low_ms: float = 10.0, high_ms: float = 20.0,
                 seed: int = 7) -> list[Run]:  # fmt: skip
    """Orders runs an hour apart, labels v1.0, v1.1, ...: `before` runs at p99 ≈ low_ms (with a
    few % of run-to-run noise), then `after` at ≈ high_ms."""
    rng = np.random.default_rng(seed)
    runs = []
    for i in range(before + after):
        p99 = (low_ms if i < before else high_ms) * (1 + rng.normal(0, 0.03))
        median_us = p99 * 1000 / math.exp(2.326 * SIGMA)
        latency = rng.lognormal(math.log(median_us), SIGMA, 2000)
        summary, hists = summarise(
            "POST /api/v1/orders", latency, latency * 0.8, errors=0, duration_s=4.0
        )
        started = START + timedelta(hours=i)
        series = [Point("client", "latency_p99_ms", float(s), p99) for s in range(4)] + [
            Point("client", "requests_per_s", float(s), 500.0) for s in range(4)
        ]
        runs.append(
            Run(
                id=f"planted-{i:02d}-{'0' * 24}",
                kind="orders",
                profile="single",
                target="http://127.0.0.1:8080",
                label=f"v1.{i}",
                started_at=started,
                ended_at=started + timedelta(seconds=4),
                config={"rate": 500.0, "duration": 4.0, "connections": 16},
                host={"cpu_count": 2, "hostname": "lab"},
                summaries=[summary],
                series=series,
                histograms=hists,
            )
        )
    return runs


@pytest.fixture(scope="module")
def planted_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("planted") / "planted.duckdb"
    RunStore(path).write_many(planted_runs())
    return path


def _texts(at: AppTest) -> str:
    parts = [str(e.value) for kind in ("markdown", "caption", "info", "success", "warning")
             for e in getattr(at, kind)]  # fmt: skip
    return "\n".join(parts)


def test_planted_step_is_alerted_at_the_right_run(
    planted_store: Path, page: Callable[..., AppTest]
) -> None:
    at = page(planted_store, "regressions.py")
    assert not at.exception
    text = _texts(at)
    assert "**Regression**: p99 from due time" in text
    # the new level starts at the 13th run (index 12), named and linked
    step = "new level starts at [v1.12 · orders · 2026-05-01 12:00:00](/runs?run=planted-12-"
    assert step in text
    assert "why not an outlier" in text
    assert "95 % CI" in text
    assert len(at.get("plotly_chart")) >= 1
    assert any("change point" in str(s.value) for s in at.subheader)


def test_pinned_baseline_shown_at_the_top(
    planted_store: Path, tmp_path: Path, page: Callable[..., AppTest]
) -> None:
    copy = tmp_path / "pinned.duckdb"
    copy.write_bytes(planted_store.read_bytes())
    store = RunStore(copy)
    store.pin(store.resolve("planted-03"))
    at = page(copy, "regressions.py")
    assert not at.exception
    assert "Latest vs pinned baseline" in _texts(at)
    p99 = next(m for m in at.metric if m.label.startswith("p99"))
    assert p99.delta is not None and p99.delta.startswith("+")


def test_filled_store_says_histories_are_too_short(
    filled_store: FilledStore, page: Callable[..., AppTest]
) -> None:
    at = page(filled_store.path, "regressions.py")
    assert not at.exception
    assert at.title[0].value == "Regressions"
    assert "the detector needs 8 runs" in _texts(at)


def test_kind_filter(filled_store: FilledStore, page: Callable[..., AppTest]) -> None:
    at = page(filled_store.path, "regressions.py")
    at.selectbox(key="reg_kind").select("db").run()
    assert not at.exception
    text = _texts(at)
    assert "db · " in text and "orders · " not in text.split("Too short")[-1]


def test_empty_store(tmp_path: Path, page: Callable[..., AppTest]) -> None:
    at = page(tmp_path / "empty.duckdb", "regressions.py")
    assert not at.exception
    assert "No runs in" in at.info[0].value
