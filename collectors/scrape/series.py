"""Per-interval server-side series from two consecutive scrapes (pure functions).

`server_series(s0, s1)` turns the change between scrapes `s0` and `s1` into one value per
series name: latency quantiles of the interval from histogram bucket deltas, per-second rates
from counters, and gauges as read at `s1`. A metric the target does not export, or a histogram
with no observation in the interval, gives no value (the name is absent), never an error.

Counter resets (a restart, or `POST /admin/metrics/reset`) are handled like Prometheus'
`rate()`: a counter that goes down between the scrapes was reset, and its value at `s1` is the
increase. A labelled series first seen at `s1` counts from zero (a child is created on first use).

    points = server_series(s0, s1)
    points["order_processing_p95_ms"], points["orders_per_s"], points["cpu_percent"]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from collectors.scrape.parse import Labels, Snapshot

__all__ = [
    "LATENCY_HISTOGRAMS",
    "Quantile",
    "bucket_increases",
    "counter_increase",
    "counter_rate",
    "histogram_quantile",
    "server_series",
]

# series prefix -> (histogram metric, quantiles reported)
LATENCY_HISTOGRAMS: dict[str, tuple[str, tuple[float, ...]]] = {
    "order_processing": ("pincex_order_processing_duration_seconds", (0.5, 0.95, 0.99)),
    "book_update": ("pincex_orderbook_update_duration_seconds", (0.95, 0.99)),
    "match_to_broadcast": ("pincex_market_data_broadcast_latency_seconds", (0.95, 0.99)),
    "db_query": ("pincex_database_query_duration_seconds", (0.95,)),
    "event_loop_lag": ("pincex_event_loop_lag_seconds", (0.99,)),
}


@dataclass(frozen=True)
class Quantile:
    """A histogram quantile interpolated inside the bucket `[lo, hi]` that holds it.

    `hi` is `math.inf` when the quantile falls in the `+Inf` bucket; `value` is then `lo`,
    the highest finite bound, as Prometheus' `histogram_quantile` returns.
    """

    q: float
    value: float
    lo: float
    hi: float


def counter_increase(before: float | None, after: float) -> float:
    """The increase of a counter from `before` to `after`; a drop is a reset (`after` counts)."""
    if before is None or after < before:
        return after
    return after - before


def _total_increase(s0: Snapshot, s1: Snapshot, name: str, **match: str) -> float | None:
    """Sum of the increases of the series `name` whose labels include `match`; None if absent."""
    after = s1.get(name)
    if not after:
        return None
    before = s0.get(name)
    total = 0.0
    for labels, value in after.items():
        if all((k, v) in labels for k, v in match.items()):
            total += counter_increase(before.get(labels), value)
    return total


def counter_rate(s0: Snapshot, s1: Snapshot, name: str, **match: str) -> float | None:
    """Per-second increase of counter `name` (summed over labels matching `match`)."""
    increase = _total_increase(s0, s1, name, **match)
    return None if increase is None else increase / _interval(s0, s1)


def _interval(s0: Snapshot, s1: Snapshot) -> float:
    dt = s1.at - s0.at
    if dt <= 0:
        raise ValueError(f"scrapes out of order: {s0.at} then {s1.at}")
    return dt


def bucket_increases(
    s0: Snapshot, s1: Snapshot, histogram: str, by: str | None = None
) -> dict[str, list[tuple[float, float]]]:
    """Bucket deltas of `histogram` between scrapes, summed over labels (or grouped by `by`).

    Returns group -> [(upper bound, cumulative count)] sorted by bound (group "" without `by`).
    A child (one label set) with any bucket lower at `s1` was reset, and its `s1` buckets are
    the increase, as `rate()` treats each bucket series.
    """
    name = f"{histogram}_bucket"
    before, after = s0.get(name), s1.get(name)
    children: dict[Labels, dict[float, tuple[float | None, float]]] = {}
    for labels, value in after.items():
        rest = tuple(kv for kv in labels if kv[0] != "le")
        bound = dict(labels).get("le")
        if bound is None:
            continue
        children.setdefault(rest, {})[float(bound)] = (before.get(labels), value)
    groups: dict[str, dict[float, float]] = {}
    for rest, buckets in children.items():
        reset = any(b is None or a < b for b, a in buckets.values())
        group = dict(rest).get(by, "") if by else ""
        sums = groups.setdefault(group, {})
        for le, (b, a) in buckets.items():
            sums[le] = sums.get(le, 0.0) + (a if reset or b is None else a - b)
    return {group: sorted(sums.items()) for group, sums in groups.items()}


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> Quantile | None:
    """The `q` quantile of cumulative `buckets` [(upper bound, count)], like Prometheus.

    Linear interpolation inside the bucket that holds rank `q * count` (from 0 for the first
    bucket); None with no observation, no `+Inf` bucket or fewer than two buckets.
    """
    if len(buckets) < 2 or not math.isinf(buckets[-1][0]):
        return None
    counts = [buckets[0][1]]
    for _, count in buckets[1:]:
        counts.append(max(count, counts[-1]))  # monotonic, as Prometheus enforces
    observations = counts[-1]
    if observations <= 0:
        return None
    rank = q * observations
    b = next((i for i, c in enumerate(counts[:-1]) if c >= rank), len(buckets) - 1)
    if b == len(buckets) - 1:
        top = buckets[-2][0]
        return Quantile(q, top, top, math.inf)
    hi = buckets[b][0]
    if b == 0 and hi <= 0:
        return Quantile(q, hi, hi, hi)
    lo, below = (buckets[b - 1][0], counts[b - 1]) if b > 0 else (0.0, 0.0)
    in_bucket = counts[b] - below
    value = lo + (hi - lo) * ((rank - below) / in_bucket) if in_bucket > 0 else hi
    return Quantile(q, value, lo, hi)


def _quantile_series(
    prefix: str, buckets: Sequence[tuple[float, float]], qs: Sequence[float], suffix: str = ""
) -> dict[str, float]:
    out: dict[str, float] = {}
    for q in qs:
        quantile = histogram_quantile(q, buckets)
        if quantile is None:
            continue
        tag = f"p{round(q * 100)}"
        out[f"{prefix}_{tag}_ms{suffix}"] = quantile.value * 1000
        out[f"{prefix}_{tag}_lo_ms{suffix}"] = quantile.lo * 1000
        if math.isfinite(quantile.hi):
            out[f"{prefix}_{tag}_hi_ms{suffix}"] = quantile.hi * 1000
    return out


def _gauge_sum(s1: Snapshot, name: str, **match: str) -> float | None:
    values = [
        v for labels, v in s1.get(name).items() if all((k, x) in labels for k, x in match.items())
    ]
    return sum(values) if values else None


def _latency_series(s0: Snapshot, s1: Snapshot) -> dict[str, float]:
    out: dict[str, float] = {}
    for prefix, (histogram, qs) in LATENCY_HISTOGRAMS.items():
        for buckets in bucket_increases(s0, s1, histogram).values():
            out.update(_quantile_series(prefix, buckets, qs))
    for query, buckets in bucket_increases(
        s0, s1, "pincex_database_query_duration_seconds", by="query"
    ).items():
        out.update(_quantile_series("db_query", buckets, (0.95,), suffix=f".{query}"))
    return out


def _order_rates(s0: Snapshot, s1: Snapshot) -> dict[str, float]:
    name = "pincex_orders_processed_total"
    out: dict[str, float] = {}
    total = counter_rate(s0, s1, name)
    if total is None:
        return out
    out["orders_per_s"] = total
    statuses = {dict(labels).get("status", "") for labels in s1.get(name)}
    for status in sorted(statuses - {""}):
        rate = counter_rate(s0, s1, name, status=status)
        if rate is not None:
            out[f"orders_per_s.{status.lower()}"] = rate
    return out


def _process_series(s0: Snapshot, s1: Snapshot) -> dict[str, float]:
    out: dict[str, float] = {}
    cpu = counter_rate(s0, s1, "process_cpu_seconds_total")
    if cpu is not None:
        out["cpu_percent"] = cpu * 100
    rss = _gauge_sum(s1, "process_resident_memory_bytes")
    if rss is not None:
        out["memory_rss_bytes"] = rss
    received = counter_rate(s0, s1, "pincex_http_request_bytes_total")
    sent = [
        counter_rate(s0, s1, "pincex_http_response_bytes_total"),
        counter_rate(s0, s1, "pincex_websocket_bytes_sent_total"),
    ]
    sent_total = None if all(s is None for s in sent) else sum(s or 0.0 for s in sent)
    if received is not None:
        out["network_in_bytes_per_s"] = received
    if sent_total is not None:
        out["network_out_bytes_per_s"] = sent_total
    if received is not None or sent_total is not None:
        out["network_bytes_per_s"] = (received or 0.0) + (sent_total or 0.0)
    for series, metric in (
        ("disk_read_bytes_per_s", "pincex_process_disk_read_bytes_total"),
        ("disk_write_bytes_per_s", "pincex_process_disk_written_bytes_total"),
    ):
        rate = counter_rate(s0, s1, metric)
        if rate is not None:
            out[series] = rate
    return out


def _database_series(s0: Snapshot, s1: Snapshot) -> dict[str, float]:
    out: dict[str, float] = {}
    name = "pincex_database_connections"
    active, most = _gauge_sum(s1, name, state="active"), _gauge_sum(s1, name, state="max")
    if active is not None and most:
        out["db_pool_use_percent"] = 100 * active / most
    pools = {dict(labels).get("pool", "") for labels in s1.get(name)} - {""}
    if len(pools) > 1:
        for pool in sorted(pools):
            a = _gauge_sum(s1, name, pool=pool, state="active")
            m = _gauge_sum(s1, name, pool=pool, state="max")
            if a is not None and m:
                out[f"db_pool_use_percent.{pool}"] = 100 * a / m
    hits = _total_increase(s0, s1, "pincex_cache_requests_total", result="hit")
    misses = _total_increase(s0, s1, "pincex_cache_requests_total", result="miss")
    if hits is not None and misses is not None and hits + misses > 0:
        out["cache_hit_ratio"] = hits / (hits + misses)
    pending = _gauge_sum(s1, "pincex_pending_writes")
    inflight = _gauge_sum(s1, "pincex_http_requests_in_flight")
    if pending is not None or inflight is not None:
        out["queue_depth"] = (pending or 0.0) + (inflight or 0.0)
    return out


def _websocket_series(s0: Snapshot, s1: Snapshot) -> dict[str, float]:
    out: dict[str, float] = {}
    held = _gauge_sum(s1, "pincex_websocket_connections")
    if held is not None:
        out["ws_connections"] = held
    for series, metric in (
        ("ws_messages_sent_per_s", "pincex_websocket_messages_sent_total"),
        ("ws_messages_dropped_per_s", "pincex_websocket_messages_dropped_total"),
    ):
        rate = counter_rate(s0, s1, metric)
        if rate is not None:
            out[series] = rate
    return out


def server_series(s0: Snapshot, s1: Snapshot) -> dict[str, float]:
    """Every server-side series over the interval from scrape `s0` to scrape `s1`.

    Latencies are in milliseconds (`<prefix>_p95_ms`, with the holding bucket's bounds as
    `_p95_lo_ms` and `_p95_hi_ms`, the latter absent when the quantile is past the top
    bucket); rates are per second; gauges are their value at `s1`. A breakdown by a label
    value appends `.<value>` (`orders_per_s.filled`, `db_query_p95_ms.<query>`). Raises
    `ValueError` when `s1` is not later than `s0`.
    """
    _interval(s0, s1)
    out = _latency_series(s0, s1)
    out.update(_order_rates(s0, s1))
    out.update(_process_series(s0, s1))
    out.update(_database_series(s0, s1))
    out.update(_websocket_series(s0, s1))
    return out
