"""The detector on tiny literal series: exact change points, outliers, trends."""

from __future__ import annotations

import pytest

from planning.regress.detect import detect
from planning.regress.directions import DirectionError, direction_of

# a quiet series around 100 (about 1% noise), 30 runs
QUIET = [
    100.2, 99.1, 100.8, 99.6, 100.4, 98.9, 100.1, 101.0, 99.4, 100.6,
    99.8, 100.3, 99.2, 100.9, 99.7, 100.5, 99.0, 100.2, 101.1, 99.5,
    100.0, 99.3, 100.7, 99.9, 100.4, 98.8, 100.6, 99.6, 100.1, 100.9,
]  # fmt: skip


def _indices(values, direction="higher_is_worse"):
    return [c.index for c in detect(values, direction).changes]


def test_clean_step_at_10_is_found_at_10():
    values = [v * (1.2 if i >= 10 else 1.0) for i, v in enumerate(QUIET[:20])]
    found = detect(values)
    assert [c.index for c in found.changes] == [10]
    change = found.changes[0]
    assert change.direction == "regression"
    lo, hi = change.interval_pct
    assert lo <= change.change_pct <= hi
    assert 15.0 < change.change_pct < 25.0
    assert change.runs_since == 10
    assert change.runs_at_new_level == 10
    assert found.outliers == [] and found.trends == []


def test_a_lower_throughput_is_a_regression_and_higher_an_improvement():
    down = [v * (0.8 if i >= 15 else 1.0) for i, v in enumerate(QUIET)]
    up = [v * (1.25 if i >= 15 else 1.0) for i, v in enumerate(QUIET)]
    assert [(c.index, c.direction) for c in detect(down, "lower_is_worse").changes] == [
        (15, "regression")
    ]
    assert [(c.index, c.direction) for c in detect(up, "lower_is_worse").changes] == [
        (15, "improvement")
    ]


def test_a_single_spike_is_an_outlier_not_a_step():
    values = list(QUIET)
    values[12] = 150.0
    found = detect(values)
    assert found.changes == []
    assert [o.index for o in found.outliers] == [12]
    assert found.outliers[0].direction == "regression"


def test_a_burst_of_two_bad_runs_is_outliers():
    values = list(QUIET)
    values[17], values[18] = 140.0, 145.0
    found = detect(values)
    assert found.changes == []
    assert [o.index for o in found.outliers] == [17, 18]
    assert {o.burst_length for o in found.outliers} == {2}


def test_a_burst_of_three_bad_runs_is_outliers():
    values = list(QUIET)
    values[14:17] = [140.0, 146.0, 143.0]
    found = detect(values)
    assert found.changes == []
    assert [o.index for o in found.outliers] == [14, 15, 16]


def test_linear_drift_is_a_trend_not_a_step():
    values = [v * (1.0 + 0.01 * i) for i, v in enumerate(QUIET)]
    found = detect(values)
    assert found.changes == []
    assert [(t.start, t.end, t.direction) for t in found.trends] == [(0, 29, "regression")]
    assert 25.0 < found.trends[0].total_change_pct < 35.0


def test_no_change_reports_nothing():
    found = detect(QUIET)
    assert (found.changes, found.trends, found.outliers) == ([], [], [])


def test_fewer_than_8_runs_is_not_enough_data():
    found = detect([10.0, 10.0, 10.0, 20.0, 20.0, 20.0, 20.0])
    assert not found.enough_data
    assert found.changes == []
    assert detect(QUIET[:8]).enough_data


def test_flat_series_with_exact_step():
    assert _indices([10.0] * 10 + [20.0] * 10) == [10]


def test_a_step_with_three_runs_at_the_end_is_reported_two_is_not_yet():
    assert _indices([*QUIET[:20], 130.0, 131.0, 129.5]) == [20]
    assert _indices([*QUIET[:20], 130.0, 131.0]) == []


def test_non_positive_values_work_on_the_raw_scale():
    values = [v - 100.0 + (5.0 if i >= 10 else 0.0) for i, v in enumerate(QUIET[:20])]
    assert _indices(values) == [10]


@pytest.mark.parametrize(
    ("metric", "direction"),
    [
        ("order_processing_p95_ms", "higher_is_worse"),
        ("database_query_p95_ms", "higher_is_worse"),
        ("gc_pause_seconds", "higher_is_worse"),
        ("ws_latency", "higher_is_worse"),
        ("replay_duration", "higher_is_worse"),
        ("match_p99", "higher_is_worse"),
        ("orders_per_second", "lower_is_worse"),
        ("fills_per_s", "lower_is_worse"),
        ("api_rps", "lower_is_worse"),
        ("book_ops", "lower_is_worse"),
        ("engine_throughput", "lower_is_worse"),
    ],
)
def test_direction_from_the_name(metric, direction):
    assert direction_of(metric) == direction


def test_unknown_metric_needs_an_override():
    with pytest.raises(DirectionError, match="memory_rss"):
        direction_of("memory_rss")
    assert direction_of("memory_rss", higher_is_worse=["memory_rss"]) == "higher_is_worse"
    assert direction_of("p95_ms", lower_is_worse=["p95_ms"]) == "lower_is_worse"


def test_a_related_metrics_change_confirms_a_weak_step_early():
    # 4 runs after a 2% step in ~1% noise: too little alone, enough where another metric moved
    values = [v * (1.02 if i >= 20 else 1.0) for i, v in enumerate(QUIET[:24])]
    assert detect(values).changes == []
    joint = detect(values, hints=[20]).changes
    assert [(c.index, c.confirmed_by_related) for c in joint] == [(20, True)]
    assert detect(QUIET, hints=[20]).changes == []
