"""Bad input never acts and never gets a 5xx; a stranger cannot make the exchange read a body;
keys are kept as digests; error bodies do not echo input at length. Both order paths (the raw
fast path and the framework routes) through a real uvicorn."""

from __future__ import annotations

import socket
import sqlite3
import time
from pathlib import Path

import pytest

from exchange_ref.api.wire import MAX_BODY
from tests.exchange_ref.api.conftest import ADMIN, key


def order(side: str = "BUY", price: object = "50000", quantity: object = "0.5") -> dict:
    return {"symbol": "BTCUSD", "side": side, "type": "LIMIT", "quantity": quantity, "price": price}


# Values at and past every numeric limit of a price or quantity.
EDGE_VALUES: list[object] = [
    "1e999999999",
    "-1e999999999",
    "1e9999999999999999999",
    "-1e9999999999999999999",
    "1E-9999999999999999999",
    "1e+0000000000000000000000000001",
    "1e-999999999",
    "1E+30",
    "9.99e26",
    "NaN",
    "-NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "4.9e-324",
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    "1" * 10_000,
    "0." + "0" * 9_998 + "1",
    "9" * 39,
    2**62,
    2**63 - 1,
    2**63,
    2**64,
    -(2**63),
    "4611686018427387904",
    "9223372036854775808",
    0,
    -0.0,
    "-0",
    "",
    " ",
    "1_000",
    "\u0661\u0662",
    "0x10",
    "1e",
    "e5",
    ".",
    "+",
    True,
    None,
    [],
    {},
]


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) < 30 else f"{text[:20]}...({len(text)})"


def test_a_batch_item_that_overflows_is_refused_alone_and_nothing_runs_twice(live):
    """The review's case: item 1 matched and was stored, item 2 raised decimal.Overflow and
    the client got a 500, so a retry traded twice."""
    alice, bob = live.users(2)
    ask = live.client.post("/api/v1/orders", json=order("SELL", "50000", "1"), headers=key(alice))
    assert ask.status_code == 201, ask.text
    batch = [order("BUY", "50000", "0.5"), order("BUY", "1e999999999", "0.5")]
    r = live.client.post("/api/v1/orders/batch", json=batch, headers=key(bob))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [o["status"] for o in body["successful"]] == ["FILLED"]
    assert [(e["index"], e["code"]) for e in body["errors"]] == [(1, "INVALID_PRICE")]
    assert "price" in body["errors"][0]["message"]

    single = live.client.post("/api/v1/orders", json=batch[1], headers=key(bob))
    assert single.status_code == 400, single.text
    assert single.json()["code"] == "INVALID_PRICE" and "price" in single.json()["message"]


@pytest.mark.parametrize("field", ["price", "quantity"])
def test_edge_values_are_400_naming_the_field_on_both_routes(live, field):
    user = live.users(1)[0]
    for value in EDGE_VALUES:
        item = order()
        item[field] = value
        r = live.client.post("/api/v1/orders", json=item, headers=key(user))
        assert r.status_code == 400, (_short(value), r.status_code, r.text[:200])
        assert field in r.json()["message"] or r.json()["code"] == "MISSING_FIELD", _short(value)
        assert len(r.content) < 1_000, _short(value)  # the value is not echoed at length
    items = []
    for value in EDGE_VALUES:
        item = order()
        item[field] = value
        items.append(item)
    r = live.client.post("/api/v1/orders/batch", json=items, headers=key(user))
    assert r.status_code == 200, r.text[:300]
    assert r.json()["successful"] == []
    assert [e["index"] for e in r.json()["errors"]] == list(range(len(items)))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"symbol":"BTCUSD","side":"BUY","quantity":1,"price":1e400}',
        b'{"symbol":"BTCUSD","side":"BUY","quantity":1,"price":-1e400}',
        b'{"symbol":"BTCUSD","side":"BUY","quantity":1,"price":NaN}',
        b'{"symbol":"BTCUSD","side":"BUY","quantity":1,"price":Infinity}',
        b'{"symbol":"BTCUSD","side":"BUY","quantity":1,"price":' + b"7" * 10_000 + b"}",
        b'{"symbol":"BTCUSD","side":"BUY","quantity":1,"price":1' + b"0" * 400 + b".5}",
        b'{"symbol":"BTCUSD","side":"BUY","quantity":1e-400,"price":50000}',
    ],
)
def test_json_numbers_past_every_limit_are_400(live, raw):
    user = live.users(1)[0]
    headers = {**key(user), "Content-Type": "application/json"}
    for path, body in (("/api/v1/orders", raw), ("/api/v1/orders/batch", b"[" + raw + b"]")):
        r = live.client.post(path, content=body, headers=headers)
        assert r.status_code in (200, 400), (path, r.status_code, r.text[:200])
        if r.status_code == 200:
            assert r.json()["successful"] == [] and len(r.json()["errors"]) == 1


