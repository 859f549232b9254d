"""The WebSocket clients the market data and connection benchmarks share: opening them
(spread over 127.0.0.x source addresses), the users they seed, the REST order driver that makes
the exchange publish, and the run they keep.

    url, hosts = ws_url(target), source_hosts(target)
    clients, errors = await open_all(url, ["btcusd@depth"], 1000, 200, hosts)
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

from collectors.bench.admin import AdminClient
from collectors.bench.figures import Verdict
from collectors.bench.runs import measured_run
from collectors.bench.target import http_base
from collectors.bench.workload import order_batches
from collectors.scrape import ScrapeResult
from collectors.store.model import Histogram, Point, Run, Summary
from common.redact import mask_url

__all__ = [
    "ClientsConfig",
    "OrderDriver",
    "clients_run",
    "close_all",
    "first_errors",
    "open_all",
    "open_client",
    "seed_keys",
    "source_hosts",
    "ws_url",
]

_OPEN_TIMEOUT = 10.0
_SOURCE_HOSTS = 250


def ws_url(target: str) -> str:
    """The exchange's market data WebSocket URL for a base URL."""
    url = urlsplit(http_base(target))
    scheme = "wss" if url.scheme == "https" else "ws"
    return urlunsplit((scheme, url.netloc, url.path + "/ws", "", ""))


async def open_client(
    url: str,
    streams: list[str],
    request_id: int,
    local_host: str | None = None,
    timeout: float = _OPEN_TIMEOUT,
) -> ClientConnection:
    """Connect, subscribe to `streams` and return once the exchange acknowledged it."""
    extra: dict[str, Any] = {}
    if local_host is not None:
        extra["local_addr"] = (local_host, 0)
    ws = await connect(
        url,
        proxy=None,
        compression=None,
        open_timeout=timeout,
        ping_interval=None,
        close_timeout=2,
        max_queue=None,
        **extra,
    )
    try:
        request = {"method": "SUBSCRIBE", "params": streams, "id": request_id}
        await ws.send(orjson.dumps(request).decode())
        async with asyncio.timeout(timeout):
            while True:
                reply = orjson.loads(await ws.recv())
                if reply.get("id") == request_id and "stream" not in reply:
                    break
        if reply.get("error") is not None:
            raise RuntimeError(f"SUBSCRIBE refused: {reply['error']}")
    except BaseException:
        await ws.close()
        raise
    return ws


async def seed_keys(target: str, admin_key: str, users: int, symbol: str) -> list[str]:
    """API keys of `users` freshly seeded, funded users (the exchange's admin endpoint)."""
    admin = AdminClient(http_base(target), admin_key)
    return await asyncio.to_thread(admin.seed_users, users, symbol, "wsbench")


