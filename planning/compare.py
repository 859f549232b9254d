"""Two runs compared: the differences that matter, each with a 95 % interval, and what else
changed between them.

    a = Side(count=2000, errors=0, throughput_per_s=500.0,
             views={"latency": Distribution.of(values_us, counts)})
    diffs = differences(a, b)              # matters first, largest relative change first
    print(describe(diffs[0]))              # "p99 from due time 12.1 → 15.8 ms, +31 % (95 % CI ...)"
    changes = context_changes(ctx_a, ctx_b)  # label, config keys, host facts, target, trust

How the intervals are had (all with a fixed seed, so a page shows the same figures each time):
- quantiles (p50, p90, p99, p99.9): a bootstrap of each run's histogram, drawn exactly rather
  than by resampling every request: the k-th smallest of N values resampled from a histogram is
  its empirical quantile at U, U ~ Beta(k, N - k + 1) (the k-th order statistic of N uniforms);
  the two runs are drawn independently and the interval is the 2.5-97.5 % range of B - A
  (and of B / A - 1 for the percentage);
- mean: the bootstrap mean drawn from its normal limit, N(mean, variance / N) per run;
- throughput: request counts as Poisson over each run's measured time (interval of the rate
  difference by the delta method, of the ratio on the log scale); conservative for an open-model
  generator, whose count is nearly fixed;
- error rate: the Agresti-Caffo interval for a difference of two proportions.

A difference *matters* when its interval excludes 0 and its size passes a practical threshold:
`threshold_pct` (5 %) of A for latency and throughput, `error_threshold` (0.1 percentage point)
for the error rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "PERCENTILES",
    "ContextChange",
    "DefaultPair",
    "Difference",
    "Distribution",
    "Side",
    "context_changes",
    "default_pair",
    "describe",
    "differences",
]

FloatArray = npt.NDArray[np.float64]

PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 50.0),
    ("p90", 90.0),
    ("p99", 99.0),
    ("p99.9", 99.9),
)
VIEW_WORDS: dict[str, str] = {"latency": "from due time", "service": "from send"}
_Z = 1.959963984540054  # two-sided 95 %


@dataclass(frozen=True)
class Distribution:
    """A latency histogram as (value, count) pairs, values in microseconds, ascending."""

    values_us: FloatArray
    counts: FloatArray

    @classmethod
    def of(cls, values_us: Any, counts: Any) -> Distribution:
        """From any two sequences; zero counts dropped, sorted by value."""
        v = np.asarray(values_us, dtype=np.float64)
        c = np.asarray(counts, dtype=np.float64)
        if v.shape != c.shape:
            raise ValueError("values and counts differ in length")
        keep = c > 0
        order = np.argsort(v[keep], kind="stable")
        return cls(v[keep][order], c[keep][order])

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def quantile_ms(self, percentile: float) -> float:
        """The value at `percentile` (0-100), as the store's summaries compute it, in ms."""
        cum = np.cumsum(self.counts)
        target = max(int(min(percentile, 100.0) * self.total / 100 + 0.5), 1)
        return float(self.values_us[_index(cum, target)]) / 1000.0

    def mean_ms(self) -> float:
        return float(self.values_us @ self.counts / self.total) / 1000.0

    def var_ms2(self) -> float:
        mean = self.values_us @ self.counts / self.total
        return float(((self.values_us - mean) ** 2) @ self.counts / self.total) / 1e6


def _index(cum: FloatArray, target: Any) -> Any:
    return np.minimum(np.searchsorted(cum, target, side="left"), cum.size - 1)


@dataclass(frozen=True)
class Side:
    """One run's (one summary's) figures: requests, errors, rate and its latency views."""

    count: int
    errors: int
    throughput_per_s: float
    views: Mapping[str, Distribution] = field(default_factory=dict)


@dataclass(frozen=True)
class Difference:
    """A → B for one figure: the change, absolute and %, with 95 % intervals."""

    figure: str  # p50, p90, p99, p99.9, mean, throughput, error rate
    view: str | None  # latency (from due time), service (from send), None
    unit: str  # ms, /s, %
    a: float
    b: float
    delta: float
    delta_pct: float | None  # None when A is 0
    interval: tuple[float, float]
    interval_pct: tuple[float, float] | None
    matters: bool
    verdict: str  # worse, better, same
    method: str

    @property
    def name(self) -> str:
        return self.figure if self.view is None else f"{self.figure} {VIEW_WORDS[self.view]}"


def _pct_change(a: float, b: float) -> float | None:
    return None if a == 0 else (b - a) / abs(a) * 100.0


def _verdict(delta: float, higher_is_worse: bool, matters: bool) -> str:
    if not matters:
        return "same"
    return "worse" if (delta > 0) == higher_is_worse else "better"


