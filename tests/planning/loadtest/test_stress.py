"""Stress verdicts: the knee (max capacity), graceful degradation, error handling."""

from __future__ import annotations

from collections.abc import Sequence

from common.loadtest_terms import Definitions
from planning.loadtest.measures import LoadTestMeasures
from planning.loadtest.verdicts import judge
from planning.slo import SloConfig
from tests.planning.loadtest.factories import measures, series, stage


def stress_run(
    steps: Sequence[tuple[float, float, float, int]], **overrides: object
) -> LoadTestMeasures:
    """Steps of 10 s: (rate, p95, p99, errors) each."""
    stages = [
        stage("step", 10 * k, 10 * (k + 1), rate, index=k + 1, p95=p95, p99=p99, errors=errors)
        for k, (rate, p95, p99, errors) in enumerate(steps)
    ]
    return measures("stress", stages, series([5.0] * (10 * len(steps))), **overrides)


KNEE = [(100, 3, 8, 0), (200, 4, 12, 0), (300, 9, 24, 0), (400, 30, 80, 0), (500, 90, 300, 40)]


def test_max_capacity_is_the_highest_step_meeting_the_baseline(
    slos: SloConfig, terms: Definitions
) -> None:
    v = judge(slos, terms, stress_run(KNEE)).named("max capacity")
    assert v is not None
    assert v.status == "met"
    assert v.observed == "300 req/s (step 3 of 5)"
    assert v.target == "highest step meeting baseline's p95 < 10 ms, p99 < 25 ms, errors < 0.1 %"
    assert "step 4 missed p95 30 ms (target < 10), p99 80 ms (target < 25)" in v.reason


def test_a_recovering_step_above_the_knee_counts(slos: SloConfig, terms: Definitions) -> None:
    steps = [(100, 3, 8, 0), (200, 30, 80, 0), (300, 4, 9, 0)]
    v = judge(slos, terms, stress_run(steps)).named("max capacity")
    assert v is not None and v.observed == "300 req/s (step 3 of 3)"
    assert "the top step met them" in v.reason


def test_no_step_met_is_not_measured(slos: SloConfig, terms: Definitions) -> None:
    steps = [(100, 30, 80, 0), (200, 40, 90, 0)]
    m = stress_run(steps, stopped_early_after="step 2")
    v = judge(slos, terms, m).named("max capacity")
    assert v is not None and v.status == "not measured" and v.observed is None
    assert "no step met them; the lowest, step 1 at 100 req/s, missed p95 30 ms" in v.reason
    assert "stopped early after step 2" in v.reason


def test_the_capacity_profile_is_the_measures(slos: SloConfig, terms: Definitions) -> None:
    # against peak's targets (p95 < 50, p99 < 100, errors < 1 %) step 4 passes
    m = stress_run(KNEE, capacity_profile="peak")
    v = judge(slos, terms, m).named("max capacity")
    assert v is not None and v.observed == "400 req/s (step 4 of 5)"


def test_graceful_degradation(slos: SloConfig, terms: Definitions) -> None:
    ok = stress_run(KNEE, refusals=40, refusals_with_retry_after=40)
    v = judge(slos, terms, ok).named("graceful degradation")
    assert v is not None and v.status == "met"
    assert v.observed == "40 refusals (40 with Retry-After), 0 timeouts, 0 other 5xx"
    bad = stress_run(
        KNEE,
        refusals=40,
        refusals_with_retry_after=30,
        timeouts=2,
        other_5xx=5,
        status_counts={"200": 100, "500": 4, "502": 1, "503": 10},
    )
    v = judge(slos, terms, bad).named("graceful degradation")
    assert v is not None and v.status == "missed"
    assert "10 of 40 refusals without Retry-After" in v.reason
    assert "2 requests timed out (no answer within 10 s)" in v.reason
    assert "5 other 5xx answers (4 × 500, 1 × 502)" in v.reason


def test_error_handling(slos: SloConfig, terms: Definitions) -> None:
    v = judge(slos, terms, stress_run(KNEE)).named("error handling")
    assert v is not None and v.status == "met"
    m = stress_run(KNEE, status_counts={"200": 100, "0": 3}, timeouts=1)
    v = judge(slos, terms, m).named("error handling")
    assert v is not None and v.status == "missed"
    assert v.observed == f"3 of {m.requests:,} unanswered"
