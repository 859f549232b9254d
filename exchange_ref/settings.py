"""Settings of the reference exchange: one object, read once from `PINCEX_*` variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from exchange_ref.engine.types import DEFAULT_SYMBOLS

__all__ = ["ExchangeSettings", "get_settings"]


class ExchangeSettings(BaseSettings):
    """Everything the exchange process is configured by."""

    model_config = SettingsConfigDict(env_prefix="PINCEX_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    database_url: str = "sqlite:///data/exchange.db"
    symbols: list[str] = Field(default_factory=lambda: ["BTCUSD", "ETHUSD"])
    admin_key: str = Field(default="", description="admin API key; generated at start when empty")
    api_key_header: str = "X-API-Key"
    # Group commit: the writer commits what is pending at most this often.
    commit_interval_ms: float = Field(default=1.0, gt=0)
    # Load shedding: orders waiting for their commit beyond which new work gets 503.
    max_pending_orders: int = Field(default=200_000, gt=0)
    max_inflight_requests: int = Field(default=2_000, gt=0)
    retry_after_seconds: int = Field(default=1, ge=0)
    max_batch_orders: int = Field(default=1000, gt=0)
    ws_queue_size: int = Field(default=1024, gt=0)
    db_pool_size: int = Field(default=5, gt=0)
    drain_timeout_seconds: float = Field(default=10.0, ge=0)
    # Serve the two order routes on a raw ASGI path (same answers, less per-request work).
    fast_path: bool = True
    # Garbage collection: freeze what start-up built; the young generation's threshold.
    gc_freeze: bool = True
    gc_young_threshold: int = Field(default=700, ge=100)

    @field_validator("symbols", mode="before")
    @classmethod
    def _split_symbols(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip().upper() for part in value.split(",") if part.strip()]
        return value

    @field_validator("symbols")
    @classmethod
    def _known_symbols(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in DEFAULT_SYMBOLS]
        if unknown:
            known = ", ".join(DEFAULT_SYMBOLS)
            raise ValueError(f"unknown symbol(s) {', '.join(unknown)}; known: {known}")
        if not value:
            raise ValueError("at least one symbol is needed")
        return value


@lru_cache
def get_settings() -> ExchangeSettings:
    return ExchangeSettings()
