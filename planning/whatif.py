"""What-if capacity plans: the specification's script with other growth, per-pod capacity,
headroom and unit costs, and a range of pods when the per-pod capacity comes from a USL fit.

    config = load_config(Path("config/capacity.yaml"))
    result = what_if(config, script_growth(3.0), 12, spec_capacity(config))
    result.plan.figures.recommended_pods, result.pods_range, result.cost_range

    fit, reason = fit_ramp(ramp)                        # planning.ramp: stored ramp runs
    capacity = capacity_from_fit(fit)                   # X at the peak (or the highest
    result = what_if(config, growth, 12, capacity)      # tested load) with its interval

At the defaults (`Overrides()` and the specification's 2,000 orders/s per pod) the figures are
exactly `plan_capacity`'s, so `pincex plan capacity`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from planning.capacity import CapacityConfig, CapacityPlan, Growth, plan_capacity
from planning.ramp import Ramp
from planning.usl import USLDataError, USLFit, fit_usl

__all__ = [
    "Overrides",
    "PodCapacity",
    "WhatIf",
    "capacity_from_best",
    "capacity_from_fit",
    "custom_growth",
    "exhaustion_frame",
    "fit_ramp",
    "headroom_factor",
    "headroom_percent",
    "runway_frame",
    "spec_capacity",
    "usl_frame",
    "what_if",
    "with_overrides",
]

_MIN_LOADS = 4


@dataclass(frozen=True)
class Overrides:
    """Constants of the script to replace; None keeps the configured value. Headrooms are
    multipliers (1.5 is the script's 50 %)."""

    pod_headroom: float | None = None
    core_headroom: float | None = None
    memory_headroom: float | None = None
    bandwidth_headroom: float | None = None
    cost_per_pod: float | None = None
    cost_per_core: float | None = None
    cost_per_gb: float | None = None
    cost_per_mbps: float | None = None


def _plain(value: float) -> int | float:
    """A whole float as an int, so the script's numbers print as PowerShell prints them."""
    return int(value) if float(value).is_integer() else float(value)


def headroom_factor(percent: float) -> float:
    """50 (%) -> 1.5; rounded so 20 % gives exactly the script's 1.2."""
    return round(1 + percent / 100, 12)


def headroom_percent(factor: float) -> float:
    """1.5 -> 50.0 (%)."""
    return float(round((factor - 1) * 100, 9))


def with_overrides(
    config: CapacityConfig, overrides: Overrides, orders_per_pod: float | None = None
) -> CapacityConfig:
    """`config` with the script's constants replaced where `overrides` (or `orders_per_pod`)
    gives a value."""
    changes = {
        name: _plain(value)
        for name, value in vars(overrides).items()
        if value is not None and value != getattr(config.script, name)
    }
    if orders_per_pod is not None and orders_per_pod != config.script.orders_per_pod:
        changes["orders_per_pod"] = _plain(orders_per_pod)
    for name, value in changes.items():
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number, 0 or more, got {value}")
    if not changes:
        return config
    return replace(config, script=replace(config.script, **changes))  # type: ignore[arg-type]


def custom_growth(orders: float, connections: float, memory: float, peak: float) -> Growth:
    """Multipliers over the horizon: order volume (orders/s, CPU), database connections
    (and WebSockets), memory, and the peak orders/s (so pods and bandwidth)."""
    for name, value in (
        ("orders", orders),
        ("connections", connections),
        ("memory", memory),
        ("peak", peak),
    ):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"the {name} multiplier must be above 0, got {value}")
    label = f"custom: {orders:g}x orders, {peak:g}x peak, {connections:g}x connections, " + (
        f"{memory:g}x memory"
    )
    return Growth(label, orders, peak, connections, connections, orders, memory)


# --- per-pod capacity ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PodCapacity:
    """Orders/s one pod serves; `low`/`high` bound it when it comes from a fit."""

    value: float
    source: str
    low: float | None = None
    high: float | None = None

    @property
    def is_range(self) -> bool:
        return self.low is not None and self.high is not None


def spec_capacity(config: CapacityConfig) -> PodCapacity:
    """The script's `$ordersPerPod` (2,000 orders/s)."""
    return PodCapacity(
        float(config.script.orders_per_pod), "the specification's baseline ($ordersPerPod)"
    )


def capacity_from_best(ramp: Ramp, include_untrusted: bool = False) -> PodCapacity | None:
    """The highest measured throughput of a run whose p99 met the target: trusted runs only,
    unless `include_untrusted` (the source then says so)."""
    best = ramp.best
    if best is None and include_untrusted:
        met = [p for p in ramp.points_by_run if p.met_p99]
        best = max(met, key=lambda p: p.throughput_per_s, default=None)
    if best is None:
        return None
    trust = "" if best.trusted else "NOT TRUSTED "
    return PodCapacity(
        best.throughput_per_s,
        f"measured: the fastest {trust}run with p99 {best.p99_ms:.3g} ms below the "
        f"{ramp.p99_target_ms:g} ms target (offered {best.offered_per_s:g}/s)",
    )


def capacity_from_fit(fit: USLFit) -> PodCapacity | None:
    """X at the fitted peak with its interval when the ramp reached near the peak; otherwise
    X at the highest tested load (no extrapolation) with its interval."""
    curve, peak = fit.curve, fit.curve.peak_concurrency
    low: float | None
    high: float | None
    if peak is not None and fit.max_load >= 0.75 * peak and fit.intervals.peak_throughput:
        low, high = fit.intervals.peak_throughput
        value = curve.throughput(peak)
        source = f"USL fit: the peak throughput X(N*) at N* = {peak:.3g}, 95 % interval"
    else:
        value = curve.throughput(fit.max_load)
        interval = fit.throughput_interval(fit.max_load)
        low, high = interval if interval is not None else (None, None)
        source = (
            f"USL fit: X at the highest tested load ({fit.max_load:.3g}; the peak was not "
            "reached, so none is extrapolated), 95 % interval"
        )
    if not value > 0:
        return None
    return PodCapacity(value, source, low, high)


