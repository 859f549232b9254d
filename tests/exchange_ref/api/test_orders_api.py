"""The REST API through a real uvicorn: orders, batches, cancels, market data, account."""

import pytest

from tests.exchange_ref.api.conftest import ADMIN, key


def order(side="BUY", price=50000, quantity=0.5, **extra):
    body = {
        "symbol": "BTCUSD",
        "side": side,
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": quantity,
        "price": price,
    }
    body.update(extra)
    return body


def test_health_and_openapi(live):
    assert live.client.get("/health/live").json() == {"status": "live"}
    assert live.client.get("/health/ready").json() == {"status": "ready"}
    doc = live.client.get("/openapi.json").json()
    for path in [
        "/api/v1/orders",
        "/api/v1/orders/batch",
        "/api/v1/orders/{order_id}",
        "/api/v1/market/ticker",
        "/api/v1/market/orderbook",
        "/api/v1/account/balance",
        "/api/v1/account/orders",
        "/health/ready",
        "/health/live",
        "/admin/metrics/reset",
        "/metrics",
    ]:
        assert path in doc["paths"], path
    batch = doc["paths"]["/api/v1/orders/batch"]["post"]["requestBody"]["content"]
    assert batch["application/json"]["schema"]["maxItems"] == 1000


def test_auth_is_required(live):
    r = live.client.post("/api/v1/orders", json=order())
    assert r.status_code == 401 and r.json()["code"] == "UNAUTHORIZED"
    r = live.client.post("/api/v1/orders", json=order(), headers={"X-API-Key": "nope"})
    assert r.status_code == 401
    user = live.users(1)[0]
    r = live.client.post("/admin/metrics/reset", headers=key(user))
    assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"
    assert live.client.get("/admin/metrics/reset", headers=ADMIN).status_code == 200


def test_the_spec_order_object_rests_and_matches(live):
    alice, bob = live.users(2)
    r = live.client.post("/api/v1/orders", json=order("SELL", 50000, 0.5), headers=key(alice))
    assert r.status_code == 201, r.text
    sell = r.json()
    assert sell["status"] == "PENDING" and sell["price"] == "50000" and sell["quantity"] == "0.5"
    r = live.client.post("/api/v1/orders", json=order("BUY", 50100, 0.2), headers=key(bob))
    buy = r.json()
    assert buy["status"] == "FILLED" and buy["trades"][0]["price"] == "50000"
    book = live.client.get("/api/v1/market/orderbook", params={"symbol": "BTCUSD"}).json()
    assert book["asks"] == [["50000", "0.3"]] and book["bids"] == []
    ticker = live.client.get("/api/v1/market/ticker", params={"symbol": "BTCUSD"}).json()
    assert ticker["lastPrice"] == "50000" and ticker["bestAsk"] == "50000"
    bal = {
        b["asset"]: b
        for b in live.client.get("/api/v1/account/balance", headers=key(alice)).json()["balances"]
    }
    assert bal["BTC"]["locked"] == "0.3"
    orders = live.client.get("/api/v1/account/orders", headers=key(alice)).json()["orders"]
    assert [(o["orderId"], o["status"], o["filledQuantity"]) for o in orders] == [
        (sell["orderId"], "PARTIAL", "0.2")
    ]


def test_batch_takes_or_refuses_each_item(live):
    alice = live.users(1)[0]
    items = [
        order("BUY", 49000, 0.1),
        order("BUY", 49000.001, 0.1),  # off tick
        {"symbol": "DOGEUSD", "side": "BUY", "quantity": 1, "price": 1},
        order("SELL", 51000, 0.000001),  # over-precise
        order("BUY", 49000, -1),
        {"symbol": "BTCUSD", "side": "BUY", "price": 1},  # missing quantity
        "not an object",
        order("SELL", 51000, 0.1),
        order("BUY", 49500, 1e9),  # insufficient balance
    ]
    r = live.client.post("/api/v1/orders/batch", json=items, headers=key(alice))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [o["status"] for o in body["successful"]] == ["PENDING", "PENDING"]
    assert [(e["index"], e["code"]) for e in body["errors"]] == [
        (1, "INVALID_PRICE"),
        (2, "UNKNOWN_SYMBOL"),
        (3, "INVALID_QUANTITY"),
        (4, "INVALID_QUANTITY"),
        (5, "MISSING_FIELD"),
        (6, "INVALID_ORDER"),
        (8, "INSUFFICIENT_BALANCE"),
    ]
    assert all(e["message"] for e in body["errors"])


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{not json", "INVALID_JSON"),
        (b'{"a": 1}', "INVALID_BATCH"),
        (b"[" + b"{}," * 1000 + b"{}]", "BATCH_TOO_LARGE"),
    ],
)
def test_bad_batches_are_400(live, content, code):
    alice = live.users(1)[0]
    r = live.client.post("/api/v1/orders/batch", content=content, headers=key(alice))
    assert r.status_code == 400 and r.json()["code"] == code


