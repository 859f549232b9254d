"""`pincex bench orders`: the specification's order benchmark on an open model.

Against the exchange, real users are seeded through the admin key and orders are priced
around a slowly moving mid so that some rest and some cross (IOC takers slightly outweigh
passive makers, so the book stays bounded). Against any other HTTP server the specification's
order bodies are posted without keys and measured the same way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
import numpy as np
import orjson

from collectors.bench.httpload import LoadResult, Request, Sample, run_load, run_open_model
from collectors.bench.runs import (
    ServerWatch,
    figures_ms,
    keep_figures_run,
    measured_run,
    server_summary,
)
from collectors.bench.trust import TrustInputs, trust_reasons
from collectors.scrape import ScrapeResult
from collectors.store.model import Histogram, Point, Run, Summary
from collectors.store.summarise import summarise
from common.redact import mask_url

__all__ = [
    "MAX_BATCH",
    "SEED_BALANCES_USD",
    "OrdersConfig",
    "chunk_size",
    "order_batches",
    "run_orders_benchmark",
    "spec_order_batches",
]

MAX_BATCH = 1000  # orders per POST the exchange accepts; bigger batches are split
# Deposits per seeded user: about ten times what a user's balance wanders in a 60 s run at
# 20,000 orders/s (a random walk of ~150,000 fills of ~$2,500), and small enough that the
# exchange's 64-bit supply (2**62 atoms, ~4.6e10 USD) holds several hundred runs' users.
SEED_BALANCES_USD = "10000000"
SEED_BALANCES_BASE = "1000"


@dataclass(slots=True)
class OrdersConfig:
    target: str
    rate: float  # orders per second
    duration: float  # seconds
    batch_size: int = 0  # orders per batch; 0: single-order endpoint; > 1000 is split
    symbol: str = "BTCUSD"
    connections: int = 16
    admin_key: str | None = None
    users: int = 8
    seed: int = 1
    store_path: str | None = None  # the run store to keep the run in; None: not stored
    label: str = "unlabelled"
    tags: tuple[str, ...] = ()
    scrape_interval: float = 1.0  # seconds between scrapes of the target's /metrics; 0: none


def order_batches(
    n_batches: int, batch_size: int, symbol: str, seed: int
) -> list[list[dict[str, Any]]]:
    """Reproducible batches of the specification's order objects around a moving mid.

    Half the orders are passive GTC limits $0.05-$2 from the mid; the other half are IOC limits
    priced $0.50-$2 through it, carrying slightly more quantity, so the book is consumed about as
    fast as it fills (measured with this generator: about 1,700 resting orders after 2,000,000
    orders, growing slowly) and orders both rest and cross.
    """
    rng = random.Random(seed)
    mid = 50_000.0
    batches = []
    for _ in range(n_batches):
        mid += rng.gauss(0, 0.5) - (mid - 50_000.0) * 0.05
        batch = []
        for _ in range(max(batch_size, 1)):
            side = "BUY" if rng.random() < 0.5 else "SELL"
            sign = 1 if side == "BUY" else -1
            if rng.random() < 0.5:
                price = round(mid - sign * rng.randint(1, 40) * 0.05, 2)
                qty = rng.randint(1, 100) / 1000
                tif = "GTC"
            else:
                price = round(mid + sign * rng.randint(10, 40) * 0.05, 2)
                qty = rng.randint(1, 103) / 1000
                tif = "IOC"
            batch.append(
                {
                    "symbol": symbol,
                    "side": side,
                    "type": "LIMIT",
                    "timeInForce": tif,
                    "quantity": qty,
                    "price": price,
                }
            )
        batches.append(batch)
    return batches


def spec_order_batches(
    n_batches: int, batch_size: int, symbol: str, seed: int
) -> list[list[dict[str, Any]]]:
    """The specification's own order bodies (benchmark-orders.ps1): GTC limits, sides
    alternating BUY/SELL, quantity 0.1-10 rounded to 2 places, price a whole number in
    45,000-55,000. Used against servers that are not the exchange."""
    rng = random.Random(seed)
    batches = []
    k = 0
    for _ in range(n_batches):
        batch = []
        for _ in range(max(batch_size, 1)):
            batch.append(
                {
                    "symbol": symbol,
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "side": "BUY" if k % 2 == 0 else "SELL",
                    "quantity": round(rng.uniform(0.1, 10.0), 2),
                    "price": float(rng.randrange(45_000, 55_000)),
                }
            )
            k += 1
        batches.append(batch)
    return batches


def chunk_size(batch_size: int) -> int:
    """Orders per POST: a batch over `MAX_BATCH` is split into equal parts of at most that."""
    if batch_size <= MAX_BATCH:
        return batch_size
    parts = -(-batch_size // MAX_BATCH)
    return -(-batch_size // parts)


def endpoint(cfg: OrdersConfig) -> str:
    return "POST /api/v1/orders/batch" if cfg.batch_size else "POST /api/v1/orders"


def seed_users(target: str, admin_key: str, users: int, symbol: str, prefix: str) -> list[str]:
    """API keys of `users` new, funded users, created through the exchange's admin key."""
    balances = {"USD": SEED_BALANCES_USD, symbol.removesuffix("USD"): SEED_BALANCES_BASE}
    hint = "(is it a PinCEX exchange? without an admin key the benchmark posts without keys)"
    try:
        with httpx.Client(base_url=target, timeout=30) as client:
            r = client.post(
                "/admin/users",
                headers={"X-API-Key": admin_key},
                json={"count": users, "prefix": prefix, "balances": balances},
            )
        if r.status_code != 201:
            raise RuntimeError(
                f"cannot seed users on {target}: HTTP {r.status_code} {r.text[:200]} {hint}"
            )
        return [str(u["apiKey"]) for u in r.json()["users"]]
    except httpx.HTTPError as exc:
        raise RuntimeError(f"cannot seed users on {target}: {type(exc).__name__}: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise RuntimeError(
            f"cannot seed users on {target}: unexpected answer ({exc!r}) {hint}"
        ) from None


