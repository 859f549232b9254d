"""A running exchange's /metrics, read live: one scrape's gauges, two scrapes' rates and
latency quantiles, kept as a short rolling frame (no Streamlit here).

    problem = check_url(url, allow_remote=False)      # None, or why the URL is refused
    snapshot = scrape(url)                            # raises ScrapeError with the reason
    values = sample(previous, snapshot)               # gauges; rates too when previous is given
    history = remember(history, values, now, keep=60)
    frame = live_frame(history)

Rates and quantiles come from `collectors.scrape.series.server_series` over the interval
between the two scrapes; the parse is `collectors.scrape.parse.parse_exposition`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import urlsplit

import pandas as pd

from collectors.scrape.parse import Snapshot
from collectors.scrape.series import server_series
from collectors.scrape.source import DirectScrape, ScrapeError

__all__ = [
    "DEFAULT_URL",
    "KEEP",
    "ScrapeError",
    "check_url",
    "gauges",
    "live_frame",
    "remember",
    "sample",
    "scrape",
    "statuses",
]

DEFAULT_URL = "http://127.0.0.1:8080/metrics"
KEEP = 60
"""Samples kept in the rolling frame (two minutes at one every 2 s)."""


def check_url(url: str, allow_remote: bool) -> str | None:
    """Why `url` is refused (not http(s), no host, bad port, off loopback), or None."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http:// URL of a /metrics endpoint"
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return f"{url!r} has a bad port"
    try:
        loopback = ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        loopback = parts.hostname == "localhost"
    if not loopback and not allow_remote:
        return (
            f"{parts.hostname} is not a loopback address: tick 'Allow a remote host' to read "
            "its metrics"
        )
    return None


def scrape(url: str, timeout: float = 1.5) -> Snapshot:
    """One GET of the target's /metrics, parsed; ScrapeError says why it failed."""
    with DirectScrape(url.strip(), timeout=timeout) as source:
        return source.scrape()


def _sum(snapshot: Snapshot, name: str, **match: str) -> float | None:
    values = [
        v
        for labels, v in snapshot.get(name).items()
        if all((k, x) in labels for k, x in match.items())
    ]
    return sum(values) if values else None


def gauges(snapshot: Snapshot) -> dict[str, float]:
    """What one scrape tells: memory, HTTP requests in flight, WebSocket connections, the
    database pool (active, max, waiting)."""
    found = {
        "memory_rss_bytes": _sum(snapshot, "process_resident_memory_bytes"),
        "http_in_flight": _sum(snapshot, "pincex_http_requests_in_flight"),
        "ws_connections": _sum(snapshot, "pincex_websocket_connections"),
        "db_pool_active": _sum(snapshot, "pincex_database_connections", state="active"),
        "db_pool_max": _sum(snapshot, "pincex_database_connections", state="max"),
        "db_pool_waiting": _sum(snapshot, "pincex_database_connections", state="waiting"),
    }
    return {name: value for name, value in found.items() if value is not None}


def sample(previous: Snapshot | None, current: Snapshot) -> dict[str, float]:
    """`current`'s gauges, with the rates and quantiles of the interval since `previous`
    (server_series names: orders_per_s, orders_per_s.<status>, order_processing_p99_ms,
    cpu_percent...) when there is a previous scrape taken earlier."""
    values = gauges(current)
    if previous is not None and current.at > previous.at:
        values.update(server_series(previous, current))
    return values


def remember(
    history: Sequence[Mapping[str, object]],
    values: Mapping[str, float],
    at: datetime,
    keep: int = KEEP,
) -> list[dict[str, object]]:
    """`history` with one more row (time `at` and `values`), the newest `keep` rows only."""
    row: dict[str, object] = {"time": at, **values}
    return [*(dict(r) for r in history), row][-keep:]


def live_frame(history: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """One row per sample: time then every series seen (NaN where a sample lacked it)."""
    if not history:
        return pd.DataFrame({"time": pd.Series([], dtype="datetime64[ns]")})
    return pd.DataFrame(list(history))


def statuses(frame: pd.DataFrame) -> list[str]:
    """The order statuses seen (`orders_per_s.<status>` columns), sorted."""
    prefix = "orders_per_s."
    return sorted(c[len(prefix) :] for c in frame.columns if str(c).startswith(prefix))
