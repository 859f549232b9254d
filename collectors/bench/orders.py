"""`pincex bench orders`: the specification's order benchmark on an open model.

    figures = run_orders_benchmark(OrdersConfig("http://127.0.0.1:8080", rate=1000, duration=60))
    figures.to_json()

Against the exchange, real users are seeded through the admin key and orders are priced
around a slowly moving mid so that some rest and some cross (IOC takers slightly outweigh
passive makers, so the book stays bounded). Against any other HTTP server the specification's
order bodies are posted without keys and measured the same way. The data flows once through
each step: workload -> load engine -> figures -> run -> store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import orjson

from collectors.bench.admin import AdminClient
from collectors.bench.httpload import LoadResult, Request, run_load, run_open_model
from collectors.bench.orders_figures import (
    OrdersFigures,
    OrdersParameters,
    per_second_series,
    summarize,
)
from collectors.bench.runs import kept, measured_run
from collectors.bench.server_sources import NO_SOURCES, ServerSources
from collectors.bench.server_watch import ServerWatch, server_summary
from collectors.bench.workload import chunk_size, order_batches, spec_order_batches
from collectors.scrape import ScrapeResult
from collectors.store.model import Histogram, Run, Summary
from common.redact import mask_url

__all__ = ["OrdersConfig", "build_run", "run_orders_benchmark"]


@dataclass(frozen=True, slots=True)
class OrdersConfig(OrdersParameters):
    """The load asked for, with how to seed users and where to keep the run."""

    admin_key: str | None = None
    users: int = 8
    seed: int = 1
    store_path: str | None = None  # the run store to keep the run in; None: not stored
    label: str = "unlabelled"
    tags: tuple[str, ...] = ()
    scrape_interval: float = 1.0  # seconds between scrapes of the target's /metrics; 0: none
    sources: ServerSources = NO_SOURCES  # Prometheus, PostgreSQL watched besides /metrics

    @property
    def parameters(self) -> OrdersParameters:
        """The load alone (no key), as the figures and the run keep it."""
        return OrdersParameters(*(getattr(self, f.name) for f in fields(OrdersParameters)))


def _requests(cfg: OrdersConfig, keys: list[str], count: int) -> Callable[[int], Request]:
    """The i-th request: the exchange's flow with seeded keys, else the specification's."""
    per_request = max(chunk_size(cfg.batch_size), 1)
    make = order_batches if keys else spec_order_batches
    batches = make(min(count, 4096), per_request, cfg.symbol, cfg.seed)

    def build(i: int) -> Request:
        headers = {"X-API-Key": keys[i % len(keys)]} if keys else {}
        if cfg.batch_size:
            return Request("POST", "/api/v1/orders/batch", orjson.dumps(batches[i]), headers)
        return Request("POST", "/api/v1/orders", orjson.dumps(batches[i][0]), headers)

    return build


def run_orders_benchmark(
    cfg: OrdersConfig, progress: Callable[[int, int], None] | None = None
) -> OrdersFigures:
    """Seed, load, summarize, keep: the figures, with `run_id` (or `store_error`) when kept.
    Interrupted (SIGINT), the load stops and what was measured is summarized and kept, marked
    `aborted`. A `SeedingFailed` when the exchange would not seed the users."""
    keys = []
    if cfg.admin_key:
        keys = AdminClient(cfg.target, cfg.admin_key).seed_users(cfg.users, cfg.symbol, "bench")
    per_request = max(chunk_size(cfg.batch_size), 1)
    count = max(1, int(cfg.rate * cfg.duration / per_request))
    build = _requests(cfg, keys, count)
    watch = ServerWatch(cfg.target, cfg.scrape_interval, cfg.sources).start()
    try:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = run_load(
            run_open_model(
                cfg.target,
                build,
                cfg.rate / per_request,
                count,
                cfg.connections,
                cfg.duration + 5.0,
                progress=progress,
            )
        )
        cpu_pct = (time.process_time() - cpu0) / max(time.perf_counter() - wall0, 1e-9) * 100
    finally:
        server = watch.stop()
    figures, summary, hists = summarize(cfg.parameters, result, count, cpu_pct)
    if server is not None:
        warnings = figures.verdict.warnings
        if server.partial:
            warnings += (f"server side partial: {server.reason}",)
        figures = replace(
            figures,
            server=server_summary(server),
            verdict=replace(figures.verdict, warnings=warnings),
        )
    if cfg.store_path is None:
        return figures
    run = build_run(cfg, result, figures, summary, hists, server)
    return kept(figures, cfg.store_path, run)


def build_run(
    cfg: OrdersConfig,
    result: LoadResult,
    figures: OrdersFigures,
    summary: Summary,
    hists: list[Histogram],
    server: ScrapeResult | None = None,
) -> Run:
    """The run as the store keeps it; partial when the target's /metrics failed us."""
    return measured_run(
        kind="orders",
        profile="batch" if cfg.batch_size else "single",
        target=mask_url(cfg.target),
        label=cfg.label,
        tags=cfg.tags,
        started_at=result.started_at,
        measured_s=result.elapsed,
        config=figures.config.to_json(),
        verdict=figures.verdict,
        summaries=[summary],
        histograms=hists,
        client_series=per_second_series(result, cfg.batch_size),
        server=server,
        host={"generator_cpu_pct": figures.generator_cpu_pct},
        aborted=figures.aborted,
    )
