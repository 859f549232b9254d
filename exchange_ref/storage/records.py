"""Rows the exchange persists, as plain records shared by the service and the storage layer.

Amounts are integers: prices in ticks and quantities in lots of the order's symbol (see
`exchange_ref.engine.types.SymbolSpec`), balances in atoms (10**-8 of a unit). Times are
microseconds since the Unix epoch. User ids are UUIDs, as in the specification's queries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

__all__ = [
    "BalanceRecord",
    "OrderRecord",
    "OrderUpdate",
    "Snapshot",
    "TradeRecord",
    "UserRecord",
    "WriteBatch",
]


@dataclass(slots=True)
class UserRecord:
    id: uuid.UUID
    name: str
    api_key_digest: str  # exchange_ref.keys.key_digest of the user's key; never the key
    created_at_us: int


@dataclass(slots=True)
class BalanceRecord:
    user_id: uuid.UUID
    asset: str
    available: int
    locked: int


@dataclass(slots=True)
class OrderRecord:
    id: int
    user_id: uuid.UUID
    symbol: str
    side: str  # "BUY" | "SELL"
    type: str  # "LIMIT" | "MARKET"
    time_in_force: str  # "GTC" | "IOC" | "FOK"
    price: int | None  # ticks; None for MARKET
    quantity: int  # lots
    filled_quantity: int  # lots
    status: str  # PENDING | PARTIAL | FILLED | CANCELLED | REJECTED
    created_at_us: int
    updated_at_us: int


@dataclass(slots=True)
class OrderUpdate:
    """A later state of an order already written (fill, cancel)."""

    id: int
    filled_quantity: int
    status: str
    updated_at_us: int


@dataclass(slots=True)
class TradeRecord:
    id: int
    symbol: str
    price: int  # ticks
    quantity: int  # lots
    buy_order_id: int
    sell_order_id: int
    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    taker_side: str  # "BUY" | "SELL"
    created_at_us: int


@dataclass(slots=True)
class WriteBatch:
    """Everything one group commit writes, in one transaction.

    `orders` holds orders first seen in this batch, already in their latest state;
    `order_updates` holds later states of orders written by an earlier batch (last one wins);
    `balances` holds the latest (available, locked) of each touched (user, asset).
    """

    users: list[UserRecord] = field(default_factory=list)
    orders: dict[int, OrderRecord] = field(default_factory=dict)
    order_updates: dict[int, OrderUpdate] = field(default_factory=dict)
    trades: list[TradeRecord] = field(default_factory=list)
    balances: dict[tuple[uuid.UUID, str], BalanceRecord] = field(default_factory=dict)

    def __len__(self) -> int:
        return (
            len(self.users)
            + len(self.orders)
            + len(self.order_updates)
            + len(self.trades)
            + len(self.balances)
        )

    def record_order(self, order: OrderRecord) -> None:
        self.orders[order.id] = order

    def update_order(self, order_id: int, filled: int, status: str, at_us: int) -> None:
        """Record an order's new state, folding it into the insert when it is new here."""
        new = self.orders.get(order_id)
        if new is not None:
            new.filled_quantity = filled
            new.status = status
            new.updated_at_us = at_us
        else:
            self.order_updates[order_id] = OrderUpdate(order_id, filled, status, at_us)

    def set_balance(self, user_id: uuid.UUID, asset: str, available: int, locked: int) -> None:
        self.balances[(user_id, asset)] = BalanceRecord(user_id, asset, available, locked)


@dataclass(slots=True)
class Snapshot:
    """What a restart reads back: enough to rebuild books and balances."""

    users: list[UserRecord]
    balances: list[BalanceRecord]
    open_orders: list[OrderRecord]  # PENDING / PARTIAL, in id order (= time priority)
    max_order_id: int
    max_trade_id: int