def test_error_bodies_do_not_echo_input_at_length(live):
    user = live.users(1)[0]
    huge = "X" * 1_000_000
    for item in (
        {**order(), "symbol": huge},
        {**order(), huge: 1},
        {**order(), "price": "1" * 35 + "." + huge},
    ):
        for path, body in (("/api/v1/orders", item), ("/api/v1/orders/batch", [item])):
            r = live.client.post(path, json=body, headers=key(user))
            assert r.status_code in (200, 400), r.text[:200]
            assert len(r.content) < 1_000, (path, len(r.content))
    r = live.client.get("/api/v1/market/ticker", params={"symbol": "Y" * 20})
    assert r.status_code == 400 and len(r.content) < 1_000


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_declared_json_is_415(live, content_type):
    user = live.users(1)[0]
    headers = {**key(user), "Content-Type": content_type}
    for path, body in (("/api/v1/orders", order()), ("/api/v1/orders/batch", [order()])):
        import orjson

        r = live.client.post(path, content=orjson.dumps(body), headers=headers)
        assert r.status_code == 415, (path, r.status_code, r.text)
        assert r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    ok = {**key(user), "Content-Type": "application/json; charset=utf-8"}
    r = live.client.post("/api/v1/orders", json=order(), headers=ok)
    assert r.status_code == 201, r.text


