"""A run, as pure data: identity and context, summaries, series, histograms, trust."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "HISTOGRAM_VIEWS",
    "RUN_STATUSES",
    "Histogram",
    "LatencyFigures",
    "Point",
    "Run",
    "Side",
    "Status",
    "Summary",
    "View",
    "new_run_id",
]

Status = Literal["complete", "partial", "aborted", "failed"]
Side = Literal["client", "server"]
View = Literal["latency", "service"]
RUN_STATUSES: tuple[str, ...] = ("complete", "partial", "aborted", "failed")
HISTOGRAM_VIEWS: tuple[str, ...] = ("latency", "service")


def new_run_id() -> str:
    """A fresh run id (uuid4 text)."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class LatencyFigures:
    """Latency figures of one view, in milliseconds."""

    mean_ms: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float


@dataclass(frozen=True)
class Summary:
    """Headline figures of one endpoint, scenario or query type.

    `latency` is measured from the due time (corrected for coordinated omission),
    `service` from the moment the request was sent.
    """

    name: str
    count: int
    errors: int
    throughput_per_s: float
    latency: LatencyFigures
    service: LatencyFigures | None = None


@dataclass(frozen=True, slots=True)
class Point:
    """One per-second sample of a time series (slotted: a long run holds a million)."""

    side: Side
    series: str
    second: float
    value: float


@dataclass(frozen=True)
class Histogram:
    """A full HdrHistogram (microseconds), as the text of its `encode()`."""

    name: str
    view: View
    encoded: str


@dataclass(frozen=True)
class Run:
    """One execution of a load test or benchmark against one target."""

    id: str
    kind: str
    profile: str
    target: str
    label: str
    started_at: datetime
    ended_at: datetime
    status: Status = "complete"
    config: dict[str, Any] = field(default_factory=dict)
    host: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)
    series: list[Point] = field(default_factory=list)
    histograms: list[Histogram] = field(default_factory=list)
    trusted: bool = True
    warnings: list[str] = field(default_factory=list)
    notes: str = ""

    def headline(self) -> Summary | None:
        """The summary with the most requests, or None."""
        return max(self.summaries, key=lambda s: s.count, default=None)
