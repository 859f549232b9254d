"""The preflight checklist's one way to the target: short-timeout requests that never raise.

with Probe("http://127.0.0.1:8080", timeout=2.0) as probe:
    reply = probe.get("/health/live")      # Reply(status=200, error=None, ms=1.2, ...)
    snapshot, problem = probe.scrape()     # its /metrics, or None and why
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from collectors.scrape.parse import Snapshot
from collectors.scrape.source import DirectScrape, ScrapeError

__all__ = ["Probe", "Reply"]


@dataclass(frozen=True)
class Reply:
    """One answer: its status (None when nothing answered and `error` says why)."""

    status: int | None
    error: str | None
    ms: float
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def described(self) -> str:
        """'HTTP 503' or the transport error, for a reason."""
        return f"HTTP {self.status}" if self.status is not None else f"nothing ({self.error})"

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return orjson.loads(self.body)


class Probe:
    """Requests to the target at `base` with `timeout` seconds each (connect and read)."""

    def __init__(self, base: str, timeout: float) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.invalid: str | None = None  # why `base` cannot be asked at all
        try:
            self._client = httpx.Client(base_url=self.base, timeout=timeout)
        except httpx.InvalidURL as exc:
            self.invalid = f"not a usable URL: {exc}"
            self._client = httpx.Client(timeout=timeout)
        self._metrics = DirectScrape(self.base, timeout=timeout)

    def request(self, method: str, path: str, headers: dict[str, str] | None = None) -> Reply:
        if self.invalid is not None:
            return Reply(None, self.invalid, 0.0)
        began = time.perf_counter()
        try:
            response = self._client.request(method, path, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return Reply(None, why, (time.perf_counter() - began) * 1000)
        took = (time.perf_counter() - began) * 1000
        return Reply(response.status_code, None, took, response.content)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, headers)

    def post(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("POST", path, headers)

    def scrape(self) -> tuple[Snapshot | None, str | None]:
        """The target's /metrics now, or (None, why)."""
        if self.invalid is not None:
            return None, self.invalid
        try:
            return self._metrics.scrape(), None
        except (ScrapeError, httpx.InvalidURL) as exc:
            return None, str(exc)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def close(self) -> None:
        self._client.close()
        self._metrics.close()

    def __enter__(self) -> Probe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
