"""Pods for a target rate from a fitted USL curve, counted so the P99 latency meets an SLO.

    plan = size_pods(Curve(0.0267, 0.000769, 995.6), target_rate=50_000, slo_p99_ms=25)
    plan.recommended_pods, plan.at_recommended.p99_latency_ms, plan.reason

The model:
- A pod serves up to `c` requests at once, its concurrency: by default the whole number next to
  the curve's peak N* with the higher X(c). There it completes X(c) requests/s, and by Little's
  law (N = X·R) each request spends c / X(c) in the pod: the mean latency at that operating point.
- Each pod is an M/M/c queue: Poisson arrivals, c servers, exponential service at μ = X(c) / c.
  μ is the rate under full concurrency, kept when fewer requests are in flight, so latency at
  light load is overstated (conservative).
- The target rate R is spread evenly: each of k pods receives R / k.
- P(wait) is Erlang C(c, a = λ/μ), computed in log space (any c). The waiting time has
  P(W > t) = C·exp(−(cμ − λ)t); the latency T = W + S, S ~ Exp(μ), has the exact M/M/c sojourn
  tail, and its P99 is what the SLO bounds.
- Recommended pods: the fewest that keep P99(T) within the SLO, and at least ceil(H·R / X(c)) for
  a flat headroom H (default 1: the SLO alone decides).
- Unreachable: an idle pod's P99 (ln(100)/μ) already exceeds the SLO, or more than `max_pods`
  pods would be needed.
- With a fit, the range comes from the 95 % interval of X(c) (delta method): the pods needed at
  its upper and lower ends, c held fixed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scipy import optimize, special

from planning.usl import Curve, USLFit

__all__ = [
    "MODEL",
    "QUANTILE",
    "Load",
    "SizingError",
    "SizingPlan",
    "erlang_b",
    "erlang_c",
    "operating_concurrency",
    "response_quantile",
    "response_tail",
    "size_pods",
    "wait_quantile",
]

QUANTILE = 0.99


class SizingError(ValueError):
    """Inputs the sizing cannot use (a rate of zero, a curve without a peak and no concurrency)."""


# --- M/M/c ---------------------------------------------------------------------------------------


def erlang_b(servers: int, load: float) -> float:
    """Erlang B blocking probability, as Poisson pmf(c; a) / cdf(c; a) in log space."""
    if servers < 1 or load < 0:
        raise ValueError(f"need servers >= 1 and load >= 0, got {servers}, {load}")
    if load == 0:
        return 0.0
    log_pmf = servers * math.log(load) - load - special.gammaln(servers + 1)
    log_cdf = math.log(special.gammaincc(servers + 1, load))
    return math.exp(min(log_pmf - log_cdf, 0.0))


def erlang_c(servers: int, load: float) -> float:
    """Erlang C: the probability that an arrival waits, for offered load a = λ/μ < c."""
    if not 0 <= load < servers:
        raise ValueError(f"unstable queue: load {load} must be below servers {servers}")
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1 - b))


def wait_quantile(
    servers: int, service_rate: float, arrival_rate: float, q: float = QUANTILE
) -> float:
    """Seconds: the q-quantile of the M/M/c waiting time, from P(W > t) = C·exp(−(cμ − λ)t)."""
    c = erlang_c(servers, arrival_rate / service_rate)
    if c <= 1 - q:
        return 0.0
    return math.log(c / (1 - q)) / (servers * service_rate - arrival_rate)


def response_tail(servers: int, service_rate: float, arrival_rate: float, t: float) -> float:
    """P(T > t) for the M/M/c latency T = W + S (FCFS)."""
    mu = service_rate
    c = erlang_c(servers, arrival_rate / mu)
    theta = servers * mu - arrival_rate
    d = theta - mu
    # P(E_theta + E_mu > t) = exp(−μt) + μ·(exp(−μt) − exp(−θt))/d: both exponentials stay in
    # [0, 1] (θ, μ > 0), so nothing overflows when θ < μ; t·exp(−μt) is its limit as d -> 0.
    tail_mu = math.exp(-mu * t)
    if abs(d * t) < 1e-12:
        spread = t * tail_mu
    elif d > 0:
        spread = -tail_mu * math.expm1(-d * t) / d
    else:
        spread = (tail_mu - math.exp(-theta * t)) / d
    return (1 - c) * tail_mu + c * (tail_mu + mu * spread)


def response_quantile(
    servers: int, service_rate: float, arrival_rate: float, q: float = QUANTILE
) -> float:
    """Seconds: the q-quantile of the M/M/c latency (wait plus service)."""

    def excess(t: float) -> float:
        return response_tail(servers, service_rate, arrival_rate, t) - (1 - q)

    high = math.log(1 / (1 - q)) / service_rate
    while excess(high) > 0:
        high *= 2
    return float(optimize.brentq(excess, 0.0, high, xtol=1e-15, rtol=1e-12))


# --- sizing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One pod's queue when `pods` share the target rate."""

    pods: int
    arrival_rate: float
    utilization: float
    p_wait: float
    p99_wait_ms: float
    p99_latency_ms: float
    mean_latency_ms: float


