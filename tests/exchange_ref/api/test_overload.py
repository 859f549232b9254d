"""Under overload the exchange sheds load with 503 + Retry-After, counted, never a timeout."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
from prometheus_client.parser import text_string_to_metric_families

from exchange_ref.server import ServerThread
from tests.exchange_ref.api.conftest import ADMIN, key
from tests.factories import exchange_settings


def _shed_total(metrics_text: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        if family.name == "pincex_load_shed":
            return sum(s.value for s in family.samples if s.name.endswith("_total"))
    return 0.0


def test_requests_beyond_the_inflight_limit_get_503_with_retry_after(tmp_path):
    settings = exchange_settings(tmp_path, max_inflight_requests=2, retry_after_seconds=3)
    with ServerThread(settings) as server:
        users = httpx.post(f"{server.url}/admin/users", json={"count": 1}, headers=ADMIN).json()[
            "users"
        ]
        body = [
            {"symbol": "BTCUSD", "side": "BUY", "quantity": "0.01", "price": str(40000 + i)}
            for i in range(200)
        ]

        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(
                base_url=server.url, timeout=30, limits=httpx.Limits(max_connections=64)
            ) as client:
                return await asyncio.gather(
                    *[
                        client.post("/api/v1/orders/batch", json=body, headers=key(users[0]))
                        for _ in range(64)
                    ]
                )

        responses = asyncio.run(burst())
        statuses = {r.status_code for r in responses}
        assert statuses <= {200, 503}, statuses
        shed = [r for r in responses if r.status_code == 503]
        assert shed, "no request was shed at 64 concurrent requests over a limit of 2"
        assert all(r.headers["Retry-After"] == "3" for r in shed)
        assert all(r.json()["code"] == "OVERLOADED" for r in shed)
        # what was accepted is whole: every accepted order is on the book
        accepted = sum(len(r.json()["successful"]) for r in responses if r.status_code == 200)
        book = httpx.get(
            f"{server.url}/api/v1/market/orderbook", params={"symbol": "BTCUSD", "depth": 1000}
        ).json()
        assert sum(Decimal(q) for _, q in book["bids"]) == Decimal("0.01") * accepted
        # health and metrics are never shed
        text = httpx.get(f"{server.url}/metrics").text
        assert _shed_total(text) == len(shed)


def test_pending_writes_limit_sheds_with_503(tmp_path):
    settings = exchange_settings(tmp_path, max_pending_orders=1, commit_interval_ms=200)
    with ServerThread(settings) as server:
        users = httpx.post(f"{server.url}/admin/users", json={"count": 1}, headers=ADMIN).json()[
            "users"
        ]
        body = [{"symbol": "BTCUSD", "side": "BUY", "quantity": "0.01", "price": "40000"}] * 5

        async def staggered() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:

                async def one(i: int) -> httpx.Response:
                    await asyncio.sleep(i * 0.02)  # later ones arrive while writes are pending
                    return await client.post(
                        "/api/v1/orders/batch", json=body, headers=key(users[0])
                    )

                return await asyncio.gather(*[one(i) for i in range(20)])

        responses = asyncio.run(staggered())
        assert {r.status_code for r in responses} <= {200, 503}
        assert any(r.status_code == 503 for r in responses)
        assert any(r.status_code == 200 for r in responses)
        # A shed request's body was not read: its connection is closed, not left taking it.
        assert all(
            r.headers.get("connection") == "close" for r in responses if r.status_code == 503
        )
