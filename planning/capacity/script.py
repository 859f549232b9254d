"""The arithmetic of calculate-capacity.ps1: its figures for one set of growth multipliers.

figures = compute_figures(config.script, script_growth(3.0))
figures.recommended_pods   # 12.0, with the script's rounding ([math]::Ceiling)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planning.capacity.config import Scenario, ScriptConstants
from planning.capacity.printing import powershell_number

__all__ = ["Figures", "Growth", "compute_figures", "scenario_growth", "script_growth"]


@dataclass(frozen=True)
class Growth:
    """Multipliers over the horizon, one per projected metric of the script."""

    label: str
    orders: float
    peak_orders: float
    connections: float
    websockets: float
    cpu: float
    memory: float
    multiplier: float | None = None
    scenario: str | None = None


def script_growth(multiplier: float) -> Growth:
    """The script's one `$GrowthMultiplier`, applied to every metric."""
    g = float(multiplier)
    return Growth(f"{powershell_number(g)}x growth", g, g, g, g, g, g, multiplier=g)


def scenario_growth(scenario: Scenario) -> Growth:
    """A YAML scenario: volume grows orders, CPU and memory; users grow connections;
    the peak grows by volume times the peak multiplier."""
    v, u = scenario.volume_growth, scenario.user_growth
    label = (
        f"{scenario.name}: {powershell_number(v)}x volume, {powershell_number(u)}x users, "
        f"{powershell_number(scenario.peak_multiplier)}x peak"
    )
    return Growth(label, v, v * scenario.peak_multiplier, u, u, v, v, scenario=scenario.name)


@dataclass(frozen=True)
class Figures:
    """Every value calculate-capacity.ps1 computes, as it computes it."""

    projected_orders_per_second: float
    projected_peak_orders_per_second: float
    projected_database_connections: float
    projected_websocket_connections: float
    projected_cpu_usage_percent: float
    projected_memory_usage_gb: float
    required_pods: float
    recommended_pods: float
    required_cores: float
    recommended_cores: float
    recommended_memory_gb: float
    required_bandwidth_mbps: float
    recommended_bandwidth_mbps: float
    trading_engine_cost: float
    database_cost: float
    network_cost: float
    total_cost: float


def compute_figures(s: ScriptConstants, growth: Growth) -> Figures:
    """The script's figures for one set of multipliers (same order of operations)."""
    peak = s.peak_orders_per_second * growth.peak_orders
    connections = s.database_connections * growth.connections
    memory = s.memory_usage_gb * growth.memory
    required_pods = float(math.ceil(peak / s.orders_per_pod))
    recommended_pods = float(math.ceil(required_pods * s.pod_headroom))
    required_cores = float(math.ceil(connections / s.connections_per_core))
    recommended_cores = float(math.ceil(required_cores * s.core_headroom))
    recommended_memory = float(math.ceil(memory * s.memory_headroom))
    bandwidth = (peak * s.bytes_per_order * 8) / 1000000
    recommended_bandwidth = float(math.ceil(bandwidth * s.bandwidth_headroom))
    trading_cost = recommended_pods * s.cost_per_pod
    database_cost = recommended_cores * s.cost_per_core + recommended_memory * s.cost_per_gb
    network_cost = recommended_bandwidth * s.cost_per_mbps
    return Figures(
        projected_orders_per_second=s.orders_per_second * growth.orders,
        projected_peak_orders_per_second=peak,
        projected_database_connections=connections,
        projected_websocket_connections=s.websocket_connections * growth.websockets,
        projected_cpu_usage_percent=s.cpu_usage_percent * growth.cpu,
        projected_memory_usage_gb=memory,
        required_pods=required_pods,
        recommended_pods=recommended_pods,
        required_cores=required_cores,
        recommended_cores=recommended_cores,
        recommended_memory_gb=recommended_memory,
        required_bandwidth_mbps=bandwidth,
        recommended_bandwidth_mbps=recommended_bandwidth,
        trading_engine_cost=trading_cost,
        database_cost=database_cost,
        network_cost=network_cost,
        total_cost=trading_cost + database_cost + network_cost,
    )
