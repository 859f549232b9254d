"""Summaries and histograms from raw latency samples (microseconds)."""

from __future__ import annotations

from typing import Any

import numpy as np

from collectors.store import histograms
from collectors.store.model import Histogram, LatencyFigures, Summary

__all__ = ["figures_from_histogram", "summarise"]


def figures_from_histogram(histogram: Any, mean_ms: float) -> LatencyFigures:
    """Percentiles and max (ms) of a microsecond histogram, with the samples' mean."""
    p = histograms.percentiles_ms(histogram, (50, 90, 95, 99, 99.9))
    return LatencyFigures(
        mean_ms=mean_ms,
        p50_ms=p[50.0],
        p90_ms=p[90.0],
        p95_ms=p[95.0],
        p99_ms=p[99.0],
        p999_ms=p[99.9],
        max_ms=float(histogram.get_max_value()) / 1000.0,
    )


def _mean_ms(values_us: np.ndarray[Any, Any]) -> float:
    values = np.asarray(values_us, dtype=np.float64)
    return float(values.mean()) / 1000.0 if values.size else 0.0


def summarise(
    name: str,
    latency_us: np.ndarray[Any, Any],
    service_us: np.ndarray[Any, Any] | None,
    *,
    errors: int,
    duration_s: float,
) -> tuple[Summary, list[Histogram]]:
    """The summary of one endpoint and its histograms (`latency` from due time, `service`
    from send), all figures read from the histograms so they agree with later merges."""
    lat = histograms.new_histogram()
    histograms.record_us(lat, latency_us)
    hists = [Histogram(name, "latency", histograms.encode(lat))]
    service = None
    if service_us is not None:
        svc = histograms.new_histogram()
        histograms.record_us(svc, service_us)
        service = figures_from_histogram(svc, _mean_ms(service_us))
        hists.append(Histogram(name, "service", histograms.encode(svc)))
    count = int(np.asarray(latency_us).size)
    summary = Summary(
        name=name,
        count=count,
        errors=errors,
        throughput_per_s=count / duration_s if duration_s > 0 else 0.0,
        latency=figures_from_histogram(lat, _mean_ms(latency_us)),
        service=service,
    )
    return summary, hists