def fit_ramp(ramp: Ramp) -> tuple[USLFit | None, str | None]:
    """The USL fit of the ramp's points, or None and why it cannot be made."""
    points = ramp.points
    distinct = len(set(points.load))
    if distinct < _MIN_LOADS:
        return None, (
            f"the ramp has {distinct} distinct load{'s' if distinct != 1 else ''} "
            f"({len(ramp.points_by_run)} run{'s' if len(ramp.points_by_run) != 1 else ''}); "
            f"the USL fit needs at least {_MIN_LOADS}: run orders benchmarks at increasing "
            "rates with one label"
        )
    try:
        return fit_usl(points), None
    except USLDataError as exc:
        return None, f"the USL fit failed: {exc}"


# --- the plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIf:
    """The plan at the per-pod capacity, and at the ends of its range when it has one."""

    plan: CapacityPlan
    capacity: PodCapacity
    fewest: CapacityPlan | None  # at the capacity's high end
    most: CapacityPlan | None  # at its low end; None with a range whose low end is 0 (open)

    @property
    def pods_range(self) -> tuple[float, float | None] | None:
        """(fewest, most) recommended pods; most None when the interval reaches 0."""
        if self.fewest is None:
            return None
        most = None if self.most is None else self.most.figures.recommended_pods
        return self.fewest.figures.recommended_pods, most

    @property
    def cost_range(self) -> tuple[float, float | None] | None:
        """(lowest, highest) monthly total cost; highest None when open."""
        if self.fewest is None:
            return None
        most = None if self.most is None else self.most.figures.total_cost
        return self.fewest.figures.total_cost, most


def what_if(
    config: CapacityConfig,
    growth: Growth,
    months: int,
    capacity: PodCapacity,
    overrides: Overrides | None = None,
) -> WhatIf:
    """The script's plan with `growth` over `months`, `capacity` orders/s per pod and the
    overridden headroom and costs."""
    if not (math.isfinite(capacity.value) and capacity.value > 0):
        raise ValueError(f"the per-pod capacity must be above 0, got {capacity.value}")
    overrides = overrides or Overrides()

    def at(per_pod: float) -> CapacityPlan:
        return plan_capacity(with_overrides(config, overrides, per_pod), growth, months)

    plan = at(capacity.value)
    fewest = most = None
    if capacity.is_range:
        assert capacity.low is not None and capacity.high is not None
        fewest = at(max(capacity.high, capacity.value))
        most = at(min(capacity.low, capacity.value)) if capacity.low > 0 else None
    return WhatIf(plan, capacity, fewest, most)


# --- frames for the charts -----------------------------------------------------------------------

_RESOURCES = (
    ("trading_engine_pods", "Trading engine pods", "pods", "pods"),
    ("database_cpu_cores", "Database CPU cores", "cores", "cores"),
    ("memory", "Memory", "GB", "memory_gb"),
    ("network_bandwidth", "Network bandwidth", "Mbps", "bandwidth_mbps"),
)


def runway_frame(plan: CapacityPlan) -> pd.DataFrame:
    """Month by month: resource, unit, required, capacity (today's fleet) and share (%)."""
    capacity = {e.resource: float(e.capacity) for e in plan.exhaustion}
    rows = [
        {
            "month": row.month,
            "resource": title,
            "unit": unit,
            "required": float(getattr(row, field)),
            "capacity": capacity[key],
            "share": 100 * float(getattr(row, field)) / capacity[key],
        }
        for row in plan.monthly
        for key, title, unit, field in _RESOURCES
    ]
    return pd.DataFrame(rows)


def exhaustion_frame(plan: CapacityPlan) -> pd.DataFrame:
    """Per resource: today's capacity, the month it runs out and what is needed then."""
    titles = {key: title for key, title, _, _ in _RESOURCES}
    rows = []
    for e in plan.exhaustion:
        if e.month is None:
            runs_out = f"not within {plan.months} months"
        elif e.month == 0:
            runs_out = "already short today"
        else:
            runs_out = f"month {e.month}"
        rows.append(
            {
                "resource": titles[e.resource],
                "today": f"{e.capacity:g} {e.unit}",
                "runs out": runs_out,
                "needed then": "—" if e.requirement is None else f"{e.requirement:.4g} {e.unit}",
                f"needed at month {plan.months}": f"{e.at_horizon:.4g} {e.unit}",
                "below headroom from": (
                    "—" if e.headroom_month is None else f"month {e.headroom_month}"
                ),
                "month": e.month,
            }
        )
    return pd.DataFrame(rows)


def usl_frame(fit: USLFit, steps: int = 120) -> pd.DataFrame:
    """The fitted curve from load 0 past the tested loads: load, throughput, low, high."""
    peak = fit.curve.peak_concurrency
    top = fit.max_load * 1.25
    if peak is not None and peak < 2 * fit.max_load:
        top = max(top, peak * 1.15)
    loads = np.linspace(top / steps, top, steps)
    rows = []
    for load in loads:
        interval = fit.throughput_interval(float(load))
        low, high = interval if interval is not None else (math.nan, math.nan)
        rows.append(
            {
                "load": float(load),
                "throughput": fit.curve.throughput(float(load)),
                "low": low,
                "high": high,
            }
        )
    return pd.DataFrame(rows)
