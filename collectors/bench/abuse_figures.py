"""What one `bench abuse` run measured, with its one JSON form.

`AbuseFigures.to_json()` gives the keys, in the order, that `--json` printed before the figures
had a type: per scenario what the server did (connections closed, a streamed request's
answer, a flood held or refused, or why the scenario failed), the health probe while it ran,
the exchange's peak memory and, for the targeted scenarios, whether the target was met.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "TARGETED",
    "TARGET_PROBE_P99_MS",
    "TARGET_RSS_MB",
    "AbuseFigures",
    "AbuseParameters",
    "Closes",
    "Flood",
    "ProbeFigures",
    "ScenarioFailed",
    "ScenarioFigures",
    "ServerSide",
    "Streamed",
    "TargetVerdict",
]

TARGETED = ("slowloris", "idle", "big-body", "big-batch")
TARGET_PROBE_P99_MS = 50.0
TARGET_RSS_MB = 300.0


@dataclass(frozen=True, slots=True)
class ProbeFigures:
    """The `/health/live` probes sent in a window: count, failures and latency (ms)."""

    count: int = 0
    failed: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "failed": self.failed,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
        }


@dataclass(frozen=True, slots=True)
class Closes:
    """Many connections held open (slowloris, idle): which the server closed, when, how."""

    attempted: int
    opened: int
    closed_by_server: int
    closed_after_s: tuple[float | None, float | None, float | None]  # min, p50, max
    statuses: dict[str, int]

    @property
    def open_at_end(self) -> int:
        return self.opened - self.closed_by_server

    def to_json(self) -> dict[str, Any]:
        low, mid, high = self.closed_after_s
        return {
            "attempted": self.attempted,
            "opened": self.opened,
            "closed_by_server": self.closed_by_server,
            "open_at_end": self.open_at_end,
            "closed_after_s": {"min": low, "p50": mid, "max": high},
            "statuses": dict(self.statuses),
        }


@dataclass(frozen=True, slots=True)
class Streamed:
    """One streamed request (huge header, many headers, big body, big batch): how much of it
    this host's socket took, and what the server answered and when it closed."""

    bytes_to_send: int
    bytes_written: int  # taken by this host's socket buffers, not read by the server
    status: int | None
    answered_after_s: float | None
    closed_after_s: float | None
    seconds: float
    lines_written: int | None = None  # many-headers: the header lines written
    orders_in_array: int | None = None  # big-batch: the orders in the JSON array

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "bytes_to_send": self.bytes_to_send,
            "bytes_written": self.bytes_written,
            "written_all": self.bytes_written == self.bytes_to_send,
            "status": self.status,
            "answered_after_s": self.answered_after_s,
            "closed_by_server": self.closed_after_s is not None,
            "closed_after_s": self.closed_after_s,
            "seconds": self.seconds,
        }
        if self.lines_written is not None:
            out["lines_written"] = self.lines_written
        if self.orders_in_array is not None:
            out["orders_in_array"] = self.orders_in_array
        return out


@dataclass(frozen=True, slots=True)
class Flood:
    """Connections opened from one source as fast as they open: held, refused, failed."""

    attempted: int
    held: int
    refused_by_server: int
    connect_failed: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "attempted": self.attempted,
            "held": self.held,
            "refused_by_server": self.refused_by_server,
            "connect_failed": self.connect_failed,
            "seconds": self.seconds,
        }


@dataclass(frozen=True, slots=True)
class ScenarioFailed:
    """The scenario could not be run to its end (a socket error)."""

    error: str

    def to_json(self) -> dict[str, Any]:
        return {"error": self.error}


ServerSide = Closes | Streamed | Flood | ScenarioFailed


@dataclass(frozen=True, slots=True)
class TargetVerdict:
    """The issue's target for a slow-client or big-body scenario: the probe's p99 and the peak
    memory under their limits (None: not measured)."""

    probe_met: bool | None
    rss_met: bool | None

    @property
    def met(self) -> bool | None:
        if False in (self.probe_met, self.rss_met):
            return False
        if None in (self.probe_met, self.rss_met):
            return None
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "probe_p99_under_ms": TARGET_PROBE_P99_MS,
            "rss_under_mb": TARGET_RSS_MB,
            "probe_met": self.probe_met,
            "rss_met": self.rss_met,
            "met": self.met,
        }

    @classmethod
    def judge(cls, probe: ProbeFigures, peak_rss_mb: float | None) -> TargetVerdict:
        return cls(
            None
            if probe.p99_ms is None
            else probe.p99_ms < TARGET_PROBE_P99_MS and not probe.failed,
            None if peak_rss_mb is None else peak_rss_mb < TARGET_RSS_MB,
        )


@dataclass(frozen=True, slots=True)
class ScenarioFigures:
    """One scenario: how long it ran, what the server did, the probe meanwhile, the peak
    memory (None: unknown) and, when targeted, the target's verdict."""

    name: str
    seconds: float
    server: ServerSide
    peak_rss_mb: float | None
    probe: ProbeFigures = field(default_factory=ProbeFigures)

    @property
    def target(self) -> TargetVerdict | None:
        if self.name not in TARGETED:
            return None
        return TargetVerdict.judge(self.probe, self.peak_rss_mb)

    def to_json(self) -> dict[str, Any]:
        target = self.target
        return {
            "name": self.name,
            "seconds": self.seconds,
            "server": self.server.to_json(),
            "peak_rss_mb": "unknown" if self.peak_rss_mb is None else self.peak_rss_mb,
            "probe": self.probe.to_json(),
            "target": None if target is None else target.to_json(),
        }


@dataclass(frozen=True, slots=True)
class AbuseParameters:
    """The sizes asked for, as `--json` prints them (`config`)."""

    duration: float
    connections: int
    huge_header_mb: float
    header_lines: int
    body_mb: float
    batch_mb: float
    flood: int

    def to_json(self) -> dict[str, Any]:
        return {
            "duration": self.duration,
            "connections": self.connections,
            "huge_header_mb": self.huge_header_mb,
            "header_lines": self.header_lines,
            "body_mb": self.body_mb,
            "batch_mb": self.batch_mb,
            "flood": self.flood,
        }


@dataclass(frozen=True, slots=True)
class AbuseFigures:
    """The whole run: the probe before any attack (the baseline), then each scenario."""

    target: str
    pid: int | None
    started_at: float
    seconds: float
    probe_interval_ms: float
    baseline: ProbeFigures
    config: AbuseParameters
    scenarios: tuple[ScenarioFigures, ...]
    warnings: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "pid": self.pid,
            "started_at": self.started_at,
            "seconds": self.seconds,
            "probe_interval_ms": self.probe_interval_ms,
            "baseline": {"probe": self.baseline.to_json()},
            "config": self.config.to_json(),
            "scenarios": [s.to_json() for s in self.scenarios],
            "warnings": list(self.warnings),
        }
