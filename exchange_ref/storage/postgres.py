"""PostgreSQL writes: one `unnest` statement per table, pipelined in one transaction.

The columns travel as PostgreSQL array literals built at C speed: psycopg's own list
adaptation runs Python code per element and cost more than the server's whole insert.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from operator import attrgetter
from typing import Any

from exchange_ref.storage.records import WriteBatch
from exchange_ref.storage.statements import PG_WRITE

__all__ = ["write_pg"]

_Row = tuple[Any, ...]


def write_pg(conn: Any, batch: WriteBatch) -> None:
    """Write `batch` on the psycopg connection `conn` in one transaction."""
    tables: tuple[tuple[str, Collection[Any]], ...] = (
        ("users", batch.users),
        ("orders", batch.orders.values()),
        ("updates", batch.order_updates.values()),
        ("trades", batch.trades),
        ("balances", batch.balances.values()),
    )
    statements = []
    for table, records in tables:
        if records:
            fields, encoders = _PG_COLUMNS[table]
            columns = zip(*map(fields, records), strict=True)
            params = tuple(encode(column) for encode, column in zip(encoders, columns, strict=True))
            statements.append((PG_WRITE[table], params))
    with conn.pipeline(), conn.transaction(), conn.cursor() as cur:
        for sql, params in statements:
            cur.execute(sql, params)


def _ints(values: tuple[int, ...]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def _nullable_ints(values: tuple[int | None, ...]) -> str:
    return "{" + ",".join(["NULL" if v is None else str(v) for v in values]) + "}"


def _uuids(values: tuple[uuid.UUID, ...]) -> str:
    return "{" + ",".join([f"{u.int:032x}" for u in values]) + "}"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _texts(values: tuple[str, ...]) -> str:
    quoted = {value: _quote(value) for value in set(values)}
    return "{" + ",".join(map(quoted.__getitem__, values)) + "}"


_Encoder = Callable[[tuple[Any, ...]], str]
_PG_COLUMNS: dict[str, tuple[Callable[[Any], _Row], tuple[_Encoder, ...]]] = {
    "users": (
        attrgetter("id", "name", "api_key_digest", "created_at_us"),
        (_uuids, _texts, _texts, _ints),
    ),
    "orders": (
        attrgetter(
            "id", "user_id", "symbol", "side", "type", "time_in_force", "price", "quantity",
            "filled_quantity", "status", "created_at_us", "updated_at_us",
        ),
        (_ints, _uuids, _texts, _texts, _texts, _texts, _nullable_ints, _ints, _ints, _texts,
         _ints, _ints),
    ),
    "updates": (
        attrgetter("id", "filled_quantity", "status", "updated_at_us"),
        (_ints, _ints, _texts, _ints),
    ),
    "trades": (
        attrgetter(
            "id", "symbol", "price", "quantity", "buy_order_id", "sell_order_id", "buyer_id",
            "seller_id", "taker_side", "created_at_us",
        ),
        (_ints, _texts, _ints, _ints, _ints, _ints, _uuids, _uuids, _texts, _ints),
    ),
    "balances": (
        attrgetter("user_id", "asset", "available", "locked"),
        (_uuids, _texts, _ints, _ints),
    ),
}  # fmt: skip
