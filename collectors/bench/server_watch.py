"""Watching the target's side while a benchmark runs: its /metrics, scraped.

watch = ServerWatch(target, interval=1.0).start()   # scrapes the target's /metrics
...                                                 # drive load
server = watch.stop()                               # ScrapeResult, or None when not watched
points = server_points(server, started_at)          # on the client's time base
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from collectors.bench.server_sources import ServerSources
from collectors.scrape import DirectScrape, Scraper, ScrapeResult
from collectors.store.model import Point

__all__ = ["ServerSources", "ServerWatch", "server_points", "server_summary"]

_SUMMARY_SERIES = (
    "order_processing_p95_ms",
    "order_processing_p99_ms",
    "orders_per_s",
    "cpu_percent",
    "memory_rss_bytes",
    "queue_depth",
    "event_loop_lag_p99_ms",
    "ws_connections",
)


class ServerWatch:
    """Scrape the target's /metrics every `interval` seconds while a benchmark runs.

    An interval of 0 watches nothing (`stop()` then returns None). A target that does not answer
    never fails the benchmark: the result is marked partial with the reason.
    """

    def __init__(
        self, target: str, interval: float = 1.0, sources: ServerSources | None = None
    ) -> None:
        self.target = target
        self.interval = interval
        self.sources = sources or ServerSources()
        self._source: DirectScrape | None = None
        self._scraper: Scraper | None = None

    def start(self) -> ServerWatch:
        if self.interval > 0:
            self._source = DirectScrape(self.target)
            self._scraper = Scraper(self._source, interval=self.interval).start()
        return self

    def stop(self) -> ScrapeResult | None:
        if self._scraper is None:
            return None
        result = self._scraper.stop()
        if self._source is not None:
            self._source.close()
        self._scraper = self._source = None
        return result


def server_points(server: ScrapeResult | None, started_at: float | None = None) -> list[Point]:
    """The server-side points of a watch, or none; with `started_at` (epoch s, the load's
    start), their seconds are moved onto the client's time base (second 0 = the load's start)."""
    if server is None:
        return []
    if started_at is None or server.origin_wall is None:
        return list(server.points)
    shift = server.origin_wall - started_at
    return [replace(p, second=round(p.second + shift, 3)) for p in server.points]


def server_summary(server: ScrapeResult) -> dict[str, Any]:
    """What the target's /metrics said during the run: scrapes, problems, series medians."""
    medians = {}
    for name in _SUMMARY_SERIES:
        values = [v for _, v in server.series(name)]
        if values:
            medians[name] = round(float(np.median(values)), 3)
    return {
        "scrapes": server.scrapes,
        "failed_scrapes": server.failed_scrapes,
        "partial": server.partial,
        "reason": server.reason,
        "median_per_second": medians,
    }
