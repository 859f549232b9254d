"""MarketDataHub with fake sinks: fan-out, one serialisation, overflow policy, subscriptions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from exchange_ref.feed.hub import MarketDataHub, UnknownStreamError
from exchange_ref.metrics import ExchangeMetrics

pytestmark = pytest.mark.anyio

T0_US = 1_700_000_000_123_456


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeSink:
    """Records frames; while `gate` is clear, `send_text` blocks like a client not reading."""

    def __init__(self, blocked: bool = False, fail: bool = False) -> None:
        self.frames: list[str] = []
        self.gate = asyncio.Event()
        if not blocked:
            self.gate.set()
        self.fail = fail
        self.closed: tuple[int, str | None] | None = None

    async def send_text(self, data: str) -> None:
        if self.fail:
            raise ConnectionResetError("gone")
        await self.gate.wait()
        self.frames.append(data)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = (code, reason)

    def data(self) -> list[Any]:
        return [orjson.loads(frame).get("data") for frame in self.frames]


class Clock:
    def __init__(self) -> None:
        self.now_us = T0_US + 1500

    def __call__(self) -> int:
        return self.now_us


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def make_hub(registry: CollectorRegistry) -> Callable[..., MarketDataHub]:
    metrics = ExchangeMetrics(registry)

    def make(**kwargs: Any) -> MarketDataHub:
        kwargs.setdefault("clock_us", Clock())
        return MarketDataHub(metrics, ["BTCUSD", "ETHUSD"], **kwargs)

    return make


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


async def received(sink: FakeSink, count: int) -> None:
    await until(lambda: len(sink.frames) == count)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_streams_are_lowercase_symbol_at_kind(make_hub):
    hub = make_hub()
    assert sorted(hub.streams) == sorted(
        f"{s}@{k}" for s in ("btcusd", "ethusd") for k in ("ticker", "depth", "trade")
    )


async def test_fan_out_frames_and_metrics(make_hub, registry):
    hub = make_hub()
    sinks = [FakeSink() for _ in range(3)]
    clients = [hub.connect(sink) for sink in sinks]
    for client in clients:
        hub.subscribe(client, ["btcusd@depth"])
    other = FakeSink()
    hub.subscribe(hub.connect(other), ["ethusd@depth"])
    depth = {"symbol": "BTCUSD", "U": 7, "u": 8, "bids": [["50000.01", "1.5"]], "asks": []}

    hub.publish("btcusd@depth", depth, T0_US)
    await until(lambda: all(sink.frames for sink in sinks))

    for sink in sinks:
        [frame] = sink.frames
        assert frame.startswith('{"stream":"btcusd@depth","timestamp":')
        assert orjson.loads(frame) == {
            "stream": "btcusd@depth",
            "timestamp": (T0_US + 1500) // 1000,
            "event_time_us": T0_US,
            "send_time_us": T0_US + 1500,
            "data": depth,
        }
    assert other.frames == []
    get = registry.get_sample_value
    assert get("pincex_websocket_messages_sent_total", {"stream_type": "depth"}) == 3
    assert get("pincex_websocket_bytes_sent_total", {"stream_type": "depth"}) == sum(
        len(sink.frames[0].encode()) for sink in sinks
    )
    latency = {"stream_type": "depth"}
    assert get("pincex_market_data_broadcast_latency_seconds_count", latency) == 3
    assert get("pincex_market_data_broadcast_latency_seconds_sum", latency) == pytest.approx(
        3 * 0.0015
    )
    assert (
        get("pincex_market_data_broadcast_latency_seconds_bucket", {**latency, "le": "0.001"}) == 0
    )
    assert (
        get("pincex_market_data_broadcast_latency_seconds_bucket", {**latency, "le": "0.002"}) == 3
    )
    assert get("pincex_websocket_connections") == 4 == hub.connections


async def test_data_is_serialised_once_for_a_thousand_subscribers(make_hub, monkeypatch):
    calls: list[object] = []
    real_dumps = orjson.dumps

    def counting_dumps(obj: Any, *args: Any, **kwargs: Any) -> bytes:
        calls.append(obj)
        return real_dumps(obj, *args, **kwargs)

    hub = make_hub()
    sinks = [FakeSink() for _ in range(1000)]
    for sink in sinks:
        hub.subscribe(hub.connect(sink), ["btcusd@trade"])
    monkeypatch.setattr(orjson, "dumps", counting_dumps)
    trade = {"symbol": "BTCUSD", "price": "50000.00", "qty": "0.1", "id": 1}
    hub.publish("btcusd@trade", trade, T0_US)
    hub.publish("btcusd@trade", b'{"pre":"serialised"}', T0_US)
    monkeypatch.setattr(orjson, "dumps", real_dumps)
    assert calls == [trade]

    await until(lambda: all(len(sink.frames) == 2 for sink in sinks))
    assert all(sink.data() == [trade, {"pre": "serialised"}] for sink in sinks)


async def test_no_subscribers_means_no_serialisation(make_hub, monkeypatch):
    hub = make_hub()

    def fail(*_: Any, **__: Any) -> bytes:
        raise AssertionError("serialised without subscribers")

    monkeypatch.setattr(orjson, "dumps", fail)
    hub.publish("btcusd@ticker", {"symbol": "BTCUSD"}, T0_US)


async def test_unknown_stream_publish_raises(make_hub):
    hub = make_hub()
    with pytest.raises(UnknownStreamError):
        hub.publish("dogeusd@ticker", {}, T0_US)


async def test_full_queue_drops_new_frames_for_the_slow_client_only(make_hub, registry):
    hub = make_hub(queue_size=2)
    slow, fast = FakeSink(blocked=True), FakeSink()
    for sink in (slow, fast):
        hub.subscribe(hub.connect(sink), ["btcusd@depth"])

    for seq in range(1, 7):  # the slow sender blocks sending frame 1
        hub.publish("btcusd@depth", {"seq": seq}, T0_US)
        await received(fast, seq)

    dropped = registry.get_sample_value(
        "pincex_websocket_messages_dropped_total", {"reason": "slow_client"}
    )
    assert dropped == 3  # frames 4, 5, 6: 1 in flight, 2 and 3 queued
    assert fast.data() == [{"seq": n} for n in range(1, 7)]
    slow.gate.set()
    await until(lambda: len(slow.frames) == 3)
    await settle()
    assert slow.data() == [{"seq": 1}, {"seq": 2}, {"seq": 3}]
    assert slow.closed is None


async def test_client_full_for_too_long_is_disconnected_with_1008(make_hub, registry):
    hub = make_hub(queue_size=1, max_consecutive_drops=3, slow_client_timeout=0)
    slow, fast = FakeSink(blocked=True), FakeSink()
    slow_client = hub.connect(slow)
    hub.subscribe(slow_client, ["btcusd@trade"])
    hub.subscribe(hub.connect(fast), ["btcusd@trade"])
    for seq in range(5):  # 0 in flight, 1 queued, then three drops: still connected
        hub.publish("btcusd@trade", {"seq": seq}, T0_US)
        await received(fast, seq + 1)
    assert hub.connections == 2
    hub.publish("btcusd@trade", {"seq": 5}, T0_US)  # fourth drop in a row
    assert hub.connections == 1
    assert hub.subscriptions(slow_client) == []
    await until(lambda: slow.closed is not None)
    assert slow.closed == (1008, "policy violation: too slow")
    assert slow_client.sender is not None
    await until(slow_client.sender.done)
    get = registry.get_sample_value
    dropped = "pincex_websocket_messages_dropped_total"
    assert get(dropped, {"reason": "slow_client"}) == 4
    assert get(dropped, {"reason": "slow_client_disconnected"}) == 1
    assert get(dropped, {"reason": "connection_closed"}) == 1  # seq 1, still queued
    assert get("pincex_websocket_connections") == 1
    await until(lambda: len(fast.frames) == 6)


async def test_a_burst_alone_does_not_disconnect_a_client(make_hub, registry):
    clock = Clock()
    hub = make_hub(queue_size=1, max_consecutive_drops=2, slow_client_timeout=1.0, clock_us=clock)
    slow = FakeSink(blocked=True)
    client = hub.connect(slow)
    hub.subscribe(client, ["btcusd@trade"])
    hub.publish("btcusd@trade", {"seq": 0}, T0_US)
    await settle()  # in flight
    for seq in range(1, 20):  # one burst: 1 queued, 18 dropped within the same instant
        hub.publish("btcusd@trade", {"seq": seq}, T0_US)
    assert hub.connections == 1
    clock.now_us += 999_999
    hub.publish("btcusd@trade", {"seq": 20}, T0_US)
    assert hub.connections == 1
    clock.now_us += 1
    hub.publish("btcusd@trade", {"seq": 21}, T0_US)  # full for 1 s and more than 2 drops
    assert hub.connections == 0
    await until(lambda: slow.closed is not None)
    assert slow.closed == (1008, "policy violation: too slow")
    dropped = "pincex_websocket_messages_dropped_total"
    assert registry.get_sample_value(dropped, {"reason": "slow_client"}) == 20


async def test_a_successful_enqueue_resets_the_drop_streak(make_hub):
    hub = make_hub(queue_size=1, max_consecutive_drops=2, slow_client_timeout=0)
    slow = FakeSink(blocked=True)
    hub.subscribe(hub.connect(slow), ["btcusd@trade"])
    hub.publish("btcusd@trade", {"seq": 0}, T0_US)
    await settle()
    for seq in range(1, 4):  # 1 queued, 2 and 3 dropped
        hub.publish("btcusd@trade", {"seq": seq}, T0_US)
    slow.gate.set()
    await until(lambda: len(slow.frames) == 2)
    slow.gate.clear()
    hub.publish("btcusd@trade", {"seq": 4}, T0_US)
    await settle()  # in flight again
    for seq in range(5, 8):  # 5 queued, 6 and 7 dropped: a new streak of 2
        hub.publish("btcusd@trade", {"seq": seq}, T0_US)
    assert hub.connections == 1
    assert slow.closed is None


async def test_subscribe_unsubscribe_and_list(make_hub):
    hub = make_hub()
    sink = FakeSink()
    client = hub.connect(sink)
    hub.subscribe(client, ["btcusd@ticker", "ethusd@trade"])
    hub.subscribe(client, ["btcusd@ticker"])
    assert hub.subscriptions(client) == ["btcusd@ticker", "ethusd@trade"]
    with pytest.raises(UnknownStreamError) as info:
        hub.subscribe(client, ["btcusd@depth", "btcusd@candles"])
    assert info.value.streams == ["btcusd@candles"]
    assert hub.subscriptions(client) == ["btcusd@ticker", "ethusd@trade"]  # all or nothing

    hub.publish("btcusd@ticker", {"n": 1}, T0_US)
    await until(lambda: len(sink.frames) == 1)
    hub.unsubscribe(client, ["btcusd@ticker", "btcusd@depth"])
    assert hub.subscriptions(client) == ["ethusd@trade"]
    hub.publish("btcusd@ticker", {"n": 2}, T0_US)
    hub.publish("ethusd@trade", {"n": 3}, T0_US)
    await until(lambda: len(sink.frames) == 2)
    await settle()
    assert sink.data() == [{"n": 1}, {"n": 3}]


async def test_replies_keep_order_with_data_and_are_never_dropped(make_hub):
    hub = make_hub(queue_size=1)
    sink = FakeSink(blocked=True)
    client = hub.connect(sink)
    hub.subscribe(client, ["btcusd@ticker"])
    hub.publish("btcusd@ticker", {"n": 1}, T0_US)
    await settle()
    hub.publish("btcusd@ticker", {"n": 2}, T0_US)  # the queue is full now
    await hub.send_reply(client, {"result": None, "id": 9})
    sink.gate.set()
    await until(lambda: len(sink.frames) == 3)
    assert sink.frames[2] == '{"result":null,"id":9}'
    assert sink.data()[:2] == [{"n": 1}, {"n": 2}]


async def test_disconnect_cleans_up_and_is_idempotent(make_hub, registry):
    hub = make_hub()
    client = hub.connect(FakeSink())
    hub.subscribe(client, ["btcusd@ticker"])
    assert registry.get_sample_value("pincex_websocket_connections") == 1
    await hub.disconnect(client)
    await hub.disconnect(client)
    assert client.sender is not None and client.sender.done()
    assert hub.connections == 0
    assert registry.get_sample_value("pincex_websocket_connections") == 0
    hub.publish("btcusd@ticker", {"n": 1}, T0_US)  # nobody left: nothing queued
    assert len(client.queue) == 0


async def test_failed_send_detaches_the_client(make_hub):
    hub = make_hub()
    client = hub.connect(FakeSink(fail=True))
    hub.subscribe(client, ["btcusd@ticker"])
    hub.publish("btcusd@ticker", {"n": 1}, T0_US)
    assert client.sender is not None
    await until(client.sender.done)
    assert hub.connections == 0
    assert client.closed


async def test_close_all_closes_with_1001_and_refuses_new_clients(make_hub):
    hub = make_hub()
    sinks = [FakeSink(), FakeSink(blocked=True)]
    for sink in sinks:
        hub.subscribe(hub.connect(sink), ["btcusd@ticker"])
    hub.publish("btcusd@ticker", {"n": 1}, T0_US)
    await hub.close_all()
    assert [sink.closed for sink in sinks] == [(1001, "server shutting down")] * 2
    assert hub.connections == 0
    assert hub.closing
    with pytest.raises(RuntimeError):
        hub.connect(FakeSink())
    await hub.close_all()  # twice is harmless


async def test_close_all_is_bounded_by_close_timeout(make_hub):
    class StuckSink(FakeSink):
        async def close(self, code: int = 1000, reason: str | None = None) -> None:
            await asyncio.Event().wait()  # a peer that never lets the close frame out

    hub = make_hub(close_timeout=0.01)
    hub.connect(StuckSink())
    await hub.close_all()
    assert hub.connections == 0


async def test_unread_replies_pause_the_requester(make_hub):
    hub = make_hub()
    sink = FakeSink(blocked=True)
    client = hub.connect(sink)
    for n in range(64):
        await hub.send_reply(client, {"result": None, "id": n})
    paused = asyncio.ensure_future(hub.send_reply(client, {"result": None, "id": 64}))
    await settle()
    assert not paused.done()
    sink.gate.set()
    await asyncio.wait_for(paused, 10)
    await until(lambda: len(sink.frames) == 65)
    assert sink.frames[-1] == '{"result":null,"id":64}'
