"""planning.ramp on literal summaries: load by Little's law or connections, and the best rate
measured, which never comes from a run that is not trusted or that missed the p99 target."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from planning.ramp import ramp_from_steps, ramp_from_summaries


def head(run_id: str, rate: float, mean_ms: float, p99_ms: float, *, trusted: bool = True,
         service_mean_ms: float | None = None, count: int = 1000) -> dict[str, Any]:  # fmt: skip
    return {
        "run_id": run_id,
        "label": "v1",
        "trusted": trusted,
        "name": "POST /api/v1/orders",
        "count": count,
        "throughput_per_s": rate,
        "latency_mean_ms": mean_ms,
        "latency_p99_ms": p99_ms,
        "service_mean_ms": service_mean_ms,
    }


def configs(**rates: float) -> dict[str, dict[str, object]]:
    return {run: {"rate": rate, "connections": 16} for run, rate in rates.items()}


def test_inflight_load_is_littles_law_on_the_service_time():
    summaries = pd.DataFrame([head("a", 200.0, mean_ms=9.0, p99_ms=10.0, service_mean_ms=5.0),
                              head("b", 400.0, mean_ms=6.0, p99_ms=10.0)])  # fmt: skip
    ramp = ramp_from_summaries(summaries, configs(a=200, b=400))
    by_run = {p.run_id: p for p in ramp.points_by_run}
    assert by_run["a"].load == pytest.approx(200 * 5.0 / 1000)  # the service view when there is one
    assert by_run["b"].load == pytest.approx(400 * 6.0 / 1000)  # the due-time view otherwise
    assert "Little's law" in ramp.load_words
    assert ramp.points.load == pytest.approx((1.0, 2.4))
    assert ramp.points.throughput == (200.0, 400.0)


def test_throughput_counts_orders_in_batches_and_offered_rate_comes_from_the_config():
    summaries = pd.DataFrame([head("a", 10.0, mean_ms=4.0, p99_ms=5.0)])
    ramp = ramp_from_summaries(summaries, {"a": {"rate": 1000, "batch_size": 100}})
    (point,) = ramp.points_by_run
    assert point.throughput_per_s == 1000.0
    assert point.offered_per_s == 1000.0
    assert point.load == pytest.approx(10.0 * 4.0 / 1000)


def test_connections_load_is_the_configured_count():
    summaries = pd.DataFrame([head("a", 100.0, 2.0, 3.0), head("b", 150.0, 2.0, 3.0)])
    ramp = ramp_from_summaries(summaries, {"a": {"connections": 4}, "b": {"connections": 8}},
                               load="connections")  # fmt: skip
    assert [p.load for p in ramp.points_by_run] == [4.0, 8.0]
    assert ramp.load_words == "the run's connection count"


def test_the_headline_is_the_summary_with_most_requests():
    summaries = pd.DataFrame([head("a", 5.0, 1.0, 99.0, count=10), head("a", 300.0, 2.0, 3.0)])
    (point,) = ramp_from_summaries(summaries, configs(a=300)).points_by_run
    assert point.throughput_per_s == 300.0 and point.p99_ms == 3.0


def test_best_excludes_untrusted_runs_and_p99_misses():
    summaries = pd.DataFrame([
        head("ok-slow", 200.0, 2.0, 10.0),
        head("ok-fast", 400.0, 2.0, 20.0),
        head("missed", 600.0, 3.0, 40.0),
        head("untrusted", 800.0, 3.0, 10.0, trusted=False),
    ])  # fmt: skip
    ramp = ramp_from_summaries(summaries, configs(**{"ok-slow": 200, "ok-fast": 400,
                                                      "missed": 600, "untrusted": 800}),
                               p99_target_ms=25.0)  # fmt: skip
    assert ramp.best is not None and ramp.best.run_id == "ok-fast"
    by_run = {p.run_id: p for p in ramp.points_by_run}
    assert not by_run["missed"].met_p99 and by_run["untrusted"].met_p99
    # untrusted runs still give points for the fit
    assert len(ramp.points) == 4


def test_no_trusted_run_met_the_target():
    summaries = pd.DataFrame(
        [head("a", 100.0, 2.0, 30.0), head("b", 200.0, 2.0, 3.0, trusted=False)]
    )
    assert ramp_from_summaries(summaries, configs(a=100, b=200)).best is None


def test_a_run_without_throughput_is_skipped_from_the_fit():
    summaries = pd.DataFrame([head("a", 0.0, 2.0, 3.0), head("b", 100.0, 2.0, 3.0)])
    ramp = ramp_from_summaries(summaries, configs(a=10, b=100))
    assert ramp.skipped == ("a: no throughput or no load to place it",)
    assert len(ramp.points) == 1


def test_no_runs_an_empty_ramp():
    ramp = ramp_from_summaries(pd.DataFrame(), {})
    assert ramp.points_by_run == () and ramp.best is None and len(ramp.points) == 0


def step(name: str, rate: float, completed: float | None, mean_ms: float | None,
         p99_ms: float, *, achieved: float | None = None,
         p50_ms: float | None = None) -> dict[str, Any]:  # fmt: skip
    return {"name": name, "rate_to": rate, "completed_rps": completed, "achieved_rate": achieved,
            "mean_ms": mean_ms, "p50_ms": p50_ms, "p99_ms": p99_ms}  # fmt: skip


def test_the_steps_of_a_stress_run_are_a_ramp():
    steps = pd.DataFrame([
        step("step 1", 100.0, 100.0, 2.0, 5.0),
        step("step 2", 200.0, 198.0, 4.0, 20.0),
        step("step 3", 300.0, None, None, 60.0, achieved=250.0, p50_ms=8.0),
    ])  # fmt: skip
    ramp = ramp_from_steps(steps, "run-1", trusted=True, p99_target_ms=25.0)
    assert [p.label for p in ramp.points_by_run] == ["step 1", "step 2", "step 3"]
    assert [p.load for p in ramp.points_by_run] == pytest.approx([0.2, 0.792, 2.0])
    assert [p.offered_per_s for p in ramp.points_by_run] == [100.0, 200.0, 300.0]
    # the highest step within the p99 target, not the fastest one
    assert ramp.best is not None and ramp.best.label == "step 2"
    assert ramp.points.throughput == (100.0, 198.0, 250.0)
    assert {p.run_id for p in ramp.points_by_run} == {"run-1"}


def test_steps_of_an_untrusted_run_never_give_the_best_rate():
    steps = pd.DataFrame([step("step 1", 100.0, 100.0, 2.0, 5.0),
                          step("step 2", 200.0, 0.0, 0.0, 5.0)])  # fmt: skip
    ramp = ramp_from_steps(steps, "run-2", trusted=False)
    assert ramp.best is None
    assert ramp.skipped == ("step 2: no throughput or no latency to place it",)
    assert len(ramp.points) == 1
