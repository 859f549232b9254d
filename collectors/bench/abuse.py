"""`pincex bench abuse`: hostile clients against a running exchange, and what it did about them.

Scenarios, one after the other, each bounded by `duration` seconds:

- `slowloris`: `connections` connections each send a request line, then one header byte a second.
- `idle`: `connections` connections that send nothing.
- `huge-header`: one request whose header value streams `huge_header_mb` MB.
- `many-headers`: one request streaming `header_lines` header lines.
- `big-body`: `body_mb` MB POSTed to `/admin/users` without a key.
- `big-batch`: a `batch_mb` MB JSON array of orders POSTed to `/api/v1/orders/batch` with a
  valid-looking key.
- `flood`: `flood` connections opened from one source address as fast as they open.

Meanwhile `/health/live` is probed every `probe_interval` seconds from a child process (from
another source address on 127.0.0.0/8) and the exchange's resident memory is sampled when its
process can be read. Per scenario: the probe's p50/p99/max, what the server did (statuses, when
it closed connections, how much it read), the peak RSS, and whether the issue's target (probe
p99 under 50 ms, RSS under 300 MB; for the slow-client and big-body scenarios) was met.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace

import orjson

from collectors.bench.abuse_figures import (
    TARGETED,
    AbuseFigures,
    AbuseParameters,
    Closes,
    Flood,
    ScenarioFailed,
    ScenarioFigures,
    ServerSide,
    Streamed,
)
from collectors.bench.abuse_watch import HealthProbe, probe_summary, rss_mb

__all__ = ["SCENARIOS", "TARGETED", "AbuseConfig", "run_abuse"]

SCENARIOS = (
    "slowloris",
    "idle",
    "huge-header",
    "many-headers",
    "big-body",
    "big-batch",
    "flood",
)
_MB = 1 << 20
_CHUNK = 64 * 1024
_OPEN_CONCURRENCY = 200
_REFUSED_WITHIN = 1.0  # a connection closed this soon after opening was refused at accept
_RSS_EVERY = 0.05
_BASELINE_SECONDS = 2.0
_SETTLE_SECONDS = 0.5  # after each scenario, still in its window: the server may be catching up


@dataclass(slots=True)
class AbuseConfig:
    host: str
    port: int
    pid: int | None = None
    scenarios: tuple[str, ...] = SCENARIOS
    duration: float = 25.0  # seconds each scenario may last at most
    connections: int = 200
    huge_header_mb: float = 100.0
    header_lines: int = 2_000_000
    body_mb: float = 300.0
    batch_mb: float = 120.0
    flood: int = 6000
    probe_interval: float = 0.015
    api_key: str = field(default_factory=lambda: secrets.token_hex(16))


def _sources(host: str) -> tuple[str | None, str | None]:
    """(attack source, probe source): distinct 127.x addresses when the target is on 127/8, so
    that the per-source cap the flood fills does not refuse the probe."""
    try:
        if ipaddress.ip_address(host) in ipaddress.ip_network("127.0.0.0/8"):
            return "127.0.0.1", "127.0.0.2"
    except ValueError:
        pass
    return None, None


class _Conn(asyncio.Protocol):
    """One raw connection: the first answer's status and when the server closed it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.opened = time.monotonic()
        self.status: int | None = None
        self.closed_after: float | None = None
        self._head = b""

    @classmethod
    async def open(cls, host: str, port: int, source: str | None) -> _Conn:
        loop = asyncio.get_running_loop()
        local = (source, 0) if source else None
        _, conn = await asyncio.wait_for(
            loop.create_connection(cls, host, port, local_addr=local), 5
        )
        return conn

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.status is None:
            self._head += data[:16]
            if len(self._head) >= 12 and self._head.startswith(b"HTTP/1."):
                self.status = int(self._head[9:12])

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed_after = time.monotonic() - self.opened

    @property
    def closed(self) -> bool:
        return self.closed_after is not None

    def send(self, data: bytes) -> bool:
        """Write; False when the server has closed the connection."""
        if self.closed or self.transport is None or self.transport.is_closing():
            return False
        try:
            self.transport.write(data)
        except (OSError, RuntimeError):  # uvloop: RuntimeError once reset
            return False
        return True

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


