"""Capacity plan: `calculate-capacity.ps1` reproduced, growth scenarios, month of exhaustion.

    config = load_config(Path("config/capacity.yaml"))
    plan = plan_capacity(config, script_growth(3.0), months=12)
    print("\\n".join(script_lines(plan)))   # the script's Write-Host lines, as PowerShell prints

The figures are the script's, computed in its order with its rounding (`[math]::Ceiling`), so
they carry its flaws; `plan.notes` names them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CapacityConfig",
    "CapacityPlan",
    "ConfigError",
    "Exhaustion",
    "Figures",
    "Fleet",
    "Growth",
    "MonthRow",
    "Scenario",
    "ScriptConstants",
    "TargetGap",
    "compute_figures",
    "load_config",
    "parse_bandwidth_mbps",
    "parse_config",
    "parse_database_spec",
    "parse_multiplier",
    "plan_capacity",
    "powershell_number",
    "report_lines",
    "scenario_growth",
    "script_growth",
    "script_lines",
]

Number = int | float


class ConfigError(ValueError):
    """The capacity file is missing a key or holds a value that cannot be read."""


# --- values as the specification writes them ----------------------------------------------------

_MULTIPLIER = re.compile(r"(\d+(?:\.\d+)?)\s*[xX]")
_DATABASE_SPEC = re.compile(r"(\d+)\s*CPU\s*,\s*(\d+(?:\.\d+)?)\s*GB\s+RAM", re.IGNORECASE)
_BANDWIDTH = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT])bps", re.IGNORECASE)
_MBPS_PER_UNIT = {"K": 0.001, "M": 1, "G": 1000, "T": 1_000_000}
_SCENARIO_KEY = re.compile(r"([a-z][a-z0-9]*)_(\d+)_months")


def _int_if_whole(text: str) -> Number:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def parse_multiplier(value: object, key: str) -> float:
    """`"3.0x"` -> 3.0; a bare positive number is taken as it is."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and (match := _MULTIPLIER.fullmatch(value.strip())):
        number = float(match.group(1))
    else:
        raise ConfigError(f"{key}: expected a multiplier such as 3.0x, got {value!r}")
    if not number > 0:
        raise ConfigError(f"{key}: a multiplier must be above 0, got {value!r}")
    return number


def parse_database_spec(value: object, key: str) -> tuple[int, Number]:
    """`"8 CPU, 32GB RAM"` -> (8, 32)."""
    match = _DATABASE_SPEC.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(
            f'{key}: expected a database spec such as "8 CPU, 32GB RAM", got {value!r}'
        )
    return int(match.group(1)), _int_if_whole(match.group(2))


def parse_bandwidth_mbps(value: object, key: str) -> Number:
    """`"1 Gbps"` -> 1000 (decimal units, as the script's 1000 Mbps)."""
    match = _BANDWIDTH.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(f'{key}: expected a bandwidth such as "10 Gbps", got {value!r}')
    mbps = float(match.group(1)) * _MBPS_PER_UNIT[match.group(2).upper()]
    return int(mbps) if mbps.is_integer() else mbps


# --- the configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One of capacity-planning.yaml's growth projections."""

    name: str
    months: int
    user_growth: float
    volume_growth: float
    peak_multiplier: float


@dataclass(frozen=True)
class Fleet:
    """Infrastructure: the current one or a scenario's target."""

    pods: int
    cpu_cores: int
    memory_gb: Number
    bandwidth_mbps: Number


@dataclass(frozen=True)
class ScriptConstants:
    """The constants of calculate-capacity.ps1 (ints stay ints: PowerShell prints them so)."""

    growth_multiplier: float
    months_ahead: int
    orders_per_second: Number
    peak_orders_per_second: Number
    database_connections: Number
    websocket_connections: Number
    cpu_usage_percent: Number
    memory_usage_gb: Number
    current_pods: Number
    orders_per_pod: Number
    pod_headroom: Number
    current_connections: Number
    connections_per_core: Number
    core_headroom: Number
    current_memory_gb: Number
    memory_headroom: Number
    current_bandwidth_mbps: Number
    bytes_per_order: Number
    bandwidth_headroom: Number
    cost_per_pod: Number
    cost_per_core: Number
    cost_per_gb: Number
    cost_per_mbps: Number


@dataclass(frozen=True)
class CapacityConfig:
    """capacity.yaml: the specification's model and the script's constants."""

    daily_orders: Number
    peak_orders_per_second: Number
    average_orders_per_second: Number
    active_users: Number
    scenarios: Mapping[str, Scenario]
    fleets: Mapping[str, Fleet]
    script: ScriptConstants


