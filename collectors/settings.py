"""Settings of the collectors (benchmarks, load tests): one object, read once from `PINCEX_*`."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["CollectorSettings", "get_settings"]


class CollectorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PINCEX_", extra="ignore")

    # The exchange's admin key, used to seed benchmark users (the exchange reads the same name).
    admin_key: str = ""
    target: str = "http://127.0.0.1:8080"
    # The run store (DuckDB file); its spool defaults to `spool/` beside it.
    # The nginx binary `pincex bench generators` starts (default: nginx on PATH or in /usr/sbin).
    nginx: str = ""
    store_path: str = "data/pincex.duckdb"
    spool_dir: str = ""
    # Seconds a writer waits for the store's lock before spooling its run.
    store_lock_timeout_s: float = 5.0
    # Seconds a reader retries a locked store before failing.
    store_read_retry_s: float = 2.0


@lru_cache
def get_settings() -> CollectorSettings:
    return CollectorSettings()
