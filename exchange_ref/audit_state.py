"""What the exchange's audit compares: the engine's state in memory, the store's figures, and
the snapshots taken before a load test, as plain values.

`MemoryState.capture(service)` copies the engine's balances, supply and books at one moment;
`DurableState` holds what `AuditReads` found in the store at that same moment.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from exchange_ref.storage.audit_reads import UserAsset

if TYPE_CHECKING:
    from exchange_ref.service import ExchangeService

__all__ = ["AuditCheck", "AuditSnapshot", "BookState", "DurableState", "MemoryState"]


@dataclass(frozen=True, slots=True)
class AuditCheck:
    """One invariant: its name, whether it held, and what was checked with counts."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class AuditSnapshot:
    """The store at one moment before a load test: balances, users and high-water marks."""

    id: str
    max_order_id: int
    max_trade_id: int
    balances: dict[UserAsset, int]  # available + locked, atoms
    users: frozenset[uuid.UUID]
    supply: dict[str, int]  # the engine's deposits - withdrawals per asset then

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (_user, asset), total in self.balances.items():
            out[asset] = out.get(asset, 0) + total
        return out


@dataclass(frozen=True, slots=True)
class BookState:
    """One symbol's in-memory book: remaining lots by order id, and the touch."""

    orders: dict[int, int]
    best_bid: int | None
    best_ask: int | None


@dataclass(frozen=True, slots=True)
class MemoryState:
    balances: dict[UserAsset, tuple[int, int]]  # (available, locked), atoms
    supply: dict[str, int]
    books: dict[str, BookState]
    max_order_id: int  # the last order id the engine gave
    max_trade_id: int
    deposits: dict[UserAsset, int]  # what users created by this process were given, atoms

    @classmethod
    def capture(cls, service: ExchangeService) -> MemoryState:
        """A copy of the engine's state now (call it where nothing else runs)."""
        users = service.users.by_owner
        exchange = service.exchange
        balances = {
            (users[owner].id, asset): (available, locked)
            for owner, asset, available, locked in exchange.accounts
            if owner in users
        }
        books = {
            symbol: BookState(
                {oid: remaining for oid, _side, _price, remaining, _owner in book.orders()},
                book.best_bid(),
                book.best_ask(),
            )
            for symbol, book in exchange.books.items()
        }
        return cls(
            balances,
            exchange.accounts.supply(),
            books,
            service.next_order_id - 1,
            exchange.next_trade_id - 1,
            {
                (user, asset): atoms
                for user, given in service.deposits.items()
                for asset, atoms in given.items()
            },
        )


@dataclass(slots=True)
class DurableState:
    """The store's figures, read in one transaction at the moment `MemoryState` was taken."""

    max_order_id: int
    max_trade_id: int
    balances: dict[UserAsset, tuple[int, int]]
    open_locks: dict[tuple[uuid.UUID, str, str], int]  # see AuditReads.open_locks
    open_orders: dict[str, dict[int, int]]  # symbol -> id -> remaining lots
    acknowledged: int  # ids asked about in orders_present
    ranges: int
    ids_what: str  # what those ids are, in words
    missing: tuple[int, list[int]]
    overfilled: tuple[int, list[tuple[int, int, int]]]
    fill_scope: str  # which orders the fill sums covered, in words
    fill_mismatches: tuple[int, list[tuple[int, int, int]]]
    trade_flows: dict[tuple[uuid.UUID, str], tuple[int, int]] | None  # None: no snapshot
