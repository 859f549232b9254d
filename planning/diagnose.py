"""Diagnosis: the spec's tuning quick reference as rules over measured figures.

    findings = diagnose({"trading_engine_cpu_percent": 91}, load_config())
    findings[0].issue, findings[0].resolution  # "High CPU Usage", "Optimize algorithms, tune GOGC"

Each rule watches one metric and fires exactly when that metric misses its target in the config:
CPU, memory and network per component against the System Resource Targets, database figures
against the Database Performance Targets, and the load-test error rate against a profile's limit
(baseline unless told otherwise). Investigation and resolution texts are the spec's own
("Performance Tuning Quick Reference"); the spec has no such texts for the database targets other
than query latency, so those rules carry ours. Findings are sorted by severity: how far past the
threshold the figure is, as a fraction of the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from planning.slo import Comparator, SloConfig, margin, resolve_results, satisfies

__all__ = [
    "QUICK_REFERENCE",
    "RULES",
    "Check",
    "Diagnosis",
    "Finding",
    "Rule",
    "Skipped",
    "diagnose",
    "examine",
]

_QUICK_REFERENCE_SOURCE = "Performance Tuning Quick Reference"
_DB_TARGETS_SOURCE = "Database Performance Targets (investigation and resolution are ours)"

QUICK_REFERENCE: dict[str, tuple[str, str]] = {
    "High CPU Usage": ("Check goroutines, GC frequency", "Optimize algorithms, tune GOGC"),
    "High Memory Usage": ("Profile heap, check for leaks", "Implement object pooling, fix leaks"),
    "High DB Latency": ("Analyze slow queries, check locks", "Add indexes, optimize queries"),
    "Network Saturation": ("Monitor bandwidth usage", "Implement compression, cache data"),
    "High Error Rates": ("Check logs, trace requests", "Fix bugs, add circuit breakers"),
}
"""The spec's table: issue -> (investigation, resolution)."""

_COMPONENTS = (
    "trading_engine",
    "market_data_service",
    "database_primary",
    "websocket_service",
    "authentication_service",
)


@dataclass(frozen=True)
class Rule:
    """A symptom: `metric` missing its target (from a table, or from the chosen profile)."""

    id: str
    issue: str
    metric: str
    investigation: str
    resolution: str
    source: str
    threshold_from: Literal["table", "profile"] = "table"


def _quick(
    rule_id: str, issue: str, metric: str, threshold_from: Literal["table", "profile"] = "table"
) -> Rule:
    investigation, resolution = QUICK_REFERENCE[issue]
    return Rule(
        rule_id, issue, metric, investigation, resolution, _QUICK_REFERENCE_SOURCE, threshold_from
    )


RULES: tuple[Rule, ...] = (
    *(_quick(f"high_cpu_usage.{c}", "High CPU Usage", f"{c}_cpu_percent") for c in _COMPONENTS),
    *(
        _quick(f"high_memory_usage.{c}", "High Memory Usage", f"{c}_memory_gib")
        for c in _COMPONENTS
    ),
    *(
        _quick(f"network_saturation.{c}", "Network Saturation", f"{c}_network_mbps")
        for c in _COMPONENTS
    ),
    _quick("high_db_latency", "High DB Latency", "database_query_p95_ms"),
    Rule(
        "high_pool_utilization",
        "High Connection Pool Utilization",
        "database_pool_utilization_percent",
        "Compare active with max connections; look for long transactions and leaked connections",
        "Release connections promptly, shorten transactions, then grow the pool or add a pooler",
        _DB_TARGETS_SOURCE,
    ),
    Rule(
        "low_cache_hit_ratio",
        "Low Cache Hit Ratio",
        "database_cache_hit_ratio_percent",
        "Find the queries that miss the cache; check its size and eviction rate",
        "Size the cache to the working set, cache hot reads (balances, order books), tune TTLs",
        _DB_TARGETS_SOURCE,
    ),
    Rule(
        "high_replication_lag",
        "High Replication Lag",
        "database_replication_lag_ms",
        "Check WAL volume, the replica's apply rate, its I/O and the network between them",
        "Batch writes to cut WAL volume, give the replica faster I/O, read fresh data from primary",
        _DB_TARGETS_SOURCE,
    ),
    Rule(
        "high_lock_wait",
        "High Lock Wait Time",
        "database_lock_wait_avg_ms",
        "Find blocking sessions and hot rows (pg_locks, pg_stat_activity)",
        "Shorten transactions, lock rows in a consistent order, avoid updating hot rows",
        _DB_TARGETS_SOURCE,
    ),
    _quick("high_error_rates", "High Error Rates", "request_error_rate_percent", "profile"),
)
"""Every rule, in a fixed order; ids are stable."""


