"""Persistence of the reference exchange: schema, the synchronous `Store`, and group commit."""

from exchange_ref.storage.committer import CommitHook, Committer
from exchange_ref.storage.errors import MissingDirectory, StorageError
from exchange_ref.storage.records import (
    BalanceRecord,
    OrderRecord,
    OrderUpdate,
    Snapshot,
    TradeRecord,
    UserRecord,
    WriteBatch,
)
from exchange_ref.storage.statements import Statements
from exchange_ref.storage.store import QueryHook, Store
from exchange_ref.storage.urls import normalize_url

__all__ = [
    "BalanceRecord",
    "CommitHook",
    "Committer",
    "MissingDirectory",
    "OrderRecord",
    "OrderUpdate",
    "QueryHook",
    "Snapshot",
    "Statements",
    "StorageError",
    "Store",
    "TradeRecord",
    "UserRecord",
    "WriteBatch",
    "normalize_url",
]
