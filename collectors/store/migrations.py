"""The store's versioned schema: each migration moves it one version up, in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["MIGRATIONS", "current_version", "latest_version", "migrate"]

_V1 = [
    """CREATE TABLE runs (
        run_id VARCHAR PRIMARY KEY,
        kind VARCHAR NOT NULL,
        profile VARCHAR NOT NULL,
        target VARCHAR NOT NULL,
        label VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        ended_at TIMESTAMP NOT NULL,
        status VARCHAR NOT NULL,
        config JSON NOT NULL,
        host JSON NOT NULL,
        tags JSON NOT NULL,
        trusted BOOLEAN NOT NULL,
        summary_count INTEGER NOT NULL,
        series_count INTEGER NOT NULL,
        histogram_count INTEGER NOT NULL,
        warning_count INTEGER NOT NULL,
        stored_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE summaries (
        run_id VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        name VARCHAR NOT NULL,
        count BIGINT NOT NULL,
        errors BIGINT NOT NULL,
        throughput_per_s DOUBLE NOT NULL,
        latency_mean_ms DOUBLE NOT NULL,
        latency_p50_ms DOUBLE NOT NULL,
        latency_p90_ms DOUBLE NOT NULL,
        latency_p95_ms DOUBLE NOT NULL,
        latency_p99_ms DOUBLE NOT NULL,
        latency_p999_ms DOUBLE NOT NULL,
        latency_max_ms DOUBLE NOT NULL,
        service_mean_ms DOUBLE,
        service_p50_ms DOUBLE,
        service_p90_ms DOUBLE,
        service_p95_ms DOUBLE,
        service_p99_ms DOUBLE,
        service_p999_ms DOUBLE,
        service_max_ms DOUBLE
    )""",
    """CREATE TABLE series (
        run_id VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        side VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        second DOUBLE NOT NULL,
        value DOUBLE NOT NULL
    )""",
    """CREATE TABLE histograms (
        run_id VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        name VARCHAR NOT NULL,
        view VARCHAR NOT NULL,
        encoded VARCHAR NOT NULL
    )""",
    """CREATE TABLE warnings (
        run_id VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        message VARCHAR NOT NULL
    )""",
]

_V2 = [
    "ALTER TABLE runs ADD COLUMN notes VARCHAR NOT NULL DEFAULT ''",
    "CREATE INDEX runs_label_kind ON runs (label, kind)",
]

# v3: a pinned baseline per (kind, profile), and an index for time-ordered listings.
_V3 = [
    """CREATE TABLE baselines (
        kind VARCHAR NOT NULL,
        profile VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        pinned_at TIMESTAMP NOT NULL,
        PRIMARY KEY (kind, profile)
    )""",
    "CREATE INDEX runs_started ON runs (started_at)",
]

MIGRATIONS: Sequence[Sequence[str]] = (_V1, _V2, _V3)


def latest_version() -> int:
    """The version the current code writes."""
    return len(MIGRATIONS)


def current_version(con: Any) -> int:
    """The schema version of an open store (0 when empty)."""
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()
    if not found or not found[0]:
        return 0
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(con: Any, upto: int | None = None) -> int:
    """Apply the missing migrations, each in its own transaction; the version reached."""
    target = latest_version() if upto is None else upto
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
    )
    version = current_version(con)
    while version < target:
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in MIGRATIONS[version]:
                con.execute(statement)
            con.execute("INSERT INTO schema_version VALUES (?, now()::TIMESTAMP)", [version + 1])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        version += 1
    return version
