"""Tables and indexes of the exchange database, for PostgreSQL and SQLite.

Amounts are BIGINT (ticks, lots, atoms) and ids are caller-assigned BIGINTs. User ids are
`uuid` on PostgreSQL and SQLAlchemy's `Uuid` (32 hex characters) on SQLite.

Times: on PostgreSQL `created_at`/`updated_at` are `timestamptz`, so the specification's
`created_at > NOW() - INTERVAL '1 hour'` works as written; the store converts microseconds
since the epoch in SQL (`'epoch' + n * interval '1 microsecond'`), with no Python datetime per
row. On SQLite, which has no timestamp type, the same columns hold integer microseconds since
the Unix epoch (UTC): exact, compact and ordered, so the same window reads
`created_at > (unixepoch('now') - 3600) * 1000000` and uses the same indexes.

Enums: PostgreSQL gets the specification's types `order_side`, `order_type` and `order_status`;
SQLite gets text columns with CHECK constraints. `time_in_force` is text with a CHECK on both.
The CHECKs are written as `a = 'X' OR a = 'Y'`: with `IN (...)` lists of three or more values
SQLite 3.40 builds a temporary table per row, which doubled the cost of an order insert.

API keys: `users.api_key_digest` holds the SHA-256 of a user's key (`exchange_ref.keys`), never
the key; schema version 1 held the key itself and is migrated in place by `Store.create_schema`.

Indexes are not part of `metadata`: `index_statements()` renders them, with
`CREATE INDEX CONCURRENTLY IF NOT EXISTS` on PostgreSQL (run outside a transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Enum,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.types import TypeEngine

__all__ = [
    "INDEXES",
    "OPEN_STATUSES",
    "ORDER_STATUSES",
    "ORDER_TYPES",
    "SCHEMA_VERSION",
    "SIDES",
    "TIMES_IN_FORCE",
    "IndexDef",
    "balances",
    "index_statements",
    "metadata",
    "orders",
    "schema_version",
    "trades",
    "users",
]

# 1: the first schema; 2: users.api_key (the key itself) became api_key_digest (its SHA-256).
SCHEMA_VERSION = 2
OPEN_STATUSES = ("PENDING", "PARTIAL")

metadata = MetaData()


def _id() -> TypeEngine[int]:
    # INTEGER PRIMARY KEY makes the id SQLite's rowid (64-bit): no separate key index.
    return BigInteger().with_variant(Integer(), "sqlite")


def _time() -> TypeEngine[Any]:
    return DateTime(timezone=True).with_variant(BigInteger(), "sqlite")


def _amount() -> BigInteger:
    return BigInteger()


SIDES = ("BUY", "SELL")
ORDER_TYPES = ("LIMIT", "MARKET")
ORDER_STATUSES = ("PENDING", "PARTIAL", "FILLED", "CANCELLED", "REJECTED")
TIMES_IN_FORCE = ("GTC", "IOC", "FOK")

order_side = Enum(*SIDES, name="order_side", metadata=metadata)
order_type = Enum(*ORDER_TYPES, name="order_type", metadata=metadata)
order_status = Enum(*ORDER_STATUSES, name="order_status", metadata=metadata)


def _one_of(column: str, values: tuple[str, ...], name: str, sqlite_only: bool) -> CheckConstraint:
    condition = " OR ".join(f"{column} = '{value}'" for value in values)
    check = CheckConstraint(condition, name=name)
    return check.ddl_if(dialect="sqlite") if sqlite_only else check


users = Table(
    "users",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("name", Text(), nullable=False),
    Column("api_key_digest", Text(), nullable=False, unique=True),
    Column("created_at", _time(), nullable=False),
)

balances = Table(
    "balances",
    metadata,
    Column("user_id", Uuid(), nullable=False),
    Column("asset", Text(), nullable=False),
    Column("available", _amount(), nullable=False),
    Column("locked", _amount(), nullable=False),
    Column("updated_at", _time(), nullable=False),
    PrimaryKeyConstraint("user_id", "asset", name="balances_pkey"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", _id(), primary_key=True, autoincrement=False),
    Column("user_id", Uuid(), nullable=False),
    Column("symbol", Text(), nullable=False),
    Column("side", order_side, nullable=False),
    Column("type", order_type, nullable=False),
    Column("time_in_force", Text(), nullable=False),
    Column("price", _amount(), nullable=True),
    Column("quantity", _amount(), nullable=False),
    Column("filled_quantity", _amount(), nullable=False),
    Column("status", order_status, nullable=False),
    Column("created_at", _time(), nullable=False),
    Column("updated_at", _time(), nullable=False),
    _one_of("time_in_force", TIMES_IN_FORCE, "orders_time_in_force", sqlite_only=False),
    _one_of("side", SIDES, "orders_side", sqlite_only=True),
    _one_of("type", ORDER_TYPES, "orders_type", sqlite_only=True),
    _one_of("status", ORDER_STATUSES, "orders_status", sqlite_only=True),
)

trades = Table(
    "trades",
    metadata,
    Column("id", _id(), primary_key=True, autoincrement=False),
    Column("symbol", Text(), nullable=False),
    Column("price", _amount(), nullable=False),
    Column("quantity", _amount(), nullable=False),
    Column("buy_order_id", BigInteger(), nullable=False),
    Column("sell_order_id", BigInteger(), nullable=False),
    Column("buyer_id", Uuid(), nullable=False),
    Column("seller_id", Uuid(), nullable=False),
    Column("taker_side", order_side, nullable=False),
    Column("created_at", _time(), nullable=False),
    _one_of("taker_side", SIDES, "trades_taker_side", sqlite_only=True),
)

schema_version = Table(
    "schema_version",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=False),
    Column("version", Integer(), nullable=False),
    CheckConstraint("id = 1", name="schema_version_single_row"),
)


@dataclass(frozen=True, slots=True)
class IndexDef:
    name: str
    table: str
    columns: str
    where: str | None = None

    def ddl(self, dialect: str) -> str:
        concurrently = "CONCURRENTLY " if dialect == "postgresql" else ""
        where = f" WHERE {self.where}" if self.where else ""
        return (
            f"CREATE INDEX {concurrently}IF NOT EXISTS {self.name} "
            f"ON {self.table} ({self.columns}){where}"
        )


_OPEN = "status IN ('PENDING', 'PARTIAL')"

INDEXES: tuple[IndexDef, ...] = (
    # The specification's two indexes.
    IndexDef("idx_orders_user_created", "orders", "user_id, created_at DESC"),
    IndexDef("idx_orders_symbol_status", "orders", "symbol, status", _OPEN),
    # No separate (symbol, side, price) index for the order-book aggregation: the partial index
    # above already finds a symbol's open orders, and one keyed by price scatters every insert
    # and fill across its pages (measured: it more than doubled the SQLite commit cost).
    # Recent trades of a symbol; the daily volume of all symbols (covering: no table reads).
    IndexDef("idx_trades_symbol_created", "trades", "symbol, created_at"),
    IndexDef("idx_trades_created", "trades", "created_at, symbol, quantity"),
)


def index_statements(dialect: str) -> list[str]:
    """`CREATE INDEX` statements for `dialect` ("postgresql" or "sqlite"), all idempotent."""
    return [index.ddl(dialect) for index in INDEXES]
