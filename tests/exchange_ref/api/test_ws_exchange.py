"""Market data from a real exchange: subscribe, incremental depth, gap detection and resync."""

from __future__ import annotations

import asyncio
import random

import httpx
import orjson
import websockets

from exchange_ref.server import ServerThread
from tests.exchange_ref.api.conftest import ADMIN, key
from tests.exchange_ref.api.test_durability import DEPOSITS, _flow
from tests.factories import exchange_settings


class LocalBook:
    """A client-side book kept from depth deltas, resynchronised from REST on a gap."""

    def __init__(self) -> None:
        self.levels: dict[str, dict[str, str]] = {"bids": {}, "asks": {}}
        self.last_id: int | None = None
        self.gaps = 0

    def load(self, snapshot: dict) -> None:
        self.levels = {side: {p: q for p, q in snapshot[side]} for side in ("bids", "asks")}
        self.last_id = snapshot["lastUpdateId"]

    def apply(self, delta: dict) -> bool:
        """Apply a delta; False when it reveals a gap (the caller must resync)."""
        if self.last_id is not None and delta["u"] <= self.last_id:
            return True  # already in the snapshot
        if self.last_id is not None and delta["U"] != self.last_id + 1:
            self.gaps += 1
            return False
        for side in ("bids", "asks"):
            for price, qty in delta[side]:
                if qty == "0":
                    self.levels[side].pop(price, None)
                else:
                    self.levels[side][price] = qty
        self.last_id = delta["u"]
        return True

    def view(self) -> dict:
        return {
            "bids": sorted(
                ([p, q] for p, q in self.levels["bids"].items()), key=lambda r: -float(r[0])
            ),
            "asks": sorted(
                ([p, q] for p, q in self.levels["asks"].items()), key=lambda r: float(r[0])
            ),
        }


async def _drain(
    ws, book: LocalBook, client: httpx.AsyncClient, until_id: int | None, idle: float = 10.0
) -> None:
    """Read depth frames until the book reaches `until_id` (or, with None, until quiet)."""
    while until_id is None or book.last_id is None or book.last_id < until_id:
        try:
            raw = await asyncio.wait_for(ws.recv(), idle)
        except TimeoutError:
            if until_id is None:
                return
            raise
        frame = orjson.loads(raw)
        if frame.get("stream") != "btcusd@depth":
            continue
        assert {"stream", "data", "timestamp", "event_time_us", "send_time_us"} <= frame.keys()
        assert frame["send_time_us"] >= frame["event_time_us"]
        if not book.apply(frame["data"]):
            r = await client.get(
                "/api/v1/market/orderbook", params={"symbol": "BTCUSD", "depth": 1000}
            )
            book.load(r.json())


def test_depth_stream_rebuilds_the_book_and_gaps_are_detected(tmp_path):
    settings = exchange_settings(tmp_path, ws_queue_size=4)
    with ServerThread(settings) as server:
        asyncio.run(_scenario(server.url))


async def _scenario(url: str) -> None:
    ws_url = url.replace("http", "ws") + "/ws"
    async with httpx.AsyncClient(base_url=url) as client:
        users = (
            await client.post(
                "/admin/users", json={"count": 2, "balances": DEPOSITS}, headers=ADMIN
            )
        ).json()["users"]
        async with websockets.connect(ws_url) as ws:
            await ws.send('{"method":"SUBSCRIBE","params":["btcusd@depth","btcusd@ticker"],"id":7}')
            assert orjson.loads(await ws.recv()) == {"result": None, "id": 7}
            rng = random.Random(11)
            book = LocalBook()
            # one order at a time, read as we go: no gap, the deltas alone rebuild the book
            for _ in range(30):
                await client.post("/api/v1/orders", json=_flow(rng, 1)[0], headers=key(users[0]))
            snap = (
                await client.get(
                    "/api/v1/market/orderbook", params={"symbol": "BTCUSD", "depth": 1000}
                )
            ).json()
            book.last_id = 0
            await _drain(ws, book, client, snap["lastUpdateId"])
            assert book.gaps == 0
            assert book.view() == {"bids": snap["bids"], "asks": snap["asks"]}
            # now the client does not read while a burst overflows its queue of 4 frames
            for i in range(10):
                await client.post(
                    "/api/v1/orders/batch", json=_flow(rng, 50), headers=key(users[i % 2])
                )
            await _drain(ws, book, client, None, idle=0.5)  # what was queued before the drops
            resting = {
                "symbol": "BTCUSD",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.01",
                "price": "40000",
            }
            await client.post("/api/v1/orders", json=resting, headers=key(users[0]))
            snap = (
                await client.get(
                    "/api/v1/market/orderbook", params={"symbol": "BTCUSD", "depth": 1000}
                )
            ).json()
            await _drain(ws, book, client, snap["lastUpdateId"])
            assert book.gaps >= 1
            assert book.view() == {"bids": snap["bids"], "asks": snap["asks"]}
            metrics = (await client.get("/metrics")).text
            assert "pincex_websocket_messages_dropped_total" in metrics


def test_a_websocket_message_over_the_frame_limit_closes_with_1009(tmp_path):
    from exchange_ref.server import WS_MAX_FRAME

    async def scenario(url: str) -> tuple[int | None, dict]:
        async with websockets.connect(url + "/ws", max_size=None) as ws:
            await ws.send(orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 1}).decode())
            ok = orjson.loads(await ws.recv())
            await ws.send("x" * (WS_MAX_FRAME + 1))
            try:
                await asyncio.wait_for(ws.recv(), 10)
            except websockets.ConnectionClosed as exc:
                return exc.rcvd.code if exc.rcvd else None, ok
            return None, ok

    with ServerThread(exchange_settings(tmp_path)) as server:
        code, ok = asyncio.run(scenario(server.url.replace("http://", "ws://")))
    assert ok == {"result": [], "id": 1}
    assert code == 1009
