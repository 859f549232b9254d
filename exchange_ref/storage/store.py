"""The exchange's database: batched writes in one transaction, a restart snapshot, and queries.

    store = Store("sqlite:///data/exchange.db")        # or postgresql+psycopg://user@host/db
    store.create_schema()
    store.start_checkpointer()                          # SQLite: WAL checkpoints off the hot path
    store.write(batch)                                  # one transaction; all or nothing
    snapshot = store.load()

The hot path (`write`) and the queries use the DBAPI connection of SQLAlchemy's pool directly:
on PostgreSQL one `unnest` statement per table, pipelined in one round trip; on SQLite
`executemany` of prepared statements inside `BEGIN IMMEDIATE ... COMMIT`. Times travel as
integer microseconds and are converted in SQL on PostgreSQL (see `schema`).
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from operator import attrgetter
from pathlib import Path
from time import perf_counter
from typing import Any, cast

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import QueuePool

from exchange_ref.keys import key_digest
from exchange_ref.storage import schema
from exchange_ref.storage.records import (
    BalanceRecord,
    OrderRecord,
    Snapshot,
    TradeRecord,
    UserRecord,
    WriteBatch,
)

__all__ = ["SQLITE_SYNCHRONOUS", "QueryHook", "Store", "normalize_url"]

QueryHook = Callable[[str, float], None]
Row = tuple[Any, ...]

# SQLite's busy handler sleeps at least 1 ms; a BEGIN IMMEDIATE slower than this has waited.
_BUSY_THRESHOLD_S = 0.0005
_SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_SYNCHRONOUS = ("NORMAL", "FULL")
_SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    f"busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}",
    "wal_autocheckpoint=0",
    "cache_size=-65536",
    "temp_store=MEMORY",
)
_OPEN = "status IN ('PENDING', 'PARTIAL')"
_USER_TAIL = attrgetter("name", "api_key_digest", "created_at_us")
_ORDER_TAIL = attrgetter(
    "symbol", "side", "type", "time_in_force", "price", "quantity", "filled_quantity", "status",
    "created_at_us", "updated_at_us",
)  # fmt: skip
_UPDATE_TAIL = attrgetter("filled_quantity", "status", "updated_at_us")
_TRADE_HEAD = attrgetter("id", "symbol", "price", "quantity", "buy_order_id", "sell_order_id")
_SCHEMA_LOCK_KEY = 0x70696E636578  # pg_advisory_lock key serialising create_schema


def normalize_url(url: str) -> str:
    """`postgres://` and `postgresql://` become `postgresql+psycopg://`; SQLite stays."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("postgresql+psycopg://", "sqlite://", "sqlite+pysqlite://")):
        return url
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


# --- SQL --------------------------------------------------------------------------------------


def _pg_ts(expr: str) -> str:
    return f"(timestamptz 'epoch' + {expr} * interval '1 microsecond')"


