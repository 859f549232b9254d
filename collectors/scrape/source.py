"""Where snapshots come from: one `MetricsSource` interface, `DirectScrape` of a /metrics URL.

with DirectScrape("http://127.0.0.1:8080") as source:
    snapshot = source.scrape()  # raises ScrapeError with a readable reason
"""

from __future__ import annotations

import time
from typing import Protocol

import httpx

from collectors.scrape.parse import ParseError, Snapshot, parse_exposition

__all__ = ["DirectScrape", "MetricsSource", "ScrapeError"]


class ScrapeError(Exception):
    """A scrape that gave no snapshot; the message says why, for a run's problem list."""


class MetricsSource(Protocol):
    """Anything that returns the target's current metrics (a direct scrape, a Prometheus)."""

    def scrape(self) -> Snapshot:
        """The metrics now; raise `ScrapeError` when they cannot be had."""
        ...


class DirectScrape:
    """GET the target's /metrics with httpx; `url` is the target's base URL or its /metrics."""

    def __init__(self, url: str, timeout: float = 2.0) -> None:
        base = url.rstrip("/")
        self.url = base if base.endswith("/metrics") else f"{base}/metrics"
        self._client = httpx.Client(timeout=timeout)

    def scrape(self) -> Snapshot:
        """One GET of /metrics, parsed; stamped with the monotonic time the answer arrived."""
        try:
            response = self._client.get(self.url)
        except httpx.HTTPError as exc:
            raise ScrapeError(f"the target's /metrics did not answer: {exc!r}") from exc
        at = time.monotonic()
        if response.status_code != 200:
            raise ScrapeError(
                f"the target's /metrics did not answer: HTTP {response.status_code} from {self.url}"
            )
        try:
            snapshot = parse_exposition(response.text, at)
        except ParseError as exc:
            raise ScrapeError(f"the target's /metrics answered garbage: {exc}") from exc
        if not len(snapshot):
            raise ScrapeError(f"the target's /metrics answered no samples ({self.url})")
        return snapshot

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def __enter__(self) -> DirectScrape:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
