"""Histograms: vectorised recording matches HdrHistogram's own; merged percentiles."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from collectors.store import RunStore, StoreError
from collectors.store import histograms as hg
from collectors.store.samples import sample_run
from collectors.store.summarise import summarise


def test_record_us_matches_record_value() -> None:
    values = np.random.default_rng(3).lognormal(7, 2, 5000)
    vectorised = hg.new_histogram()
    hg.record_us(vectorised, values)
    one_by_one = hg.new_histogram()
    for v in values:
        one_by_one.record_value(int(np.clip(np.rint(v), hg.LOWEST_US, hg.HIGHEST_US)))
    assert hg.encode(vectorised) == hg.encode(one_by_one)
    assert vectorised.get_total_count() == 5000
    assert hg.decode(hg.encode(vectorised)).get_value_at_percentile(99) == (
        one_by_one.get_value_at_percentile(99)
    )


def test_merged_p99_is_the_pooled_p99_not_the_average(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    fast = rng.normal(1000, 50, 20_000).clip(1)  # ~1 ms
    slow = rng.normal(50_000, 2_000, 2_000).clip(1)  # ~50 ms, fewer requests
    store = RunStore(tmp_path / "runs.duckdb")
    ids = []
    for seed, samples in ((1, fast), (2, slow)):
        summary, hists = summarise("orders", samples, None, errors=0, duration_s=10)
        run = sample_run(seed=seed)
        run = dataclasses.replace(run, summaries=[summary], histograms=hists)
        ids.append(store.write(run))

    merged = store.merged_percentiles(ids, "orders", "latency", [99, 50])
    pooled_p99_ms = float(np.percentile(np.concatenate([fast, slow]), 99)) / 1000
    assert merged[99.0] == pytest.approx(pooled_p99_ms, rel=2e-3)
    p99s = [store.get(i).summaries[0].latency.p99_ms for i in ids]
    average = sum(p99s) / 2
    assert abs(merged[99.0] - average) > 0.1 * average
    assert merged[50.0] == pytest.approx(1.0, rel=0.01)


def test_merged_percentiles_of_an_unknown_name_fail(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.duckdb")
    run_id = store.write(sample_run())
    with pytest.raises(StoreError, match="no latency histogram"):
        store.merged_percentiles([run_id], "nope", "latency", [99])


def test_percentiles_match_get_value_at_percentile() -> None:
    h = hg.new_histogram()
    hg.record_us(h, np.random.default_rng(5).pareto(1.5, 3000) * 1000 + 1)
    wanted = [0, 1, 25, 50, 90, 99, 99.9, 100]
    assert hg.percentiles_ms(h, wanted) == {
        float(p): h.get_value_at_percentile(p) / 1000.0 for p in wanted
    }
    assert hg.percentiles_ms(hg.new_histogram(), [99]) == {99.0: 0.0}