def _matters(
    interval: tuple[float, float], size: float | None, threshold: float, delta: float
) -> bool:
    excludes_zero = interval[0] > 0 or interval[1] < 0
    big = abs(size) >= threshold if size is not None else delta != 0
    return bool(excludes_zero and big)


def _range(samples: FloatArray) -> tuple[float, float]:
    lo, hi = np.percentile(samples, [2.5, 97.5])
    return (float(lo), float(hi))


def _quantile_draws(
    dist: Distribution, percentile: float, resamples: int, rng: np.random.Generator
) -> FloatArray:
    n = dist.total
    k = max(int(min(percentile, 100.0) * n / 100 + 0.5), 1)
    u = rng.beta(k, n - k + 1, size=resamples)
    cum = np.cumsum(dist.counts)
    idx = _index(cum, np.ceil(u * n))
    return np.asarray(dist.values_us[idx] / 1000.0, dtype=np.float64)


def _latency(
    a: Distribution,
    b: Distribution,
    view: str,
    threshold_pct: float,
    resamples: int,
    rng: np.random.Generator,
) -> list[Difference]:
    out: list[Difference] = []
    for figure, p in PERCENTILES:
        va, vb = a.quantile_ms(p), b.quantile_ms(p)
        da = _quantile_draws(a, p, resamples, rng)
        db = _quantile_draws(b, p, resamples, rng)
        out.append(_sampled(figure, view, va, vb, da, db, threshold_pct, "order-statistic"))
    ma, mb = a.mean_ms(), b.mean_ms()
    da = rng.normal(ma, math.sqrt(a.var_ms2() / a.total), resamples)
    db = rng.normal(mb, math.sqrt(b.var_ms2() / b.total), resamples)
    out.append(_sampled("mean", view, ma, mb, da, db, threshold_pct, "normal bootstrap"))
    return out


def _sampled(
    figure: str,
    view: str,
    va: float,
    vb: float,
    da: FloatArray,
    db: FloatArray,
    threshold_pct: float,
    how: str,
) -> Difference:
    interval = _range(db - da)
    pct = _pct_change(va, vb)
    ratio = np.divide(db, da, out=np.full_like(db, np.nan), where=da > 0)
    ratio = ratio[np.isfinite(ratio)]
    interval_pct = None if pct is None or ratio.size == 0 else _range((ratio - 1.0) * 100.0)
    matters = _matters(interval, pct, threshold_pct, vb - va)
    return Difference(
        figure=figure,
        view=view,
        unit="ms",
        a=va,
        b=vb,
        delta=vb - va,
        delta_pct=pct,
        interval=interval,
        interval_pct=interval_pct,
        matters=matters,
        verdict=_verdict(vb - va, True, matters),
        method=f"bootstrap ({how}), fixed seed",
    )


def _throughput(a: Side, b: Side, threshold_pct: float) -> Difference | None:
    if min(a.count, b.count) <= 0 or min(a.throughput_per_s, b.throughput_per_s) <= 0:
        return None
    ta, tb = a.count / a.throughput_per_s, b.count / b.throughput_per_s
    se = math.sqrt(a.count / ta**2 + b.count / tb**2)
    delta = b.throughput_per_s - a.throughput_per_s
    interval = (delta - _Z * se, delta + _Z * se)
    log_ratio = math.log(b.throughput_per_s / a.throughput_per_s)
    log_se = math.sqrt(1 / a.count + 1 / b.count)
    interval_pct = (
        (math.exp(log_ratio - _Z * log_se) - 1) * 100,
        (math.exp(log_ratio + _Z * log_se) - 1) * 100,
    )
    pct = _pct_change(a.throughput_per_s, b.throughput_per_s)
    matters = _matters(interval, pct, threshold_pct, delta)
    return Difference(
        figure="throughput",
        view=None,
        unit="/s",
        a=a.throughput_per_s,
        b=b.throughput_per_s,
        delta=delta,
        delta_pct=pct,
        interval=interval,
        interval_pct=interval_pct,
        matters=matters,
        verdict=_verdict(delta, False, matters),
        method="Poisson counts over the measured time",
    )


