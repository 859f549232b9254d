"""The post-test analysis: baseline comparison from encoded histograms, the bottleneck, the
recommendations and the capacity-model check."""

from __future__ import annotations

import numpy as np
import pytest

from collectors.store import histograms
from common.loadtest_terms import Definitions
from planning.capacity import CapacityConfig
from planning.capacity import load_config as load_capacity
from planning.loadtest.analysis import analyse
from planning.loadtest.baseline import RunFigures, compare_with_baseline, distribution
from planning.loadtest.bottleneck import Bottleneck, locate
from planning.loadtest.capacity_check import CapacityCheck, CapacityCheckError, capacity_check
from planning.loadtest.measures import LoadTestMeasures
from planning.loadtest.verdict import Judging
from planning.loadtest.verdicts import judge
from planning.slo import SloConfig
from tests.planning.loadtest.factories import invariants, ramp_run
from tests.planning.loadtest.test_spike import spike_run
from tests.planning.loadtest.test_stress import KNEE, stress_run


@pytest.fixture(scope="module")
def capacity() -> CapacityConfig:
    return load_capacity()  # orders_per_pod 2,000


def _encoded(mean_ms: float, n: int = 5000, seed: int = 1) -> str:
    rng = np.random.default_rng(seed)
    h = histograms.new_histogram()
    histograms.record_us(h, rng.gamma(4.0, mean_ms * 250.0, n))
    return histograms.encode(h)


def _run(run_id: str, mean_ms: float, seed: int = 1) -> RunFigures:
    text = _encoded(mean_ms, seed=seed)
    return RunFigures(run_id, 5000, 0, 100.0, {"latency": text, "service": text})


def test_distribution_reads_as_the_store_does() -> None:
    text = _encoded(5.0)
    stored = histograms.percentiles_ms(histograms.decode(text), [50, 99, 99.9])
    d = distribution(text)
    assert d.total == 5000
    for p, value in stored.items():
        assert d.quantile_ms(p) == pytest.approx(value)


def test_comparison_names_what_moved() -> None:
    found = compare_with_baseline(_run("now", 8.0), _run("base", 5.0, seed=2), "baseline")
    assert found.baseline_run == "base"
    moved = {d.name: d for d in found.moved}
    assert moved["p99 from due time"].verdict == "worse"
    assert "throughput" not in moved  # same rate
    lines = found.lines()
    assert lines[0] == "against the pinned baseline base:"
    assert any("p99 from due time" in line and "95 % CI" in line for line in lines)
    data = found.to_json()
    assert data["baseline_run"] == "base" and "throughput" in data["unchanged"]  # type: ignore[operator]


def test_comparison_without_a_baseline() -> None:
    alone = compare_with_baseline(_run("now", 5.0), None, "peak")
    assert alone.lines() == [
        "no comparison with a baseline of peak: none is pinned (`pincex runs pin ID`)"
    ]
    itself = compare_with_baseline(_run("now", 5.0), _run("now", 5.0), "peak")
    assert itself.baseline_run is None and "this run is the pinned baseline" in itself.note
    same = compare_with_baseline(_run("now", 5.0), _run("base", 5.0, seed=1), "peak")
    assert same.moved == ()
    assert same.lines() == [
        "against the pinned baseline base: nothing moved beyond its 95 % interval and 5 %"
    ]


def _locate(slos: SloConfig, m: LoadTestMeasures, server: dict[str, float | None]) -> Bottleneck:
    terms = Definitions()
    return locate(Judging(slos, terms, m), judge(slos, terms, m), server)


def test_the_knee_below_the_cpu_target_points_at_queueing(slos: SloConfig) -> None:
    m = stress_run(KNEE, queue_depth=((1.0, 50.0), (35.0, 900.0)))
    found = _locate(slos, m, {"trading_engine_cpu_percent": 40.0, "database_lock_wait_avg_ms": 3.0})
    assert found.diagnosis.findings == ()
    assert found.knee is not None
    assert found.knee.seen == "p99 went from 24 ms at 300 req/s to 80 ms at 400 req/s"
    assert found.knee.cpu == "trading engine CPU 40 % < 70 %"
    assert found.knee.evidence == ("server queue depth peaked at 900", "database lock wait 3 ms")
    assert "pincex_pending_writes" in found.knee.investigation


def test_the_knee_at_the_cpu_target_is_the_cpu_rule(slos: SloConfig) -> None:
    found = _locate(slos, stress_run(KNEE), {"trading_engine_cpu_percent": 95.0})
    assert found.knee is None
    assert [f.issue for f in found.diagnosis.findings] == ["High CPU Usage"]


def test_no_cpu_figure_says_what_cannot_be_told(slos: SloConfig) -> None:
    found = _locate(slos, stress_run(KNEE), {})
    assert found.knee is None
    assert any("CPU was not measured" in n for n in found.notes)
    assert any("no server figures" in n for n in found.notes)
    held = _locate(slos, ramp_run(p99=30.0), {})
    assert held.notes[0].startswith("the client saw the knee (p99 latency 30 ms missed < 25 ms")
    # no knee seen: every step met the targets
    calm = stress_run([(100, 3, 8, 0), (200, 4, 9, 0)])
    assert _locate(slos, calm, {"trading_engine_cpu_percent": 40.0}).knee is None