def _pg_us(column: str) -> str:
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
    f"filled_quantity, status::text, {_pg_us('created_at')}, {_pg_us('updated_at')}"
)
_PG_TRADE_SELECT = (
    "id, symbol, price, quantity, buy_order_id, sell_order_id, buyer_id, seller_id, "
    f"taker_side::text, {_pg_us('created_at')}"
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


class _Sql:
    """The statements of one backend; `p` is its parameter marker."""

    def __init__(self, pg: bool) -> None:
        p = "%s" if pg else "?"
        since = _pg_ts(p) if pg else p
        order_cols = _PG_ORDER_SELECT if pg else _ORDER_COLS
        trade_cols = _PG_TRADE_SELECT if pg else _TRADE_COLS
        user_cols = f"id, name, api_key_digest, {_pg_us('created_at')}" if pg else "*"
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


_SQLITE_WRITE = {
    "users": "INSERT INTO users (id, name, api_key_digest, created_at) VALUES (?, ?, ?, ?)",
    "orders": f"INSERT INTO orders ({_ORDER_COLS}) VALUES ({', '.join('?' * 12)})",
    "updates": "UPDATE orders SET filled_quantity = ?, status = ?, updated_at = ? WHERE id = ?",
    "trades": f"INSERT INTO trades ({_TRADE_COLS}) VALUES ({', '.join('?' * 10)})",
    "balances": "INSERT INTO balances (user_id, asset, available, locked, updated_at) "
    "VALUES (?, ?, ?, ?, ?)" + _BALANCE_UPSERT,
}

_PG_WRITE = {
    "users": "INSERT INTO users (id, name, api_key_digest, created_at) "
    f"SELECT u.id, u.name, u.digest, {_pg_ts('u.c')} "
    "FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::bigint[]) AS u(id, name, digest, c)",
    "orders": f"INSERT INTO orders ({_ORDER_COLS}) "
    "SELECT u.id, u.user_id, u.symbol, u.side, u.type, u.tif, u.price, u.quantity, u.filled, "
    f"u.status, {_pg_ts('u.c')}, {_pg_ts('u.m')} "
    "FROM unnest(%s::bigint[], %s::uuid[], %s::text[], %s::order_side[], %s::order_type[], "
    "%s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::order_status[], %s::bigint[], "
    "%s::bigint[]) "
    "AS u(id, user_id, symbol, side, type, tif, price, quantity, filled, status, c, m)",
    "updates": "UPDATE orders o SET filled_quantity = u.filled, status = u.status, "
    f"updated_at = {_pg_ts('u.m')} "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::order_status[], %s::bigint[]) "
    "AS u(id, filled, status, m) WHERE o.id = u.id",
    "trades": f"INSERT INTO trades ({_TRADE_COLS}) "
    "SELECT u.id, u.symbol, u.price, u.quantity, u.buy, u.sell, u.buyer, u.seller, u.taker, "
    f"{_pg_ts('u.c')} "
    "FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[], "
    "%s::bigint[], %s::uuid[], %s::uuid[], %s::order_side[], %s::bigint[]) "
    "AS u(id, symbol, price, quantity, buy, sell, buyer, seller, taker, c)",
    "balances": "INSERT INTO balances (user_id, asset, available, locked, updated_at) "
    "SELECT u.user_id, u.asset, u.available, u.locked, now() "
    "FROM unnest(%s::uuid[], %s::text[], %s::bigint[], %s::bigint[]) "
    "AS u(user_id, asset, available, locked)" + _BALANCE_UPSERT,
}


# --- Store ------------------------------------------------------------------------------------


