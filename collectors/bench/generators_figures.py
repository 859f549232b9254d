"""What one `bench generators` comparison measured, with its one JSON form.

`GeneratorsFigures.to_json()` gives the keys, in the order, that `--json` printed and runs
kept before the figures had a type: the server, the settings, one entry per generator (ours,
then each Locust class), the ours/Locust ratios and the notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collectors.bench.figures import LatencyView, Outcome, Verdict
from collectors.bench.trust import error_rate_passed

__all__ = [
    "GeneratorFigures",
    "GeneratorsFigures",
    "GeneratorsParameters",
    "LocustFigures",
    "OursFigures",
]

OURS = "pincex open model"
LOCUST_NOTE = (
    "Locust measures from the send (no coordinated-omission correction) and runs a closed model"
)
# --locust-classes key: (generator name, user class in the locustfile)
LOCUST_CLASSES: dict[str, tuple[str, str]] = {
    "fast": ("locust FastHttpUser", "FastOrderUser"),
    "http": ("locust HttpUser", "HttpOrderUser"),
}


@dataclass(frozen=True, slots=True)
class OursFigures:
    """Our open-model generator's figures, from `pincex bench orders --json` in its process."""

    rate: float
    connections: int
    requests: int
    errors: int
    achieved_rate: float
    cpu_pct: float  # as the generator measured itself over its load
    process_cpu_pct: float  # its whole process, from the reaped child's rusage
    latency: LatencyView
    service_time: LatencyView
    verdict: Verdict
    aborted: bool = False

    name = OURS
    model = "open"

    @property
    def rps(self) -> float:
        return self.achieved_rate

    @property
    def errors_over_limit(self) -> bool:
        return error_rate_passed(self.errors / self.requests if self.requests else 0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "rate": self.rate,
            "connections": self.connections,
            "requests": self.requests,
            "errors": self.errors,
            "achieved_rate": self.achieved_rate,
            "rps": self.rps,
            "cpu_pct": self.cpu_pct,
            "process_cpu_pct": self.process_cpu_pct,
            "latency_ms": self.latency.to_json(),
            "service_time_ms": self.service_time.to_json(),
            **self.verdict.to_json(),
        }


@dataclass(frozen=True, slots=True)
class LocustFigures:
    """One Locust user class's figures, from its final statistics."""

    name: str
    users: int
    requests: int
    failures: int
    rps: float
    latency: LatencyView
    cpu_pct: float  # Locust's own runner, as the locustfile measured it
    process_cpu_pct: float

    model = "closed"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "users": self.users,
            "requests": self.requests,
            "failures": self.failures,
            "rps": self.rps,
            "latency_ms": self.latency.to_json(),
            "cpu_pct": self.cpu_pct,
            "process_cpu_pct": self.process_cpu_pct,
            "note": LOCUST_NOTE,
        }


GeneratorFigures = OursFigures | LocustFigures


@dataclass(frozen=True, slots=True)
class GeneratorsParameters:
    """The comparison asked for, as the run keeps it (`config`, with the Locust classes)."""

    rate: float
    duration: int
    connections: int
    locust_users: int
    generator_cpu: int | None
    locust_classes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "duration": self.duration,
            "connections": self.connections,
            "locust_users": self.locust_users,
            "generator_cpu": self.generator_cpu,
        }


@dataclass(frozen=True, slots=True)
class GeneratorsFigures(Outcome):
    """The comparison; its verdict is our generator's. `run_id` or `store_error` once kept."""

    serving: dict[str, Any]  # the server loaded: nginx started here, or the given target
    config: GeneratorsParameters
    ours: OursFigures
    locust: tuple[LocustFigures, ...]

    @property
    def generators(self) -> tuple[GeneratorFigures, ...]:
        return (self.ours, *self.locust)

    @property
    def ratios(self) -> dict[str, float | None]:
        """Ours / each Locust class measured, by --locust-classes key (None: Locust sent
        nothing)."""
        by_name = {g.name: g.rps for g in self.locust}
        return {
            key: round(self.ours.rps / by_name[name], 3) if by_name[name] else None
            for key, (name, _) in LOCUST_CLASSES.items()
            if name in by_name
        }

    @property
    def notes(self) -> list[str]:
        return [
            f"{OURS} holds a fixed rate of {self.config.rate:g}/s (it never sends faster), so a "
            "ratio is a lower bound on what it could reach",
            LOCUST_NOTE,
        ]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "server": self.serving,
            "config": self.config.to_json(),
            "generators": [g.to_json() for g in self.generators],
        }
        for key, ratio in self.ratios.items():
            out[f"ratio_vs_locust_{key}"] = ratio
        out["notes"] = self.notes
        return out | self.outcome_json()
