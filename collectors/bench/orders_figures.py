"""What one `bench orders` run measured: its figures, and the series and run they give.

    figures, summary, hists = summarize(cfg, result, planned, generator_cpu_pct)
    figures.to_json()      # the command's --json object and the figures kept with the run

`OrdersFigures.to_json()` is the one JSON form: its keys and their order are what `--json`
printed and runs kept before the figures had a type, so stored runs still read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import orjson

from collectors.bench.figures import LatencyView, Outcome, ScheduleLag, Verdict
from collectors.bench.httpload import LoadResult, Sample
from collectors.bench.percentiles import percentiles_ms
from collectors.bench.trust import TrustInputs, error_limit_passed, trust_reasons
from collectors.bench.workload import chunk_size
from collectors.store.model import Histogram, Point, Summary
from collectors.store.summarise import summarise
from common.redact import mask_url

__all__ = [
    "BatchFigures",
    "OrdersFigures",
    "OrdersParameters",
    "endpoint",
    "per_second_series",
    "summarize",
]


@dataclass(frozen=True, slots=True)
class OrdersParameters:
    """The load asked for, as the run keeps it (`config`)."""

    target: str
    rate: float  # orders per second
    duration: float  # seconds
    batch_size: int = 0  # orders per batch; 0: single-order endpoint; > 1000 is split
    symbol: str = "BTCUSD"
    connections: int = 16

    def to_json(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "duration": self.duration,
            "batch_size": self.batch_size,
            "symbol": self.symbol,
            "connections": self.connections,
        }


@dataclass(frozen=True, slots=True)
class BatchFigures:
    """The specification's batch figures (benchmark-orders.ps1), for batch runs."""

    total_orders: int
    successful: int
    success_rate_pct: float
    average_batch_latency_ms: float | None
    maximum_batch_latency_ms: float | None
    effective_rate: float

    def to_json(self) -> dict[str, Any]:
        return {
            "total_orders": self.total_orders,
            "successful": self.successful,
            "success_rate_pct": self.success_rate_pct,
            "average_batch_latency_ms": self.average_batch_latency_ms,
            "maximum_batch_latency_ms": self.maximum_batch_latency_ms,
            "effective_rate": self.effective_rate,
        }


@dataclass(frozen=True, slots=True)
class OrdersFigures(Outcome):
    """The figures of one orders run; `run_id` or `store_error` once it was kept (or not)."""

    target: str
    requests: int
    planned_requests: int
    errors: int
    status_counts: dict[str, int]
    achieved_rate: float
    throughput_rps: float
    orders_per_s: float
    latency: LatencyView  # from the due time
    service_time: LatencyView  # from the send
    generator_cpu_pct: float
    schedule_lag: ScheduleLag
    config: OrdersParameters
    errors_over_limit: bool  # the errors alone make the run untrustworthy
    batch: BatchFigures | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "target": self.target,
            "requests": self.requests,
            "planned_requests": self.planned_requests,
            "errors": self.errors,
            "status_counts": dict(self.status_counts),
            "achieved_rate": self.achieved_rate,
            "throughput_rps": self.throughput_rps,
            "orders_per_s": self.orders_per_s,
            "latency_ms": self.latency.to_json(),
            "service_time_ms": self.service_time.to_json(),
            **self.verdict.to_json(),
            "generator_cpu_pct": self.generator_cpu_pct,
            "schedule_lag_ms": self.schedule_lag.to_json(),
            "config": self.config.to_json(),
        }
        if self.batch is not None:
            out["batch"] = self.batch.to_json()
        return out | self.outcome_json()


def endpoint(batch_size: int) -> str:
    return "POST /api/v1/orders/batch" if batch_size else "POST /api/v1/orders"


def _ok(sample: Sample) -> bool:
    return 200 <= sample.status < 300


def _count_orders(ok: list[Sample], batch_size: int) -> tuple[int, int]:
    """(orders accepted, orders sent) in the successful answers. A batch answer lists its
    `successful` and refused (`errors`) orders; a server that is not the exchange answers
    without those lists, and then every order of an accepted POST counts as accepted."""
    if not batch_size:
        return len(ok), len(ok)
    per_request = max(chunk_size(batch_size), 1)
    accepted = sent = 0
    for s in ok:
        try:
            body = orjson.loads(s.body)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict) and ("successful" in body or "errors" in body):
            good = len(body.get("successful") or [])
            accepted += good
            sent += good + len(body.get("errors") or [])
        else:
            accepted += per_request
            sent += per_request
    return accepted, sent