class Store:
    """Synchronous access to the exchange database (PostgreSQL or SQLite) through SQLAlchemy.

    `on_query(name, seconds)` is called after each query method (connection checkout included).
    `busy_wait_seconds` accumulates the time writes waited for SQLite's write lock.
    """

    def __init__(
        self,
        url: str,
        pool_size: int = 5,
        on_query: QueryHook | None = None,
        sqlite_synchronous: str = "NORMAL",
    ) -> None:
        if sqlite_synchronous not in SQLITE_SYNCHRONOUS:
            raise ValueError(
                f"sqlite_synchronous must be NORMAL or FULL, not {sqlite_synchronous!r}"
            )
        self.url = normalize_url(url)
        sa_url = make_url(self.url)
        self.backend = sa_url.get_backend_name()
        self.is_postgres = self.backend == "postgresql"
        self.on_query = on_query
        self.busy_wait_seconds = 0.0
        self._sql = _Sql(self.is_postgres)
        self._lock = threading.Lock()
        self._waiting = 0
        self._uuids: dict[str, uuid.UUID] = {}
        self._checkpointer: _Checkpointer | None = None
        self._sqlite_path: Path | None = None
        if not self.is_postgres:
            self._sqlite_path = _sqlite_file(sa_url)
        self.engine: Engine = create_engine(
            sa_url,
            poolclass=QueuePool,
            pool_size=pool_size,
            max_overflow=0,
            isolation_level="AUTOCOMMIT",
            connect_args={} if self.is_postgres else {"check_same_thread": False},
        )
        if not self.is_postgres:
            pragmas = (*_SQLITE_PRAGMAS, f"synchronous={sqlite_synchronous}")
            event.listen(self.engine, "connect", functools.partial(_sqlite_on_connect, pragmas))

    # -- connections ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        """The DBAPI connection (sqlite3 or psycopg, autocommit) of one pool checkout."""
        with self._lock:
            self._waiting += 1
        try:
            proxy = self.engine.raw_connection()
        finally:
            with self._lock:
                self._waiting -= 1
        try:
            yield proxy.driver_connection
        except BaseException:
            conn = proxy.driver_connection
            if self.is_postgres and (conn is None or conn.closed or conn.broken):
                proxy.invalidate()
            raise
        finally:
            proxy.close()

    def pool_status(self) -> dict[str, int]:
        """Connections `active` (checked out), `idle`, `waiting` for a checkout, and `max`."""
        pool = cast(QueuePool, self.engine.pool)
        return {
            "active": pool.checkedout(),
            "idle": pool.checkedin(),
            "waiting": self._waiting,
            "max": pool.size(),
        }

    # -- schema --------------------------------------------------------------------------------

    def create_schema(self) -> None:
        """Create enum types, tables, indexes and the schema_version row; safe to repeat."""
        with self.engine.connect() as conn:
            if self.is_postgres:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _SCHEMA_LOCK_KEY})
                conn.commit()
            try:
                if self.is_postgres:
                    conn.execution_options(isolation_level="READ COMMITTED")
                    with conn.begin():
                        schema.metadata.create_all(conn)
                    conn.execution_options(isolation_level="AUTOCOMMIT")
                else:
                    schema.metadata.create_all(conn)
                self._drop_invalid_indexes(conn)
                for statement in schema.index_statements(self.backend):
                    conn.exec_driver_sql(statement)
                conn.execute(
                    text(
                        "INSERT INTO schema_version (id, version) VALUES (1, :v) "
                        "ON CONFLICT (id) DO NOTHING"
                    ),
                    {"v": schema.SCHEMA_VERSION},
                )
                version = conn.execute(text("SELECT version FROM schema_version")).scalar_one()
            finally:
                if self.is_postgres:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _SCHEMA_LOCK_KEY})
        if version > schema.SCHEMA_VERSION:
            raise RuntimeError(
                f"database schema version {version} is newer than this code's "
                f"{schema.SCHEMA_VERSION}"
            )
        if version < schema.SCHEMA_VERSION:
            self._migrate()

    def _migrate(self) -> None:
        """Bring an older schema to `SCHEMA_VERSION` in one transaction (all or nothing)."""
        p = "%s" if self.is_postgres else "?"
        with self._connection() as conn:
            if self.is_postgres:
                with conn.transaction():
                    # FOR UPDATE: a second process starting at once waits, then finds it done.
                    (version,) = conn.execute(
                        "SELECT version FROM schema_version FOR UPDATE"
                    ).fetchone()
                    if version == 1:
                        _digest_api_keys(conn, p)
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                (version,) = conn.execute("SELECT version FROM schema_version").fetchone()
                if version == 1:
                    _digest_api_keys(conn, p)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _drop_invalid_indexes(self, conn: Any) -> None:
        """An interrupted CREATE INDEX CONCURRENTLY leaves an invalid index: rebuild it."""
        if not self.is_postgres:
            return
        names = [index.name for index in schema.INDEXES]
        invalid = conn.execute(
            text(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE NOT i.indisvalid AND c.relname = ANY(:names)"
            ),
            {"names": names},
        ).scalars()
        for name in list(invalid):
            conn.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")

    def schema_version(self) -> int:
        with self._connection() as conn:
            row = conn.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    # -- writes --------------------------------------------------------------------------------

    def write(self, batch: WriteBatch) -> None:
        """Write everything in `batch` in one transaction; on any error nothing is written."""
        if not len(batch):
            return
        with self._connection() as conn:
            if self.is_postgres:
                _write_pg(conn, batch)
            else:
                self._write_sqlite(conn, batch)
        checkpointer = self._checkpointer
        if checkpointer is not None:
            checkpointer.note_write()

    def _write_sqlite(self, conn: sqlite3.Connection, batch: WriteBatch) -> None:
        started = perf_counter()
        try:
            conn.execute("BEGIN IMMEDIATE")  # takes the write lock: the only place writes wait
        finally:
            waited = perf_counter() - started
            if waited > _BUSY_THRESHOLD_S:
                with self._lock:
                    self.busy_wait_seconds += waited
        try:
            for sql, rows in _sqlite_rows(batch):
                conn.executemany(sql, rows)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- reads ---------------------------------------------------------------------------------

    def _uuid(self, value: Any) -> uuid.UUID:
        if isinstance(value, uuid.UUID):
            return value
        found = self._uuids.get(value)
        if found is None:
            found = uuid.UUID(hex=value)
            if len(self._uuids) < 100_000:
                self._uuids[value] = found
        return found

    def _key(self, user_id: uuid.UUID) -> Any:
        return user_id if self.is_postgres else user_id.hex

    def _fetch(self, name: str, sql: str, params: tuple[Any, ...]) -> list[Row]:
        started = perf_counter()
        with self._connection() as conn:
            rows = cast(list[Row], conn.execute(sql, params).fetchall())
        if self.on_query is not None:
            self.on_query(name, perf_counter() - started)
        return rows

    def _order(self, r: Row) -> OrderRecord:
        return OrderRecord(
            r[0], self._uuid(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]
        )

    def _trade(self, r: Row) -> TradeRecord:
        return TradeRecord(
            r[0], r[1], r[2], r[3], r[4], r[5], self._uuid(r[6]), self._uuid(r[7]), r[8], r[9]
        )

    def _user(self, r: Row) -> UserRecord:
        return UserRecord(self._uuid(r[0]), r[1], r[2], r[3])

    def _balance(self, r: Row) -> BalanceRecord:
        return BalanceRecord(self._uuid(r[0]), r[1], r[2], r[3])

    def load(self) -> Snapshot:
        """Users, balances and open orders (id order), with the highest order and trade ids."""
        sql = self._sql
        with self._connection() as conn:
            if self.is_postgres:
                with conn.transaction():
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    results = [
                        conn.execute(q).fetchall()
                        for q in (sql.load_users, sql.load_balances, sql.load_orders, sql.max_ids)
                    ]
            else:
                conn.execute("BEGIN")
                try:
                    results = [
                        conn.execute(q).fetchall()
                        for q in (sql.load_users, sql.load_balances, sql.load_orders, sql.max_ids)
                    ]
                finally:
                    conn.execute("COMMIT")
        users, balances, orders, ((max_order, max_trade),) = results
        return Snapshot(
            users=[self._user(r) for r in users],
            balances=[self._balance(r) for r in balances],
            open_orders=[self._order(r) for r in orders],
            max_order_id=int(max_order),
            max_trade_id=int(max_trade),
        )

    def orders_for_user(self, user_id: uuid.UUID, limit: int = 50) -> list[OrderRecord]:
        """The user's orders, newest first."""
        rows = self._fetch(
            "orders_for_user", self._sql.orders_for_user, (self._key(user_id), limit)
        )
        return [self._order(r) for r in rows]

    def balances_for_user(self, user_id: uuid.UUID) -> list[BalanceRecord]:
        rows = self._fetch("balances_for_user", self._sql.balances_for_user, (self._key(user_id),))
        return [self._balance(r) for r in rows]

    def recent_trades(self, symbol: str, since_us: int) -> list[TradeRecord]:
        """Trades of `symbol` created after `since_us`, oldest first."""
        rows = self._fetch("recent_trades", self._sql.recent_trades, (symbol, since_us))
        return [self._trade(r) for r in rows]

    def daily_volume(self, since_us: int) -> dict[str, int]:
        """Traded lots per symbol since `since_us`."""
        rows = self._fetch("daily_volume", self._sql.daily_volume, (since_us,))
        return {symbol: int(volume) for symbol, volume in rows}

    def user_by_api_key(self, api_key: str) -> UserRecord | None:
        """The user holding `api_key`, found by its digest (the key itself is not stored)."""
        digest = key_digest(api_key)
        rows = self._fetch("user_by_api_key", self._sql.user_by_api_key, (digest,))
        return self._user(rows[0]) if rows else None

    def orderbook_levels(
        self, symbol: str, side: str, limit_price: int | None = None, depth: int = 50
    ) -> list[tuple[int, int]]:
        """Open quantity per price level of one side, best first, at most `depth` levels.

        `limit_price` keeps the levels at or better than it (BUY: price >= it; SELL: <=).
        """
        if side not in ("BUY", "SELL"):
            raise ValueError(f"side must be BUY or SELL, not {side!r}")
        sql = self._sql.book[(side, limit_price is not None)]
        params: tuple[Any, ...] = (
            (symbol, side, depth) if limit_price is None else (symbol, side, limit_price, depth)
        )
        rows = self._fetch("orderbook_levels", sql, params)
        return [(int(price), int(qty)) for price, qty in rows]

    # -- SQLite checkpoints and shutdown -------------------------------------------------------

    def checkpoint(self, mode: str = "PASSIVE") -> tuple[int, int, int]:
        """Run a WAL checkpoint now (SQLite); returns (busy, wal_frames, checkpointed)."""
        if self._sqlite_path is None:
            return (0, 0, 0)
        if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
            raise ValueError(f"unknown checkpoint mode {mode!r}")
        with self._connection() as conn:
            row = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def start_checkpointer(self, interval_s: float = 1.0, every_writes: int = 1000) -> None:
        """SQLite: checkpoint the WAL (PASSIVE) from a thread every `interval_s` seconds or
        after `every_writes` writes, whichever comes first. No-op on PostgreSQL."""
        if self._sqlite_path is None or self._checkpointer is not None:
            return
        self._checkpointer = _Checkpointer(self._sqlite_path, interval_s, every_writes)
        self._checkpointer.start()

    def stop_checkpointer(self) -> None:
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.stop()

    def close(self) -> None:
        self.stop_checkpointer()
        self.engine.dispose()