# --------------------------------------------------------------------------- body limit, auth
def _raw(url: str, head: bytes, body: bytes = b"", read_timeout: float = 10) -> tuple[bytes, bool]:
    """Send one request over a fresh socket; return the response and whether the server then
    closed the connection."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as sock:
        sock.sendall(head + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return data, True
            data += chunk
        head_end = data.index(b"\r\n\r\n") + 4
        length = 0
        for line in data[:head_end].split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        while len(data) < head_end + length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        sock.settimeout(3)
        try:
            closed = sock.recv(1) == b""
        except (TimeoutError, ConnectionResetError):
            closed = False
        return data, closed


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


@pytest.mark.parametrize("path", ["/admin/users", "/api/v1/orders/batch", "/health/live"])
def test_a_declared_body_over_the_limit_is_413_before_it_is_read(live, path):
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {300 * 1024 * 1024}\r\n\r\n"
    ).encode()
    response, closed = _raw(live.url, head, b"[" * 1000)
    assert _status(response) == 413, response[:300]
    assert b"BODY_TOO_LARGE" in response and closed


def test_a_stranger_is_refused_before_the_exchange_reads_or_parses_the_body(live):
    # Not JSON at all: the answer is about the key, not the body, so nothing parsed it.
    r = live.client.post(
        "/admin/users", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 401 and r.json()["code"] == "UNAUTHORIZED", r.text
    r = live.client.post(
        "/admin/users",
        content=b"{not json",
        headers={"Content-Type": "application/json", "X-API-Key": "x" * 20},
    )
    assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN", r.text
    # A body the exchange did not read: the connection is closed after the answer.
    body = b"[" + b"1," * (MAX_BODY // 4) + b"1]"
    head = (
        "POST /admin/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    response, closed = _raw(live.url, head, body[:1000])
    assert _status(response) == 401 and closed, response[:300]


@pytest.mark.parametrize("path", ["/admin/users", "/api/v1/orders/batch", "/api/v1/orders"])
def test_a_chunked_body_is_cut_off_at_the_limit(live, path):
    headers = {**ADMIN} if path == "/admin/users" else key(live.users(1)[0])

    def chunks():
        piece = b" " * 65536
        for _ in range(MAX_BODY // len(piece) + 8):
            yield piece

    r = live.client.post(
        path, content=chunks(), headers={**headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["code"] == "BODY_TOO_LARGE", r.text[:200]


def test_admin_users_still_validates_its_body(live):
    r = live.client.post("/admin/users", json={"count": 0}, headers=ADMIN)
    assert r.status_code == 400 and r.json()["code"] == "INVALID_REQUEST"
    assert "count" in r.json()["message"]
    r = live.client.post("/admin/users", json=[1], headers=ADMIN)
    assert r.status_code == 400
    r = live.client.post(
        "/admin/users", json={"count": 1, "balances": {"X" * 5000: "1"}}, headers=ADMIN
    )
    assert r.status_code == 400 and len(r.content) < 1_000


# --------------------------------------------------------------------------- keys
def test_keys_are_stored_as_digests_and_work_after_a_restart(tmp_path: Path):
    import httpx

    from exchange_ref.server import ServerThread
    from tests.factories import exchange_settings

    settings = exchange_settings(tmp_path)
    with ServerThread(settings) as server, httpx.Client(base_url=server.url) as client:
        made = client.post("/admin/users", json={"count": 2}, headers=ADMIN).json()["users"]
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("exchange.db*"))
    for user in made:
        assert user["apiKey"].encode() not in raw
    with sqlite3.connect(tmp_path / "exchange.db") as db:
        stored = {row[0] for row in db.execute("SELECT api_key_digest FROM users")}
    from exchange_ref.keys import key_digest

    assert stored == {key_digest(u["apiKey"]) for u in made}
    with ServerThread(settings) as server, httpx.Client(base_url=server.url) as client:
        r = client.get("/api/v1/account/balance", headers=key(made[0]))
        assert r.status_code == 200 and r.json()["userId"] == made[0]["userId"]
        r = client.get("/api/v1/account/balance", headers={"X-API-Key": next(iter(stored))})
        assert r.status_code == 401  # the digest itself is not a key


def test_the_admin_key_is_compared_in_constant_time(live, monkeypatch):
    import hmac

    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr("exchange_ref.keys.hmac.compare_digest", spy)
    assert live.client.get("/admin/metrics/reset", headers=ADMIN).status_code == 200
    assert (
        live.client.get("/admin/metrics/reset", headers={"X-API-Key": "w" * 22}).status_code == 403
    )
    assert len(calls) == 2


@pytest.mark.parametrize("admin_key", ["a", "x" * 15])
def test_a_short_admin_key_is_refused(tmp_path, admin_key):
    from pydantic import ValidationError

    from tests.factories import exchange_settings

    with pytest.raises(ValidationError, match="at least 16 characters"):
        exchange_settings(tmp_path, admin_key=admin_key)


def test_a_repeated_header_counts_once_and_the_first_wins_on_both_paths(live):
    user = live.users(1)[0]
    import orjson

    body = orjson.dumps(order())
    headers = [
        ("X-API-Key", user["apiKey"]),
        ("X-API-Key", "junk"),
        ("Content-Type", "application/json"),
    ]
    r = live.client.post("/api/v1/orders", content=body, headers=headers)
    assert r.status_code == 201, r.text
    headers = [
        ("X-API-Key", user["apiKey"]),
        ("Content-Type", "text/plain"),
        ("Content-Type", "application/json"),
    ]
    r = live.client.post("/api/v1/orders", content=body, headers=headers)
    assert r.status_code == 415, r.text


def test_cancelling_an_id_past_64_bits_is_a_short_4xx(live):
    user = live.users(1)[0]
    r = live.client.delete("/api/v1/orders/" + "9" * 4000, headers=key(user))
    assert 400 <= r.status_code < 500 and len(r.content) < 1_000, (r.status_code, len(r.content))


def test_a_client_leaving_mid_body_is_no_server_error(live):
    import logging

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.ERROR)
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        user = live.users(1)[0]
        for path, api_key in (
            ("/admin/users", ADMIN["X-API-Key"]),
            ("/api/v1/orders", user["apiKey"]),
        ):
            head = (
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"X-API-Key: {api_key}\r\nContent-Length: 1000\r\n\r\n"
            ).encode()
            host, port = live.url.removeprefix("http://").split(":")
            with socket.create_connection((host, int(port)), timeout=5) as sock:
                sock.sendall(head + b'{"count": ')
                time.sleep(0.3)
        time.sleep(0.5)
        assert live.client.get("/health/live").status_code == 200
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == []
