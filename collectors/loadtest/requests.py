"""The request of each route, as both engines send it, and what is kept of each answer.

    maker = RequestMaker(plan)
    maker.build(i)                 # the i-th request: Request(method, path, body, headers)
    maker.digest(route, body)      # b"123" for an order's id, b"X" for a crossed book, else b""

Against the exchange (the plan has keys) orders are priced around the exchange's own mid and
sent with a seeded user's key, and the account routes carry keys too; against any other server
the specification's order bodies go without keys. Bodies are built before the clock starts.
"""

from __future__ import annotations

import orjson

from collectors.bench.httpload import Request
from collectors.bench.workload import order_batches, spec_order_batches
from collectors.loadtest.plan import LoadPlan

__all__ = ["POOL", "RequestMaker", "book_crossed", "order_id"]

POOL = 4096  # distinct order bodies built up front, then sent in turn


def order_id(body: bytes) -> int | None:
    """The `orderId` of an order's acknowledgement, or None."""
    at = body.find(b'"orderId":')
    if at < 0:
        return None
    at += 10
    end = at
    while end < len(body) and body[end : end + 1].isdigit():
        end += 1
    return int(body[at:end]) if end > at else None


def book_crossed(body: bytes) -> bool:
    """An orderbook answer whose best bid is at or above its best ask."""
    try:
        book = orjson.loads(body)
        bids, asks = book.get("bids") or [], book.get("asks") or []
        return bool(bids and asks and float(bids[0][0]) >= float(asks[0][0]))
    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError, IndexError):
        return False


class RequestMaker:
    """Builds the plan's requests; deterministic for a given plan (its seed)."""

    def __init__(self, plan: LoadPlan) -> None:
        self.plan = plan
        keys = plan.keys
        make = order_batches if keys else spec_order_batches
        kwargs = {"mid": plan.mid_price} if keys else {}
        self.orders = [orjson.dumps(b[0]) for b in make(POOL, 1, plan.symbol, plan.seed, **kwargs)]
        self.kinds = [r.endpoint.path.split("?")[0] for r in plan.routes]

    def build(self, i: int) -> Request:
        plan = self.plan
        route = plan.routes[plan.route_of(i)]
        path, method = route.endpoint.path, route.endpoint.method
        kind = path.split("?")[0]
        keys = plan.keys
        headers = {"X-API-Key": keys[i % len(keys)]} if keys else {}
        if kind == "/api/v1/orders" and method == "POST":
            return Request("POST", path, self.orders[i % len(self.orders)], headers)
        if kind in ("/api/v1/market/ticker", "/api/v1/market/orderbook") and "?" not in path:
            suffix = "&limit=20" if kind.endswith("orderbook") else ""
            return Request(method, f"{path}?symbol={plan.symbol}{suffix}", b"", {})
        if kind == "/api/v1/account/orders" and "?" not in path:
            return Request(method, f"{path}?limit=20", b"", headers)
        return Request(method, path, b"", headers)

    def digest(self, route: int, body: bytes) -> bytes:
        """What is kept of an answer's body: an order's id, a crossed book's mark, else
        nothing (bodies are not kept: a long run would hold gigabytes)."""
        kind = self.kinds[route]
        if kind == "/api/v1/orders":
            oid = order_id(body)
            return b"" if oid is None else str(oid).encode()
        if kind == "/api/v1/market/orderbook":
            return b"X" if book_crossed(body) else b""
        return b""
