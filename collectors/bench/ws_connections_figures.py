"""What one `bench ws-connections` run measured, with its one JSON form.

`WsConnectionsFigures.to_json()` gives the keys, in the order, that `--json` printed and runs
kept before the figures had a type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collectors.bench.figures import Outcome

__all__ = ["FrameLag", "WsConnectionsFigures", "WsConnectionsParameters"]


@dataclass(frozen=True, slots=True)
class WsConnectionsParameters:
    """The test asked for, as the run keeps it (`config`)."""

    connections: int
    duration: float
    messages_per_second: float
    order_rate: float  # orders per second the driver placed to reach it
    symbol: str

    def to_json(self) -> dict[str, Any]:
        return {
            "connections": self.connections,
            "duration": self.duration,
            "messages_per_second": self.messages_per_second,
            "order_rate": self.order_rate,
            "symbol": self.symbol,
        }


@dataclass(frozen=True, slots=True)
class FrameLag:
    """The lag of each connection's latest frame (ms) over the connections that had one."""

    clients_with_frames: int
    p50: float | None
    p99: float | None
    max: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "clients_with_frames": self.clients_with_frames,
            "p50": self.p50,
            "p99": self.p99,
            "max": self.max,
        }


@dataclass(frozen=True, slots=True)
class WsConnectionsFigures(Outcome):
    """The figures of one connection test; `run_id` or `store_error` once it was kept."""

    target: str
    requested: int
    attempted: int
    opened: int
    failed: int
    held_at_end: int
    open_seconds: float
    errors: dict[str, int]
    messages_received: int
    messages_per_s: float
    messages_per_s_peak: int
    target_messages_per_s: float | None
    orders: dict[str, Any] | None  # the order driver's figures, when it drove frames
    lag: FrameLag
    fd_limit: tuple[int, int]  # (soft, hard)
    cap_reasons: tuple[str, ...]  # what on this machine limited the test
    measured_seconds: float
    client_cpu_pct: float
    config: WsConnectionsParameters

    @property
    def cap_reason(self) -> str | None:
        return "; ".join(self.cap_reasons) or None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "target": self.target,
            "requested": self.requested,
            "attempted": self.attempted,
            "opened": self.opened,
            "failed": self.failed,
            "held_at_end": self.held_at_end,
            "open_seconds": self.open_seconds,
            "errors": dict(self.errors),
            "messages_received": self.messages_received,
            "messages_per_s": self.messages_per_s,
            "messages_per_s_peak": self.messages_per_s_peak,
            "target_messages_per_s": self.target_messages_per_s,
            "orders": self.orders,
            "lag_ms": self.lag.to_json(),
            "fd_limit": {"soft": self.fd_limit[0], "hard": self.fd_limit[1]},
            "capped": bool(self.cap_reasons),
            "cap_reason": self.cap_reason,
            "measured_seconds": self.measured_seconds,
            "client_cpu_pct": self.client_cpu_pct,
            **self.verdict.to_json(),
            "config": self.config.to_json(),
        }
        return out | self.outcome_json()