def _closes(conns: list[_Conn], attempted: int) -> Closes:
    statuses: dict[str, int] = {}
    closed = sorted(c.closed_after for c in conns if c.closed_after is not None)
    for c in conns:
        if c.status is not None:
            statuses[str(c.status)] = statuses.get(str(c.status), 0) + 1
    after = (
        (round(closed[0], 2), round(closed[len(closed) // 2], 2), round(closed[-1], 2))
        if closed
        else (None, None, None)
    )
    return Closes(attempted, len(conns), len(closed), after, statuses)


async def _open_many(cfg: AbuseConfig, source: str | None, n: int) -> list[_Conn]:
    gate = asyncio.Semaphore(_OPEN_CONCURRENCY)
    conns: list[_Conn] = []

    async def one() -> None:
        async with gate:
            with contextlib.suppress(OSError, TimeoutError):
                conns.append(await _Conn.open(cfg.host, cfg.port, source))

    await asyncio.gather(*(one() for _ in range(n)))
    return conns


async def _until(deadline: float, done: Callable[[], bool], step: float = 0.05) -> None:
    while time.monotonic() < deadline and not done():
        await asyncio.sleep(step)


async def _slowloris(cfg: AbuseConfig, source: str | None) -> ServerSide:
    deadline = time.monotonic() + cfg.duration
    conns = await _open_many(cfg, source, cfg.connections)
    head = f"GET /health/live HTTP/1.1\r\nHost: {cfg.host}\r\nX-Slow: ".encode()
    for c in conns:
        c.send(head)
    while time.monotonic() < deadline and not all(c.closed for c in conns):
        await _until(min(deadline, time.monotonic() + 1.0), lambda: all(c.closed for c in conns))
        for c in conns:
            c.send(b"a")
    result = _closes(conns, cfg.connections)
    for c in conns:
        c.close()
    return result


async def _idle(cfg: AbuseConfig, source: str | None) -> ServerSide:
    deadline = time.monotonic() + cfg.duration
    conns = await _open_many(cfg, source, cfg.connections)
    await _until(deadline, lambda: all(c.closed for c in conns))
    result = _closes(conns, cfg.connections)
    for c in conns:
        c.close()
    return result


def _stream_blocking(
    cfg: AbuseConfig, source: str | None, head: bytes, chunk: bytes, total: int, tail: bytes
) -> Streamed:
    """Send `head`, then `chunk` until `total` bytes of it, then `tail`, on a blocking socket;
    then read the answer. A reset does not lose it: Linux returns what was queued first."""
    opened = time.monotonic()
    deadline = opened + cfg.duration
    sock = socket.create_connection((cfg.host, cfg.port), 5, (source, 0) if source else None)
    answer = b""
    answered_after = closed_after = None
    written = 0
    to_send = len(head) + total + len(tail)

    def pieces() -> Iterator[bytes]:
        yield head
        left = total
        while left > 0:
            yield chunk if left >= len(chunk) else chunk[:left]
            left -= len(chunk)
        yield tail

    def take(wait: bool) -> bool:
        """Read what the server sent (without waiting unless `wait`); False once it closed."""
        nonlocal answer, answered_after, closed_after
        if not wait:
            sock.settimeout(0.0)  # a timeout would make Python poll first, MSG_DONTWAIT or not
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return True
        except OSError:
            data = b""
        if data and answered_after is None:
            answered_after = time.monotonic() - opened
        answer += data[: max(0, 4096 - len(answer))]
        if not data:
            closed_after = time.monotonic() - opened
        return bool(data)

    try:
        for piece in pieces():
            view = memoryview(piece)
            while view:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                sock.settimeout(remaining)
                sent = sock.send(view)
                view = view[sent:]
                written += sent
            if answered_after is None:
                take(wait=False)
    except (OSError, TimeoutError):
        pass
    while closed_after is None and time.monotonic() < deadline:
        sock.settimeout(max(min(deadline - time.monotonic(), 1.0), 0.001))
        try:
            if not take(wait=True):
                break
        except TimeoutError:
            if answered_after is not None:
                break  # answered and left open: the server waits for the rest
    sock.close()
    status = int(answer[9:12]) if answer.startswith(b"HTTP/1.") and len(answer) >= 12 else None
    return Streamed(
        bytes_to_send=to_send,
        bytes_written=written,
        status=status,
        answered_after_s=round(answered_after, 2) if answered_after is not None else None,
        closed_after_s=round(closed_after, 2) if closed_after is not None else None,
        seconds=round(time.monotonic() - opened, 2),
    )


async def _stream(
    cfg: AbuseConfig, source: str | None, head: bytes, chunk: bytes, total: int, tail: bytes
) -> Streamed:
    return await asyncio.to_thread(_stream_blocking, cfg, source, head, chunk, total, tail)


async def _huge_header(cfg: AbuseConfig, source: str | None) -> ServerSide:
    head = f"GET /health/live HTTP/1.1\r\nHost: {cfg.host}\r\nX-Big: ".encode()
    total = int(cfg.huge_header_mb * _MB)
    return await _stream(cfg, source, head, b"a" * _CHUNK, total, b"\r\n\r\n")


async def _many_headers(cfg: AbuseConfig, source: str | None) -> ServerSide:
    head = f"GET /health/live HTTP/1.1\r\nHost: {cfg.host}\r\n".encode()
    line = b"X-L: v\r\n"
    result = await _stream(
        cfg, source, head, line * (_CHUNK // len(line)), cfg.header_lines * len(line), b"\r\n"
    )
    return replace(result, lines_written=max(result.bytes_written - len(head), 0) // len(line))


async def _big_body(cfg: AbuseConfig, source: str | None) -> ServerSide:
    total = int(cfg.body_mb * _MB)
    prefix, suffix = b'{"count":1,"pad":"', b'"}'
    head = (
        f"POST /admin/users HTTP/1.1\r\nHost: {cfg.host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(prefix) + total + len(suffix)}\r\n\r\n"
    ).encode() + prefix
    return await _stream(cfg, source, head, b"a" * _CHUNK, total, suffix)


async def _big_batch(cfg: AbuseConfig, source: str | None) -> ServerSide:
    order = orjson.dumps(
        {
            "symbol": "BTCUSD",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": 0.001,
            "price": 10000.0,
        }
    )
    item = order + b","
    per_chunk = item * (_CHUNK // len(item))
    count = max(int(cfg.batch_mb * _MB) // len(item), 1)
    body_len = 1 + count * len(item) + len(order) + 1
    head = (
        f"POST /api/v1/orders/batch HTTP/1.1\r\nHost: {cfg.host}\r\n"
        f"Content-Type: application/json\r\nX-API-Key: {cfg.api_key}\r\n"
        f"Content-Length: {body_len}\r\n\r\n["
    ).encode()
    result = await _stream(cfg, source, head, per_chunk, count * len(item), order + b"]")
    return replace(result, orders_in_array=count + 1)


async def _flood(cfg: AbuseConfig, source: str | None) -> ServerSide:
    """Open `flood` connections, then see which the server closed within `_REFUSED_WITHIN`
    of opening (refused at accept) and which it holds."""
    started = time.monotonic()
    deadline = started + cfg.duration
    gate = asyncio.Semaphore(_OPEN_CONCURRENCY)
    conns: list[_Conn] = []
    failed = 0

    async def one() -> None:
        nonlocal failed
        async with gate:
            if time.monotonic() >= deadline:
                failed += 1
                return
            try:
                conns.append(await _Conn.open(cfg.host, cfg.port, source))
            except (OSError, TimeoutError):
                failed += 1

    await asyncio.gather(*(one() for _ in range(cfg.flood)))
    await asyncio.sleep(min(_REFUSED_WITHIN, max(deadline - time.monotonic(), 0.1)))
    refused = sum(
        1 for c in conns if c.closed_after is not None and c.closed_after < _REFUSED_WITHIN
    )
    result = Flood(
        attempted=cfg.flood,
        held=sum(1 for c in conns if not c.closed),
        refused_by_server=refused,
        connect_failed=failed,
        seconds=round(time.monotonic() - started, 2),
    )
    for conn in conns:
        conn.close()
    return result


_RUNNERS: dict[str, Callable[[AbuseConfig, str | None], Awaitable[ServerSide]]] = {
    "slowloris": _slowloris,
    "idle": _idle,
    "huge-header": _huge_header,
    "many-headers": _many_headers,
    "big-body": _big_body,
    "big-batch": _big_batch,
    "flood": _flood,
}


async def _sample_rss(pid: int | None, peak: list[float]) -> None:
    while pid is not None:
        now = rss_mb(pid)
        if now is None:
            return
        peak[0] = max(peak[0], now[0])
        await asyncio.sleep(_RSS_EVERY)


@dataclass(frozen=True, slots=True)
class _Ran:
    """One scenario as run, before the probe's samples are read: its window (monotonic)."""

    figures: ScenarioFigures
    started: float
    ended: float


async def _run(cfg: AbuseConfig, probe: HealthProbe) -> list[_Ran]:
    attack_source, _ = _sources(cfg.host)
    out: list[_Ran] = []
    await asyncio.sleep(_BASELINE_SECONDS)  # the probe alone: the baseline window
    for name in cfg.scenarios:
        peak = [0.0]
        sampler = asyncio.create_task(_sample_rss(cfg.pid, peak))
        start = time.monotonic()
        server: ServerSide
        try:
            server = await _RUNNERS[name](cfg, attack_source)
        except (OSError, TimeoutError) as exc:
            server = ScenarioFailed(f"{type(exc).__name__}: {exc}")
        end = time.monotonic()
        await asyncio.sleep(_SETTLE_SECONDS)
        sampler.cancel()
        figures = ScenarioFigures(
            name, round(end - start, 2), server, round(peak[0], 1) if peak[0] else None
        )
        out.append(_Ran(figures, start, end + _SETTLE_SECONDS))
    return out


def run_abuse(cfg: AbuseConfig) -> AbuseFigures:
    """Run the scenarios against the exchange at cfg.host:cfg.port."""
    import uvloop

    _, probe_source = _sources(cfg.host)
    wall = time.time()
    start = time.monotonic()
    with (
        HealthProbe(cfg.host, cfg.port, probe_source, cfg.probe_interval) as probe,
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
    ):
        ran = runner.run(_run(cfg, probe))
    samples = probe.samples
    first = ran[0].started if ran else time.monotonic()
    warnings = []
    if not samples:
        warnings.append("the health probe returned no samples")
    if cfg.pid is None:
        warnings.append("the exchange's process was not found: peak RSS unknown")
    return AbuseFigures(
        target=f"http://{cfg.host}:{cfg.port}",
        pid=cfg.pid,
        started_at=wall,
        seconds=round(time.monotonic() - start, 2),
        probe_interval_ms=round(cfg.probe_interval * 1000, 1),
        baseline=probe_summary(samples, start, first),
        config=AbuseParameters(
            cfg.duration,
            cfg.connections,
            cfg.huge_header_mb,
            cfg.header_lines,
            cfg.body_mb,
            cfg.batch_mb,
            cfg.flood,
        ),
        scenarios=tuple(
            replace(r.figures, probe=probe_summary(samples, r.started, r.ended)) for r in ran
        ),
        warnings=tuple(warnings),
    )
