"""Seeding users straight into the exchange's database while no exchange runs on it."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry

from exchange_ref.feed.hub import MarketDataHub
from exchange_ref.metrics import ExchangeMetrics
from exchange_ref.service import ExchangeService
from exchange_ref.settings import ExchangeSettings
from exchange_ref.storage.committer import Committer
from exchange_ref.storage.store import Store

__all__ = ["SEED_DEPOSITS", "SeededUser", "seed_users"]

# What each seeded user is given: enough to trade every default symbol at length.
SEED_DEPOSITS = {
    "USD": Decimal("10000000"),
    "BTC": Decimal("1000"),
    "ETH": Decimal("10000"),
    "SOL": Decimal("100000"),
}

SeededUser = dict[str, str]


async def seed_users(settings: ExchangeSettings, count: int, prefix: str) -> list[SeededUser]:
    """Create `count` users with fresh API keys and `SEED_DEPOSITS`, committed; returns each as
    `{"userId", "name", "apiKey"}` (the only time a key is known)."""
    store = Store(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        create_dirs=settings.create_dirs,
    )
    try:
        metrics = ExchangeMetrics(CollectorRegistry())
        service = ExchangeService(
            settings,
            store,
            Committer(store),
            metrics,
            MarketDataHub(metrics, list(settings.symbols)),
        )
        await service.start()
        users = service.create_users(count, SEED_DEPOSITS, prefix)
        await service.durable()
        await service.stop()
    finally:
        store.close()
    return [{"userId": str(u.id), "name": u.name, "apiKey": key} for u, key in users]
