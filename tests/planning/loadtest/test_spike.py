"""Spike verdicts: recovery on a constructed series, queue depth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from common.loadtest_terms import Definitions
from planning.loadtest.measures import LoadTestMeasures
from planning.loadtest.verdicts import judge
from planning.slo import SloConfig
from tests.planning.loadtest.factories import invariants, measures, series, stage

# base 0-10 s, spike 1 10-13 s, base 13-30 s, spike 2 30-33 s, base 33-50 s (x scale)
SPIKES = ((10, 13), (30, 33))


def spike_run(
    slow_after: Sequence[int] = (4, 7),
    *,
    scale: float = 1.0,
    errors_at: Sequence[int] = (),
    **overrides: object,
) -> LoadTestMeasures:
    """p99 200 ms during each spike and for `slow_after[k]` seconds after it, else 10 ms."""
    p99 = [10.0] * 50
    for (start, end), slow in zip(SPIKES, slow_after, strict=True):
        for t in range(start, min(end + slow, 50)):
            p99[t] = 200.0
    errors = [5 if t in errors_at else 0 for t in range(50)]
    stages = [
        stage("base", 0, 10 * scale, 100),
        stage("spike", 10 * scale, 13 * scale, 1000, index=1),
        stage("base", 13 * scale, 30 * scale, 100),
        stage("spike", 30 * scale, 33 * scale, 1000, index=2),
        stage("base", 33 * scale, 50 * scale, 100),
    ]
    windows = series(p99, window_s=scale, requests=100, errors=errors)
    return measures("spike", stages, windows, scale=scale, **overrides)


def test_recovery_is_the_worst_spike(slos: SloConfig, terms: Definitions) -> None:
    v = judge(slos, terms, spike_run((4, 7))).named("recovery")
    assert v is not None
    assert (v.status, v.observed, v.target) == ("met", 7.0, "<= 30 s after each spike")
    assert "worst spike 2: 7 s after its end" in v.reason
    assert "each: spike 1 4 s, spike 2 7 s" in v.reason
    assert "10 windows (10 s) in a row with p99 < 25 ms and errors < 0.1 %" in v.reason


def test_errors_delay_the_recovery(slos: SloConfig, terms: Definitions) -> None:
    # spike 1 is fast again at 17 s but errs at 18 s: the stretch starts at 19 s
    v = judge(slos, terms, spike_run((4, 0), errors_at=(18,))).named("recovery")
    assert v is not None and v.observed == 6.0


def test_a_spike_never_recovered(slos: SloConfig, terms: Definitions) -> None:
    # after spike 2 only 9 fast windows remain before the end: not the 10 needed
    v = judge(slos, terms, spike_run((4, 8))).named("recovery")
    assert v is not None and v.status == "missed"
    assert v.observed == "not recovered within 17 s (spike 2)"
    assert "recovered: spike 1 4 s" in v.reason


def test_recovery_missed_past_the_target(slos: SloConfig, terms: Definitions) -> None:
    # scaled x0.1 the target is 3 s and 10 s of windows is 10 windows of 0.1 s
    v = judge(slos, terms, spike_run((4, 7), scale=0.1)).named("recovery")
    assert v is not None
    assert v.target == "<= 3 s after each spike"
    assert v.status == "met" and v.observed == 0.7
    assert v.reason.startswith("scaled x0.1: recovered = 10 windows (1 s) in a row")
    # the same run read as scaled x0.02: the target is 0.6 s, the spike recovered in 0.7 s
    v = judge(slos, terms, replace(spike_run((4, 7), scale=0.1), scale=0.02)).named("recovery")
    assert v is not None and v.target == "<= 0.6 s after each spike"
    assert v.status == "missed"  # 0.7 s > 0.6 s


def test_queue_depth(slos: SloConfig, terms: Definitions) -> None:
    v = judge(slos, terms, spike_run()).named("queue depth")
    assert v is not None and v.status == "not measured"
    drained = tuple((float(t), 5000.0 if t in (11, 12, 31, 32) else 20.0) for t in range(50))
    v = judge(slos, terms, spike_run(queue_depth=drained)).named("queue depth")
    assert v is not None and (v.status, v.observed) == ("met", 5000.0)
    full = tuple((t, 12_000.0 if t == 12 else d) for t, d in drained)
    v = judge(slos, terms, spike_run(queue_depth=full)).named("queue depth")
    assert v is not None and v.status == "missed" and "peaked at 12,000" in v.reason
    # still 2,000 deep at the end of spike 1's recovery window (the next spike at 30 s)
    stuck = tuple((t, 2000.0 if 13 <= t <= 30 else d) for t, d in drained)
    v = judge(slos, terms, spike_run(queue_depth=stuck)).named("queue depth")
    assert v is not None and v.status == "missed"
    assert "2,000 at 17 s after spike 1" in v.reason


def test_spike_corruption(slos: SloConfig, terms: Definitions) -> None:
    v = judge(slos, terms, spike_run()).named("data corruption")
    assert v is not None and v.status == "not measured"
    v = judge(slos, terms, spike_run(invariants=invariants())).named("data corruption")
    assert v is not None and v.status == "met"


def test_spike_verdicts_golden(slos: SloConfig, terms: Definitions) -> None:
    queue = tuple((float(t), 5000.0 if t in (11, 12, 31, 32) else 20.0) for t in range(50))
    m = spike_run((4, 7), queue_depth=queue, invariants=invariants())
    assert judge(slos, terms, m).to_json() == [
        {
            "name": "recovery",
            "target": "<= 30 s after each spike",
            "observed": 7.0,
            "status": "met",
            "reason": "recovered = 10 windows (10 s) in a row with p99 < 25 ms and errors "
            "< 0.1 % (baseline's targets); worst spike 2: 7 s after its end meets <= 30 s "
            "after each spike (each: spike 1 4 s, spike 2 7 s)",
        },
        {
            "name": "data corruption",
            "target": "0 failed invariants, no crossed book",
            "observed": 0,
            "status": "met",
            "reason": "all 4 invariants held (orders_present, funds_conserved, "
            "no_negative_balance, no_overfill); no orderbook answer showed a crossed book",
        },
        {
            "name": "queue depth",
            "target": "peak < 10,000; < 1,000 by each recovery window's end",
            "observed": 5000.0,
            "status": "met",
            "reason": "manageable = the queue (pending writes + requests in flight) peaks "
            "under 10,000 and is under 1,000 (10 %) by the end of each spike's recovery "
            "window: peak 5,000",
        },
    ]
