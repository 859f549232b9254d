"""The numbers behind the specification's vague load-test words ("sustained", "stable",
"recovers", "graceful", "manageable", "idle"), shared by the load-test config (collectors) and
the verdicts (planning). Their values come from `config/loadtest.yaml`'s `definitions:`, whose
comments give each definition as `planning.loadtest` applies it; under `--scale F` the durations
(and `queue_depth_limit`, a count of requests) are multiplied by F like the schedule."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Definitions"]


@dataclass(frozen=True, slots=True)
class Definitions:
    sustained_window: float = 10.0  # seconds
    sustained_floor_pct: float = 90.0
    stable_within_pct: float = 20.0
    trend_alpha: float = 0.01
    recovered_p99_profile: str = "baseline"
    recovered_consecutive: int = 10  # seconds (windows) in a row
    timeout: float = 10.0  # seconds
    queue_depth_limit: float = 10_000.0
    idle_max_rps: float = 5.0
    idle_window: float = 2.0  # seconds