def per_second_series(result: LoadResult, batch_size: int = 0) -> list[Point]:
    """Client-side series per second of due time: requests, errors, orders accepted, p99
    latency from the due time."""
    by_second: dict[int, list[Sample]] = {}
    for sample in result.samples:
        by_second.setdefault(int(sample.due), []).append(sample)
    points = []
    for second, group in sorted(by_second.items()):
        lat = [(g.done - g.due) * 1000 for g in group]
        errors = sum(1 for g in group if not _ok(g))
        orders = _count_orders([g for g in group if _ok(g)], batch_size)[0]
        p99 = percentiles_ms(lat, (99,))[99.0]
        points.append(Point("client", "requests_per_s", float(second), float(len(group))))
        points.append(Point("client", "errors_per_s", float(second), float(errors)))
        points.append(Point("client", "orders_per_s", float(second), float(orders)))
        points.append(Point("client", "latency_p99_ms", float(second), p99))
    return points


def _warnings(result: LoadResult, connections: int, answered: int) -> list[str]:
    samples = result.samples
    warnings = []
    if result.aborted:
        warnings.append(
            f"aborted (interrupted) after {result.elapsed:.1f} s: the figures cover the "
            f"{len(samples)} requests answered before it"
        )
    if result.not_sent:
        warnings.append(f"{result.not_sent} requests were never sent before the time bound")
    lag = [s.sent - s.due for s in samples]
    if lag and max(lag) > 0.1:
        warnings.append(
            f"the generator sent up to {max(lag) * 1000:.0f} ms late: all "
            f"{connections} connections were busy (a slow server) or the generator "
            "itself could not keep up"
        )
    if result.errors:
        warnings.append(f"{len(result.errors)} connection errors, first: {result.errors[0]}")
    if answered < len(samples):
        warnings.append(
            f"{len(samples) - answered} requests got no answer (connection failed); "
            "they count as errors and are left out of the latency figures"
        )
    return warnings


def _batch_figures(ok: list[Sample], accepted: int, sent: int, measured: float) -> BatchFigures:
    lat = [(s.done - s.sent) * 1000 for s in ok]
    return BatchFigures(
        total_orders=sent,
        successful=accepted,
        success_rate_pct=round(accepted / sent * 100, 2) if sent else 0.0,
        average_batch_latency_ms=round(sum(lat) / len(lat), 2) if lat else None,
        maximum_batch_latency_ms=round(max(lat), 2) if lat else None,
        effective_rate=round(accepted / measured, 2),
    )


def summarize(
    config: OrdersParameters, result: LoadResult, planned: int, generator_cpu_pct: float = 0.0
) -> tuple[OrdersFigures, Summary, list[Histogram]]:
    """The run's figures, its summary and histograms; latency percentiles are read from
    HdrHistograms."""
    samples = result.samples
    ok = [s for s in samples if _ok(s)]
    answered = [s for s in samples if s.status]  # a failed connection has no latency
    errors = len(samples) - len(ok) + result.not_sent
    measured = max(result.elapsed, 1e-9)
    per_request = max(chunk_size(config.batch_size), 1)
    orders_ok, orders_sent = _count_orders(ok, config.batch_size)
    orders_sent += errors * per_request
    latency_summary, hists = summarise(
        endpoint(config.batch_size),
        np.array([(s.done - s.due) * 1e6 for s in answered]),
        np.array([(s.done - s.sent) * 1e6 for s in answered]),
        errors=errors,
        duration_s=measured,
    )
    latency_summary = replace(
        latency_summary, count=len(samples), throughput_per_s=len(ok) / measured
    )
    service = latency_summary.service
    assert service is not None
    trust = TrustInputs(
        generator_cpu_pct=generator_cpu_pct,
        target_rate=config.rate / per_request,
        achieved_rate=len(samples) / measured,
        samples=len(answered),
        # orders refused inside an accepted batch are errors too
        error_rate=1 - orders_ok / orders_sent if orders_sent else 1.0,
        schedule_lag_p99_ms=result.schedule_lag_p99 * 1000,
        schedule_lag_max_ms=result.schedule_lag_max * 1000,
    )
    statuses: dict[str, int] = {}
    for s in samples:
        statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
    figures = OrdersFigures(
        target=mask_url(config.target),
        requests=len(samples),
        planned_requests=planned,
        errors=errors,
        status_counts=statuses,
        achieved_rate=round(len(samples) / measured, 2),
        throughput_rps=round(len(ok) / measured, 2),
        orders_per_s=round(orders_ok / measured, 2),
        latency=LatencyView.of(latency_summary.latency),
        service_time=LatencyView.of(service),
        verdict=Verdict(
            tuple(trust_reasons(trust)),
            tuple(_warnings(result, config.connections, len(answered))),
        ),
        generator_cpu_pct=round(generator_cpu_pct, 1),
        schedule_lag=ScheduleLag(
            round(result.schedule_lag_p99 * 1000, 3), round(result.schedule_lag_max * 1000, 3)
        ),
        config=config,
        errors_over_limit=error_limit_passed(trust),
        batch=(_batch_figures(ok, orders_ok, orders_sent, measured) if config.batch_size else None),
        aborted=result.aborted,
    )
    return figures, latency_summary, hists
