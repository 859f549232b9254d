"""An open-model HTTP/1.1 load generator on raw asyncio streams.

Requests are due at `start + i / rate` whatever the responses do. A dispatcher releases each
request at its due time into a queue that `connections` keep-alive workers drain; latency is
measured from the due time (so a stalled server cannot hide its stall: coordinated omission
corrected) and, separately, from the actual send (service time). Request bodies are built
before the clock starts, so the generator spends its time on the wire, not on JSON.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

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


class TargetUnreachable(ConnectionError):
    """Not one connection to the target could be opened before the clock started."""


CONNECT_TIMEOUT = 5.0  # seconds to open one connection
DRAIN_SECONDS = 10.0  # seconds past the time bound that answers are still awaited


def _encode(req: Request, host: str) -> bytes:
    head = [f"{req.method} {req.path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    for name, value in req.headers.items():
        head.append(f"{name}: {value}")
    if req.body or req.method in ("POST", "PUT", "PATCH"):
        head.append("Content-Type: application/json")
        head.append(f"Content-Length: {len(req.body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + req.body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = -1
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lname = name.strip().lower()
        if lname == b"content-length":
            length = int(value)
        elif lname == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size + 2))
        return status, b"".join(p[:-2] for p in parts)
    body = await reader.readexactly(length) if length > 0 else b""
    return status, body


async def run_open_model(
    target: str,
    requests: Sequence[Request] | Callable[[int], Request],
    rate: float,
    count: int,
    connections: int,
    max_seconds: float,
    keep_bodies: bool = True,
    pool: int = 4096,
    progress: Callable[[int, int], None] | None = None,
) -> LoadResult:
    """Send `count` requests at `rate` per second over `connections` keep-alive connections.

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
    npay = len(payloads)
    queue: asyncio.Queue[int | None] = asyncio.Queue()
    samples: list[Sample] = []
    errors: list[str] = []
    interval = 1.0 / rate
    # Connections are opened before the clock starts, so the first requests do not pay for it.
    opened: list[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = []
    for _ in range(connections):
        try:
            opened.append(await _connect(host, port))
        except (OSError, TimeoutError) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            opened.append(None)
    if all(c is None for c in opened):
        raise TargetUnreachable(f"cannot connect to {hostport}: {errors[0]}")
    start = time.perf_counter()
    wall = time.time()
    deadline = start + max_seconds

    lags = array("d")

    async def dispatcher() -> int:
        for i in range(count):
            due = start + i * interval
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.perf_counter()
            if now > deadline:
                return count - i
            lags.append(now - due)
            queue.put_nowait(i)
        return 0

    expired = [0]

    async def worker(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
        reader: asyncio.StreamReader | None = conn[0] if conn else None
        writer: asyncio.StreamWriter | None = conn[1] if conn else None
        try:
            while True:
                i = await queue.get()
                if i is None:
                    return
                due = i * interval
                now = time.perf_counter()
                if now > deadline:  # queued behind busy connections until the bound ran out
                    expired[0] += 1
                    continue
                sent = now - start
                try:
                    if writer is None:
                        reader, writer = await _connect(host, port)
                    assert reader is not None
                    writer.write(payloads[i % npay])
                    remaining = deadline + DRAIN_SECONDS - time.perf_counter()
                    status, body = await asyncio.wait_for(_read_response(reader), max(remaining, 1))
                except (
                    OSError,
                    asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError,
                    TimeoutError,
                    ValueError,
                ) as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    status, body = 0, b""
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                done = time.perf_counter() - start
                samples.append(Sample(i, due, sent, done, status, body if keep_bodies else b""))
        finally:
            if writer is not None:
                writer.close()

    async def reporter() -> None:
        assert progress is not None
        while True:
            progress(len(samples), count)
            await asyncio.sleep(0.5)

    workers = [asyncio.create_task(worker(conn)) for conn in opened]
    ticker = asyncio.create_task(reporter()) if progress is not None else None
    not_sent = await dispatcher()
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    if ticker is not None:
        ticker.cancel()
    if progress is not None:
        progress(len(samples), count)
    last_done = max((s.done for s in samples), default=0.0)
    elapsed = max((s.sent for s in samples), default=0.0) + interval
    samples.sort(key=lambda s: s.index)
    lag_p99, lag_max = _p99_and_max(lags)
    return LoadResult(
        samples, wall, elapsed, not_sent + expired[0], errors, last_done, lag_p99, lag_max
    )


def _p99_and_max(values: array[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], ordered[-1]


async def _connect(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)


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