def run_orders_benchmark(
    cfg: OrdersConfig, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    keys = (
        seed_users(cfg.target, cfg.admin_key, cfg.users, cfg.symbol, "bench")
        if cfg.admin_key
        else []
    )
    per_request = max(chunk_size(cfg.batch_size), 1)
    requests_count = max(1, int(cfg.rate * cfg.duration / per_request))
    request_rate = cfg.rate / per_request
    make = order_batches if keys else spec_order_batches
    batches = make(min(requests_count, 4096), per_request, cfg.symbol, cfg.seed)

    def build(i: int) -> Request:
        headers = {"X-API-Key": keys[i % len(keys)]} if keys else {}
        if cfg.batch_size:
            return Request("POST", "/api/v1/orders/batch", orjson.dumps(batches[i]), headers)
        return Request("POST", "/api/v1/orders", orjson.dumps(batches[i][0]), headers)

    watch = ServerWatch(cfg.target, cfg.scrape_interval).start()
    try:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = run_load(
            run_open_model(
                cfg.target,
                build,
                request_rate,
                requests_count,
                cfg.connections,
                cfg.duration + 5.0,
                progress=progress,
            )
        )
        cpu_pct = (time.process_time() - cpu0) / max(time.perf_counter() - wall0, 1e-9) * 100
    except BaseException:
        watch.stop()
        raise
    server = watch.stop()
    figures, summary, hists = summarize(cfg, result, requests_count, cpu_pct)
    if server is not None:
        figures["server"] = server_summary(server)
        if server.partial:
            figures["warnings"].append(f"server side partial: {server.reason}")
    if cfg.store_path is not None:
        run = build_run(cfg, result, figures, summary, hists, server)
        keep_figures_run(cfg.store_path, run, figures)
    return figures


def _orders_in(sample: Sample, batch_size: int) -> int:
    """Orders a successful answer accepted (a batch's `successful` list, or the one order)."""
    if not 200 <= sample.status < 300:
        return 0
    return _count_orders([sample], batch_size, max(chunk_size(batch_size), 1))[0]


def per_second_series(result: LoadResult, batch_size: int = 0) -> list[Point]:
    """Client-side series per second of due time: requests, errors, orders accepted, p99
    latency from the due time."""
    by_second: dict[int, list[Sample]] = {}
    for sample in result.samples:
        by_second.setdefault(int(sample.due), []).append(sample)
    points = []
    for second, group in sorted(by_second.items()):
        lat = np.array([(g.done - g.due) * 1000 for g in group])
        errors = sum(1 for g in group if not 200 <= g.status < 300)
        points.append(Point("client", "requests_per_s", float(second), float(len(group))))
        points.append(Point("client", "errors_per_s", float(second), float(errors)))
        orders = sum(_orders_in(g, batch_size) for g in group)
        points.append(Point("client", "orders_per_s", float(second), float(orders)))
        points.append(
            Point("client", "latency_p99_ms", float(second), float(np.percentile(lat, 99)))
        )
    return points


def build_run(
    cfg: OrdersConfig,
    result: LoadResult,
    figures: dict[str, Any],
    summary: Summary,
    hists: list[Histogram],
    server: ScrapeResult | None = None,
) -> Run:
    """The run as the store keeps it; partial when the target's /metrics failed us."""
    return measured_run(
        kind="orders",
        profile="batch" if cfg.batch_size else "single",
        target=mask_url(cfg.target),
        label=cfg.label,
        tags=cfg.tags,
        started_at=result.started_at,
        measured_s=result.elapsed,
        figures=figures,
        summaries=[summary],
        histograms=hists,
        client_series=per_second_series(result, cfg.batch_size),
        server=server,
        host={"generator_cpu_pct": figures["generator_cpu_pct"]},
    )


def _count_orders(ok: list[Sample], batch_size: int, per_request: int) -> tuple[int, int]:
    """(orders accepted, orders sent) in the successful answers. A batch answer lists its
    `successful` and refused (`errors`) orders; a server that is not the exchange answers
    without those lists, and then every order of an accepted POST counts as accepted."""
    if not batch_size:
        return len(ok), len(ok)
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


def summarize(
    cfg: OrdersConfig, result: LoadResult, planned: int, generator_cpu_pct: float = 0.0
) -> tuple[dict[str, Any], Summary, list[Histogram]]:
    """The benchmark's figures; latency percentiles are read from HdrHistograms."""
    samples = result.samples
    ok = [s for s in samples if 200 <= s.status < 300]
    answered = [s for s in samples if s.status]  # a failed connection has no latency
    errors = len(samples) - len(ok) + result.not_sent
    measured = max(result.elapsed, 1e-9)
    per_request = max(chunk_size(cfg.batch_size), 1)
    orders_ok, orders_sent = _count_orders(ok, cfg.batch_size, per_request)
    orders_sent += (len(samples) - len(ok) + result.not_sent) * per_request
    warnings = []
    if result.not_sent:
        warnings.append(f"{result.not_sent} requests were never sent before the time bound")
    lag = [s.sent - s.due for s in samples]
    if lag and max(lag) > 0.1:
        warnings.append(
            f"the generator sent up to {max(lag) * 1000:.0f} ms late: all "
            f"{cfg.connections} connections were busy (a slow server) or the generator "
            "itself could not keep up"
        )
    if result.errors:
        warnings.append(f"{len(result.errors)} connection errors, first: {result.errors[0]}")
    if len(answered) < len(samples):
        warnings.append(
            f"{len(samples) - len(answered)} requests got no answer (connection failed); "
            "they count as errors and are left out of the latency figures"
        )
    latency_summary, hists = summarise(
        endpoint(cfg),
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
    reasons = trust_reasons(
        TrustInputs(
            generator_cpu_pct=generator_cpu_pct,
            target_rate=cfg.rate / per_request,
            achieved_rate=len(samples) / measured,
            samples=len(answered),
            # orders refused inside an accepted batch are errors too
            error_rate=1 - orders_ok / orders_sent if orders_sent else 1.0,
            schedule_lag_p99_ms=result.schedule_lag_p99 * 1000,
            schedule_lag_max_ms=result.schedule_lag_max * 1000,
        )
    )
    statuses: dict[str, int] = {}
    for s in samples:
        statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
    out: dict[str, Any] = {
        "target": mask_url(cfg.target),
        "requests": len(samples),
        "planned_requests": planned,
        "errors": errors,
        "status_counts": statuses,
        "achieved_rate": round(len(samples) / measured, 2),
        "throughput_rps": round(len(ok) / measured, 2),
        "orders_per_s": round(orders_ok / measured, 2),
        "latency_ms": figures_ms(latency_summary.latency),
        "service_time_ms": figures_ms(service),
        "trusted": not reasons,
        "trust_reasons": reasons,
        "warnings": warnings,
        "generator_cpu_pct": round(generator_cpu_pct, 1),
        "schedule_lag_ms": {
            "p99": round(result.schedule_lag_p99 * 1000, 3),
            "max": round(result.schedule_lag_max * 1000, 3),
        },
        "config": {
            "rate": cfg.rate,
            "duration": cfg.duration,
            "batch_size": cfg.batch_size,
            "symbol": cfg.symbol,
            "connections": cfg.connections,
        },
    }
    if cfg.batch_size:
        lat = [(s.done - s.sent) * 1000 for s in ok]
        out["batch"] = {
            "total_orders": orders_sent,
            "successful": orders_ok,
            "success_rate_pct": round(orders_ok / orders_sent * 100, 2) if orders_sent else 0.0,
            "average_batch_latency_ms": round(sum(lat) / len(lat), 2) if lat else None,
            "maximum_batch_latency_ms": round(max(lat), 2) if lat else None,
            "effective_rate": round(orders_ok / measured, 2),
        }
    return out, latency_summary, hists
