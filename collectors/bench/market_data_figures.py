"""What one `bench market-data` run measured, with its one JSON form.

`MarketDataFigures.to_json()` gives the keys, in the order, that `--json` printed and runs kept
before the figures had a type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collectors.bench.figures import Outcome

__all__ = ["ConnectionFigures", "FrameLatency", "MarketDataFigures", "MarketDataParameters"]


@dataclass(frozen=True, slots=True)
class MarketDataParameters:
    """The measurement asked for, as the run keeps it (`config`)."""

    connections: int
    duration: float
    order_rate: float
    symbol: str
    streams: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "connections": self.connections,
            "duration": self.duration,
            "order_rate": self.order_rate,
            "symbol": self.symbol,
            "streams": list(self.streams),
        }


@dataclass(frozen=True, slots=True)
class ConnectionFigures:
    """The clients: asked for, opened, failed (with the commonest reasons), held to the end."""

    requested: int
    opened: int
    failed: int
    held_at_end: int
    open_seconds: float
    errors: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "opened": self.opened,
            "failed": self.failed,
            "held_at_end": self.held_at_end,
            "open_seconds": self.open_seconds,
            "errors": dict(self.errors),
        }


@dataclass(frozen=True, slots=True)
class FrameLatency:
    """Receipt minus event time over every frame (ms); None each when no frame came."""

    average: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None

    def to_json(self) -> dict[str, float | None]:
        return {
            "average": self.average,
            "p50": self.p50,
            "p95": self.p95,
            "p99": self.p99,
            "max": self.max,
        }


@dataclass(frozen=True, slots=True)
class MarketDataFigures(Outcome):
    """The figures of one market data run; `run_id` or `store_error` once it was kept."""

    target: str
    connections: ConnectionFigures
    messages_received: int
    messages_per_stream: dict[str, int]
    messages_per_s: float
    latency: FrameLatency
    gaps: int
    clients_with_gaps: int
    orders: dict[str, Any] | None  # the order driver's figures, when orders were placed
    measured_seconds: float
    client_cpu_pct: float
    config: MarketDataParameters

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "target": self.target,
            "connections": self.connections.to_json(),
            "messages_received": self.messages_received,
            "messages_per_stream": dict(self.messages_per_stream),
            "messages_per_s": self.messages_per_s,
            "latency_ms": self.latency.to_json(),
            "gaps": {"total": self.gaps, "clients_with_gaps": self.clients_with_gaps},
            "orders": self.orders,
            "measured_seconds": self.measured_seconds,
            "client_cpu_pct": self.client_cpu_pct,
            **self.verdict.to_json(),
            "config": self.config.to_json(),
        }
        return out | self.outcome_json()
