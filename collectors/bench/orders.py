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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import orjson

from collectors.bench.httpload import LoadResult, Request, Sample, run_load, run_open_model
from collectors.bench.runs import (
    ServerWatch,
    figures_ms,
    host_facts,
    keep_run,
    server_points,
    server_summary,
)
from collectors.bench.trust import TrustInputs, trust_reasons
from collectors.scrape import ScrapeResult
from collectors.store.model import Histogram, Point, Run, Summary, new_run_id
from collectors.store.summarise import summarise

__all__ = ["OrdersConfig", "order_batches", "run_orders_benchmark"]


@dataclass(slots=True)
class OrdersConfig:
    target: str
    rate: float  # orders per second
    duration: float  # seconds
    batch_size: int = 0  # 0: single-order endpoint
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


def endpoint(cfg: OrdersConfig) -> str:
    return "POST /api/v1/orders/batch" if cfg.batch_size else "POST /api/v1/orders"


def _seed_users(cfg: OrdersConfig) -> list[str]:
    if not cfg.admin_key:
        return []
    with httpx.Client(base_url=cfg.target, timeout=30) as client:
        r = client.post(
            "/admin/users",
            headers={"X-API-Key": cfg.admin_key},
            json={
                "count": cfg.users,
                "prefix": "bench",
                "balances": {"USD": "1000000000", cfg.symbol.removesuffix("USD"): "1000000"},
            },
        )
        if r.status_code != 201:
            raise RuntimeError(
                f"cannot seed users on {cfg.target}: HTTP {r.status_code} {r.text[:200]}"
            )
        return [u["apiKey"] for u in r.json()["users"]]


def run_orders_benchmark(
    cfg: OrdersConfig, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    keys = _seed_users(cfg)
    per_request = max(cfg.batch_size, 1)
    requests_count = max(1, int(cfg.rate * cfg.duration / per_request))
    request_rate = cfg.rate / per_request
    batches = order_batches(min(requests_count, 4096), per_request, cfg.symbol, cfg.seed)

    def build(i: int) -> Request:
        headers = {"X-API-Key": keys[i % len(keys)]} if keys else {}
        if cfg.batch_size:
            return Request("POST", "/api/v1/orders/batch", orjson.dumps(batches[i]), headers)
        return Request("POST", "/api/v1/orders", orjson.dumps(batches[i][0]), headers)

    watch = ServerWatch(cfg.target, cfg.scrape_interval).start()
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
    server = watch.stop()
    figures, summary, hists = summarize(cfg, result, requests_count, cpu_pct)
    if server is not None:
        figures["server"] = server_summary(server)
        if server.partial:
            figures["warnings"].append(f"server side partial: {server.reason}")
    if cfg.store_path is not None:
        run = build_run(cfg, result, figures, summary, hists, server)
        figures["run_id"] = keep_run(cfg.store_path, run)
    return figures


def _orders_in(sample: Sample, batch_size: int) -> int:
    """Orders a successful answer accepted (a batch's `successful` list, or the one order)."""
    if not 200 <= sample.status < 300:
        return 0
    if not batch_size:
        return 1
    return len(orjson.loads(sample.body).get("successful", []))


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
    started = datetime.fromtimestamp(result.started_at, tz=UTC)
    return Run(
        id=new_run_id(),
        kind="orders",
        profile="batch" if cfg.batch_size else "single",
        target=cfg.target,
        label=cfg.label,
        started_at=started,
        ended_at=started + timedelta(seconds=result.elapsed),
        status="complete" if figures["requests"] and not (server and server.partial) else "partial",
        config=dict(figures["config"]),
        host=host_facts(generator_cpu_pct=figures["generator_cpu_pct"]),
        tags=list(cfg.tags),
        summaries=[summary],
        series=per_second_series(result, cfg.batch_size) + server_points(server),
        histograms=hists,
        trusted=figures["trusted"],
        warnings=[*figures["trust_reasons"], *figures["warnings"]],
    )


def summarize(
    cfg: OrdersConfig, result: LoadResult, planned: int, generator_cpu_pct: float = 0.0
) -> tuple[dict[str, Any], Summary, list[Histogram]]:
    """The benchmark's figures; latency percentiles are read from HdrHistograms."""
    samples = result.samples
    ok = [s for s in samples if 200 <= s.status < 300]
    errors = len(samples) - len(ok) + result.not_sent
    measured = max(result.elapsed, 1e-9)
    orders_ok = 0
    orders_sent = 0
    for s in ok:
        if cfg.batch_size:
            body = orjson.loads(s.body)
            orders_ok += len(body.get("successful", []))
            orders_sent += len(body.get("successful", [])) + len(body.get("errors", []))
        else:
            orders_ok += 1
            orders_sent += 1
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
    latency_summary, hists = summarise(
        endpoint(cfg),
        np.array([(s.done - s.due) * 1e6 for s in samples]),
        np.array([(s.done - s.sent) * 1e6 for s in samples]),
        errors=errors,
        duration_s=measured,
    )
    service = latency_summary.service
    assert service is not None
    reasons = trust_reasons(
        TrustInputs(
            generator_cpu_pct=generator_cpu_pct,
            target_rate=cfg.rate / max(cfg.batch_size, 1),
            achieved_rate=len(samples) / measured,
            samples=len(samples),
            error_rate=errors / max(len(samples) + result.not_sent, 1),
        )
    )
    statuses: dict[str, int] = {}
    for s in samples:
        statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
    out: dict[str, Any] = {
        "target": cfg.target,
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
