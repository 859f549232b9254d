"""Summary statistics of latency samples (milliseconds)."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["percentile", "summarize_ms"]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def summarize_ms(values: Sequence[float]) -> dict[str, float | None]:
    """mean, p50, p90, p95, p99, p99.9 and max, rounded to microseconds; None when empty."""
    if not values:
        return dict.fromkeys(("mean", "p50", "p90", "p95", "p99", "p999", "max"))
    ordered = sorted(values)
    out = {
        "mean": sum(ordered) / len(ordered),
        "p50": percentile(ordered, 50),
        "p90": percentile(ordered, 90),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "p999": percentile(ordered, 99.9),
        "max": ordered[-1],
    }
    return {k: round(v, 3) for k, v in out.items()}
