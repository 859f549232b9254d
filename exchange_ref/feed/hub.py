"""Market data fan-out: one hub, a bounded queue and a sender task per WebSocket client.

Streams are `<lowercase symbol>@ticker`, `@depth` and `@trade`, e.g. `btcusd@depth`. The engine
calls `MarketDataHub.publish(stream, data, event_time_us)` on the event loop once the state the
data describes is committed. `publish` serialises `data` once and appends it to the queue of every
subscriber of the stream; it never awaits, so no client can slow the engine or another client.
Each client's sender task wraps the payload, at the moment it sends it, into one text frame:

    {"stream":"btcusd@depth","timestamp":<ms>,"event_time_us":<µs>,"send_time_us":<µs>,"data":...}

`timestamp` and `send_time_us` are the same wall-clock reading taken just before the send;
`event_time_us` is the time of the event that caused the frame. Each send counts in
`ws_messages_sent{stream_type}` and observes `send_time_us - event_time_us` in
`match_to_broadcast{stream_type}`.

Depth contract (the data is the app's; the hub does not read it): a depth payload is
`{"symbol": "BTCUSD", "U": first_update_id, "u": last_update_id, "bids": [[price, qty], ...],
"asks": [...]}` with decimal strings, where a qty of "0" removes the level. A client keeping a
local book checks that each frame's `U` is the previous frame's `u` + 1. On a gap (frames were
dropped for it, see below) it fetches `GET /api/v1/market/orderbook`, discards frames with
`u <= lastUpdateId`, and applies the rest from the one with `U <= lastUpdateId + 1 <= u`.

Overflow policy. A client's queue holds at most `queue_size` data frames. When it is full the NEW
frame is dropped for that client only (the frames already queued stay, in order) and counted in
`ws_messages_dropped{reason="slow_client"}`; a depth client sees the gap in `U`/`u` and resyncs
from REST. A client that stays full, more than `max_consecutive_drops` drops in a row (default
`10 * queue_size`) over at least `slow_client_timeout` seconds (default 2, by the hub's clock)
without one successful enqueue, is disconnected with close code 1008 ("policy violation: too
slow") and counted once with reason `slow_client_disconnected`. The time condition spares a
client whose queue overflows only inside one burst of publishes, before its sender could run.
Frames still queued when a client goes count with reason `connection_closed`. The hub forgets a
client at once; its close frame waits at most `close_timeout` seconds to go out (a peer that
stopped reading holds it back), so `close_all` at shutdown is bounded too.

Replies to a client's own requests (acks, errors) go through the same queue, so they stay in
order with data frames; they are never dropped, and a client with more than
`_MAX_PENDING_REPLIES` unsent replies has its request reading paused until it reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from exchange_ref.echo import clip
from exchange_ref.metrics import ChildCache, ExchangeMetrics

__all__ = [
    "STREAM_TYPES",
    "FrameSink",
    "MarketDataHub",
    "Subscriber",
    "UnknownStreamError",
]

_log = logging.getLogger(__name__)

STREAM_TYPES = ("ticker", "depth", "trade")
_MAX_PENDING_REPLIES = 64
_SLOW_CLOSE_CODE = 1008
_SLOW_CLOSE_REASON = "policy violation: too slow"


class FrameSink(Protocol):
    """Where a client's frames go: a `starlette.websockets.WebSocket` fits."""

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class UnknownStreamError(ValueError):
    """A stream name that is not one of the hub's streams."""

    def __init__(self, streams: Iterable[str]) -> None:
        self.streams = list(streams)
        shown = ", ".join(clip(name)[1:-1] for name in self.streams[:5])
        more = f" and {len(self.streams) - 5} more" if len(self.streams) > 5 else ""
        super().__init__(f"unknown stream(s): {shown}{more}")


def _wall_clock_us() -> int:
    return time.time_ns() // 1000


def _wake_all(waiters: list[asyncio.Future[None]]) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(None)


class _Stream:
    """One stream: its frame prefix, its subscribers and its cached metric children."""

    __slots__ = ("bytes_sent", "latency", "name", "prefix", "sent", "subscribers")

    def __init__(self, name: str, metrics: ExchangeMetrics) -> None:
        stream_type = name.partition("@")[2]
        self.name = name
        self.prefix = '{"stream":' + orjson.dumps(name).decode() + ',"timestamp":'
        self.subscribers: dict[Subscriber, None] = {}
        self.sent = metrics.ws_messages_sent.labels(stream_type)
        self.bytes_sent = metrics.ws_bytes_sent.labels(stream_type)
        self.latency = metrics.match_to_broadcast.labels(stream_type)


# A queued data frame: (stream, serialised data, its UTF-8 length minus its str length, event
# time in µs); a queued reply is a str.
_Item = tuple[_Stream, str, int, int] | str


