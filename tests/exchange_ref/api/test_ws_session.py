"""websocket_session under a real uvicorn on 127.0.0.1 (port 0), driven by the websockets client."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from exchange_ref.api.ws import websocket_session
from exchange_ref.feed.hub import MarketDataHub
from exchange_ref.metrics import ExchangeMetrics

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Served:
    """A hub behind a tiny Starlette app: `/ws`, plus test-only `/publish` and `/close_all`."""

    def __init__(self, **hub_kwargs: Any) -> None:
        self.registry = CollectorRegistry()
        self.hub = MarketDataHub(ExchangeMetrics(self.registry), ["BTCUSD", "ETHUSD"], **hub_kwargs)
        app = Starlette(
            routes=[
                WebSocketRoute("/ws", self._ws),
                Route("/publish", self._publish, methods=["POST"]),
                Route("/close_all", self._close_all, methods=["POST"]),
            ]
        )
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            loop="uvloop",
            http="httptools",
            ws="websockets-sansio",
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="ws-test-server", daemon=True)

    async def _ws(self, websocket: WebSocket) -> None:
        await websocket_session(websocket, self.hub)

    async def _publish(self, request: Request) -> Response:
        stream = request.query_params["stream"]
        event_time_us = int(request.query_params["event_time_us"])
        self.hub.publish(stream, await request.body(), event_time_us)
        return Response(status_code=204)

    async def _close_all(self, request: Request) -> Response:
        await self.hub.close_all()
        return Response(status_code=204)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not (self.server.started and self.server.servers):
            assert self.thread.is_alive(), "uvicorn failed to start"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}/ws"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float:
        return self.registry.get_sample_value(name, labels or {}) or 0.0


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(**hub_kwargs: Any) -> Served:
        served = Served(**hub_kwargs)
        started.append(served)
        served.start()
        return served

    try:
        yield start
    finally:
        for served in started:
            served.stop()


def ws_connect(url: str, **kwargs: Any) -> connect:
    return connect(url, compression=None, proxy=None, open_timeout=10, **kwargs)


async def request(ws: ClientConnection, message: object) -> Any:
    await ws.send(orjson.dumps(message).decode())
    return orjson.loads(await asyncio.wait_for(ws.recv(), 10))


async def publish(
    client: httpx.AsyncClient, stream: str, data: dict[str, Any], event_time_us: int = 0
) -> None:
    params = {"stream": stream, "event_time_us": str(event_time_us or time.time_ns() // 1000)}
    response = await client.post("/publish", params=params, content=orjson.dumps(data))
    assert response.status_code == 204


async def eventually(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_subscribe_receive_list_unsubscribe(serve):
    served = serve()
    async with (
        httpx.AsyncClient(base_url=served.http, trust_env=False) as http,
        ws_connect(served.ws) as ws,
    ):
        await ws.send('{"method":"SUBSCRIBE","params":["btcusd@ticker","btcusd@depth"],"id":1}')
        assert await asyncio.wait_for(ws.recv(), 10) == '{"result":null,"id":1}'
        assert served.sample("pincex_websocket_connections") == 1

        depth = {"symbol": "BTCUSD", "U": 1, "u": 2, "bids": [["50000.01", "1.5"]], "asks": []}
        await publish(http, "btcusd@depth", depth, event_time_us=1_700_000_000_000_001)
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert list(frame) == ["stream", "timestamp", "event_time_us", "send_time_us", "data"]
        assert frame["stream"] == "btcusd@depth"
        assert frame["data"] == depth
        assert frame["event_time_us"] == 1_700_000_000_000_001
        assert isinstance(frame["send_time_us"], int)
        assert frame["timestamp"] == frame["send_time_us"] // 1000
        sent = served.sample("pincex_websocket_messages_sent_total", {"stream_type": "depth"})
        assert sent == 1
        latency = "pincex_market_data_broadcast_latency_seconds_count"
        assert served.sample(latency, {"stream_type": "depth"}) == 1

        listed = await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": "list"})
        assert listed == {"result": ["btcusd@ticker", "btcusd@depth"], "id": "list"}

        unsubscribe = {"method": "UNSUBSCRIBE", "params": ["btcusd@depth"], "id": 2}
        assert await request(ws, unsubscribe) == {"result": None, "id": 2}
        await publish(http, "btcusd@depth", {"symbol": "BTCUSD", "U": 3, "u": 3})
        await publish(http, "btcusd@ticker", {"symbol": "BTCUSD", "last": "50000.01"})
        # Frames of one client keep publish order, so a depth frame would have come first.
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert frame["stream"] == "btcusd@ticker"

    await eventually(lambda: served.hub.connections == 0)
    assert served.sample("pincex_websocket_connections") == 0


BAD_REQUESTS: list[tuple[str | bytes, str, object]] = [
    ("not json", "invalid_json", None),
    ("[1, 2]", "invalid_request", None),
    ('"SUBSCRIBE"', "invalid_request", None),
    ('{"method":"SUBSCRIBE","params":[],"id":1.5}', "invalid_id", None),
    ('{"method":"SUBSCRIBE","params":[],"id":true}', "invalid_id", None),
    ('{"method":"SUBSCRIBE","params":[],"id":{"a":1}}', "invalid_id", None),
    ('{"params":["btcusd@ticker"],"id":3}', "missing_method", 3),
    ('{"method":"PING","id":4}', "unknown_method", 4),
    ('{"method":"SUBSCRIBE","params":"btcusd@ticker","id":5}', "invalid_params", 5),
    ('{"method":"SUBSCRIBE","id":6}', "invalid_params", 6),
    ('{"method":"UNSUBSCRIBE","params":[7],"id":7}', "invalid_params", 7),
    ('{"method":"LIST_SUBSCRIPTIONS","params":["x"],"id":8}', "invalid_params", 8),
    ('{"method":"SUBSCRIBE","params":["btcusd@candles"],"id":"x"}', "unknown_stream", "x"),
    ('{"method":"SUBSCRIBE","params":["BTCUSD@ticker"]}', "unknown_stream", None),
    (b'{"method":"SUBSCRIBE","params":["btcusd@ticker"],"id":9}', "binary_not_supported", None),
]


async def test_malformed_requests_get_error_frames_and_the_connection_stays(serve):
    served = serve()
    async with ws_connect(served.ws) as ws:
        for raw, code, request_id in BAD_REQUESTS:
            await ws.send(raw)
            reply = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
            assert list(reply) == ["error", "id"], raw
            assert reply["id"] == request_id, raw
            assert list(reply["error"]) == ["code", "msg"], raw
            assert reply["error"]["code"] == code, raw
            assert isinstance(reply["error"]["msg"], str) and reply["error"]["msg"], raw
        ok = {"method": "SUBSCRIBE", "params": ["ethusd@trade"], "id": 10}
        assert await request(ws, ok) == {"result": None, "id": 10}
        listed = await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": None})
        assert listed == {"result": ["ethusd@trade"], "id": None}


def _small_buffer_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


async def test_slow_client_is_dropped_then_disconnected_without_holding_up_a_fast_one(serve):
    served = serve(queue_size=4, max_consecutive_drops=3, slow_client_timeout=0, close_timeout=30)
    subscribe = {"method": "SUBSCRIBE", "params": ["btcusd@trade"], "id": 1}
    filler = os.urandom(16_384).hex()  # incompressible, 32 KiB a frame
    slow_sock = _small_buffer_socket()
    host, port = served.ws.removeprefix("ws://").removesuffix("/ws").split(":")
    slow_sock.connect((host, int(port)))
    async with (
        httpx.AsyncClient(base_url=served.http, trust_env=False) as http,
        ws_connect(served.ws) as fast,
        ws_connect(served.ws, sock=slow_sock, max_queue=1) as slow,
    ):
        assert await request(fast, subscribe) == {"result": None, "id": 1}
        assert await request(slow, subscribe) == {"result": None, "id": 1}
        disconnected = {"reason": "slow_client_disconnected"}
        dropped = "pincex_websocket_messages_dropped_total"
        seq = 0
        # Lockstep with the fast client: it gets each frame before the next is published,
        # while the slow one never reads until it is cut off.
        while served.sample(dropped, disconnected) == 0:
            assert seq < 5000, "the slow client was never cut off"
            await publish(http, "btcusd@trade", {"seq": seq, "filler": filler})
            frame = orjson.loads(await asyncio.wait_for(fast.recv(), 10))
            assert frame["data"]["seq"] == seq
            seq += 1

        assert served.sample(dropped, {"reason": "slow_client"}) >= 4
        assert served.sample(dropped, disconnected) == 1
        assert served.hub.connections == 1
        # The slow client got some frames in order, with gaps where they were dropped, then 1008.
        received = []
        with pytest.raises(ConnectionClosed):
            while True:
                received.append(orjson.loads(await asyncio.wait_for(slow.recv(), 10)))
        seqs = [f["data"]["seq"] for f in received]
        assert seqs[0] == 0 and seqs == sorted(set(seqs))
        assert len(seqs) < seq
        assert slow.close_code == 1008
        assert slow.close_reason == "policy violation: too slow"

        # The fast client is still served.
        await publish(http, "btcusd@trade", {"seq": seq})
        frame = orjson.loads(await asyncio.wait_for(fast.recv(), 10))
        assert frame["data"] == {"seq": seq}
    assert served.sample("pincex_websocket_messages_sent_total", {"stream_type": "trade"}) >= seq


async def test_close_all_closes_clients_with_1001(serve):
    served = serve()
    async with (
        httpx.AsyncClient(base_url=served.http, trust_env=False) as http,
        ws_connect(served.ws) as first,
        ws_connect(served.ws) as second,
    ):
        for ws in (first, second):
            ack = await request(ws, {"method": "SUBSCRIBE", "params": ["btcusd@ticker"], "id": 1})
            assert ack == {"result": None, "id": 1}
        response = await http.post("/close_all")
        assert response.status_code == 204
        for ws in (first, second):
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            assert ws.close_code == 1001
            assert ws.close_reason == "server shutting down"
        assert served.hub.connections == 0

        async with ws_connect(served.ws) as late:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(late.recv(), 10)
            assert late.close_code == 1001
