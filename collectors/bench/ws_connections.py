"""`pincex bench ws-connections`: how many market data connections the exchange holds.

Opens N WebSocket clients (each subscribed to `<symbol>@depth`), holds them for the duration and
counts what was opened, what failed (with the first reasons) and what is still held at the end.
With a message rate, a REST driver places about M / N orders per second so that the exchange
pushes about M frames per second across all clients. A client's lag is its latest frame's
receipt time minus the frame's `send_time_us`; the figure is the p99 of that over clients.

This machine caps the test when its open-file limit is below N (the hard limit is raised when
the process may, i.e. root with CAP_SYS_RESOURCE; the soft limit is first raised
to the hard one) or connections fail; the result says so (`capped`, `cap_reason`). Clients'
source addresses are spread over 127.0.0.1-127.0.0.250 when the target is on 127.0.0.0/8, so
the ephemeral ports of one source address do not bound N.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import orjson
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from collectors.bench.errors import BenchFailed, BenchUsageError
from collectors.bench.figures import Verdict
from collectors.bench.percentiles import percentiles_ms
from collectors.bench.progress import Progress, aborted_warning, hold_for
from collectors.bench.runs import kept
from collectors.bench.server_sources import NO_SOURCES, ServerSources
from collectors.bench.server_watch import ServerWatch, server_summary
from collectors.bench.trust import TrustInputs, trust_reasons
from collectors.bench.ws_clients import (
    OrderDriver,
    clients_run,
    close_all,
    first_errors,
    open_all,
    seed_keys,
    source_hosts,
    ws_url,
)
from collectors.bench.ws_connections_figures import (
    FrameLag,
    WsConnectionsFigures,
    WsConnectionsParameters,
)
from collectors.scrape import ScrapeResult
from collectors.store.model import Point, Run
from collectors.store.summarise import summarise
from common.fdlimit import raise_fd_limit
from common.redact import mask_url

__all__ = ["WsConnectionsConfig", "run_ws_connections"]

_FD_RESERVE = 64  # descriptors kept for the driver, the event loop and the interpreter


@dataclass(slots=True)
class WsConnectionsConfig:
    target: str
    connections: int
    duration: float
    messages_per_second: float = 0.0
    admin_key: str | None = None
    symbol: str = "BTCUSD"
    open_concurrency: int = 500
    users: int = 4
    store_path: str | None = None  # the run store to keep the run in; None: not stored
    label: str = "unlabelled"
    tags: tuple[str, ...] = ()
    scrape_interval: float = 1.0  # seconds between scrapes of the target's /metrics; 0: none
    sources: ServerSources = NO_SOURCES  # Prometheus, PostgreSQL watched besides /metrics


class _Holder:
    """Counts per second of receipt and each client's latest lag (µs)."""

    def __init__(self, n: int) -> None:
        self.per_second: dict[int, int] = {}
        self.received = 0
        self.last_lag_us: list[int | None] = [None] * n
        self.closed = 0
        self.close_reasons: list[str] = []
        self.start = time.monotonic()

    async def read(self, index: int, ws: ClientConnection) -> None:
        per_second = self.per_second
        start = self.start
        try:
            async for raw in ws:
                now_us = time.time_ns() // 1000
                frame = orjson.loads(raw)
                send_us = frame.get("send_time_us")
                if send_us is None:
                    continue
                second = int(time.monotonic() - start)
                per_second[second] = per_second.get(second, 0) + 1
                self.received += 1
                self.last_lag_us[index] = now_us - send_us
            self.closed += 1
        except ConnectionClosed as exc:
            self.closed += 1
            self.close_reasons.append(f"closed: {exc}")


