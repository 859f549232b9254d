"""`capacity.yaml`: the specification's capacity model and the script's constants, read strictly.

    config = load_config()                  # PINCEX_CONFIG_DIR/capacity.yaml, else the checkout's
    config.scenarios["aggressive"].volume_growth   # 10.0

Read through `common.yaml_config`: a key given twice, a key no one reads, a missing key, a
wrong type or a bad value is one `ConfigError` naming the file, the entry and its line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from common.paths import config_file
from common.yaml_config import Document, Key, load_yaml, misspelt
from planning.capacity.values import ConfigError, Number, bandwidth_mbps, database_spec, multiplier

__all__ = [
    "CapacityConfig",
    "Fleet",
    "Scenario",
    "ScriptConstants",
    "default_config_path",
    "load_config",
    "parse_config",
]

T = TypeVar("T")
_SCENARIO_KEY = re.compile(r"([a-z][a-z0-9]*)_(\d+)_months")


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


def default_config_path() -> Path:
    """`capacity.yaml` in the config directory (`PINCEX_CONFIG_DIR`, else the checkout's)."""
    return config_file("capacity.yaml")


def load_config(path: Path | None = None) -> CapacityConfig:
    """Read and check a capacity file (the default one when `path` is None)."""
    if path is None:
        document = load_yaml(
            default_config_path(), default="PINCEX_CONFIG_DIR", error_type=ConfigError
        )
    else:
        document = load_yaml(path, error_type=ConfigError)
    return _Reader(document).config()


def parse_config(data: object) -> CapacityConfig:
    """Check already-parsed YAML; a bad value raises ConfigError naming its key."""
    return _Reader(Document.of(data, "", ConfigError)).config()


class _Reader:
    """Reads entries by dotted path and remembers them, so that any other key is refused."""

    def __init__(self, document: Document) -> None:
        self.doc = document
        self.read: set[tuple[Key, ...]] = set()

    def get(self, dotted: str) -> Any:
        path = tuple(dotted.split("."))
        self.read.add(path)
        node: Any = self.doc.data
        for depth, part in enumerate(path):
            if not isinstance(node, Mapping):
                self.doc.mapping(node, path[:depth])
            if part not in node:
                self.doc.fail(path, f"missing{misspelt([part], node)}")
            node = node[part]
        return node

    def value(self, dotted: str, read: Callable[[object], T]) -> T:
        raw = self.get(dotted)
        try:
            return read(raw)
        except ValueError as exc:
            self.doc.fail(tuple(dotted.split(".")), str(exc))

    def number(self, dotted: str, *, integer: bool = False) -> Number:
        return self.value(dotted, lambda v: _positive(v, integer))

    def config(self) -> CapacityConfig:
        self.doc.mapping(self.doc.data, ())
        script_values = {
            name: self.number(f"calculate_capacity.{path}", integer=name == "months_ahead")
            for name, path in _SCRIPT_FIELDS.items()
        }
        script_values["growth_multiplier"] = float(script_values["growth_multiplier"])
        script = ScriptConstants(**script_values)  # type: ignore[arg-type]

        projections = self.get("growth_projections")
        if not isinstance(projections, Mapping) or not projections:
            self.doc.fail(
                ("growth_projections",),
                f"expected a mapping of scenarios, got {projections!r}",
            )
        scenarios: dict[str, Scenario] = {}
        for key in projections:
            match = _SCENARIO_KEY.fullmatch(str(key))
            if match is None:
                self.doc.fail(("growth_projections", str(key)), "name it <scenario>_<N>_months")
            base = f"growth_projections.{key}"
            scenarios[match.group(1)] = Scenario(
                name=match.group(1),
                months=int(match.group(2)),
                user_growth=self.value(f"{base}.user_growth", multiplier),
                volume_growth=self.value(f"{base}.volume_growth", multiplier),
                peak_multiplier=self.value(f"{base}.peak_multiplier", multiplier),
            )

        fleets: dict[str, Fleet] = {}
        for name in ("current", *scenarios):
            suffix = name if name == "current" else f"{name}_target"
            scaling = "infrastructure_scaling"
            cores, memory = self.value(f"{scaling}.database_specs.{suffix}", database_spec)
            fleets[name] = Fleet(
                pods=int(self.number(f"{scaling}.trading_engine_pods.{suffix}", integer=True)),
                cpu_cores=cores,
                memory_gb=memory,
                bandwidth_mbps=self.value(f"{scaling}.network_bandwidth.{suffix}", bandwidth_mbps),
            )

        config = CapacityConfig(
            daily_orders=self.number("current_metrics.daily_orders"),
            peak_orders_per_second=self.number("current_metrics.peak_orders_per_second"),
            average_orders_per_second=self.number("current_metrics.average_orders_per_second"),
            active_users=self.number("current_metrics.active_users"),
            scenarios=scenarios,
            fleets=fleets,
            script=script,
        )
        self.refuse_unread(self.doc.data, ())
        return config

    def refuse_unread(self, node: object, path: tuple[Key, ...]) -> None:
        """An entry nobody read is a mistake (a misspelt key would otherwise be ignored)."""
        if not isinstance(node, Mapping) or path in self.read:
            return
        allowed = [str(k) for k in node if any(r[: len(path) + 1] == (*path, k) for r in self.read)]
        self.doc.mapping(node, path, optional=allowed)
        for key, child in node.items():
            self.refuse_unread(child, (*path, key))


def _positive(value: object, integer: bool) -> Number:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"expected a number, got {value!r}")
    if integer and not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    if value <= 0:
        raise ValueError(f"must be above 0, got {value!r}")
    return value