@dataclass(frozen=True)
class Finding:
    """A triggered rule: the figures, the threshold they broke, and what to do about it.

    `over_by` is how far past the threshold the figure is, in its unit (0 at a strict limit);
    `severity` is that as a fraction of |threshold| (the absolute excess for a 0 threshold).
    """

    rule: str
    issue: str
    component: str | None
    metric: str
    observed: float
    comparator: Comparator
    threshold: float
    unit: str | None
    over_by: float
    severity: float
    symptom: str
    investigation: str
    resolution: str
    source: str
    figures: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "rule": self.rule,
            "issue": self.issue,
            "component": self.component,
            "symptom": self.symptom,
            "metric": self.metric,
            "observed": self.observed,
            "comparator": self.comparator,
            "threshold": self.threshold,
            "unit": self.unit,
            "over_by": self.over_by,
            "severity": self.severity,
            "figures": self.figures,
            "investigation": self.investigation,
            "resolution": self.resolution,
            "source": self.source,
        }


@dataclass(frozen=True)
class Check:
    """A rule that had a figure and a threshold, where the threshold came from, whether it fired."""

    rule: str
    issue: str
    metric: str
    target: str
    target_from: str
    triggered: bool


@dataclass(frozen=True)
class Skipped:
    """A rule that could not be evaluated, and why (no figure, or no threshold)."""

    rule: str
    issue: str
    reason: str


@dataclass(frozen=True)
class Diagnosis:
    """Findings (most severe first), the rules checked, and those not evaluated."""

    findings: tuple[Finding, ...]
    checked: tuple[Check, ...]
    not_evaluated: tuple[Skipped, ...]
    profile: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "findings": [f.as_dict() for f in self.findings],
            "checked": [vars(c) for c in self.checked],
            "not_evaluated": [vars(s) for s in self.not_evaluated],
        }


def diagnose(
    results: Mapping[str, float | None], slos: SloConfig, profile: str = "baseline"
) -> list[Finding]:
    """The rules that fire on `results`, most severe first."""
    return list(examine(results, slos, profile).findings)


def examine(
    results: Mapping[str, float | None],
    slos: SloConfig,
    profile: str = "baseline",
    rules: tuple[Rule, ...] = RULES,
) -> Diagnosis:
    """Run every rule: findings, the rules checked, and the rules lacking a figure or target.

    Results are checked and aliases resolved as `evaluate` does; `profile` gives the error-rate
    limit. Raises SloError for an unknown metric, a non-numeric value or an unknown profile.
    """
    figures = resolve_results(slos, results)
    section = slos.profile(profile)
    findings: list[Finding] = []
    checked: list[Check] = []
    skipped: list[Skipped] = []
    for rule in rules:
        if rule.threshold_from == "profile":
            slo = next((s for s in section.slos if s.metric == rule.metric), None)
            where = f"profile {profile}"
        else:
            slo = slos.table_slo(rule.metric)
            where = f"table {slo.table}" if slo is not None else "the target tables"
        observed = figures.get(rule.metric)
        if slo is None or slo.comparator is None or slo.target is None:
            skipped.append(Skipped(rule.id, rule.issue, f"no target for {rule.metric} in {where}"))
            continue
        if observed is None:
            skipped.append(Skipped(rule.id, rule.issue, f"no figure for {rule.metric}"))
            continue
        unit = slo.unit or ""
        sep = "" if unit in ("", "%") else " "
        target = f"{slo.comparator} {_num(slo.target)}{sep}{unit}"
        fired = not satisfies(observed, slo.comparator, slo.target)
        checked.append(Check(rule.id, rule.issue, rule.metric, target, where, fired))
        if not fired:
            continue
        headroom, percent = margin(observed, slo.comparator, slo.target)
        findings.append(
            Finding(
                rule=rule.id,
                issue=rule.issue,
                component=slo.component,
                metric=rule.metric,
                observed=observed,
                comparator=slo.comparator,
                threshold=slo.target,
                unit=slo.unit,
                over_by=abs(headroom),
                severity=abs(headroom) if percent is None else abs(percent) / 100,
                symptom=f"{slo.description} {_num(observed)}{sep}{unit} breaks the target {target}",
                investigation=rule.investigation,
                resolution=rule.resolution,
                source=rule.source,
                figures={rule.metric: observed},
            )
        )
    findings.sort(key=lambda f: (-f.severity, f.rule))
    return Diagnosis(tuple(findings), tuple(checked), tuple(skipped), profile)


def _num(x: float) -> str:
    """A figure as a person reads it: whole numbers as they are, others to 3 significant
    decimals (0.0235, 91.5, 1234.6), never a float's full repr."""
    if float(x).is_integer():
        return str(int(x))
    if abs(x) >= 100:
        return f"{x:.1f}"
    return f"{x:.3g}" if abs(x) < 1 else f"{x:.3f}".rstrip("0").rstrip(".")
