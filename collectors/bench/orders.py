"""`pincex bench orders`: the specification's order benchmark on an open model.

Against the exchange, real users are seeded through the admin key and orders are priced
around a slowly moving mid so that some rest and some cross (IOC takers slightly outweigh
passive makers, so the book stays bounded). Against any other HTTP server the specification's
order bodies are posted without keys and measured the same way.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from collectors.bench.httpload import LoadResult, Request, run_open_model
from collectors.bench.stats import summarize_ms

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


def run_orders_benchmark(cfg: OrdersConfig) -> dict[str, Any]:
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

    result = asyncio.run(
        run_open_model(
            cfg.target, build, request_rate, requests_count, cfg.connections, cfg.duration + 5.0
        )
    )
    return summarize(cfg, result, requests_count)


def summarize(cfg: OrdersConfig, result: LoadResult, planned: int) -> dict[str, Any]:
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
            f"{cfg.connections} connections were busy (server slower than the rate)"
        )
    if result.errors:
        warnings.append(f"{len(result.errors)} connection errors, first: {result.errors[0]}")
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
        "latency_ms": summarize_ms([(s.done - s.due) * 1000 for s in samples]),
        "service_time_ms": summarize_ms([(s.done - s.sent) * 1000 for s in samples]),
        "trusted": not warnings,
        "warnings": warnings,
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
    return out
