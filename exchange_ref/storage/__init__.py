"""Persistence of the reference exchange: schema, the synchronous `Store`, and group commit."""

from exchange_ref.storage.committer import CommitHook, Committer
from exchange_ref.storage.records import (
    BalanceRecord,
    OrderRecord,
    OrderUpdate,
    Snapshot,
    TradeRecord,
    UserRecord,
    WriteBatch,
)
from exchange_ref.storage.store import QueryHook, Store, normalize_url

__all__ = [
    "BalanceRecord",
    "CommitHook",
    "Committer",
    "OrderRecord",
    "OrderUpdate",
    "QueryHook",
    "Snapshot",
    "Store",
    "TradeRecord",
    "UserRecord",
    "WriteBatch",
    "normalize_url",
]
