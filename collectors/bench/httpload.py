"""An open-model HTTP/1.1 load generator on asyncio protocols.

Requests are due at `start + i / rate` whatever the responses do. Each due request goes
straight to an idle keep-alive connection, or waits in a FIFO backlog while all of them are
busy; one request at a time per connection (no pipelining). Latency is measured from the due
time (so a stalled server cannot hide its stall: coordinated omission corrected) and,
separately, from the actual send (service time). Request bodies are built before the clock
starts, so the generator spends its time on the wire, not on JSON.

Due requests are released whenever the event loop runs anyway (on every answer) and otherwise
by a timer; each request's release is timed against its due time (the schedule lag). The event
loop's timers count whole milliseconds (libuv's clock), so a timer alone releases requests up
to a millisecond late; when requests are `SPIN_MIN_INTERVAL` or more apart, the timer wakes
the generator `SPIN_AHEAD` early and the last stretch is spun through the loop (answers are
still read between turns), so requests leave on time.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import numpy as np

from collectors.bench.http_response import ParseError, ResponseParser

__all__ = [
    "CONNECT_TIMEOUT",
    "DRAIN_SECONDS",
    "LoadResult",
    "Request",
    "Sample",
    "TargetUnreachable",
    "run_load",
    "run_open_model",
]


@dataclass(slots=True)
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Sample:
    index: int
    due: float  # seconds from the start
    sent: float
    done: float
    status: int  # 0 when the connection failed
    body: bytes
    retry_after: bool = False  # a 429/503 refusal that carried Retry-After


@dataclass(slots=True)
class LoadResult:
    samples: list[Sample]
    started_at: float  # wall clock (time.time()) of the start
    elapsed: float  # the sending window: start to the last send, plus one interval
    not_sent: int  # requests never sent because the time bound ran out
    errors: list[str]
    last_done: float = 0.0  # seconds from the start to the last response
    # how late the generator released requests against their schedule (its own delay, not the
    # server's): p99 and max in seconds
    schedule_lag_p99: float = 0.0
    schedule_lag_max: float = 0.0
    aborted: bool = False  # interrupted (SIGINT): the samples are those answered before it


class TargetUnreachable(ConnectionError):
    """Not one connection to the target could be opened before the clock started."""


CONNECT_TIMEOUT = 5.0  # seconds to open one connection
DRAIN_SECONDS = 10.0  # seconds past the time bound that answers are still awaited
TICK = 0.001  # the release timer's shortest sleep: the event loop's timers count milliseconds
SPIN_AHEAD = 0.0005  # seconds before a due time the timer wakes, to spin the rest
SPIN_MIN_INTERVAL = 0.002  # spin only when requests are at least this far apart (<= 500/s)


def _encode(req: Request, host: str) -> bytes:
    head = [f"{req.method} {req.path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    for name, value in req.headers.items():
        head.append(f"{name}: {value}")
    if req.body or req.method in ("POST", "PUT", "PATCH"):
        head.append("Content-Type: application/json")
        head.append(f"Content-Length: {len(req.body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + req.body


class _Connection(asyncio.Protocol):
    """One keep-alive connection carrying at most one request at a time."""

    __slots__ = ("index", "load", "parser", "sent", "transport")

    def __init__(self, load: _Load) -> None:
        self.load = load
        self.transport: asyncio.Transport | None = None
        self.parser = ResponseParser()
        self.index = -1  # the request awaiting its answer, -1 when idle
        self.sent = 0.0
        load.connections.append(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            answers = self.parser.feed(data)
        except ParseError as exc:
            self.load.failed(self, exc)
            return
        answered = self.load.answered
        for (status, body), retry in zip(answers, self.parser.retry_after, strict=True):
            answered(self, status, body, retry)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.index >= 0:
            self.load.failed(self, exc or ConnectionResetError("the server closed the connection"))


class _Load:
    """The state of one run: the schedule, the idle connections, the backlog, the samples."""

    def __init__(
        self,
        host: str,
        port: int,
        payloads: list[bytes],
        interval: float,
        count: int,
        keep_bodies: bool | Callable[[int, bytes], bytes],
        dues: Sequence[float] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.payloads, self.npay = payloads, len(payloads)
        self.interval, self.count = interval, count
        self.keep_bodies = keep_bodies is True
        self.digest = keep_bodies if callable(keep_bodies) else None
        # the due times (seconds from the start), or None: request i is due at i * interval
        self.dues = dues
        self.loop = asyncio.get_running_loop()
        self.idle: deque[_Connection] = deque()
        self.backlog: deque[int] = deque()  # released requests waiting for a connection
        self.samples: list[Sample] = []
        self.errors: list[str] = []
        self.lags = array("d")
        self.released = 0  # requests released so far: the next one to release
        self.busy = 0  # requests sent and not answered
        self.not_sent = 0
        self.aborted = False
        self.start = self.deadline = 0.0
        self.timer: asyncio.Handle | None = None
        self.spin = interval >= SPIN_MIN_INTERVAL
        if dues is not None and len(dues) > 1:  # spin when the schedule never goes past 500/s
            self.spin = float(np.diff(np.asarray(dues[:count])).min()) >= SPIN_MIN_INTERVAL
        self.connecting: set[asyncio.Task[None]] = set()
        self.connections: list[_Connection] = []  # every one opened or to open
        self.finished: asyncio.Future[None] = self.loop.create_future()

    async def connect(self, conn: _Connection) -> None:
        await asyncio.wait_for(
            self.loop.create_connection(lambda: conn, self.host, self.port), CONNECT_TIMEOUT
        )

    def begin(self, max_seconds: float) -> None:
        self.start = time.perf_counter()
        self.deadline = self.start + max_seconds
        self.loop.call_later(max_seconds, self.expire)
        self.loop.call_later(max_seconds + DRAIN_SECONDS, self.give_up)
        self.release(self.start)

    def release(self, now: float) -> None:
        """Release every request due by `now`; set the timer for the next one."""
        i = self.released
        if i >= self.count:
            return
        if now > self.deadline:
            self.expire()
            return
        start, interval, dues = self.start, self.interval, self.dues
        if dues is None:
            last = min(self.count, int((now - start) / interval) + 1)
        else:
            last = min(self.count, bisect_right(dues, now - start, i))
        if last > i:
            idle, backlog, lags = self.idle, self.backlog, self.lags
            clock = time.perf_counter
            for k in range(i, last):
                t = clock()
                lags.append(t - start - (k * interval if dues is None else dues[k]))
                if idle:
                    self.send(idle.popleft(), k, t)
                else:
                    backlog.append(k)
            self.released = last
        if last < self.count and self.timer is None:
            wait = start + (last * interval if dues is None else dues[last]) - now
            if not self.spin:
                self.timer = self.loop.call_later(max(wait, TICK), self.tick)
            elif wait > SPIN_AHEAD:
                self.timer = self.loop.call_later(wait - SPIN_AHEAD, self.tick)
            else:  # the last stretch: one loop turn at a time, polling the sockets between
                self.timer = self.loop.call_soon(self.tick)

    def tick(self) -> None:
        self.timer = None
        self.release(time.perf_counter())

    def send(self, conn: _Connection, i: int, now: float) -> None:
        conn.index, conn.sent = i, now
        self.busy += 1
        if conn.transport is None:
            task = self.loop.create_task(self.reconnect(conn, i))
            self.connecting.add(task)
            task.add_done_callback(self.connecting.discard)
        else:
            conn.transport.write(self.payloads[i % self.npay])

    async def reconnect(self, conn: _Connection, i: int) -> None:
        try:
            await self.connect(conn)
        except (OSError, TimeoutError) as exc:
            self.failed(conn, exc)
            return
        if conn.index == i and conn.transport is not None:
            conn.transport.write(self.payloads[i % self.npay])

    def due(self, i: int) -> float:
        return i * self.interval if self.dues is None else self.dues[i]

    def answered(self, conn: _Connection, status: int, body: bytes, retry: bool = False) -> None:
        done = time.perf_counter()
        i = conn.index
        if i < 0:  # an answer nobody asked for
            self.failed(conn, ParseError(f"an unrequested HTTP {status} answer"))
            return
        start = self.start
        if self.digest is not None:
            body = self.digest(i, body)
        elif not self.keep_bodies:
            body = b""
        self.samples.append(
            Sample(i, self.due(i), conn.sent - start, done - start, status, body, retry)
        )
        conn.index = -1
        self.busy -= 1
        self.free(conn, done)
        self.release(done)

    def failed(self, conn: _Connection, exc: BaseException) -> None:
        """The connection broke, or the answer was not HTTP: a status 0 sample when a request
        was waiting on it; a new connection takes its place (opened when next needed)."""
        done = time.perf_counter()
        i = conn.index
        if i >= 0:
            self.errors.append(f"{type(exc).__name__}: {exc}")
            start = self.start
            self.samples.append(Sample(i, self.due(i), conn.sent - start, done - start, 0, b""))
            conn.index = -1
            self.busy -= 1
        elif conn in self.idle:  # garbage between requests: replaced all the same
            self.idle.remove(conn)
        if conn.transport is not None:
            conn.transport.close()
            conn.transport = None
        self.free(_Connection(self), done)

    def free(self, conn: _Connection, now: float) -> None:
        """An idle connection takes the oldest released request, or waits for one."""
        if self.backlog:
            if now > self.deadline:
                self.expire()
            else:
                self.send(conn, self.backlog.popleft(), time.perf_counter())
                return
        self.idle.append(conn)
        if self.busy == 0 and self.released >= self.count:
            self.end()

    def expire(self) -> None:
        """The time bound: requests not yet sent never will be."""
        self.not_sent += self.count - self.released + len(self.backlog)
        self.released = self.count
        self.backlog.clear()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.busy == 0:
            self.end()

    def abort(self) -> None:
        """Interrupted: release nothing more; requests released but never sent are not sent,
        and answers still awaited are not waited for (they give no sample)."""
        self.aborted = True
        self.count = self.released
        self.expire()
        self.end()

    def give_up(self) -> None:
        """DRAIN_SECONDS past the time bound: the answers still awaited never came."""
        for conn in [c for c in self.connections if c.index >= 0]:
            self.failed(conn, TimeoutError(f"no answer {DRAIN_SECONDS:g} s past the time bound"))
        self.end()

    def end(self) -> None:
        if not self.finished.done():
            self.finished.set_result(None)

    def close(self) -> None:
        for task in self.connecting:
            task.cancel()
        for conn in self.connections:
            if conn.transport is not None:
                conn.transport.close()


async def run_open_model(
    target: str,
    requests: Sequence[Request] | Callable[[int], Request],
    rate: float,
    count: int,
    connections: int,
    max_seconds: float,
    keep_bodies: bool | Callable[[int, bytes], bytes] = True,
    pool: int = 4096,
    progress: Callable[[int, int], None] | None = None,
    dues: Sequence[float] | None = None,
) -> LoadResult:
    """Send `count` requests at `rate` per second over `connections` keep-alive connections.

    With `dues` (ascending seconds from the start, at least `count` of them) request i is due
    at `dues[i]` instead, and `rate` only names the peak. `keep_bodies` may be a function of
    (request index, body) giving what to keep of each answer's body.

    Stops by itself: at `count` requests or `max_seconds` after the start, whichever is first;
    requests still queued then are counted as not sent, and answers are awaited at most
    `DRAIN_SECONDS` longer. Each connection gets `CONNECT_TIMEOUT` seconds to open; when none
    opens before the clock starts, `TargetUnreachable` says why. At most `pool` distinct
    requests are encoded up front and then sent in turn. `progress`, when given, is called
    about twice a second with (answered, planned).
    """
    url = urlsplit(target)
    host = url.hostname or "127.0.0.1"
    port = url.port or (443 if url.scheme == "https" else 80)
    if url.scheme != "http":
        raise ValueError(f"only http:// targets are supported, got {target!r}")
    hostport = f"{host}:{port}"
    if callable(requests):
        payloads = [_encode(requests(i), hostport) for i in range(min(count, pool))]
    else:
        payloads = [_encode(r, hostport) for r in requests[: min(count, pool)]]
    load = _Load(host, port, payloads, 1.0 / rate, count, keep_bodies, dues)
    # Connections are opened before the clock starts, so the first requests do not pay for it;
    # one that fails to open is tried again when it is given a request.
    for _ in range(connections):
        conn = _Connection(load)
        try:
            await load.connect(conn)
        except (OSError, TimeoutError) as exc:
            load.errors.append(f"{type(exc).__name__}: {exc}")
        load.idle.append(conn)
    if all(c.transport is None for c in load.idle):
        load.close()
        raise TargetUnreachable(f"cannot connect to {hostport}: {load.errors[0]}")

    async def reporter() -> None:
        assert progress is not None
        while True:
            progress(len(load.samples), count)
            await asyncio.sleep(0.5)

    wall = time.time()
    ticker = asyncio.create_task(reporter()) if progress is not None else None
    # Ctrl-C stops the load and returns what was measured (marked aborted); a second one
    # interrupts as usual once the handler is gone
    on_sigint = threading.current_thread() is threading.main_thread()
    if on_sigint:
        load.loop.add_signal_handler(signal.SIGINT, load.abort)
    load.begin(max_seconds)
    try:
        await load.finished
    finally:
        if on_sigint:
            load.loop.remove_signal_handler(signal.SIGINT)
        if ticker is not None:
            ticker.cancel()
        load.close()
    samples = load.samples
    if progress is not None:
        progress(len(samples), count)
    last_done = max((s.done for s in samples), default=0.0)
    elapsed = max((s.sent for s in samples), default=0.0) + load.interval
    if dues is not None and count:
        elapsed = max(elapsed, dues[count - 1] + load.interval)
    samples.sort(key=lambda s: s.index)
    lag_p99, lag_max = _p99_and_max(load.lags)
    return LoadResult(
        samples,
        wall,
        elapsed,
        load.not_sent,
        load.errors,
        last_done,
        lag_p99,
        lag_max,
        load.aborted,
    )


def _p99_and_max(values: array[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], ordered[-1]


def run_load(coro: Coroutine[Any, Any, LoadResult]) -> LoadResult:
    """Run a load on uvloop with the cyclic garbage collector paused (its pauses would show up
    as the generator's own latency); collected once afterwards."""
    import gc

    import uvloop

    enabled = gc.isenabled()
    gc.disable()
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    finally:
        if enabled:
            gc.enable()
        gc.collect()
