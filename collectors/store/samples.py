"""Synthetic runs for tests, benchmarks and demos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from collectors.store.model import Histogram, Point, Run, Status, Summary, new_run_id
from collectors.store.summarise import summarise

__all__ = ["sample_run"]


def sample_run(
    *,
    kind: str = "orders",
    label: str = "v1.0.0",
    samples: int = 1000,
    seconds: int = 10,
    endpoints: tuple[str, ...] = ("POST /api/v1/orders",),
    seed: int = 1,
    scale_us: float = 2000.0,
    started_at: datetime | None = None,
    status: Status = "complete",
    run_id: str | None = None,
) -> Run:
    """A run with lognormal latencies per endpoint, per-second client and server series."""
    rng = np.random.default_rng(seed)
    start = started_at or datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=seed)
    summaries: list[Summary] = []
    hists: list[Histogram] = []
    for name in endpoints:
        service = rng.lognormal(np.log(scale_us), 0.5, samples)
        latency = service + rng.exponential(scale_us / 10, samples)
        summary, hs = summarise(
            name, latency, service, errors=int(samples // 100), duration_s=float(seconds)
        )
        summaries.append(summary)
        hists.extend(hs)
    series: list[Point] = []
    for second in range(seconds):
        series.append(Point("client", "requests_per_s", float(second), samples / seconds))
        series.append(
            Point("server", "order_processing_p95_ms", float(second), float(rng.gamma(2.0, 2.0)))
        )
    config: dict[str, Any] = {"rate": samples / seconds, "duration": seconds, "seed": seed}
    return Run(
        id=run_id or new_run_id(),
        kind=kind,
        profile="smoke",
        target="http://127.0.0.1:8080",
        label=label,
        started_at=start,
        ended_at=start + timedelta(seconds=seconds),
        status=status,
        config=config,
        host={"cpu_count": 8, "python": "3.11", "hostname": "lab", "kernel": "6.1"},
        tags=["sample", kind],
        summaries=summaries,
        series=series,
        histograms=hists,
        trusted=status == "complete",
        warnings=[] if status == "complete" else [f"run ended {status}"],
        notes="synthetic",
    )