@functools.lru_cache(maxsize=65_536)
def _hex(user_id: uuid.UUID) -> str:
    """A user id as SQLite stores it (32 hex digits); users are few, so memoised."""
    return user_id.hex


def _sqlite_rows(batch: WriteBatch) -> Iterator[tuple[str, list[Row]]]:
    if batch.users:
        yield _SQLITE_WRITE["users"], [(u.id.hex, *_USER_TAIL(u)) for u in batch.users]
    if batch.orders:
        orders = batch.orders.values()
        yield _SQLITE_WRITE["orders"], [(o.id, _hex(o.user_id), *_ORDER_TAIL(o)) for o in orders]
    if batch.order_updates:
        updates = batch.order_updates.values()
        yield _SQLITE_WRITE["updates"], [(*_UPDATE_TAIL(u), u.id) for u in updates]
    if batch.trades:
        yield (
            _SQLITE_WRITE["trades"],
            [
                (
                    *_TRADE_HEAD(t),
                    _hex(t.buyer_id),
                    _hex(t.seller_id),
                    t.taker_side,
                    t.created_at_us,
                )
                for t in batch.trades
            ],
        )
    if batch.balances:
        now_us = time.time_ns() // 1000
        balances = batch.balances.values()
        yield (
            _SQLITE_WRITE["balances"],
            [(b.user_id.hex, b.asset, b.available, b.locked, now_us) for b in balances],
        )


