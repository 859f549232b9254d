"""Settings of the reference exchange: one object, read once from `PINCEX_*` variables."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from exchange_ref.engine.types import DEFAULT_SYMBOLS

__all__ = ["MIN_ADMIN_KEY", "ExchangeSettings", "InvalidSettings", "build_settings", "get_settings"]

MIN_ADMIN_KEY = 16


class ExchangeSettings(BaseSettings):
    """Everything the exchange process is configured by."""

    model_config = SettingsConfigDict(env_prefix="PINCEX_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    database_url: str = "sqlite:///data/exchange.db"
    # SQLite: create the database file's directory when it is missing (else refuse to start).
    create_dirs: bool = True
    # PINCEX_SYMBOLS=BTCUSD,ETHUSD (a JSON list is taken too)
    symbols: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["BTCUSD", "ETHUSD"])
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
    # SQLite durability: NORMAL survives a killed process, FULL also an OS crash or power loss
    # (it syncs the WAL at every commit; see the README for its measured cost).
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    drain_timeout_seconds: float = Field(default=10.0, ge=0)
    # Serve the two order routes on a raw ASGI path (same answers, less per-request work).
    fast_path: bool = True
    # Garbage collection: freeze what start-up built; the young generation's threshold.
    gc_freeze: bool = True
    gc_young_threshold: int = Field(default=700, ge=100)
    # Connections (exchange_ref/connguard.py): request heads over these get 431 (414 for the
    # URL); a head must end within header_timeout of its first byte (408); a request body
    # with no byte for body_timeout gets 408; a connection with no request in progress is
    # closed after idle_timeout; connections over the per-source or total cap are refused at
    # accept; on SIGTERM, requests arriving within shutdown_grace are answered 503
    # SHUTTING_DOWN, then idle connections close (and requests still sending a body get 503).
    max_header_bytes: int = Field(default=32 * 1024, ge=1024)
    max_header_count: int = Field(default=100, ge=10)
    max_url_bytes: int = Field(default=8 * 1024, ge=256)
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    idle_timeout_seconds: float = Field(default=20.0, gt=0)
    body_timeout_seconds: float = Field(default=10.0, gt=0)
    max_connections_per_source: int = Field(default=4096, gt=0)
    max_connections: int = Field(default=60_000, gt=0)
    shutdown_grace_seconds: float = Field(default=1.0, ge=0)

    @field_validator("admin_key")
    @classmethod
    def _long_admin_key(cls, value: str) -> str:
        if value and len(value) < MIN_ADMIN_KEY:
            raise ValueError(
                f"the admin key must be at least {MIN_ADMIN_KEY} characters "
                f"(got {len(value)}); leave it empty to have one generated at start"
            )
        return value

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _upper_synchronous(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("symbols", mode="before")
    @classmethod
    def _split_symbols(cls, value: object) -> object:
        if isinstance(value, str) and value.lstrip().startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError("symbols: not a JSON list; use BTCUSD,ETHUSD") from None
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            value = [p.strip().upper() if isinstance(p, str) else p for p in value]
            value = [p for p in value if p != ""]
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


class InvalidSettings(ValueError):
    """A setting with a value the exchange cannot take; the message is one line."""


def build_settings(**overrides: object) -> ExchangeSettings:
    """The settings from `PINCEX_*` variables with `overrides` on top (None: not given).

    Raises `InvalidSettings` naming the first bad setting."""
    values = {k: v for k, v in overrides.items() if v is not None}
    try:
        return ExchangeSettings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise InvalidSettings(f"invalid setting {where}: {first['msg']}") from None
    except SettingsError as exc:  # a PINCEX_* variable that cannot be read at all
        raise InvalidSettings(f"invalid setting: {exc}") from None
