"""Erlang C against textbook values; SLO-driven pod counts: monotonic, unreachable said so."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from scipy import integrate

from planning.sizing import (
    SizingError,
    erlang_b,
    erlang_c,
    operating_concurrency,
    response_quantile,
    response_tail,
    size_pods,
    wait_quantile,
)
from planning.usl import Curve, Points, fit_usl

CISCO = Curve(sigma=0.02671591, kappa=0.0007690945, lam=995.6486)  # the book's fit, N* = 35.6


def _exact_erlang_c(servers: int, load: Fraction) -> Fraction:
    """Erlang C from its definition, in exact fractions:
    C = (a^c / c!)·c/(c − a) / (Σ_{k<c} a^k / k! + (a^c / c!)·c/(c − a))."""
    tail = load**servers / math.factorial(servers) * servers / (servers - load)
    return tail / (sum(load**k / math.factorial(k) for k in range(servers)) + tail)


def _recursive_erlang_b(servers: int, load: float) -> float:
    """The textbook recursion B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1))."""
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


@pytest.mark.parametrize(
    ("servers", "load", "expected"),
    [
        # M/M/1: C = rho.
        (1, 0.5, 0.5),
        # c = 2, a = 1: B = (1/2) / (1 + 1 + 1/2) = 1/5; C = cB / (c − a(1 − B)) = 0.4 / 1.2 = 1/3
        # (the M/M/2 closed form 2ρ²/(1 + ρ) at ρ = 1/2 agrees).
        (2, 1.0, 1 / 3),
        # c = 3, a = 2: B = (8/6) / (1 + 2 + 2 + 8/6) = 4/19; C = (12/19) / (3 − 2·15/19) = 4/9.
        (3, 2.0, 4 / 9),
        # c = 5, a = 4: B = (1024/120) / 42.8667 = 0.19907; C = 0.99533 / 1.79627 = 0.5541
        # (= 128/231, the Erlang C table's 0.5541).
        (5, 4.0, 128 / 231),
        # Call-centre tables: 8 erlangs on 10 agents wait with probability 0.4092; 10 erlangs on
        # 11 agents 0.6821.
        (10, 8.0, 0.4092),
        (11, 10.0, 0.6821),
    ],
)
def test_erlang_c_textbook_values(servers, load, expected):
    assert erlang_c(servers, load) == pytest.approx(expected, abs=5e-5)
    exact = float(_exact_erlang_c(servers, Fraction(load)))
    assert erlang_c(servers, load) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize(("servers", "load"), [(1, 1.0), (2, 1.0), (10, 5.0), (30, 24.5)])
def test_erlang_b_matches_the_recursion(servers, load):
    assert erlang_b(servers, load) == pytest.approx(_recursive_erlang_b(servers, load), rel=1e-12)


@pytest.mark.parametrize(("servers", "load"), [(1000, 950.0), (50_000, 49_000.0), (10**6, 999_000)])
def test_erlang_is_stable_for_large_c(servers, load):
    b = erlang_b(servers, load)
    assert b == pytest.approx(_recursive_erlang_b(servers, load), rel=1e-9)
    c = erlang_c(servers, load)
    assert 0 < b < c < 1


def test_erlang_edges():
    assert erlang_b(3, 0.0) == 0.0
    assert erlang_c(3, 0.0) == 0.0
    with pytest.raises(ValueError, match="unstable"):
        erlang_c(2, 2.0)
    with pytest.raises(ValueError):
        erlang_b(0, 1.0)


def test_waiting_time_p99_from_the_erlang_c_tail():
    # M/M/1, mu = 1, lambda = 0.5: P(W > t) = 0.5 e^{-0.5 t} = 0.01 at t = ln(50) / 0.5.
    assert wait_quantile(1, 1.0, 0.5) == pytest.approx(math.log(50) / 0.5)
    # c = 3, a = 2 (mu = 1, lambda = 2): C = 4/9, P(W > t) = (4/9) e^{-t}.
    assert wait_quantile(3, 1.0, 2.0) == pytest.approx(math.log(400 / 9))
    # Rarely waiting: C <= 1 % means the P99 wait is 0.
    assert wait_quantile(10, 1.0, 2.0) == 0.0


def test_latency_tail_of_mm1_is_exponential():
    # M/M/1 sojourn time ~ Exp(mu - lambda): P99 = ln(100) / (mu - lambda).
    assert response_tail(1, 2.0, 1.5, 3.0) == pytest.approx(math.exp(-0.5 * 3.0))
    assert response_quantile(1, 2.0, 1.5) == pytest.approx(math.log(100) / 0.5)


@pytest.mark.parametrize(("servers", "mu", "lam"), [(3, 1.0, 2.0), (8, 2.0, 13.0), (2, 1.0, 1.0)])
def test_latency_tail_is_wait_convolved_with_service(servers, mu, lam):
    c = erlang_c(servers, lam / mu)
    theta = servers * mu - lam
    for t in (0.1, 1.0, 4.0):
        # P(T > t) = (1 − C) e^{−μt} + ∫_0^t C θ e^{−θw} e^{−μ(t−w)} dw + C e^{−θt}
        waited, _ = integrate.quad(
            lambda w, t=t: c * theta * math.exp(-theta * w - mu * (t - w)), 0, t
        )
        expected = (1 - c) * math.exp(-mu * t) + waited + c * math.exp(-theta * t)
        assert response_tail(servers, mu, lam, t) == pytest.approx(expected, rel=1e-9)


# --- sizing --------------------------------------------------------------------------------------


def test_operating_concurrency_is_next_to_the_peak():
    assert operating_concurrency(CISCO) == 36  # X(36) = 12342.26 > X(35) = 12341.75
    with pytest.raises(SizingError, match="no peak"):
        operating_concurrency(Curve(0.05, 0.0, 10.0))


def test_plan_keeps_p99_within_the_slo_with_the_fewest_pods():
    plan = size_pods(CISCO, 100_000, 25)
    assert plan.reachable and plan.reason is None
    assert plan.concurrency == 36
    assert plan.per_pod_throughput == pytest.approx(CISCO.throughput(36))
    assert plan.mean_latency_ms == pytest.approx(36 / CISCO.throughput(36) * 1000)
    assert plan.recommended_pods == plan.slo_pods == 9
    assert plan.at_recommended.p99_latency_ms <= 25
    assert plan.monthly_cost == 900


def test_a_tight_slo_needs_more_pods_than_capacity_alone():
    # The idle P99 is 13.43 ms; 9 pods (81 % busy) give 13.51 ms, so 13.5 ms needs 11 pods.
    plan = size_pods(CISCO, 100_000, 13.5)
    assert plan.stable_pods == 9
    assert plan.recommended_pods == 11
    mu = plan.service_rate
    assert response_quantile(36, mu, 100_000 / 11) <= 0.0135
    assert response_quantile(36, mu, 100_000 / 10) > 0.0135


def test_headroom_sets_a_floor():
    plan = size_pods(CISCO, 100_000, 25, headroom=1.5)
    assert plan.headroom_pods == math.ceil(1.5 * 100_000 / CISCO.throughput(36)) == 13
    assert plan.recommended_pods == 13 and plan.slo_pods == 9


def test_pods_grow_with_the_rate_and_shrink_with_a_looser_slo():
    rates = [100, 1_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000]
    pods = [size_pods(CISCO, r, 15).recommended_pods for r in rates]
    assert pods == sorted(pods) and pods[0] == 1
    slos = [13.5, 13.6, 14, 15, 20, 50, 1000]
    by_slo = [size_pods(CISCO, 200_000, t).recommended_pods for t in slos]
    assert by_slo == sorted(by_slo, reverse=True)
    assert by_slo[-1] == math.floor(200_000 / CISCO.throughput(36)) + 1


def test_a_slo_an_idle_pod_misses_is_unreachable():
    plan = size_pods(CISCO, 1_000, 10)  # idle P99 = ln(100) * 36 / X(36) = 13.4 ms
    assert not plan.reachable
    assert plan.recommended_pods is None and plan.monthly_cost is None
    assert "single idle pod's P99 latency at concurrency 36 is 13.43 ms" in plan.reason
    lower = size_pods(CISCO, 1_000, 10, concurrency=4)  # shorter service, so it fits
    assert lower.reachable


def test_a_target_beyond_the_pods_allowed_is_unreachable():
    plan = size_pods(CISCO, 1_000_000, 25, max_pods=50)
    assert not plan.reachable
    assert "needs more than the 50 pods allowed" in plan.reason
    assert size_pods(CISCO, 1_000_000, 25, max_pods=100).reachable


def test_a_fit_gives_pods_and_cost_as_a_range():
    loads = [1, 4, 8, 16, 24, 32, 48, 64]
    wobble = [0.02, -0.02, 0.01, -0.01, 0.02, -0.02, 0.01, -0.01]
    points = Points(
        tuple(map(float, loads)),
        tuple(CISCO.throughput(n) * (1 + w) for n, w in zip(loads, wobble, strict=True)),
    )
    fit = fit_usl(points)
    plan = size_pods(fit, 400_000, 25, cost_per_pod=120)
    low, high = plan.pods_range
    assert low <= plan.recommended_pods <= high and low < high
    assert plan.monthly_cost_range == (low * 120, high * 120)
    assert plan.throughput_interval[0] < plan.per_pod_throughput < plan.throughput_interval[1]
    assert "95 %" in plan.range_method
    assert size_pods(fit.curve, 400_000, 25).pods_range is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_rate": 0}, "target rate must be above 0"),
        ({"target_rate": math.inf}, "target rate must be above 0"),
        ({"slo_p99_ms": -1}, "P99 SLO must be above 0"),
        ({"headroom": 0.5}, "headroom must be at least 1"),
        ({"cost_per_pod": -1}, "cost per pod cannot be negative"),
        ({"concurrency": 0}, "concurrency must be at least 1"),
    ],
)
def test_bad_sizing_inputs(kwargs, message):
    args = {"target_rate": 1000.0, "slo_p99_ms": 25.0} | kwargs
    rate, slo = args.pop("target_rate"), args.pop("slo_p99_ms")
    with pytest.raises(SizingError, match=message):
        size_pods(CISCO, rate, slo, **args)


def test_an_amdahl_curve_needs_a_concurrency():
    amdahl = Curve(0.05, 0.0, 100.0)
    with pytest.raises(SizingError, match="no peak"):
        size_pods(amdahl, 1000, 100)
    assert size_pods(amdahl, 1000, 100, concurrency=8).reachable


def test_to_dict_names_the_model():
    data = size_pods(CISCO, 100_000, 25).to_dict()
    assert "M/M/c" in data["model"] and "Erlang C" in data["model"]
    assert data["at_recommended"]["pods"] == 9


@pytest.mark.parametrize("t", [0.5, 1.0, 50.0, 5000.0])
def test_mm1_tail_is_exponential_even_far_out(t: float) -> None:
    # M/M/1 sojourn time is exponential with rate mu - lambda; at 90 % load theta < mu, where
    # the old form overflowed (exp(-d*t) with d < 0) instead of giving a tiny probability.
    assert response_tail(1, 1.0, 0.9, t) == pytest.approx(math.exp(-0.1 * t), rel=1e-9)
