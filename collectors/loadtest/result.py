"""What an engine measured in one load test, as columns (one entry per request sent).

    result.route            # index into plan.routes per request
    result.due / sent / done  # seconds from the start; done is NaN when no answer came
    result.status           # HTTP status; 0 when the connection failed or timed out
    result.retry_after      # the refusal carried a Retry-After header
    result.timed_out        # no answer within the plan's timeout

Both engines fill it: ours from its samples, Locust from its request events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["LoadTestResult", "WorkerRecord"]

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class WorkerRecord:
    """A Locust worker as the master saw it."""

    id: str
    host: str
    joined_s: float  # seconds from the start when it joined (negative: before the start)
    missing_s: float | None = None  # when it went missing; None: stayed to the end
    requests: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "joined_s": round(self.joined_s, 3),
            "missing_s": None if self.missing_s is None else round(self.missing_s, 3),
            "requests": self.requests,
        }


@dataclass(frozen=True)
class LoadTestResult:
    engine: str  # "ours" | "locust"
    started_at: float  # wall clock (time.time()) of the start
    elapsed: float  # the sending window, seconds
    route: npt.NDArray[np.int16]
    due: Floats
    sent: Floats
    done: Floats
    status: npt.NDArray[np.int32]
    retry_after: npt.NDArray[np.bool_]
    timed_out: npt.NDArray[np.bool_]
    not_sent: int = 0  # requests planned but never sent before the time bound
    errors: tuple[str, ...] = ()  # connection errors, first ones
    schedule_lag_p99: float = 0.0  # seconds the generator released requests late (p99)
    schedule_lag_max: float = 0.0
    generator_cpu_pct: float = 0.0  # % of one core, summed over the generator's processes
    aborted: bool = False
    order_ids: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    crossed_books: int = 0  # orderbook answers whose best bid was at or above the best ask
    workers: tuple[WorkerRecord, ...] = ()

    def __len__(self) -> int:
        return len(self.due)

    @property
    def answered(self) -> npt.NDArray[np.bool_]:
        return self.status > 0

    @property
    def ok(self) -> npt.NDArray[np.bool_]:
        return (self.status >= 200) & (self.status < 300)

    def latency_ms(self) -> Floats:
        """From the due time (coordinated omission corrected); NaN without an answer."""
        return (self.done - self.due) * 1000.0

    def service_ms(self) -> Floats:
        """From the send; NaN without an answer."""
        return (self.done - self.sent) * 1000.0

    def shifted(self, seconds: float) -> LoadTestResult:
        """The same requests with every time moved by `seconds` (to join consecutive parts)."""
        from dataclasses import replace

        return replace(
            self, due=self.due + seconds, sent=self.sent + seconds, done=self.done + seconds
        )

    @classmethod
    def joined(cls, parts: list[LoadTestResult], offsets: list[float]) -> LoadTestResult:
        """Consecutive parts (stress steps) as one result, each shifted by its offset."""
        from dataclasses import replace

        moved = [p.shifted(o) for p, o in zip(parts, offsets, strict=True)]
        first = moved[0]
        cat = np.concatenate
        return replace(
            first,
            elapsed=offsets[-1] + parts[-1].elapsed,
            route=cat([p.route for p in moved]),
            due=cat([p.due for p in moved]),
            sent=cat([p.sent for p in moved]),
            done=cat([p.done for p in moved]),
            status=cat([p.status for p in moved]),
            retry_after=cat([p.retry_after for p in moved]),
            timed_out=cat([p.timed_out for p in moved]),
            not_sent=sum(p.not_sent for p in parts),
            errors=tuple(e for p in parts for e in p.errors)[:20],
            schedule_lag_p99=max(p.schedule_lag_p99 for p in parts),
            schedule_lag_max=max(p.schedule_lag_max for p in parts),
            generator_cpu_pct=max(p.generator_cpu_pct for p in parts),
            aborted=any(p.aborted for p in parts),
            order_ids=cat([p.order_ids for p in parts]),
            crossed_books=sum(p.crossed_books for p in parts),
        )