@dataclass(frozen=True)
class SizingPlan:
    """Pods for a target rate under a P99 SLO; reachable False comes with the reason."""

    reachable: bool
    reason: str | None
    target_rate: float
    slo_p99_ms: float
    headroom: float
    cost_per_pod: float
    concurrency: int
    per_pod_throughput: float
    service_rate: float
    mean_latency_ms: float
    idle_p99_ms: float
    stable_pods: int
    slo_pods: int | None
    headroom_pods: int
    recommended_pods: int | None
    monthly_cost: float | None
    at_recommended: Load | None
    throughput_interval: tuple[float, float] | None
    pods_range: tuple[int, int | None] | None
    monthly_cost_range: tuple[float, float | None] | None
    range_method: str | None

    def to_dict(self) -> dict[str, Any]:
        """The `pincex plan size --json` object."""
        out = dict(self.__dict__)
        out["at_recommended"] = (
            None if self.at_recommended is None else self.at_recommended.__dict__
        )
        out["model"] = MODEL
        return out


MODEL = (
    "each pod an M/M/c queue: c = per-pod concurrency, service rate mu = X(c)/c from the USL "
    "fit (Little's law), arrivals R/pods; P(wait) by Erlang C, P99 of latency (wait + service) "
    "from the exact M/M/c sojourn distribution"
)


def operating_concurrency(curve: Curve) -> int:
    """The whole number next to the peak N* with the higher throughput."""
    peak = curve.peak_concurrency
    if peak is None:
        raise SizingError("the curve has no peak (κ = 0): give the per-pod concurrency")
    candidates = {max(1, math.floor(peak)), max(1, math.ceil(peak))}
    return max(sorted(candidates), key=curve.throughput)


def _load(concurrency: int, mu: float, pods: int, rate: float) -> Load:
    arrival = rate / pods
    c = erlang_c(concurrency, arrival / mu)
    theta = concurrency * mu - arrival
    return Load(
        pods=pods,
        arrival_rate=arrival,
        utilization=arrival / (concurrency * mu),
        p_wait=c,
        p99_wait_ms=wait_quantile(concurrency, mu, arrival) * 1000,
        p99_latency_ms=response_quantile(concurrency, mu, arrival) * 1000,
        mean_latency_ms=(c / theta + 1 / mu) * 1000,
    )


def _slo_pods(
    concurrency: int, x_c: float, rate: float, slo_s: float, max_pods: int | None
) -> tuple[int | None, str | None]:
    """The fewest pods whose P99 latency meets the SLO at per-pod throughput x_c."""
    mu = x_c / concurrency
    idle = math.log(1 / (1 - QUANTILE)) / mu
    if idle >= slo_s:
        return None, (
            f"a single idle pod's P99 latency at concurrency {concurrency} is {idle * 1000:.4g} ms "
            f"(service rate {mu:.4g}/s per slot), over the {slo_s * 1000:g} ms SLO; a lower "
            "--concurrency shortens the service time"
        )

    def meets(pods: int) -> bool:
        return response_quantile(concurrency, mu, rate / pods) <= slo_s

    low = math.floor(rate / x_c) + 1
    high = low
    while not meets(high):
        if max_pods is not None and high >= max_pods:
            return None, _too_many(rate, x_c, max_pods)
        low, high = high + 1, high * 2
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if meets(middle) else (middle + 1, high)
    return high, None