def _error_rate(a: Side, b: Side, error_threshold: float) -> Difference | None:
    if min(a.count, b.count) <= 0:
        return None
    pa, pb = a.errors / a.count, b.errors / b.count
    # Agresti-Caffo: add one success and one failure to each run
    qa, qb = (a.errors + 1) / (a.count + 2), (b.errors + 1) / (b.count + 2)
    se = math.sqrt(qa * (1 - qa) / (a.count + 2) + qb * (1 - qb) / (b.count + 2))
    centre = qb - qa
    interval = ((centre - _Z * se) * 100, (centre + _Z * se) * 100)
    delta = (pb - pa) * 100
    excludes_zero = interval[0] > 0 or interval[1] < 0
    matters = bool(excludes_zero and abs(delta) >= error_threshold * 100)
    return Difference(
        figure="error rate",
        view=None,
        unit="%",
        a=pa * 100,
        b=pb * 100,
        delta=delta,
        delta_pct=_pct_change(pa, pb),
        interval=interval,
        interval_pct=None,
        matters=matters,
        verdict=_verdict(delta, True, matters),
        method="Agresti-Caffo interval of two proportions",
    )


def differences(
    a: Side,
    b: Side,
    *,
    threshold_pct: float = 5.0,
    error_threshold: float = 0.001,
    resamples: int = 2000,
    seed: int = 20260101,
) -> list[Difference]:
    """Every figure A → B with its interval: p50/p90/p99/p99.9/mean of each latency view both
    runs have, throughput, error rate. Those that matter come first, then by size of change."""
    rng = np.random.default_rng(seed)
    out: list[Difference] = []
    for view in ("latency", "service"):
        da, db = a.views.get(view), b.views.get(view)
        if da is None or db is None or da.total == 0 or db.total == 0:
            continue
        out.extend(_latency(da, db, view, threshold_pct, resamples, rng))
    for extra in (_throughput(a, b, threshold_pct), _error_rate(a, b, error_threshold)):
        if extra is not None:
            out.append(extra)

    def order(d: Difference) -> tuple[int, float]:
        if d.delta_pct is not None:
            size = abs(d.delta_pct)
        else:
            size = 1e12 if d.delta != 0 else 0.0
        return (0 if d.matters else 1, -size)

    return sorted(out, key=order)


def _num(value: float, unit: str) -> str:
    if unit == "/s":
        return f"{value:,.1f}"
    if unit == "%":
        return f"{value:.2f}"
    return f"{value:#.3g}" if abs(value) < 100 else f"{value:,.0f}"


def describe(d: Difference) -> str:
    """'p99 from due time 12.1 → 15.8 ms, +31 % (95 % CI +22 % to +40 %)'."""
    unit = {"ms": " ms", "/s": " /s", "%": " %"}[d.unit]
    head = f"{d.name} {_num(d.a, d.unit)} → {_num(d.b, d.unit)}{unit}"
    if d.unit == "%":
        lo, hi = d.interval
        return f"{head}, {d.delta:+.2f} points (95 % CI {lo:+.2f} to {hi:+.2f} points)"
    if d.delta_pct is None or d.interval_pct is None:
        lo, hi = d.interval
        return f"{head} (95 % CI {lo:+.3g} to {hi:+.3g}{unit})"
    lo, hi = d.interval_pct
    return f"{head}, {d.delta_pct:+.0f} % (95 % CI {lo:+.0f} % to {hi:+.0f} %)"


@dataclass(frozen=True)
class ContextChange:
    """One thing about the runs, other than their figures, that differs."""

    area: str  # run, config, host
    key: str
    a: object
    b: object


_RUN_KEYS: tuple[str, ...] = ("label", "kind", "profile", "target", "trusted", "status")


def _flat(d: Mapping[str, Any], prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{name}."))
        else:
            out[name] = value
    return out


def context_changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[ContextChange]:
    """What differs between two runs' contexts (label, kind, profile, target, trusted, status,
    then config and host keys, nested keys dotted); a key one run lacks reads as None."""
    out = [
        ContextChange("run", key, a.get(key), b.get(key))
        for key in _RUN_KEYS
        if a.get(key) != b.get(key)
    ]
    for area in ("config", "host"):
        fa, fb = _flat(a.get(area) or {}), _flat(b.get(area) or {})
        for key in sorted(set(fa) | set(fb)):
            if fa.get(key) != fb.get(key):
                out.append(ContextChange(area, key, fa.get(key), fb.get(key)))
    return out


@dataclass(frozen=True)
class DefaultPair:
    """Which two runs a comparison opens with, and why: `a` is None when there is nothing to
    compare the latest run with."""

    a: str | None
    b: str
    why: str  # baseline, previous, alone


def default_pair(latest: str, baseline: str | None, previous: str | None) -> DefaultPair:
    """The latest run against the pinned baseline of its kind and profile; when none is pinned
    (or it is the baseline itself), against the previous run of the same kind and profile."""
    if baseline is not None and baseline != latest:
        return DefaultPair(baseline, latest, "baseline")
    if previous is not None:
        return DefaultPair(previous, latest, "previous")
    return DefaultPair(None, latest, "alone")