def test_the_client_error_rate_feeds_the_diagnosis(slos: SloConfig) -> None:
    found = _locate(slos, ramp_run(errors=60), {})  # 1 % against baseline's 0.1 %
    assert [f.rule for f in found.diagnosis.findings] == ["high_error_rates"]


def _check(
    slos: SloConfig,
    capacity: CapacityConfig,
    m: LoadTestMeasures,
    pods: int = 1,
    order_share: float = 1.0,
) -> CapacityCheck:
    terms = Definitions()
    j = Judging(slos, terms, m)
    return capacity_check(j, judge(slos, terms, m), capacity, pods=pods, order_share=order_share)


def test_capacity_from_the_stress_knee(slos: SloConfig, capacity: CapacityConfig) -> None:
    knee = [(1000, 3, 8, 0), (2200, 4, 12, 0), (3000, 30, 80, 0)]
    check = _check(slos, capacity, stress_run(knee))
    assert (check.measured_per_pod, check.bound, check.update) == (2200.0, "about", False)
    assert "within 20 %" in check.reason
    check = _check(slos, capacity, stress_run(knee), order_share=0.5)  # 1,100 per pod
    assert check.update and check.difference_pct == -45.0
    assert "1,100 orders/s per pod" in check.reason and "2,000 in capacity.yaml" in check.reason
    check = _check(slos, capacity, stress_run(knee), pods=2)
    assert check.update and check.measured_per_pod == 1100.0


def test_capacity_bounds_from_the_hold(slos: SloConfig, capacity: CapacityConfig) -> None:
    # met every target at 5,000 req/s: at least 5,000 per pod, above the model's 2,000
    met = _check(slos, capacity, ramp_run(rate=5000, completed_rps=5000.0))
    assert (met.bound, met.update) == ("at least", True)
    # met at 1,000 (scaled x0.2): at least 1,000 does not contradict 2,000
    low = _check(slos, capacity, ramp_run(rate=1000, scale=0.2, completed_rps=1000.0))
    assert (low.bound, low.update) == ("at least", False)
    assert "does not contradict" in low.reason
    # missed p99 at 1,000: at most 1,000, below the model
    slow = _check(slos, capacity, ramp_run(rate=1000, scale=0.2, p99=40.0))
    assert (slow.bound, slow.update) == ("at most", True)
    assert "missed p99 latency" in slow.reason


def test_capacity_not_from_a_spike_run(slos: SloConfig, capacity: CapacityConfig) -> None:
    check = _check(slos, capacity, spike_run())
    assert check.measured_per_pod is None and not check.update
    with pytest.raises(CapacityCheckError, match="pods must be at least 1"):
        _check(slos, capacity, spike_run(), pods=0)
    with pytest.raises(CapacityCheckError, match="order share"):
        _check(slos, capacity, spike_run(), order_share=1.5)


def test_analysis_puts_it_together(slos: SloConfig, capacity: CapacityConfig) -> None:
    terms = Definitions()
    m = ramp_run(rate=1000, scale=0.2, p99=40.0, invariants=invariants("funds_conserved"))
    verdicts = judge(slos, terms, m)
    analysis = analyse(
        m,
        verdicts,
        slos,
        terms,
        capacity,
        run=_run("now", 8.0),
        baseline=_run("base", 5.0, seed=2),
        server={"trading_engine_cpu_percent": 92.0},
        order_share=0.7,
    )
    data = analysis.to_json()
    assert list(data) == ["comparison", "bottleneck", "recommendations", "capacity_model"]
    recs = analysis.recommendations
    assert recs[0].startswith("High CPU Usage (Trading Engine): Optimize algorithms")
    assert any(r.startswith("p99 latency missed:") for r in recs)
    assert any(r.startswith("data corruption missed:") for r in recs)
    lines = analysis.lines()
    for heading in ("Compared with the baseline:", "Bottleneck:", "Recommendations:"):
        assert heading in lines
    assert lines[-2:] == ["Capacity model:", f"  {analysis.capacity.reason}"]


def test_analysis_of_a_clean_run(slos: SloConfig, capacity: CapacityConfig) -> None:
    terms = Definitions()
    m = ramp_run(rate=1000, scale=0.2, completed_rps=1000.0)
    analysis = analyse(m, judge(slos, terms, m), slos, terms, capacity)
    assert analysis.recommendations == ()
    assert "  none: every target was met" in analysis.lines()
    assert analysis.comparison.note == "no comparison: the run's figures were not kept"


def test_several_histograms_of_a_view_merge_exactly() -> None:
    a, b = _encoded(3.0, seed=3), _encoded(9.0, seed=4)
    merged = histograms.merge([a, b])
    expected = histograms.percentiles_ms(merged, [50, 90, 99])
    d = distribution(a, b)
    assert d.total == 10_000
    for p, value in expected.items():
        assert d.quantile_ms(p) == pytest.approx(value)
    run = RunFigures("now", 10_000, 0, 200.0, {"latency": [a, b]})
    found = compare_with_baseline(run, RunFigures("base", 5000, 0, 100.0, {"latency": a}))
    assert "p50 from due time" in {d.name for d in found.moved}
