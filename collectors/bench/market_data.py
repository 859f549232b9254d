"""`pincex bench market-data`: the specification's market data latency benchmark.

N WebSocket clients subscribe to `<symbol>@ticker` and `<symbol>@depth` on the exchange's `/ws`
while a driver places crossing orders through REST. A frame's latency is its receipt time minus
its `event_time_us` (both wall-clock microseconds on this host), recorded into an HdrHistogram so
memory stays bounded however long the run. Depth frames carry update ids `U`/`u`; a frame whose
`U` is not the previous frame's `u` + 1 is a gap (frames the exchange dropped for a slow client).

The clients, the order driver and the run they share with the connection test are in
`ws_clients`.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from collectors.bench.errors import BenchFailed, BenchUsageError
from collectors.bench.figures import Verdict
from collectors.bench.market_data_figures import (
    ConnectionFigures,
    FrameLatency,
    MarketDataFigures,
    MarketDataParameters,
)
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
from collectors.scrape import ScrapeResult
from collectors.store import histograms
from collectors.store.model import Histogram, Point, Run, Summary
from collectors.store.summarise import figures_from_histogram
from common.redact import mask_url

__all__ = ["MarketDataConfig", "run_market_data", "spec_lines"]

_FLUSH_EVERY = 65_536  # latency samples buffered before they go into the histogram


@dataclass(slots=True)
class MarketDataConfig:
    target: str  # the exchange's base URL, http://host:port
    connections: int = 1000
    duration: float = 300.0  # seconds of measurement, after every client subscribed
    admin_key: str | None = None
    order_rate: float = 10.0  # orders per second placed through REST
    symbol: str = "BTCUSD"
    open_concurrency: int = 200  # connections being opened at once
    users: int = 4
    store_path: str | None = None  # the run store to keep the run in; None: not stored
    label: str = "unlabelled"
    tags: tuple[str, ...] = ()
    scrape_interval: float = 1.0  # seconds between scrapes of the target's /metrics; 0: none
    sources: ServerSources = NO_SOURCES  # Prometheus, PostgreSQL watched besides /metrics


class _Latencies:
    """Frame latencies in µs: a running sum and max, an HdrHistogram fed in chunks."""

    def __init__(self) -> None:
        self.histogram = histograms.new_histogram()
        self.buffer: array[int] = array("q")
        self.count = 0
        self.total_us = 0
        self.max_us = 0
        self.negative = 0

    def add(self, value_us: int) -> None:
        if value_us < 0:
            self.negative += 1
            value_us = 0
        self.count += 1
        self.total_us += value_us
        if value_us > self.max_us:
            self.max_us = value_us
        self.buffer.append(value_us)
        if len(self.buffer) >= _FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            histograms.record_us(self.histogram, self.buffer)
            self.buffer = array("q")

    def figures(self) -> FrameLatency:
        self.flush()
        if not self.count:
            return FrameLatency(None, None, None, None, None)
        p = histograms.percentiles_ms(self.histogram, (50, 95, 99))
        return FrameLatency(
            average=round(self.total_us / self.count / 1000, 3),
            p50=round(p[50.0], 3),
            p95=round(p[95.0], 3),
            p99=round(p[99.0], 3),
            max=round(self.max_us / 1000, 3),
        )


@dataclass(slots=True)
class _Counters:
    latencies: _Latencies = field(default_factory=_Latencies)
    per_stream: dict[str, int] = field(default_factory=dict)
    per_second: dict[int, int] = field(default_factory=dict)  # frames by second of receipt
    start_us: int = field(default_factory=lambda: time.time_ns() // 1000)
    gaps: int = 0
    clients_with_gaps: int = 0
    closed_early: int = 0


async def _read(ws: ClientConnection, counters: _Counters) -> None:
    latencies = counters.latencies
    per_stream = counters.per_stream
    per_second = counters.per_second
    start_us = counters.start_us
    last_u: int | None = None
    gaps = 0
    try:
        async for raw in ws:
            now_us = time.time_ns() // 1000
            frame = orjson.loads(raw)
            stream = frame.get("stream")
            if stream is None:
                continue
            latencies.add(now_us - frame["event_time_us"])
            per_stream[stream] = per_stream.get(stream, 0) + 1
            second = (now_us - start_us) // 1_000_000
            per_second[second] = per_second.get(second, 0) + 1
            if stream.endswith("@depth"):
                data = frame["data"]
                if last_u is not None and data["U"] != last_u + 1:
                    gaps += 1
                last_u = data["u"]
        counters.closed_early += 1
    except ConnectionClosed:
        counters.closed_early += 1
    finally:
        counters.gaps += gaps
        counters.clients_with_gaps += gaps > 0


async def _run(cfg: MarketDataConfig, progress: Progress | None) -> MarketDataFigures:
    keys: list[str] = []
    if cfg.order_rate > 0:
        if not cfg.admin_key:
            raise BenchUsageError("placing orders needs the exchange's admin key (--admin-key)")
        keys = await seed_keys(cfg.target, cfg.admin_key, cfg.users, cfg.symbol)
    prefix = cfg.symbol.lower()
    streams = [f"{prefix}@ticker", f"{prefix}@depth"]
    open_start = time.perf_counter()
    clients, errors = await open_all(
        ws_url(cfg.target),
        streams,
        cfg.connections,
        cfg.open_concurrency,
        source_hosts(cfg.target),
    )
    open_seconds = time.perf_counter() - open_start
    if not clients:
        raise BenchFailed(f"no connection opened: {errors[0] if errors else 'unknown'}")
    counters = _Counters()
    readers = [asyncio.create_task(_read(ws, counters)) for ws in clients]
    watch = ServerWatch(cfg.target, cfg.scrape_interval, cfg.sources).start()
    driver = OrderDriver(cfg.target, keys, cfg.order_rate, cfg.symbol) if keys else None
    driving = asyncio.create_task(driver.run()) if driver else None
    started_at = time.time()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    aborted = await hold_for(cfg.duration, progress)
    if driver is not None and driving is not None:
        driver.stop()
        await driving
    await asyncio.sleep(0.5)  # frames of the last orders still on their way
    measured = time.perf_counter() - wall0
    cpu_pct = (time.process_time() - cpu0) / measured * 100
    server = await asyncio.to_thread(watch.stop)
    closed_early = counters.closed_early  # before we close them ourselves
    held = len(clients) - closed_early
    await close_all(clients)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    received = counters.latencies.count
    warnings = [aborted_warning(measured)] if aborted else []
    if errors:
        warnings.append(f"{len(errors)} connections failed to open, first: {errors[0]}")
    if counters.latencies.negative:
        warnings.append(f"{counters.latencies.negative} frames arrived before their event time")
    if driver is not None and driver.errors:
        warnings.append(f"{driver.errors} orders failed, first: {driver.first_error}")
    if server is not None and server.partial:
        warnings.append(f"server side partial: {server.reason}")
    reasons = trust_reasons(
        TrustInputs(
            generator_cpu_pct=cpu_pct,
            target_rate=cfg.order_rate if driver is not None else 0.0,
            achieved_rate=driver.sent / driver.elapsed if driver and driver.elapsed else 0.0,
            samples=received,
            error_rate=(len(errors) + closed_early) / max(cfg.connections, 1),
            highest_claimed=99.0,  # average, p50, p95, p99 and max are reported
        )
    )
    figures = MarketDataFigures(
        target=mask_url(cfg.target),
        connections=ConnectionFigures(
            requested=cfg.connections,
            opened=len(clients),
            failed=len(errors),
            held_at_end=held,
            open_seconds=round(open_seconds, 3),
            errors=first_errors(errors),
        ),
        messages_received=received,
        messages_per_stream=dict(sorted(counters.per_stream.items())),
        messages_per_s=round(received / measured, 2),
        latency=counters.latencies.figures(),
        gaps=counters.gaps,
        clients_with_gaps=counters.clients_with_gaps,
        orders=driver.figures() if driver else None,
        measured_seconds=round(measured, 3),
        client_cpu_pct=round(cpu_pct, 1),
        verdict=Verdict(tuple(reasons), tuple(warnings)),
        config=MarketDataParameters(
            cfg.connections, cfg.duration, cfg.order_rate, cfg.symbol, tuple(streams)
        ),
        server=server_summary(server) if server is not None else None,
        aborted=aborted,
    )
    if cfg.store_path is None:
        return figures
    run = _build_run(cfg, figures, counters, started_at, measured, server)
    return kept(figures, cfg.store_path, run)


def _build_run(
    cfg: MarketDataConfig,
    figures: MarketDataFigures,
    counters: _Counters,
    started_at: float,
    measured: float,
    server: ScrapeResult | None,
) -> Run:
    """The run as the store keeps it: one summary over every frame, its latency histogram,
    frames per second of receipt, and the server's side of the same seconds."""
    latencies = counters.latencies
    latencies.flush()
    name = "+".join(figures.config.streams)
    conns = figures.connections
    summary = Summary(
        name=name,
        count=latencies.count,
        errors=conns.requested - conns.held_at_end,  # failed to open or dropped
        throughput_per_s=latencies.count / measured,
        latency=figures_from_histogram(
            latencies.histogram,
            latencies.total_us / latencies.count / 1000 if latencies.count else 0.0,
        ),
    )
    series = [
        Point("client", "messages_per_s", float(second), float(count))
        for second, count in sorted(counters.per_second.items())
        if second >= 0
    ]
    per_stream = ", ".join(f"{k} {v}" for k, v in figures.messages_per_stream.items()) or "none"
    orders = figures.orders
    notes = (
        f"{conns.opened} of {conns.requested} connections opened, {conns.held_at_end} "
        f"held at the end; messages per stream: {per_stream}; depth gaps {counters.gaps} on "
        f"{counters.clients_with_gaps} clients"
        + (f"; {orders['ok']} orders placed at {orders['achieved_rate']}/s" if orders else "")
    )
    return clients_run(
        "market-data",
        cfg,
        (figures.config.to_json(), figures.verdict, figures.aborted),
        (started_at, measured),
        summary,
        [Histogram(name, "latency", histograms.encode(latencies.histogram))],
        series,
        server,
        {"generator_cpu_pct": figures.client_cpu_pct},
        notes,
    )


def run_market_data(cfg: MarketDataConfig, progress: Progress | None = None) -> MarketDataFigures:
    """Run the benchmark, keep its run when asked, and return its figures (module docstring)."""
    return asyncio.run(_run(cfg, progress))


def spec_lines(result: dict[str, Any]) -> list[str]:
    """The results block of the specification's benchmark-market-data.ps1, from our figures."""
    lat = result["latency_ms"]

    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{round(value, 2)}ms"

    return [
        "Market Data Latency Results:",
        f"Messages Received: {result['messages_received']}",
        f"Average Latency: {ms(lat['average'])}",
        f"P95 Latency: {ms(lat['p95'])}",
        f"P99 Latency: {ms(lat['p99'])}",
        f"Maximum Latency: {ms(lat['max'])}",
    ]
