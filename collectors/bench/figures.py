"""The figures every benchmark reports, as frozen values with their JSON form.

view = LatencyView.of(summary.latency)   # from the store's LatencyFigures
view.to_json()                           # {"mean": ..., "p50": ..., ..., "max": ...} (ms)
Verdict(trust_reasons=("...",), warnings=()).trusted  # False
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collectors.store.model import LatencyFigures

__all__ = ["LatencyView", "Outcome", "ScheduleLag", "Verdict", "figures_ms"]


@dataclass(frozen=True, slots=True)
class LatencyView:
    """One latency view in milliseconds, rounded to the microsecond as the benchmarks print it:
    from the due time (coordinated omission corrected) or from the send (service time)."""

    mean: float
    p50: float
    p90: float
    p95: float
    p99: float
    p999: float
    max: float

    @classmethod
    def of(cls, f: LatencyFigures) -> LatencyView:
        return cls(
            round(f.mean_ms, 3),
            round(f.p50_ms, 3),
            round(f.p90_ms, 3),
            round(f.p95_ms, 3),
            round(f.p99_ms, 3),
            round(f.p999_ms, 3),
            round(f.max_ms, 3),
        )

    def to_json(self) -> dict[str, float]:
        return {
            "mean": self.mean,
            "p50": self.p50,
            "p90": self.p90,
            "p95": self.p95,
            "p99": self.p99,
            "p999": self.p999,
            "max": self.max,
        }


def figures_ms(f: LatencyFigures) -> dict[str, float]:
    """A view's figures as the benchmarks print them (ms, 3 decimals)."""
    return LatencyView.of(f).to_json()


@dataclass(frozen=True, slots=True)
class ScheduleLag:
    """How late the generator itself released requests against their due times (ms)."""

    p99: float
    max: float

    def to_json(self) -> dict[str, float]:
        return {"p99": self.p99, "max": self.max}


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a run's figures can be trusted (and why not), and what else to know."""

    trust_reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def trusted(self) -> bool:
        return not self.trust_reasons

    def to_json(self) -> dict[str, Any]:
        return {
            "trusted": self.trusted,
            "trust_reasons": list(self.trust_reasons),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What every benchmark's figures end with: the verdict, what the server's /metrics said,
    whether it was aborted, and the run it was kept as (or why the store refused it)."""

    verdict: Verdict
    server: dict[str, Any] | None = None
    aborted: bool = False
    run_id: str | None = None
    store_error: str | None = None

    @property
    def trusted(self) -> bool:
        return self.verdict.trusted

    def outcome_json(self) -> dict[str, Any]:
        """The closing keys of the benchmark's JSON, each only when it applies."""
        out: dict[str, Any] = {}
        if self.server is not None:
            out["server"] = self.server
        if self.aborted:
            out["aborted"] = True
        if self.run_id is not None:
            out["run_id"] = self.run_id
        if self.store_error is not None:
            out["store_error"] = self.store_error
        return out
