"""A capacity plan printed: the script's Write-Host lines as PowerShell prints them, then the
targets, the runway and the flaws."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from planning.capacity.values import Number

if TYPE_CHECKING:
    from planning.capacity.plan import CapacityPlan

__all__ = ["powershell_number", "report_lines", "script_lines"]


def powershell_number(value: Number) -> str:
    """How PowerShell interpolates a number into a string: ints as they are, doubles as .NET
    "G15" in the invariant culture (3.0 -> "3", 122.88 -> "122.88", 1e15 -> "1E+15")."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return f"{value:.15G}"


def script_lines(plan: CapacityPlan) -> list[str]:
    """calculate-capacity.ps1's Write-Host lines ("`n" makes an empty line before a section)."""
    f, s, ps = plan.figures, plan.script, powershell_number
    if plan.growth.multiplier is not None:
        heading = f"({ps(plan.growth.multiplier)}x growth)"
    else:
        heading = f"({plan.growth.label})"
    return [
        f"Capacity Planning for {plan.months} months ahead {heading}:",
        "=============================================",
        "Trading Engine:",
        f"  Current Pods: {ps(s.current_pods)}",
        f"  Required Pods: {ps(f.required_pods)}",
        f"  Recommended Pods: {ps(f.recommended_pods)}",
        "",
        "Database:",
        f"  Current Connections: {ps(s.current_connections)}",
        f"  Target Connections: {ps(f.projected_database_connections)}",
        f"  Required CPU Cores: {ps(f.required_cores)}",
        f"  Recommended CPU Cores: {ps(f.recommended_cores)}",
        "",
        "Memory:",
        f"  Current Usage: {ps(s.current_memory_gb)}GB",
        f"  Projected Usage: {ps(f.projected_memory_usage_gb)}GB",
        f"  Recommended Allocation: {ps(f.recommended_memory_gb)}GB",
        "",
        "Network:",
        f"  Current Bandwidth: {ps(s.current_bandwidth_mbps)}Mbps",
        f"  Required Bandwidth: {ps(f.required_bandwidth_mbps)}Mbps",
        f"  Recommended Bandwidth: {ps(f.recommended_bandwidth_mbps)}Mbps",
        "",
        "Estimated Monthly Costs:",
        f"  Trading Engine: ${ps(f.trading_engine_cost)}",
        f"  Database: ${ps(f.database_cost)}",
        f"  Network: ${ps(f.network_cost)}",
        f"  Total: ${ps(f.total_cost)}",
    ]


_RESOURCE_NAMES = {
    "trading_engine_pods": "Trading engine pods",
    "database_cpu_cores": "Database CPU cores",
    "memory": "Memory",
    "network_bandwidth": "Network bandwidth",
}


def _round(value: float) -> str:
    """A figure of the runway (not one of the script's own lines): one decimal at most."""
    text = f"{value:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def report_lines(plan: CapacityPlan) -> list[str]:
    """The script's lines, then the scenario's targets, the runway and the notes."""
    ps = powershell_number
    lines = script_lines(plan)
    if plan.targets:
        lines += ["", f"Targets in capacity-planning.yaml ({plan.growth.scenario}):"]
        for t in plan.targets:
            lines.append(
                f"  {_RESOURCE_NAMES[t.resource]}: computed {ps(t.computed)} {t.unit}, "
                f"target {ps(t.target)} {t.unit}, gap {'+' if t.gap >= 0 else ''}{ps(t.gap)}"
            )
    lines += ["", f"Current fleet runway (growth compounded monthly over {plan.months} months):"]
    for e in plan.exhaustion:
        name = f"  {_RESOURCE_NAMES[e.resource]} ({ps(e.capacity)} {e.unit}): "
        if e.month is None:
            needs = f"{_round(e.at_horizon)} {e.unit}"
            verdict = f"enough for {plan.months} months (needs {needs} at the end)"
        elif e.month == 0:
            verdict = f"already short today (needs {_round(e.requirement or 0)} {e.unit})"
        else:
            verdict = f"runs out in month {e.month} (needs {_round(e.requirement or 0)} {e.unit})"
        if e.headroom_month is not None:
            verdict += f"; below the script's headroom from month {e.headroom_month}"
        lines.append(name + verdict)
    if plan.growth.scenario is None:
        lines += ["", "Known flaws of calculate-capacity.ps1 (reproduced in the figures above):"]
    else:
        lines += ["", "Known flaws of calculate-capacity.ps1 (its formulas are kept above):"]
    lines += [f"  - {note}" for note in plan.notes]
    return lines
