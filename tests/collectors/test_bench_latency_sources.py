"""Which clock each latency figure starts from, checked against samples whose truth is known."""

from __future__ import annotations

import asyncio
import time

import orjson
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from collectors.bench.httpload import LoadResult, Sample
from collectors.bench.market_data import _Counters, _read
from collectors.bench.orders import per_second_series

AGE_MS = 50  # how long before the send each frame's event happened


async def _frames_with_known_age(count: int) -> _Counters:
    """A real WebSocket server sends `count` frames whose event is AGE_MS old at the send."""

    async def handler(ws: ServerConnection) -> None:
        for _ in range(count):
            now_us = time.time_ns() // 1000
            frame = {
                "stream": "btcusd@ticker",
                "timestamp": now_us // 1000,
                "event_time_us": now_us - AGE_MS * 1000,
                "send_time_us": now_us,
                "data": {},
            }
            await ws.send(orjson.dumps(frame).decode())
            await asyncio.sleep(0.002)

    counters = _Counters()
    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as ws:
            await _read(ws, counters)
    return counters


def test_market_data_latency_runs_from_the_event_time() -> None:
    counters = asyncio.run(_frames_with_known_age(40))
    figures = counters.latencies.figures()
    assert counters.latencies.count == 40
    # from the event: at least its age; from the send it would be well under a millisecond
    assert figures.p50 is not None and figures.p50 >= AGE_MS
    assert figures.p50 < AGE_MS * 3


def test_the_per_second_client_latency_runs_from_the_due_time() -> None:
    # each request was released 30 ms after its due time (a busy generator or full
    # connections) and answered 2 ms after its send
    samples = [
        Sample(i, i * 0.01, i * 0.01 + 0.030, i * 0.01 + 0.032, 200, b"") for i in range(200)
    ]
    result = LoadResult(samples, 0.0, 2.0, 0, [])
    p99 = [p.value for p in per_second_series(result) if p.series == "latency_p99_ms"]
    assert p99 and all(abs(v - 32.0) < 0.1 for v in p99), p99