def _write_pg(conn: Any, batch: WriteBatch) -> None:
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
            statements.append((_PG_WRITE[table], params))
    with conn.pipeline(), conn.transaction(), conn.cursor() as cur:
        for sql, params in statements:
            cur.execute(sql, params)


# PostgreSQL array literals, built at C speed: psycopg's own list adaptation runs Python code
# per element and cost more than the server's whole insert.


def _ints(values: tuple[int, ...]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def _nullable_ints(values: tuple[int | None, ...]) -> str:
    return "{" + ",".join(["NULL" if v is None else str(v) for v in values]) + "}"


def _uuids(values: tuple[uuid.UUID, ...]) -> str:
    return "{" + ",".join([f"{u.int:032x}" for u in values]) + "}"


def _digest_api_keys(conn: Any, p: str) -> None:
    """Version 1 -> 2: replace each stored API key by its digest (the keys keep working)."""
    conn.execute("ALTER TABLE users RENAME COLUMN api_key TO api_key_digest")
    rows = conn.execute("SELECT id, api_key_digest FROM users").fetchall()
    if rows:
        conn.cursor().executemany(
            f"UPDATE users SET api_key_digest = {p} WHERE id = {p}",
            [(key_digest(key), user_id) for user_id, key in rows],
        )
    conn.execute("UPDATE schema_version SET version = 2")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _texts(values: tuple[str, ...]) -> str:
    quoted = {value: _quote(value) for value in set(values)}
    return "{" + ",".join(map(quoted.__getitem__, values)) + "}"


_Encoder = Callable[[tuple[Any, ...]], str]
_PG_COLUMNS: dict[str, tuple[Callable[[Any], Row], tuple[_Encoder, ...]]] = {
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


def _sqlite_file(url: URL) -> Path:
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        raise ValueError("Store needs a SQLite file (sqlite:///path.db), not an in-memory DB")
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _sqlite_on_connect(pragmas: tuple[str, ...], dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


class _Checkpointer:
    """A thread running `PRAGMA wal_checkpoint(PASSIVE)` on its own connection."""

    def __init__(self, path: Path, interval_s: float, every_writes: int) -> None:
        self._path = path
        self._interval = interval_s
        self._every = max(1, every_writes)
        self._writes = 0
        self._wake = threading.Event()
        self._stopping = False
        self.checkpoints = 0
        self.last_result: tuple[int, int, int] = (0, 0, 0)
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def note_write(self) -> None:
        self._writes += 1
        if self._writes >= self._every:
            self._wake.set()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
            while True:
                self._wake.wait(self._interval)
                self._wake.clear()
                if self._stopping:
                    return
                self._writes = 0
                with contextlib.suppress(sqlite3.Error):
                    row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.last_result = (int(row[0]), int(row[1]), int(row[2]))
                    self.checkpoints += 1
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join()
