"""The SQL the exchange runs, per backend: the queries (`Statements`) and the batched writes.

Times travel as integer microseconds; on PostgreSQL they are converted in SQL (`pg_ts` one
way, `pg_us` the other), on SQLite they are stored as they are.

    sql = Statements(pg=False)
    conn.execute(sql.orders_for_user, (user_key, 50))
"""

from __future__ import annotations

__all__ = ["PG_WRITE", "SQLITE_WRITE", "Statements", "pg_ts", "pg_us"]

_OPEN = "status IN ('PENDING', 'PARTIAL')"


def pg_ts(expr: str) -> str:
    """PostgreSQL: integer microseconds since the epoch as a timestamptz."""
    return f"(timestamptz 'epoch' + {expr} * interval '1 microsecond')"


def pg_us(column: str) -> str:
    """PostgreSQL: a timestamptz column as integer microseconds since the epoch."""
    return f"(extract(epoch FROM {column}) * 1000000)::bigint"


_ORDER_COLS = (
    "id, user_id, symbol, side, type, time_in_force, price, quantity, filled_quantity, "
    "status, created_at, updated_at"
)
_TRADE_COLS = (
    "id, symbol, price, quantity, buy_order_id, sell_order_id, buyer_id, seller_id, "
    "taker_side, created_at"
)
_BALANCE_UPSERT = (
    " ON CONFLICT (user_id, asset) DO UPDATE SET available = excluded.available, "
    "locked = excluded.locked, updated_at = excluded.updated_at"
)

_PG_ORDER_SELECT = (
    "id, user_id, symbol, side::text, type::text, time_in_force, price, quantity, "
    f"filled_quantity, status::text, {pg_us('created_at')}, {pg_us('updated_at')}"
)
_PG_TRADE_SELECT = (
    "id, symbol, price, quantity, buy_order_id, sell_order_id, buyer_id, seller_id, "
    f"taker_side::text, {pg_us('created_at')}"
)
_BOOK = (
    "SELECT price, SUM(quantity - filled_quantity){cast} AS total_quantity FROM orders "
    "WHERE symbol = {p} AND side = {p}{side_cast} AND " + _OPEN + "{limit} "
    "GROUP BY price ORDER BY price {direction} LIMIT {p}"
)


def _book_sql(p: str, cast: str, side_cast: str) -> dict[tuple[str, bool], str]:
    out = {}
    for side, direction, op in (("BUY", "DESC", ">="), ("SELL", "ASC", "<=")):
        for limited in (False, True):
            limit = f" AND price {op} {p}" if limited else ""
            out[(side, limited)] = _BOOK.format(
                p=p, cast=cast, side_cast=side_cast, limit=limit, direction=direction
            )
    return out


class Statements:
    """The queries of one backend (PostgreSQL when `pg`, else SQLite), with its parameter
    marker; `book[(side, limited)]` is the order book query of one side, with or without a
    price limit."""

    def __init__(self, pg: bool) -> None:
        p = "%s" if pg else "?"
        self.marker = p
        since = pg_ts(p) if pg else p
        order_cols = _PG_ORDER_SELECT if pg else _ORDER_COLS
        trade_cols = _PG_TRADE_SELECT if pg else _TRADE_COLS
        user_cols = f"id, name, api_key_digest, {pg_us('created_at')}" if pg else "*"
        sum_cast = "::bigint" if pg else ""
        self.orders_for_user = (
            f"SELECT {order_cols} FROM orders WHERE user_id = {p} "
            f"ORDER BY created_at DESC LIMIT {p}"
        )
        self.balances_for_user = (
            f"SELECT user_id, asset, available, locked FROM balances WHERE user_id = {p} "
            "ORDER BY asset"
        )
        self.recent_trades = (
            f"SELECT {trade_cols} FROM trades WHERE symbol = {p} AND created_at > {since} "
            "ORDER BY created_at, id"
        )
        # Without statistics SQLite would rather scan all of idx_trades_symbol_created (it
        # yields symbols in GROUP BY order) than range-scan the covering time index.
        hint = "" if pg else " INDEXED BY idx_trades_created"
        self.daily_volume = (
            f"SELECT symbol, SUM(quantity){sum_cast} AS volume FROM trades{hint} "
            f"WHERE created_at > {since} GROUP BY symbol"
        )
        self.user_by_api_key = f"SELECT {user_cols} FROM users WHERE api_key_digest = {p}"
        self.book = _book_sql(p, sum_cast, "::order_side" if pg else "")
        self.load_users = f"SELECT {user_cols} FROM users ORDER BY created_at, id"
        self.load_balances = "SELECT user_id, asset, available, locked FROM balances"
        self.load_orders = f"SELECT {order_cols} FROM orders WHERE {_OPEN} ORDER BY id"
        self.max_ids = (
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM orders), "
            "(SELECT COALESCE(MAX(id), 0) FROM trades)"
        )


SQLITE_WRITE = {
    "users": "INSERT INTO users (id, name, api_key_digest, created_at) VALUES (?, ?, ?, ?)",
    "orders": f"INSERT INTO orders ({_ORDER_COLS}) VALUES ({', '.join('?' * 12)})",
    "updates": "UPDATE orders SET filled_quantity = ?, status = ?, updated_at = ? WHERE id = ?",
    "trades": f"INSERT INTO trades ({_TRADE_COLS}) VALUES ({', '.join('?' * 10)})",
    "balances": "INSERT INTO balances (user_id, asset, available, locked, updated_at) "
    "VALUES (?, ?, ?, ?, ?)" + _BALANCE_UPSERT,
}

PG_WRITE = {
    "users": "INSERT INTO users (id, name, api_key_digest, created_at) "
    f"SELECT u.id, u.name, u.digest, {pg_ts('u.c')} "
    "FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::bigint[]) AS u(id, name, digest, c)",
    "orders": f"INSERT INTO orders ({_ORDER_COLS}) "
    "SELECT u.id, u.user_id, u.symbol, u.side, u.type, u.tif, u.price, u.quantity, u.filled, "
    f"u.status, {pg_ts('u.c')}, {pg_ts('u.m')} "
    "FROM unnest(%s::bigint[], %s::uuid[], %s::text[], %s::order_side[], %s::order_type[], "
    "%s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::order_status[], %s::bigint[], "
    "%s::bigint[]) "
    "AS u(id, user_id, symbol, side, type, tif, price, quantity, filled, status, c, m)",
    "updates": "UPDATE orders o SET filled_quantity = u.filled, status = u.status, "
    f"updated_at = {pg_ts('u.m')} "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::order_status[], %s::bigint[]) "
    "AS u(id, filled, status, m) WHERE o.id = u.id",
    "trades": f"INSERT INTO trades ({_TRADE_COLS}) "
    "SELECT u.id, u.symbol, u.price, u.quantity, u.buy, u.sell, u.buyer, u.seller, u.taker, "
    f"{pg_ts('u.c')} "
    "FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[], "
    "%s::bigint[], %s::uuid[], %s::uuid[], %s::order_side[], %s::bigint[]) "
    "AS u(id, symbol, price, quantity, buy, sell, buyer, seller, taker, c)",
    "balances": "INSERT INTO balances (user_id, asset, available, locked, updated_at) "
    "SELECT u.user_id, u.asset, u.available, u.locked, now() "
    "FROM unnest(%s::uuid[], %s::text[], %s::bigint[], %s::bigint[]) "
    "AS u(user_id, asset, available, locked)" + _BALANCE_UPSERT,
}