@dataclass(eq=False, slots=True)
class Subscriber:
    """One connected client: its sink, subscriptions, queue and sender task (hub-managed)."""

    sink: FrameSink
    streams: dict[str, None] = field(default_factory=dict, init=False)
    queue: deque[_Item] = field(default_factory=deque, init=False, repr=False)
    pending_data: int = field(default=0, init=False)
    pending_replies: int = field(default=0, init=False)
    consecutive_drops: int = field(default=0, init=False)
    drops_since_us: int = field(default=0, init=False)
    closed: bool = field(default=False, init=False)
    sender: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    _wakeup: asyncio.Future[None] | None = field(default=None, init=False, repr=False)
    _reply_room: asyncio.Future[None] | None = field(default=None, init=False, repr=False)

    def _wake(self) -> None:
        waiter = self._wakeup
        if waiter is not None:
            self._wakeup = None
            if not waiter.done():
                waiter.set_result(None)

    def _release_replies(self) -> None:
        room = self._reply_room
        if room is not None:
            self._reply_room = None
            if not room.done():
                room.set_result(None)


class MarketDataHub:
    """Fans published market data out to WebSocket subscribers; see the module docstring."""

    def __init__(
        self,
        metrics: ExchangeMetrics,
        symbols: list[str],
        queue_size: int = 1024,
        clock_us: Callable[[], int] = _wall_clock_us,
        max_consecutive_drops: int | None = None,
        slow_client_timeout: float = 2.0,
        close_timeout: float = 2.0,
    ) -> None:
        if queue_size <= 0:
            raise ValueError("queue_size must be positive")
        self._metrics = metrics
        self._queue_size = queue_size
        self._max_drops = (
            10 * queue_size if max_consecutive_drops is None else max_consecutive_drops
        )
        self._clock_us = clock_us
        self._slow_timeout_us = round(slow_client_timeout * 1e6)
        self._close_timeout = close_timeout
        self._streams = {
            name: _Stream(name, metrics)
            for name in (f"{s.lower()}@{kind}" for s in symbols for kind in STREAM_TYPES)
        }
        self._clients: dict[Subscriber, None] = {}
        self._close_tasks: set[asyncio.Task[None]] = set()
        self._dropped = ChildCache(metrics.ws_messages_dropped)  # (reason,)
        self._dropped_slow = self._dropped("slow_client")
        self._closing = False

    @property
    def streams(self) -> list[str]:
        """Every stream name a client may subscribe to."""
        return list(self._streams)

    @property
    def connections(self) -> int:
        """Clients connected now."""
        return len(self._clients)

    @property
    def closing(self) -> bool:
        """True once `close_all` has started: new clients are refused."""
        return self._closing

    def connect(self, sink: FrameSink) -> Subscriber:
        """Register a client (call on the event loop) and start its sender task."""
        if self._closing:
            raise RuntimeError("market data hub is closing")
        client = Subscriber(sink)
        client.sender = asyncio.get_running_loop().create_task(self._send_loop(client))
        self._clients[client] = None
        self._metrics.ws_connections.set(len(self._clients))
        return client

    async def disconnect(self, client: Subscriber) -> None:
        """Forget a client and stop its sender task; safe to call more than once."""
        sender = client.sender
        self._detach(client)
        if sender is not None and sender is not asyncio.current_task():
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    def subscribe(self, client: Subscriber, streams: Iterable[str]) -> None:
        """Add subscriptions; all or nothing, `UnknownStreamError` if a name is not a stream."""
        found = self._lookup(streams)
        if client.closed:
            return
        for stream in found:
            stream.subscribers[client] = None
            client.streams[stream.name] = None

    def unsubscribe(self, client: Subscriber, streams: Iterable[str]) -> None:
        """Remove subscriptions (absent ones are ignored); `UnknownStreamError` as `subscribe`."""
        for stream in self._lookup(streams):
            stream.subscribers.pop(client, None)
            client.streams.pop(stream.name, None)

    def subscriptions(self, client: Subscriber) -> list[str]:
        """The client's streams in the order it subscribed to them."""
        return list(client.streams)

    def has_subscribers(self, stream: str) -> bool:
        """Whether anything published to `stream` now would reach anyone (lets callers skip
        building data nobody reads)."""
        target = self._streams.get(stream)
        return target is not None and bool(target.subscribers)

    def publish(self, stream: str, data: dict[str, Any] | bytes, event_time_us: int) -> None:
        """Queue `data` (a dict, or JSON already serialised) for every subscriber of `stream`."""
        target = self._streams.get(stream)
        if target is None:
            raise UnknownStreamError([stream])
        subscribers = target.subscribers
        if not subscribers:
            return
        raw = data if isinstance(data, bytes) else orjson.dumps(data)
        payload = raw.decode()
        item = (target, payload, len(raw) - len(payload), event_time_us)
        limit = self._queue_size
        dropped = 0
        too_slow: list[Subscriber] = []
        idle: list[asyncio.Future[None]] = []
        for client in subscribers:
            if client.pending_data >= limit:
                dropped += 1
                client.consecutive_drops += 1
                if client.consecutive_drops == 1:
                    client.drops_since_us = self._clock_us()
                elif client.consecutive_drops > self._max_drops and (
                    self._clock_us() - client.drops_since_us >= self._slow_timeout_us
                ):
                    too_slow.append(client)
                continue
            client.consecutive_drops = 0
            client.pending_data += 1
            client.queue.append(item)
            waiter = client._wakeup
            if waiter is not None:
                client._wakeup = None
                idle.append(waiter)
        if idle:
            # Waking the idle senders is the costly part of a fan-out: do it in one callback
            # right after the caller's step, not inside it.
            idle[0].get_loop().call_soon(_wake_all, idle)
        if dropped:
            self._dropped_slow.inc(dropped)
        for client in too_slow:
            self._dropped("slow_client_disconnected").inc()
            self._evict(client, _SLOW_CLOSE_CODE, _SLOW_CLOSE_REASON)

    async def send_reply(self, client: Subscriber, message: dict[str, Any]) -> None:
        """Queue a reply to the client's request, in order with its data frames; never dropped.

        Waits while the client has too many unsent replies, so a client that sends requests
        without reading the answers is slowed down rather than buffered without bound.
        """
        if client.closed:
            return
        client.queue.append(orjson.dumps(message).decode())
        client.pending_replies += 1
        client._wake()
        if client.pending_replies > _MAX_PENDING_REPLIES:
            room = asyncio.get_running_loop().create_future()
            client._reply_room = room
            await room

    async def close_all(self, code: int = 1001, reason: str = "server shutting down") -> None:
        """Close every client with `code` (1001 going away at shutdown) and refuse new ones."""
        self._closing = True
        for client in list(self._clients):
            self._evict(client, code, reason)
        await asyncio.gather(*self._close_tasks)

    def _lookup(self, names: Iterable[str]) -> list[_Stream]:
        names = list(names)
        unknown = [name for name in names if name not in self._streams]
        if unknown:
            raise UnknownStreamError(unknown)
        return [self._streams[name] for name in names]

    def _detach(self, client: Subscriber) -> None:
        if client.closed:
            return
        client.closed = True
        for name in client.streams:
            self._streams[name].subscribers.pop(client, None)
        client.streams.clear()
        self._clients.pop(client, None)
        self._metrics.ws_connections.set(len(self._clients))
        if client.pending_data:
            self._dropped("connection_closed").inc(client.pending_data)
        client.queue.clear()
        client.pending_data = client.pending_replies = 0
        client._release_replies()
        if client.sender is not None and client.sender is not asyncio.current_task():
            client.sender.cancel()

    def _evict(self, client: Subscriber, code: int, reason: str) -> None:
        self._detach(client)
        task = asyncio.get_running_loop().create_task(self._close_sink(client.sink, code, reason))
        self._close_tasks.add(task)
        task.add_done_callback(self._close_tasks.discard)

    async def _close_sink(self, sink: FrameSink, code: int, reason: str) -> None:
        # A peer that stopped reading can hold a close behind its full buffers forever.
        try:
            await asyncio.wait_for(sink.close(code, reason), self._close_timeout)
        except Exception:
            _log.debug("closing a market data client failed", exc_info=True)

    async def _send_loop(self, client: Subscriber) -> None:
        loop = asyncio.get_running_loop()
        queue = client.queue
        send = client.sink.send_text
        clock_us = self._clock_us
        try:
            while True:
                if not queue:
                    client._wakeup = loop.create_future()
                    await client._wakeup
                    continue
                item = queue.popleft()
                if isinstance(item, str):
                    await send(item)
                    client.pending_replies -= 1
                    if client.pending_replies <= _MAX_PENDING_REPLIES:
                        client._release_replies()
                    continue
                stream, payload, extra_bytes, event_time_us = item
                client.pending_data -= 1
                now_us = clock_us()
                frame = (
                    f'{stream.prefix}{now_us // 1000},"event_time_us":{event_time_us},'
                    f'"send_time_us":{now_us},"data":{payload}}}'
                )
                await send(frame)
                stream.sent.inc()
                stream.bytes_sent.inc(len(frame) + extra_bytes)
                stream.latency.observe((now_us - event_time_us) / 1e6)
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.debug("market data send failed; dropping the client", exc_info=True)
            self._detach(client)