@dataclass(slots=True)
class OrderDriver:
    """Places the order generator's orders at `rate` per second until stopped (open model)."""

    target: str
    keys: list[str]
    rate: float
    symbol: str = "BTCUSD"
    concurrency: int = 8
    sent: int = 0
    ok: int = 0
    errors: int = 0
    skipped: int = 0  # due while every request slot was busy
    first_error: str | None = None
    elapsed: float = 0.0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        orders = [b[0] for b in order_batches(4096, 1, self.symbol, seed=7)]
        slots = asyncio.Semaphore(self.concurrency)
        pending: set[asyncio.Task[None]] = set()
        async with httpx.AsyncClient(base_url=http_base(self.target), timeout=10) as client:

            async def post(i: int) -> None:
                try:
                    r = await client.post(
                        "/api/v1/orders",
                        content=orjson.dumps(orders[i % len(orders)]),
                        headers={
                            "X-API-Key": self.keys[i % len(self.keys)],
                            "Content-Type": "application/json",
                        },
                    )
                    if 200 <= r.status_code < 300:
                        self.ok += 1
                    else:
                        self._error(f"HTTP {r.status_code} {r.text[:120]}")
                except httpx.HTTPError as exc:
                    self._error(f"{type(exc).__name__}: {exc}")
                finally:
                    slots.release()

            start = time.perf_counter()
            i = 0
            while not self._stop.is_set():
                delay = start + i / self.rate - time.perf_counter()
                if delay > 0:
                    try:
                        await asyncio.wait_for(self._stop.wait(), delay)
                        break
                    except TimeoutError:
                        pass
                if slots.locked():
                    self.skipped += 1
                else:
                    await slots.acquire()
                    self.sent += 1
                    task = asyncio.create_task(post(i))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                i += 1
            self.elapsed = time.perf_counter() - start
            if pending:
                await asyncio.wait(pending, timeout=10)

    def _error(self, reason: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = reason

    def figures(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "sent": self.sent,
            "ok": self.ok,
            "errors": self.errors,
            "skipped": self.skipped,
            "achieved_rate": round(self.sent / self.elapsed, 2) if self.elapsed else 0.0,
            "first_error": self.first_error,
        }


def source_hosts(target: str) -> list[str] | None:
    """Client source addresses 127.0.0.1-250 for a target on 127.0.0.0/8 (else None): many
    clients then fit neither one address's ephemeral ports nor the exchange's per-source cap."""
    host = urlsplit(target).hostname or ""
    try:
        if ipaddress.ip_address(host) in ipaddress.ip_network("127.0.0.0/8"):
            return [f"127.0.0.{k}" for k in range(1, _SOURCE_HOSTS + 1)]
    except ValueError:
        pass
    return None


async def open_all(
    url: str, streams: list[str], n: int, concurrency: int, local_hosts: list[str] | None = None
) -> tuple[list[ClientConnection], list[str]]:
    """Open `n` subscribed clients, at most `concurrency` at a time: (clients, errors)."""
    gate = asyncio.Semaphore(concurrency)
    opened: list[ClientConnection] = []
    errors: list[str] = []

    async def one(i: int) -> None:
        async with gate:
            host = local_hosts[i % len(local_hosts)] if local_hosts else None
            try:
                opened.append(await open_client(url, streams, i, host))
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}".strip())

    await asyncio.gather(*(one(i) for i in range(n)))
    return opened, errors


async def close_all(clients: Iterable[ClientConnection], concurrency: int = 500) -> None:
    """Close clients, a bounded number at a time, without waiting long for any."""
    gate = asyncio.Semaphore(concurrency)

    async def one(ws: ClientConnection) -> None:
        async with gate:
            try:
                await asyncio.wait_for(ws.close(), 3)
            except Exception:
                ws.transport.abort()

    await asyncio.gather(*(one(ws) for ws in clients))


def first_errors(errors: list[str], limit: int = 3) -> dict[str, int]:
    """The distinct error reasons, most frequent first, with their counts."""
    counts: dict[str, int] = {}
    for e in errors:
        counts[e[:200]] = counts.get(e[:200], 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:limit])


class ClientsConfig(Protocol):
    """What `clients_run` reads of a WebSocket benchmark's config."""

    target: str
    connections: int
    label: str
    tags: tuple[str, ...]


def clients_run(
    kind: str,
    cfg: ClientsConfig,
    verdict: tuple[Mapping[str, Any], Verdict, bool],
    window: tuple[float, float],
    summary: Summary,
    hists: list[Histogram],
    series: list[Point],
    server: ScrapeResult | None,
    host: dict[str, Any],
    notes: str,
) -> Run:
    """A WebSocket clients benchmark's run (market data, connections): profiled by its
    connections; `verdict` is (config, verdict, aborted) and `window` (start, seconds)."""
    return measured_run(
        kind=kind,
        profile=f"{cfg.connections} connections",
        target=mask_url(cfg.target),
        label=cfg.label,
        tags=cfg.tags,
        started_at=window[0],
        measured_s=window[1],
        config=verdict[0],
        verdict=verdict[1],
        summaries=[summary],
        histograms=hists,
        client_series=series,
        server=server,
        host=host,
        notes=notes,
        aborted=verdict[2],
    )