def _get(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    walked = []
    for part in path.split("."):
        walked.append(part)
        if not isinstance(node, Mapping):
            raise ConfigError(f"{'.'.join(walked[:-1])}: expected a mapping, got {node!r}")
        if part not in node:
            raise ConfigError(f"{'.'.join(walked)}: missing")
        node = node[part]
    return node


def _number(data: Mapping[str, Any], path: str, *, integer: bool = False) -> Number:
    value = _get(data, path)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{path}: expected a number, got {value!r}")
    if integer and not isinstance(value, int):
        raise ConfigError(f"{path}: expected a whole number, got {value!r}")
    if value <= 0:
        raise ConfigError(f"{path}: must be above 0, got {value!r}")
    return value


_SCRIPT_FIELDS = {
    "growth_multiplier": "growth_multiplier",
    "months_ahead": "months_ahead",
    "orders_per_second": "current_metrics.orders_per_second",
    "peak_orders_per_second": "current_metrics.peak_orders_per_second",
    "database_connections": "current_metrics.database_connections",
    "websocket_connections": "current_metrics.websocket_connections",
    "cpu_usage_percent": "current_metrics.cpu_usage_percent",
    "memory_usage_gb": "current_metrics.memory_usage_gb",
    "current_pods": "trading_engine.current_pods",
    "orders_per_pod": "trading_engine.orders_per_pod",
    "pod_headroom": "trading_engine.headroom",
    "current_connections": "database.current_connections",
    "connections_per_core": "database.connections_per_core",
    "core_headroom": "database.headroom",
    "current_memory_gb": "memory.current_gb",
    "memory_headroom": "memory.headroom",
    "current_bandwidth_mbps": "network.current_bandwidth_mbps",
    "bytes_per_order": "network.bytes_per_order",
    "bandwidth_headroom": "network.headroom",
    "cost_per_pod": "monthly_costs_usd.per_pod",
    "cost_per_core": "monthly_costs_usd.per_cpu_core",
    "cost_per_gb": "monthly_costs_usd.per_gb_memory",
    "cost_per_mbps": "monthly_costs_usd.per_mbps_bandwidth",
}


def parse_config(data: object) -> CapacityConfig:
    """Read the parsed YAML document; a bad value raises ConfigError naming its key."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"expected a mapping at the top level, got {data!r}")
    script_values = {
        name: _number(data, f"calculate_capacity.{path}", integer=name == "months_ahead")
        for name, path in _SCRIPT_FIELDS.items()
    }
    script_values["growth_multiplier"] = float(script_values["growth_multiplier"])
    script = ScriptConstants(**script_values)  # type: ignore[arg-type]

    projections = _get(data, "growth_projections")
    if not isinstance(projections, Mapping) or not projections:
        raise ConfigError(
            f"growth_projections: expected a mapping of scenarios, got {projections!r}"
        )
    scenarios: dict[str, Scenario] = {}
    for key in projections:
        match = _SCENARIO_KEY.fullmatch(str(key))
        if match is None:
            raise ConfigError(f"growth_projections.{key}: name it <scenario>_<N>_months")
        base = f"growth_projections.{key}"
        scenarios[match.group(1)] = Scenario(
            name=match.group(1),
            months=int(match.group(2)),
            user_growth=parse_multiplier(_get(data, f"{base}.user_growth"), f"{base}.user_growth"),
            volume_growth=parse_multiplier(
                _get(data, f"{base}.volume_growth"), f"{base}.volume_growth"
            ),
            peak_multiplier=parse_multiplier(
                _get(data, f"{base}.peak_multiplier"), f"{base}.peak_multiplier"
            ),
        )

    fleets: dict[str, Fleet] = {}
    for name in ("current", *scenarios):
        suffix = name if name == "current" else f"{name}_target"
        db_key = f"infrastructure_scaling.database_specs.{suffix}"
        net_key = f"infrastructure_scaling.network_bandwidth.{suffix}"
        cores, memory = parse_database_spec(_get(data, db_key), db_key)
        fleets[name] = Fleet(
            pods=int(
                _number(data, f"infrastructure_scaling.trading_engine_pods.{suffix}", integer=True)
            ),
            cpu_cores=cores,
            memory_gb=memory,
            bandwidth_mbps=parse_bandwidth_mbps(_get(data, net_key), net_key),
        )

    return CapacityConfig(
        daily_orders=_number(data, "current_metrics.daily_orders"),
        peak_orders_per_second=_number(data, "current_metrics.peak_orders_per_second"),
        average_orders_per_second=_number(data, "current_metrics.average_orders_per_second"),
        active_users=_number(data, "current_metrics.active_users"),
        scenarios=scenarios,
        fleets=fleets,
        script=script,
    )


def load_config(path: Path) -> CapacityConfig:
    """Read and parse a capacity file; any failure is a ConfigError naming the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    try:
        return parse_config(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


# --- the script's arithmetic ---------------------------------------------------------------------


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


# --- month by month ------------------------------------------------------------------------------


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


def _monthly_growth(growth: Growth, fraction: float) -> Growth:
    return Growth(
        growth.label,
        growth.orders**fraction,
        growth.peak_orders**fraction,
        growth.connections**fraction,
        growth.websockets**fraction,
        growth.cpu**fraction,
        growth.memory**fraction,
    )


def _exhaustion(months: list[tuple[MonthRow, Figures]], fleet: Fleet) -> tuple[Exhaustion, ...]:
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


# --- the plan ------------------------------------------------------------------------------------


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
        fig = compute_figures(config.script, _monthly_growth(growth, month / months))
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
        exhaustion=_exhaustion(rows, fleet),
        targets=targets,
        notes=_notes(config, figures, months),
    )


# --- the script's flaws --------------------------------------------------------------------------


def _notes(config: CapacityConfig, f: Figures, months: int) -> tuple[str, ...]:
    s, ps = config.script, powershell_number
    fleet = config.fleets["current"]
    cpu = f"{ps(s.cpu_usage_percent)} -> {ps(f.projected_cpu_usage_percent)}"
    if f.projected_cpu_usage_percent > 100:
        cpu += ", a percentage past 100"
    needed = math.ceil(s.database_connections / s.connections_per_core)
    spare = fleet.cpu_cores - needed
    notes = [
        f"The script projects cpu_usage_percent ({cpu}) and never uses it: no figure depends "
        "on CPU.",
        f"The script projects websocket_connections ({ps(s.websocket_connections)} -> "
        f"{ps(f.projected_websocket_connections)}) and never uses them: the WebSocket tier is "
        "not sized.",
        f"The script projects orders_per_second ({ps(s.orders_per_second)} -> "
        f"{ps(f.projected_orders_per_second)}) and never uses it: pods follow the peak only.",
        f"MonthsAhead ({months}) is only printed: it changes no figure. The multiplier is the "
        "growth over the whole horizon; the runway here compounds it monthly, g^(m/M).",
        f"capacity-planning.yaml: {ps(config.daily_orders)} orders a day is "
        f"{config.daily_orders / 86400:.1f} orders/s on average, not the "
        f"{ps(config.average_orders_per_second)}/s it states "
        f"({ps(config.average_orders_per_second * 86400)} a day).",
        f"Memory: the headroom (x{ps(s.memory_headroom)}) multiplies the projected usage "
        f"({ps(s.memory_usage_gb)} GB -> {ps(f.projected_memory_usage_gb)} GB -> "
        f"{ps(f.recommended_memory_gb)} GB), which is then billed in the database cost, while "
        f"the database already has {ps(fleet.memory_gb)} GB RAM: the {ps(s.memory_usage_gb)} GB "
        "usage is not the database's memory.",
        f"Database: cores follow connections only ({ps(s.connections_per_core)} per core); "
        f"today's {ps(s.database_connections)} connections need {needed} of the "
        f"{fleet.cpu_cores} cores"
        + (", so the database has no headroom now." if spare <= 0 else f", {spare} spare."),
        "One multiplier grows every metric: connections grow with volume although the YAML "
        "grows users slower than volume, and the YAML's peak_multiplier is never used "
        "(--scenario applies them separately).",
        f"{ps(s.orders_per_pod)} orders/s per pod x {ps(s.current_pods)} pods = "
        f"{ps(s.orders_per_pod * s.current_pods)} orders/s, below the specification's own "
        "targets (> 10,000 orders/s sustained, > 50,000 at peak).",
        f"Network counts {ps(s.bytes_per_order)} bytes per order at the peak only: market data "
        "and WebSocket fan-out are left out.",
        "Headroom multiplies counts already rounded up (ceil(ceil(x) * headroom)), which can "
        "add a unit.",
    ]
    for scenario in config.scenarios.values():
        at = compute_figures(s, script_growth(scenario.volume_growth))
        target = config.fleets[scenario.name]
        notes.append(
            f"The YAML's {scenario.name} targets do not follow from the script: at its "
            f"{ps(scenario.volume_growth)}x volume the script recommends "
            f"{ps(at.recommended_pods)} pods and {ps(at.recommended_cores)} database cores; "
            f"the YAML says {target.pods} pods and {target.cpu_cores} CPU."
        )
    notes.append(
        'PowerShell reads "$${tradingEngineCost}" as the automatic variable $$ (the last token '
        "of the previous command line; empty under pwsh -File) followed by the text "
        "{tradingEngineCost}, so the script as written prints '  Trading Engine: "
        "{tradingEngineCost}' and shows no cost at all. The lines here print the intended "
        "'$<figure>'."
    )
    return tuple(notes)


# --- printing as PowerShell ----------------------------------------------------------------------


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
