"""planning.compare on small literal histograms: exact figures, a planted shift flagged, identical
runs not, the intervals, the words, and what else changed."""

from __future__ import annotations

import pytest

from planning.compare import (
    Difference,
    Distribution,
    Side,
    context_changes,
    default_pair,
    describe,
    differences,
)

# 100 requests: 30 at 1 ms, 45 at 2 ms, 17 at 3 ms, 6 at 5 ms, 2 at 20 ms (values in µs);
# each percentile falls inside a bucket, away from its edges
VALUES = [1000, 2000, 3000, 5000, 20000]
COUNTS = [30, 45, 17, 6, 2]


def side(values: list[float], counts: list[int], errors: int = 0, rate: float = 100.0) -> Side:
    n = sum(counts)
    return Side(n, errors, rate, {"latency": Distribution.of(values, counts)})


def by_name(diffs: list[Difference]) -> dict[str, Difference]:
    return {d.name: d for d in diffs}


def test_distribution_figures_are_the_stored_percentiles() -> None:
    d = Distribution.of(VALUES, COUNTS)
    assert d.total == 100
    # target rank = int(p * N / 100 + 0.5); cumulative counts 30, 75, 92, 98, 100:
    # p50 -> 50th (2 ms), p90 -> 90th (3 ms), p99 -> 99th (20 ms), p99.9 -> 100th (20 ms)
    assert [d.quantile_ms(p) for p in (50, 90, 99, 99.9)] == [2.0, 3.0, 20.0, 20.0]
    assert d.mean_ms() == pytest.approx(2.41)


def test_distribution_drops_empty_buckets_and_sorts() -> None:
    d = Distribution.of([3000, 1000, 2000], [2, 0, 1])
    assert d.values_us.tolist() == [2000.0, 3000.0]
    assert d.counts.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError):
        Distribution.of([1, 2], [1])


def test_identical_runs_show_nothing_that_matters() -> None:
    a = side(VALUES, [c * 20 for c in COUNTS])
    diffs = differences(a, a)
    assert diffs and not any(d.matters for d in diffs)
    for d in diffs:
        assert d.delta == 0
        assert d.interval[0] <= 0 <= d.interval[1]
        assert d.verdict == "same"


def test_a_planted_shift_is_flagged_with_exact_figures() -> None:
    counts = [c * 20 for c in COUNTS]  # 2000 requests
    a = side(VALUES, counts)
    b = side([v * 1.5 for v in VALUES], counts)  # every request 50 % slower
    diffs = differences(a, b)
    found = by_name(diffs)
    p50 = found["p50 from due time"]
    assert (p50.a, p50.b, p50.delta) == (2.0, 3.0, 1.0)
    assert p50.delta_pct == pytest.approx(50.0)
    assert p50.matters and p50.verdict == "worse"
    assert p50.interval_pct is not None and p50.interval_pct[0] > 5.0
    mean = found["mean from due time"]
    assert mean.delta_pct == pytest.approx(50.0)
    assert mean.matters
    # the ones that matter come first
    flags = [d.matters for d in diffs]
    assert flags == sorted(flags, reverse=True)
    # throughput and error rate are unchanged: they do not matter
    assert not found["throughput"].matters
    assert not found["error rate"].matters


def test_a_change_under_the_threshold_does_not_matter() -> None:
    counts = [c * 2000 for c in COUNTS]  # 200,000 requests: a 2 % shift is certain, but small
    a = side(VALUES, counts)
    b = side([v * 1.02 for v in VALUES], counts)
    p50 = by_name(differences(a, b))["p50 from due time"]
    assert p50.interval[0] > 0  # excludes 0 ...
    assert not p50.matters  # ... but under 5 %
    assert p50.verdict == "same"


def test_intervals_are_reproducible() -> None:
    a = side(VALUES, [c * 10 for c in COUNTS])
    b = side([v * 1.2 for v in VALUES], [c * 10 for c in COUNTS])
    assert differences(a, b) == differences(a, b)


def test_throughput_and_error_rate() -> None:
    a = side(VALUES, [c * 100 for c in COUNTS], errors=0, rate=1000.0)  # 10,000 requests
    b = side(VALUES, [c * 100 for c in COUNTS], errors=500, rate=800.0)
    found = by_name(differences(a, b))
    tput = found["throughput"]
    assert (tput.a, tput.b, tput.delta) == (1000.0, 800.0, -200.0)
    assert tput.delta_pct == pytest.approx(-20.0)
    assert tput.matters and tput.verdict == "worse"
    err = found["error rate"]
    assert (err.a, err.b) == (0.0, 5.0)
    assert err.delta == pytest.approx(5.0)
    assert err.delta_pct is None  # from zero
    assert err.matters and err.verdict == "worse"
    assert err.interval[0] > 0


def test_better_is_said_so() -> None:
    counts = [c * 20 for c in COUNTS]
    a = side(VALUES, counts)
    b = side([v * 0.5 for v in VALUES], counts)
    p99 = by_name(differences(a, b))["p99 from due time"]
    assert p99.matters and p99.verdict == "better"


def test_views_only_when_both_runs_have_them() -> None:
    counts = [c * 20 for c in COUNTS]
    a = Side(
        2000,
        0,
        100.0,
        {"latency": Distribution.of(VALUES, counts), "service": Distribution.of(VALUES, counts)},
    )
    b = side(VALUES, counts)
    names = [d.name for d in differences(a, b)]
    assert "p99 from due time" in names
    assert not any("from send" in n for n in names)
    assert len(names) == 5 + 2  # p50, p90, p99, p99.9, mean; throughput, error rate


def test_describe_in_words() -> None:
    d = Difference(
        figure="p99",
        view="latency",
        unit="ms",
        a=12.1,
        b=15.8,
        delta=3.7,
        delta_pct=30.6,
        interval=(2.6, 4.8),
        interval_pct=(22.0, 40.0),
        matters=True,
        verdict="worse",
        method="",
    )
    assert describe(d) == "p99 from due time 12.1 → 15.8 ms, +31 % (95 % CI +22 % to +40 %)"


def test_context_changes() -> None:
    host = {"cpu_count": 2}
    a = {"label": "v1", "kind": "orders", "target": "t", "trusted": True,
         "config": {"rate": 500, "seed": {"users": 10}}, "host": host}  # fmt: skip
    b = {"label": "v2", "kind": "orders", "target": "t", "trusted": False,
         "config": {"rate": 500, "seed": {"users": 20}, "batch": 5}, "host": host}  # fmt: skip
    got = [(c.area, c.key, c.a, c.b) for c in context_changes(a, b)]
    assert got == [
        ("run", "label", "v1", "v2"),
        ("run", "trusted", True, False),
        ("config", "batch", None, 5),
        ("config", "seed.users", 10, 20),
    ]


def test_default_pair() -> None:
    assert default_pair("new", "base", "prev") == default_pair("new", "base", None)
    assert default_pair("new", "base", "prev").a == "base"
    assert default_pair("new", "base", "prev").why == "baseline"
    assert default_pair("new", "new", "prev").a == "prev"  # the latest is the baseline
    assert default_pair("new", None, "prev").why == "previous"
    assert default_pair("new", None, None).a is None
