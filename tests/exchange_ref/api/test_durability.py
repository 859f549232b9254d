"""Nothing acknowledged is lost: restart, kill -9 and SIGTERM against real processes."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import websockets

from exchange_ref.server import ServerThread
from exchange_ref.storage.store import Store
from tests.exchange_ref.api.conftest import ADMIN, key
from tests.factories import exchange_settings

DEPOSITS = {"USD": "100000000", "BTC": "10000"}


def _flow(rng: random.Random, n: int) -> list[dict]:
    out = []
    for _ in range(n):
        side = rng.choice(["BUY", "SELL"])
        mid = 50000 + rng.randint(-20, 20)
        price = mid - rng.randint(0, 30) if side == "BUY" else mid + rng.randint(0, 30)
        if rng.random() < 0.3:  # crossing
            price = mid + 40 if side == "BUY" else mid - 40
        out.append(
            {
                "symbol": "BTCUSD",
                "side": side,
                "type": "LIMIT",
                "timeInForce": rng.choice(["GTC", "GTC", "IOC"]),
                "quantity": f"{rng.randint(1, 300) / 100:.2f}",
                "price": str(price),
            }
        )
    return out


class ExchangeProcess:
    """`pincex exchange serve` in a child process on 127.0.0.1, port 0."""

    def __init__(self, tmp: Path, db_url: str) -> None:
        self.port_file = tmp / f"port-{time.monotonic_ns()}"
        env = dict(os.environ, PINCEX_ADMIN_KEY="test-admin-key-0123456")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pincex",
                "exchange",
                "serve",
                "--port",
                "0",
                "--db",
                db_url,
                "--port-file",
                str(self.port_file),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while not self.port_file.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"exchange exited: {self.proc.stderr.read().decode()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise TimeoutError("exchange did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{int(self.port_file.read_text())}"

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def _book_and_balances(client: httpx.Client, users: list[dict]) -> tuple[dict, list]:
    book = client.get("/api/v1/market/orderbook", params={"symbol": "BTCUSD", "depth": 1000}).json()
    balances = [client.get("/api/v1/account/balance", headers=key(u)).json() for u in users]
    return {"bids": book["bids"], "asks": book["asks"]}, balances


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_restart_rebuilds_books_and_balances(tmp_path, backend, request):
    if backend == "postgres":
        settings = exchange_settings(tmp_path, database_url=request.getfixturevalue("pg_url"))
    else:
        settings = exchange_settings(tmp_path)
    with ServerThread(settings) as server, httpx.Client(base_url=server.url) as client:
        users = client.post(
            "/admin/users", json={"count": 3, "balances": DEPOSITS}, headers=ADMIN
        ).json()["users"]
        rng = random.Random(3)
        for i in range(20):
            client.post("/api/v1/orders/batch", json=_flow(rng, 50), headers=key(users[i % 3]))
        for side, price in (("BUY", "40000"), ("SELL", "60000")):
            client.post(
                "/api/v1/orders",
                headers=key(users[1]),
                json={"symbol": "BTCUSD", "side": side, "quantity": "0.5", "price": price},
            )
        last_id = client.post(
            "/api/v1/orders", json=_flow(rng, 1)[0], headers=key(users[0])
        ).json()["orderId"]
        before = _book_and_balances(client, users)
    assert before[0]["bids"] and before[0]["asks"]
    with ServerThread(settings) as server, httpx.Client(base_url=server.url) as client:
        assert _book_and_balances(client, users) == before
        new_id = client.post("/api/v1/orders", json=_flow(rng, 1)[0], headers=key(users[1])).json()[
            "orderId"
        ]
        assert new_id > last_id


def _hammer(url: str, users: list[dict], acked: list, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=5) as client:
        while not stop.is_set():
            try:
                r = client.post(
                    "/api/v1/orders/batch", json=_flow(rng, 40), headers=key(rng.choice(users))
                )
            except httpx.HTTPError:
                return
            if r.status_code == 200:
                acked.append(r.json()["successful"])


def _check_store(db_url: str, acked: list[list[dict]], users: list[dict]) -> None:
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        orders = {
            r.id: r
            for r in conn.execute(
                sa.text("SELECT id, quantity, filled_quantity, status FROM orders")
            )
        }
        trades = conn.execute(
            sa.text("SELECT id, buy_order_id, sell_order_id, quantity FROM trades")
        ).all()
        totals = dict(
            conn.execute(
                sa.text("SELECT asset, SUM(available + locked) FROM balances GROUP BY asset")
            ).all()
        )
    engine.dispose()
    trade_ids = {t.id for t in trades}
    acked_orders = [o for batch in acked for o in batch]
    assert acked_orders, "no acknowledged orders to check"
    for o in acked_orders:
        assert o["orderId"] in orders, f"acknowledged order {o['orderId']} lost"
        for t in o["trades"]:
            assert t["tradeId"] in trade_ids, f"acknowledged trade {t['tradeId']} lost"
    # nothing half there: every order's fills are its trades, and money is conserved
    filled: dict[int, int] = defaultdict(int)
    for t in trades:
        filled[t.buy_order_id] += t.quantity
        filled[t.sell_order_id] += t.quantity
    for oid, row in orders.items():
        assert row.filled_quantity == filled.get(oid, 0), f"order {oid} filled without its trades"
    n = len(users)
    assert int(totals["USD"]) == n * int(DEPOSITS["USD"]) * 10**8
    assert int(totals["BTC"]) == n * int(DEPOSITS["BTC"]) * 10**8


def _kill_and_recover(tmp_path: Path, db_url: str) -> None:
    proc = ExchangeProcess(tmp_path, db_url)
    try:
        with httpx.Client(base_url=proc.url) as client:
            users = client.post(
                "/admin/users", json={"count": 4, "balances": DEPOSITS}, headers=ADMIN
            ).json()["users"]
        acked: list = []
        stop = threading.Event()
        threads = [
            threading.Thread(target=_hammer, args=(proc.url, users, acked, stop, s))
            for s in range(4)
        ]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(acked) < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.kill()  # in the middle of the traffic
        stop.set()
        for t in threads:
            t.join(10)
    finally:
        if proc.proc.poll() is None:
            proc.kill()
    snapshot = list(acked)
    _check_store(db_url, snapshot, users)
    # and the exchange comes back with books equal to the database's own aggregation
    proc = ExchangeProcess(tmp_path, db_url)
    try:
        with httpx.Client(base_url=proc.url) as client:
            book = client.get(
                "/api/v1/market/orderbook", params={"symbol": "BTCUSD", "depth": 1000}
            ).json()
            for u in users:
                assert client.get("/api/v1/account/balance", headers=key(u)).status_code == 200
    finally:
        assert proc.stop() == 0
    store = Store(db_url)
    try:
        from decimal import Decimal

        from exchange_ref.engine.types import DEFAULT_SYMBOLS

        spec = DEFAULT_SYMBOLS["BTCUSD"]
        for side, rows in (("BUY", book["bids"]), ("SELL", book["asks"])):
            stored = store.orderbook_levels("BTCUSD", side, None, 1000)
            assert [[spec.price_str(p), spec.qty_str(q)] for p, q in stored] == rows
            assert all(Decimal(q) > 0 for _, q in rows)
    finally:
        store.close()


def test_kill_9_loses_nothing_acknowledged_sqlite(tmp_path):
    _kill_and_recover(tmp_path, f"sqlite:///{tmp_path / 'kill.db'}")


@pytest.mark.postgres
def test_kill_9_loses_nothing_acknowledged_postgres(tmp_path, pg_url):
    _kill_and_recover(tmp_path, pg_url)


def test_sigterm_drains_closes_websockets_with_1001_and_exits_0(tmp_path):
    proc = ExchangeProcess(tmp_path, f"sqlite:///{tmp_path / 'term.db'}")
    ws_url = proc.url.replace("http", "ws") + "/ws"

    async def scenario() -> int | None:
        async with websockets.connect(ws_url) as ws:
            await ws.send('{"method":"SUBSCRIBE","params":["btcusd@depth"],"id":1}')
            assert await ws.recv() == '{"result":null,"id":1}'
            proc.proc.send_signal(signal.SIGTERM)
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 15)
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None

    code = asyncio.run(scenario())
    assert code == 1001
    assert proc.stop() == 0
