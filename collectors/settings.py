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


@lru_cache
def get_settings() -> CollectorSettings:
    return CollectorSettings()
