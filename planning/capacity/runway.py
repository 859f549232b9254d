"""Month by month: the current fleet's runway under compounded growth."""

from __future__ import annotations

from dataclasses import dataclass

from planning.capacity.config import Fleet
from planning.capacity.script import Figures, Growth
from planning.capacity.values import Number

__all__ = ["Exhaustion", "MonthRow", "monthly_growth", "runway_exhaustion"]


@dataclass(frozen=True)
class MonthRow:
    """Requirements after `month` months of compounded growth (g ** (month / months))."""

    month: int
    peak_orders_per_second: float
    pods: float
    cores: float
    memory_gb: float
    bandwidth_mbps: float


@dataclass(frozen=True)
class Exhaustion:
    """When the current fleet runs out of one resource (month 0 is today; None: not in horizon)."""

    resource: str
    unit: str
    capacity: Number
    month: int | None
    requirement: float | None
    headroom_month: int | None
    at_horizon: float


def monthly_growth(growth: Growth, fraction: float) -> Growth:
    """`growth` after `fraction` of the horizon, compounded (g ** fraction)."""
    return Growth(
        growth.label,
        growth.orders**fraction,
        growth.peak_orders**fraction,
        growth.connections**fraction,
        growth.websockets**fraction,
        growth.cpu**fraction,
        growth.memory**fraction,
    )


def runway_exhaustion(
    months: list[tuple[MonthRow, Figures]], fleet: Fleet
) -> tuple[Exhaustion, ...]:
    """For each resource, the first month the fleet is short of it (and of its headroom)."""
    resources = (
        ("trading_engine_pods", "pods", fleet.pods, "pods", "recommended_pods"),
        ("database_cpu_cores", "cores", fleet.cpu_cores, "cores", "recommended_cores"),
        ("memory", "GB", fleet.memory_gb, "memory_gb", "recommended_memory_gb"),
        ("network_bandwidth", "Mbps", fleet.bandwidth_mbps, "bandwidth_mbps",
         "recommended_bandwidth_mbps"),
    )  # fmt: skip
    out = []
    for resource, unit, capacity, required, recommended in resources:
        over = [row for row, _ in months if getattr(row, required) > capacity]
        tight = [row.month for row, fig in months if getattr(fig, recommended) > capacity]
        out.append(
            Exhaustion(
                resource=resource,
                unit=unit,
                capacity=capacity,
                month=over[0].month if over else None,
                requirement=getattr(over[0], required) if over else None,
                headroom_month=tight[0] if tight else None,
                at_horizon=getattr(months[-1][0], required),
            )
        )
    return tuple(out)
