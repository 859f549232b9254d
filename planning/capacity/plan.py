"""The capacity plan: the script's figures, the runway of today's fleet and the flaws carried."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from planning.capacity.config import CapacityConfig, Fleet, ScriptConstants
from planning.capacity.flaws import flaw_notes
from planning.capacity.printing import script_lines
from planning.capacity.runway import Exhaustion, MonthRow, monthly_growth, runway_exhaustion
from planning.capacity.script import Figures, Growth, compute_figures
from planning.capacity.values import Number

__all__ = ["CapacityPlan", "TargetGap", "plan_capacity"]


@dataclass(frozen=True)
class TargetGap:
    """A computed recommendation next to the YAML's infrastructure target (computed - target)."""

    resource: str
    unit: str
    computed: float
    target: Number
    gap: float


@dataclass(frozen=True)
class CapacityPlan:
    """The script's figures, the month-by-month runway and the flaws they carry."""

    growth: Growth
    months: int
    script: ScriptConstants
    figures: Figures
    fleet: Fleet
    monthly: tuple[MonthRow, ...]
    exhaustion: tuple[Exhaustion, ...]
    targets: tuple[TargetGap, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (whole-number doubles as integers)."""
        return {
            "growth": _plain(asdict(self.growth)),
            "months": self.months,
            "figures": _plain(asdict(self.figures)),
            "constants": _plain(asdict(self.script)),
            "current_fleet": _plain(asdict(self.fleet)),
            "exhaustion": [_plain(asdict(e)) for e in self.exhaustion],
            "targets": [_plain(asdict(t)) for t in self.targets] if self.targets else None,
            "monthly": [_plain(asdict(row)) for row in self.monthly],
            "notes": list(self.notes),
            "lines": script_lines(self),
        }


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: int(v) if isinstance(v, float) and v.is_integer() and abs(v) < 2**53 else v
        for key, v in values.items()
    }


def plan_capacity(config: CapacityConfig, growth: Growth, months: int) -> CapacityPlan:
    """The script's plan for `growth` over `months`, with the runway of the current fleet."""
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    figures = compute_figures(config.script, growth)
    fleet = config.fleets["current"]
    rows = []
    for month in range(months + 1):
        fig = compute_figures(config.script, monthly_growth(growth, month / months))
        row = MonthRow(
            month=month,
            peak_orders_per_second=fig.projected_peak_orders_per_second,
            pods=fig.required_pods,
            cores=fig.required_cores,
            memory_gb=fig.projected_memory_usage_gb,
            bandwidth_mbps=fig.required_bandwidth_mbps,
        )
        rows.append((row, fig))
    targets: tuple[TargetGap, ...] = ()
    if growth.scenario is not None:
        target = config.fleets[growth.scenario]
        pairs = (
            ("trading_engine_pods", "pods", figures.recommended_pods, target.pods),
            ("database_cpu_cores", "cores", figures.recommended_cores, target.cpu_cores),
            ("memory", "GB", figures.recommended_memory_gb, target.memory_gb),
            (
                "network_bandwidth",
                "Mbps",
                figures.recommended_bandwidth_mbps,
                target.bandwidth_mbps,
            ),
        )
        targets = tuple(TargetGap(r, u, c, t, c - t) for r, u, c, t in pairs)
    return CapacityPlan(
        growth=growth,
        months=months,
        script=config.script,
        figures=figures,
        fleet=fleet,
        monthly=tuple(row for row, _ in rows),
        exhaustion=runway_exhaustion(rows, fleet),
        targets=targets,
        notes=flaw_notes(config, figures, months),
    )