def test_cancel_rules(live):
    alice, bob = live.users(2)
    oid = live.client.post("/api/v1/orders", json=order(), headers=key(alice)).json()["orderId"]
    # Someone else's order is answered exactly as an unknown one: ids cannot be probed.
    theirs = live.client.delete(f"/api/v1/orders/{oid}", headers=key(bob))
    unknown = live.client.delete(f"/api/v1/orders/{oid + 1000}", headers=key(bob))
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["code"] == unknown.json()["code"] == "ORDER_NOT_FOUND"
    assert theirs.json()["message"] == unknown.json()["message"].replace(str(oid + 1000), str(oid))
    assert live.client.delete("/api/v1/orders/abc", headers=key(alice)).status_code == 400
    r = live.client.delete(f"/api/v1/orders/{oid}", headers=key(alice))
    assert r.status_code == 200 and r.json()["status"] == "CANCELLED"
    bal = {
        b["asset"]: b
        for b in live.client.get("/api/v1/account/balance", headers=key(alice)).json()["balances"]
    }
    assert bal["USD"]["locked"] == "0"


def test_market_queries_validate_input(live):
    r = live.client.get("/api/v1/market/ticker", params={"symbol": "NOPE"})
    assert r.status_code == 400 and r.json()["code"] == "UNKNOWN_SYMBOL"
    r = live.client.get("/api/v1/market/orderbook", params={"symbol": "BTCUSD", "depth": 0})
    assert r.status_code == 400 and r.json()["code"] == "INVALID_REQUEST"
    assert live.client.get("/api/v1/market/ticker").status_code == 400


def test_metrics_have_the_spec_names(live):
    alice = live.users(1)[0]
    live.client.post("/api/v1/orders", json=order(), headers=key(alice))
    text = live.client.get("/metrics").text
    assert (
        'pincex_order_processing_duration_seconds_bucket{le="0.001",side="BUY",symbol="BTCUSD",type="LIMIT"}'
        in text
    )
    assert 'pincex_orders_processed_total{side="BUY",status="PENDING",symbol="BTCUSD"} 1.0' in text
    assert 'pincex_database_connections{pool="exchange",state="max"}' in text


def test_deposits_that_would_overflow_64_bits_are_refused(live):
    r = live.client.post(
        "/admin/users", headers=ADMIN, json={"count": 10000, "balances": {"USD": "1000000000"}}
    )
    assert r.status_code == 400 and r.json()["code"] == "SUPPLY_LIMIT"
    r = live.client.post(
        "/admin/users", headers=ADMIN, json={"count": 1, "balances": {"DOGE": "1"}}
    )
    assert r.status_code == 400 and r.json()["code"] == "UNKNOWN_ASSET"
    r = live.client.post(
        "/admin/users", headers=ADMIN, json={"count": 1, "balances": {"USD": "1e10"}}
    )
    assert r.status_code == 400 and r.json()["code"] == "INVALID_FIELD"
    assert live.client.get("/health/live").status_code == 200


def test_huge_or_tiny_numbers_are_refused_not_crashed(live):
    alice = live.users(1)[0]
    for quantity, price in [
        (9.384938911952744e140, None),
        ("1e30", 50000),
        (1, "9" * 39),
        (1, -5.3e-63),
        (1e-300, 50000),
    ]:
        body = order("SELL", price, quantity)
        if price is None:
            body.update(type="MARKET")
            body.pop("price")
        r = live.client.post("/api/v1/orders", json=body, headers=key(alice))
        assert r.status_code == 400, (quantity, price, r.text)
        assert r.json()["code"] in {"INVALID_QUANTITY", "INVALID_PRICE", "INVALID_FIELD"}