async def _run(cfg: WsConnectionsConfig, progress: Progress | None) -> WsConnectionsFigures:
    soft, hard = raise_fd_limit(cfg.connections + _FD_RESERVE)
    capped_reasons = []
    wanted = cfg.connections
    room = soft - _FD_RESERVE
    if room < wanted:
        capped_reasons.append(
            f"the open-file limit ({soft}, hard {hard}) allows about {max(room, 0)} "
            f"connections, fewer than {wanted}; raising the hard limit was refused (it needs "
            "root with CAP_SYS_RESOURCE), and the exchange's own process has the same cap"
        )
        wanted = max(room, 1)
    keys: list[str] = []
    order_rate = 0.0
    if cfg.messages_per_second > 0:
        if not cfg.admin_key:
            raise BenchUsageError(
                "--messages-per-second needs the exchange's admin key (--admin-key)"
            )
        keys = await seed_keys(cfg.target, cfg.admin_key, cfg.users, cfg.symbol)
        order_rate = max(1.0, cfg.messages_per_second / wanted)
    streams = [f"{cfg.symbol.lower()}@depth"]
    open_start = time.perf_counter()
    clients, errors = await open_all(
        ws_url(cfg.target), streams, wanted, cfg.open_concurrency, source_hosts(cfg.target)
    )
    open_seconds = time.perf_counter() - open_start
    if not clients:
        raise BenchFailed(f"no connection opened: {errors[0] if errors else 'unknown'}")
    if errors:
        capped_reasons.append(f"{len(errors)} of {wanted} connections failed to open")
    holder = _Holder(len(clients))
    readers = [asyncio.create_task(holder.read(i, ws)) for i, ws in enumerate(clients)]
    watch = ServerWatch(cfg.target, cfg.scrape_interval, cfg.sources).start()
    driver = OrderDriver(cfg.target, keys, order_rate, cfg.symbol) if keys else None
    driving = asyncio.create_task(driver.run()) if driver else None
    started_at = time.time()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    aborted = await hold_for(cfg.duration, progress)
    held = len(clients) - holder.closed
    if driver is not None and driving is not None:
        driver.stop()
        await driving
    measured = time.perf_counter() - wall0
    cpu_pct = (time.process_time() - cpu0) / measured * 100
    server = await asyncio.to_thread(watch.stop)
    received = holder.received
    await close_all(clients)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    if held < len(clients):
        capped_reasons.append(f"{len(clients) - held} held connections were closed during the test")
    lags = np.array([v for v in holder.last_lag_us if v is not None], dtype=np.float64)
    lag_p = percentiles_ms(lags / 1000, (50, 99))
    whole = [c for s, c in holder.per_second.items() if s < math.floor(cfg.duration)]
    warnings = [aborted_warning(measured)] if aborted else []
    if driver is not None and driver.errors:
        warnings.append(f"{driver.errors} orders failed, first: {driver.first_error}")
    if server is not None and server.partial:
        warnings.append(f"server side partial: {server.reason}")
    reasons = trust_reasons(
        TrustInputs(
            generator_cpu_pct=cpu_pct,
            target_rate=cfg.messages_per_second,
            achieved_rate=received / measured,
            samples=int(lags.size),
            error_rate=0.0,
            highest_claimed=99.0 if cfg.messages_per_second > 0 else None,
        )
    )
    figures = WsConnectionsFigures(
        target=mask_url(cfg.target),
        requested=cfg.connections,
        attempted=wanted,
        opened=len(clients),
        failed=len(errors),
        held_at_end=held,
        open_seconds=round(open_seconds, 3),
        errors=first_errors(errors + holder.close_reasons),
        messages_received=received,
        messages_per_s=round(received / measured, 2),
        messages_per_s_peak=max(whole, default=0),
        target_messages_per_s=cfg.messages_per_second or None,
        orders=driver.figures() if driver else None,
        lag=FrameLag(
            clients_with_frames=int(lags.size),
            p50=round(lag_p[50.0], 3) if lags.size else None,
            p99=round(lag_p[99.0], 3) if lags.size else None,
            max=round(float(lags.max()) / 1000, 3) if lags.size else None,
        ),
        fd_limit=(soft, hard),
        cap_reasons=tuple(capped_reasons),
        measured_seconds=round(measured, 3),
        client_cpu_pct=round(cpu_pct, 1),
        verdict=Verdict(tuple(reasons), tuple(warnings)),
        config=WsConnectionsParameters(
            cfg.connections, cfg.duration, cfg.messages_per_second, order_rate, cfg.symbol
        ),
        server=server_summary(server) if server is not None else None,
        aborted=aborted,
    )
    if cfg.store_path is None:
        return figures
    run = _build_run(cfg, figures, holder, lags, started_at, measured, server)
    return kept(figures, cfg.store_path, run)


def _build_run(
    cfg: WsConnectionsConfig,
    figures: WsConnectionsFigures,
    holder: _Holder,
    lags_us: np.ndarray[Any, Any],
    started_at: float,
    measured: float,
    server: ScrapeResult | None,
) -> Run:
    """The run as the store keeps it: held connections, frames per second, the lag of each
    connection's latest frame as a histogram, and the server's side of the same seconds."""
    name = f"{cfg.symbol.lower()}@depth connections"
    summary, hists = summarise(
        name,
        lags_us,
        None,
        errors=figures.failed + (figures.opened - figures.held_at_end),
        duration_s=measured,
    )
    summary = replace(
        summary, count=figures.messages_received, throughput_per_s=figures.messages_per_s
    )
    series = [
        Point("client", "messages_per_s", float(second), float(count))
        for second, count in sorted(holder.per_second.items())
    ]
    notes = (
        f"{figures.opened} of {figures.requested} connections opened ({figures.attempted} "
        f"attempted), {figures.held_at_end} held at the end, opened in {figures.open_seconds} s; "
        f"open-file limit {figures.fd_limit[0]}"
        + (f"; CAPPED: {figures.cap_reason}" if figures.cap_reasons else "")
    )
    return clients_run(
        "ws-connections",
        cfg,
        (figures.config.to_json(), figures.verdict, figures.aborted),
        (started_at, measured),
        summary,
        hists,
        series,
        server,
        {
            "generator_cpu_pct": figures.client_cpu_pct,
            "fd_limit": {"soft": figures.fd_limit[0], "hard": figures.fd_limit[1]},
        },
        notes,
    )


def run_ws_connections(
    cfg: WsConnectionsConfig, progress: Progress | None = None
) -> WsConnectionsFigures:
    """Run the connection test, keep its run when asked, and return its figures."""
    return asyncio.run(_run(cfg, progress))
