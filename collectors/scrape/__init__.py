"""Server-side metrics during a run: scrape the target's Prometheus /metrics into series.

with DirectScrape(url) as source:
    result = Scraper(source, interval=1.0, duration=30).start().join()
"""

from collectors.scrape.parse import Labels, ParseError, Snapshot, parse_exposition
from collectors.scrape.scraper import Scraper, ScrapeResult
from collectors.scrape.series import Quantile, histogram_quantile, server_series
from collectors.scrape.source import DirectScrape, MetricsSource, ScrapeError

__all__ = [
    "DirectScrape",
    "Labels",
    "MetricsSource",
    "ParseError",
    "Quantile",
    "ScrapeError",
    "ScrapeResult",
    "Scraper",
    "Snapshot",
    "histogram_quantile",
    "parse_exposition",
    "server_series",
]
