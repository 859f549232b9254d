"""The specification's `check-regression.py` decision: one results file against a baseline."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = [
    "CHECKS",
    "CheckResult",
    "MetricCheck",
    "Regression",
    "ResultsError",
    "check_regression",
    "load_results",
]

Number = int | float


class ResultsError(ValueError):
    """A baseline or results file that cannot be read as the script expects."""


@dataclass(frozen=True)
class MetricCheck:
    """One of the script's three checks: which key, which way is worse, how it prints."""

    key: str
    worse: Literal["higher", "lower"]
    label: str
    unit: str

    def line(self, baseline: Number, current: Number) -> str:
        """The script's line for this regression, values formatted as its f-strings do."""
        if self.unit == "ms":
            return f"{self.label}: {baseline}ms -> {current}ms"
        return f"{self.label}: {baseline} -> {current} {self.unit}"


CHECKS: tuple[MetricCheck, ...] = (
    MetricCheck(
        "order_processing_p95_ms", "higher", "Order processing P95 latency regression", "ms"
    ),
    MetricCheck("orders_per_second", "lower", "Throughput regression", "orders/sec"),
    MetricCheck("database_query_p95_ms", "higher", "Database query P95 regression", "ms"),
)


@dataclass(frozen=True)
class Regression:
    """A metric that moved past the threshold in its bad direction."""

    metric: str
    baseline: Number
    current: Number
    change_pct: float | None
    threshold: float
    message: str


@dataclass(frozen=True)
class CheckResult:
    """The decision, the printed lines and the exit code of one check."""

    regressions: list[Regression]
    threshold: float
    warnings: list[str] = field(default_factory=list)

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions else 0

    def lines(self) -> list[str]:
        """Exactly what the specification's script prints on stdout."""
        if not self.regressions:
            return ["No performance regressions detected."]
        return ["Performance regressions detected:"] + [
            f"  - {r.message}" for r in self.regressions
        ]

    def to_json(self) -> dict[str, object]:
        return {
            "regressed": self.regressed,
            "exit_code": self.exit_code,
            "threshold": self.threshold,
            "regressions": [
                {
                    "metric": r.metric,
                    "baseline": r.baseline,
                    "current": r.current,
                    "change_pct": r.change_pct,
                    "threshold": r.threshold,
                    "message": r.message,
                }
                for r in self.regressions
            ],
            "warnings": self.warnings,
        }


def load_results(path: str | Path, role: str) -> dict[str, object]:
    """Read a results file as a JSON object; `role` names it in errors ("baseline"...)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{role} file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{role} file {path} cannot be read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{role} file {path} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{role} file {path} is not a JSON object")
    return data


def _value(data: dict[str, object], key: str, role: str, warnings: list[str]) -> Number:
    if key not in data:
        warnings.append(f"{role} has no {key!r}; taken as 0 (as the script does)")
        return 0
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResultsError(f"{role} value of {key!r} is not a number: {value!r}")
    return value


def _change_pct(baseline: Number, current: Number) -> float | None:
    if baseline == 0:
        return None
    pct = (current - baseline) / baseline * 100.0
    return pct if math.isfinite(pct) else None


def check_regression(
    baseline: dict[str, object],
    current: dict[str, object],
    threshold: float = 0.15,
    *,
    baseline_name: str = "baseline",
    current_name: str = "current results",
) -> CheckResult:
    """Compare `current` with `baseline` exactly as the specification's script does."""
    warnings: list[str] = []
    regressions: list[Regression] = []
    for check in CHECKS:
        base = _value(baseline, check.key, baseline_name, warnings)
        cur = _value(current, check.key, current_name, warnings)
        if check.worse == "higher":
            bad = cur > base * (1 + threshold)
        else:
            bad = cur < base * (1 - threshold)
        if bad:
            regressions.append(
                Regression(
                    check.key, base, cur, _change_pct(base, cur), threshold, check.line(base, cur)
                )
            )
    return CheckResult(regressions, threshold, warnings)
