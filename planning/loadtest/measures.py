"""What one load test measured, as plain values: the input of its verdicts and analysis.

Built by the caller (`pincex loadtest run`) from the engine's result; every figure is from the
client's side unless it says server. Latency is from each request's due time (coordinated
omission corrected). Times are seconds from the start of the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["InvariantCheck", "LoadTestMeasures", "StageMeasure", "WindowSeries"]


@dataclass(frozen=True, slots=True)
class WindowSeries:
    """Client figures per window of due time (`window_s` long; 1 s unless scaled down)."""

    window_s: float
    start: tuple[float, ...]  # each window's start
    requests: tuple[int, ...]  # requests due in the window
    errors: tuple[int, ...]  # ... answered with a non-2xx, or not answered
    completed: tuple[int, ...]  # 2xx answers that arrived in the window (by arrival time)
    p99_ms: tuple[float | None, ...]  # p99 latency of the window's answered requests


@dataclass(frozen=True, slots=True)
class StageMeasure:
    """One stage (ramp-up, hold, ramp-down, base, spike n, step n)."""

    name: str
    kind: str
    start: float
    end: float
    planned_rate: float  # mean requests per second asked for
    requests: int
    errors: int
    completed_rps: float  # 2xx answers per second of the stage
    p95_ms: float | None
    p99_ms: float | None

    @property
    def error_rate_pct(self) -> float:
        return self.errors / self.requests * 100 if self.requests else 0.0


@dataclass(frozen=True, slots=True)
class InvariantCheck:
    """One correctness check after the run (funds conserved, no negative balance, ...)."""

    name: str
    passed: bool
    detail: str  # what was checked, with counts; on failure what was wrong


@dataclass(frozen=True)
class LoadTestMeasures:
    profile: str
    pattern: str  # ramp | spike | steps | constant
    scale: float  # 1.0 unless --scale
    rate: float  # the profile's (scaled) rate: hold rate, spike base, or top step
    requests: int
    errors: int  # non-2xx answers, failed connections and timeouts
    p95_ms: float | None  # over every answered request
    p99_ms: float | None
    stages: tuple[StageMeasure, ...]
    series: WindowSeries
    status_counts: dict[str, int] = field(default_factory=dict)  # "200": n, "0": no answer
    refusals: int = 0  # 429 and 503 answers
    refusals_with_retry_after: int = 0
    timeouts: int = 0  # no answer within the timeout
    other_5xx: int = 0  # 5xx other than 503
    spike_rate: float = 0.0
    invariants: tuple[InvariantCheck, ...] | None = None  # None: not checked (not the exchange)
    crossed_books_seen: int = 0  # orderbook answers with best bid >= best ask during the run
    # the server's queue depth per second: (second, pending writes + requests in flight)
    queue_depth: tuple[tuple[float, float], ...] | None = None
    stopped_early_after: str | None = None  # steps: the stage after which the run stopped
    capacity_profile: str = "baseline"  # steps: the profile whose targets each step must meet
    trusted: bool = True
    trust_reasons: tuple[str, ...] = ()
    # --rate and --duration may scale rates and durations apart from --scale; None: `scale`
    rate_scale: float | None = None
    time_scale: float | None = None

    @property
    def rates_x(self) -> float:
        """The factor the profile's rates ran at (targets in req/s follow it)."""
        return self.scale if self.rate_scale is None else self.rate_scale

    @property
    def times_x(self) -> float:
        """The factor the profile's durations ran at (windows and time targets follow it)."""
        return self.scale if self.time_scale is None else self.time_scale

    @property
    def error_rate_pct(self) -> float:
        return self.errors / self.requests * 100 if self.requests else 0.0