def _too_many(rate: float, x_c: float, max_pods: int) -> str:
    return (
        f"{rate:g}/s needs more than the {max_pods} pods allowed ({max_pods} pods deliver at most "
        f"{max_pods * x_c:.6g}/s at {x_c:.6g}/s each, before the SLO)"
    )


def _recommend(
    concurrency: int,
    x_c: float,
    rate: float,
    slo_s: float,
    headroom: float,
    max_pods: int | None,
) -> tuple[int | None, int | None, str | None]:
    """(SLO pods, recommended pods, reason when unreachable)."""
    slo, reason = _slo_pods(concurrency, x_c, rate, slo_s, max_pods)
    if slo is None:
        return None, None, reason
    pods = max(slo, math.ceil(headroom * rate / x_c))
    if max_pods is not None and pods > max_pods:
        return slo, None, _too_many(rate, x_c, max_pods)
    return slo, pods, None


def size_pods(
    source: Curve | USLFit,
    target_rate: float,
    slo_p99_ms: float,
    *,
    concurrency: int | None = None,
    headroom: float = 1.0,
    cost_per_pod: float = 100.0,
    max_pods: int | None = None,
) -> SizingPlan:
    """Size pods for `target_rate` requests/s with P99 latency <= `slo_p99_ms`."""
    if not target_rate > 0 or not math.isfinite(target_rate):
        raise SizingError(f"the target rate must be above 0, got {target_rate}")
    if not slo_p99_ms > 0 or not math.isfinite(slo_p99_ms):
        raise SizingError(f"the P99 SLO must be above 0 ms, got {slo_p99_ms}")
    if headroom < 1:
        raise SizingError(f"the headroom must be at least 1, got {headroom}")
    if cost_per_pod < 0:
        raise SizingError(f"the cost per pod cannot be negative, got {cost_per_pod}")
    fit = source if isinstance(source, USLFit) else None
    curve = source.curve if isinstance(source, USLFit) else source
    c = operating_concurrency(curve) if concurrency is None else concurrency
    if c < 1:
        raise SizingError(f"the per-pod concurrency must be at least 1, got {c}")
    x_c = curve.throughput(c)
    if not x_c > 0:
        raise SizingError(f"the curve gives no throughput at concurrency {c}")
    slo_s = slo_p99_ms / 1000
    mu = x_c / c
    slo_pods, pods, reason = _recommend(c, x_c, target_rate, slo_s, headroom, max_pods)

    interval = fit.throughput_interval(c) if fit is not None else None
    pods_range = cost_range = None
    if interval is not None and pods is not None:
        low_x, high_x = interval
        fewest = _recommend(c, high_x, target_rate, slo_s, headroom, max_pods)[1]
        most = (
            _recommend(c, low_x, target_rate, slo_s, headroom, max_pods)[1] if low_x > 0 else None
        )
        low_pods = min(fewest if fewest is not None else pods, pods)
        high_pods = None if most is None else max(most, pods)
        pods_range = (low_pods, high_pods)
        cost_range = (
            low_pods * cost_per_pod,
            None if high_pods is None else high_pods * cost_per_pod,
        )
    return SizingPlan(
        reachable=pods is not None,
        reason=reason,
        target_rate=target_rate,
        slo_p99_ms=slo_p99_ms,
        headroom=headroom,
        cost_per_pod=cost_per_pod,
        concurrency=c,
        per_pod_throughput=x_c,
        service_rate=mu,
        mean_latency_ms=c / x_c * 1000,
        idle_p99_ms=math.log(1 / (1 - QUANTILE)) / mu * 1000,
        stable_pods=math.floor(target_rate / x_c) + 1,
        slo_pods=slo_pods,
        headroom_pods=math.ceil(headroom * target_rate / x_c),
        recommended_pods=pods,
        monthly_cost=None if pods is None else pods * cost_per_pod,
        at_recommended=None if pods is None else _load(c, mu, pods, target_rate),
        throughput_interval=interval,
        pods_range=pods_range,
        monthly_cost_range=cost_range,
        range_method=(
            None
            if interval is None
            else "pods at the two ends of the fit's 95 % interval of X(c) (delta method), "
            "c fixed; an open end (null) is unreachable there"
        ),
    )
