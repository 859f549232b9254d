"""Settings of the collectors (benchmarks, load tests): one object, read once from `PINCEX_*`."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.paths import default_store_path

if TYPE_CHECKING:
    from collectors.store.store import RunStore

__all__ = ["CollectorSettings", "get_settings", "open_run_store", "resolve_store_path"]


def _default_store() -> str:
    return str(default_store_path())


class CollectorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PINCEX_", extra="ignore")

    # The exchange's admin key, used to seed benchmark users (the exchange reads the same name).
    admin_key: str = ""
    target: str = "http://127.0.0.1:8080"
    # The nginx binary `pincex bench generators` starts (default: nginx on PATH or in /usr/sbin).
    nginx: str = ""
    # The run store (DuckDB file), always absolute: `PINCEX_STORE_PATH`, else common.paths'
    # resolution (data directory, checkout, XDG); its spool defaults to `spool/` beside it.
    store_path: str = Field(default_factory=_default_store)
    spool_dir: str = ""
    # Seconds a writer waits for the store's lock before spooling its run.
    store_lock_timeout_s: float = 5.0
    # Seconds a reader retries a locked store before failing.
    store_read_retry_s: float = 2.0
    # A Prometheus server watching the target (`http://host:9090`), checked by the load test's
    # preflight (ready, and answering a query); empty: none is checked.
    prometheus_url: str = ""
    # The exchange's PostgreSQL primary and its replicas (comma-separated URLs), sampled during
    # a run (pg_stat_*, replication lag); empty: none is watched.
    pg_url: str = ""
    pg_replica_urls: str = ""

    @field_validator("store_path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        return str(Path(value).expanduser().resolve()) if value else _default_store()


@lru_cache
def get_settings() -> CollectorSettings:
    return CollectorSettings()


def resolve_store_path(given: str | os.PathLike[str] | None = None) -> Path:
    """The absolute run store path a command reads or writes: `given` (a `--store` value,
    relative to the working directory) or the settings' default. Print it when writing."""
    if given is not None and str(given):
        return Path(given).expanduser().resolve()
    return Path(get_settings().store_path)


def open_run_store(given: str | os.PathLike[str] | None = None) -> RunStore:
    """The RunStore at `resolve_store_path(given)` with the settings' spool and lock waits.
    Opening it creates nothing; a missing store reads as empty (see `RunStore.exists`)."""
    from collectors.store.store import RunStore  # duckdb: loaded by the commands that use it

    settings = get_settings()
    return RunStore(
        resolve_store_path(given),
        spool_dir=settings.spool_dir or None,
        lock_timeout_s=settings.store_lock_timeout_s,
        read_retry_s=settings.store_read_retry_s,
    )
