"""Where the server's side of a run comes from (a light module: the CLI options import it)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NO_SOURCES", "ServerSources"]


@dataclass(frozen=True, slots=True)
class ServerSources:
    """Where the server's side of a run comes from besides the target's own /metrics.

    `prometheus_url`: a Prometheus server scraping the target; the run's server series then come
    from range queries over the run's window instead of the direct scrape. `pg_url`: the
    exchange's PostgreSQL primary, sampled every interval (pg_stat_*); `pg_replica_urls`: its
    streaming replicas, for the replication lag. Empty: not watched.
    """

    prometheus_url: str = ""
    pg_url: str = ""
    pg_replica_urls: tuple[str, ...] = ()


# Nothing watched besides the target's /metrics (a frozen default for dataclass fields).
NO_SOURCES = ServerSources()
