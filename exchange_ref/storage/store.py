"""The exchange's database: batched writes in one transaction, a restart snapshot, and queries.

    store = Store("sqlite:///data/exchange.db")        # or postgresql+psycopg://user@host/db
    store.create_schema()
    store.start_checkpointer()                          # SQLite: WAL checkpoints off the hot path
    store.write(batch)                                  # one transaction; all or nothing
    snapshot = store.load()

The hot path (`write`) and the queries use the DBAPI connection of SQLAlchemy's pool directly:
on PostgreSQL one `unnest` statement per table, pipelined in one round trip
(`exchange_ref.storage.postgres`); on SQLite `executemany` of prepared statements inside
`BEGIN IMMEDIATE ... COMMIT` (`exchange_ref.storage.sqlite`). The SQL itself is in
`exchange_ref.storage.statements`.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from time import perf_counter
from typing import Any, cast

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import QueuePool

from exchange_ref.keys import key_digest
from exchange_ref.storage import schema
from exchange_ref.storage.migrations import digest_api_keys
from exchange_ref.storage.postgres import write_pg
from exchange_ref.storage.records import (
    BalanceRecord,
    OrderRecord,
    Snapshot,
    TradeRecord,
    UserRecord,
    WriteBatch,
)
from exchange_ref.storage.sqlite import (
    PRAGMAS,
    SQLITE_SYNCHRONOUS,
    Checkpointer,
    on_connect,
    sqlite_file,
    write_sqlite,
)
from exchange_ref.storage.statements import Statements
from exchange_ref.storage.urls import normalize_url

__all__ = ["SQLITE_SYNCHRONOUS", "QueryHook", "Store", "normalize_url"]

QueryHook = Callable[[str, float], None]
Row = tuple[Any, ...]

_SCHEMA_LOCK_KEY = 0x70696E636578  # pg_advisory_lock key serialising create_schema


class Store:
    """Synchronous access to the exchange database (PostgreSQL or SQLite) through SQLAlchemy.

    `on_query(name, seconds)` is called after each query method (connection checkout included).
    `busy_wait_seconds` accumulates the time writes waited for SQLite's write lock.
    `statements` are the queries it runs (public so that a benchmark can run the same SQL).
    A SQLite file's missing directory is created unless `create_dirs` is False, when it
    raises `MissingDirectory`.
    """

    def __init__(
        self,
        url: str,
        pool_size: int = 5,
        on_query: QueryHook | None = None,
        sqlite_synchronous: str = "NORMAL",
        create_dirs: bool = True,
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
        self.statements = Statements(self.is_postgres)
        self._lock = threading.Lock()
        self._waiting = 0
        self._uuids: dict[str, uuid.UUID] = {}
        self._checkpointer: Checkpointer | None = None
        self._sqlite_path: Path | None = None
        if not self.is_postgres:
            self._sqlite_path = sqlite_file(sa_url, create_dirs)
        self.engine: Engine = create_engine(
            sa_url,
            poolclass=QueuePool,
            pool_size=pool_size,
            max_overflow=0,
            isolation_level="AUTOCOMMIT",
            connect_args={} if self.is_postgres else {"check_same_thread": False},
        )
        if not self.is_postgres:
            pragmas = (*PRAGMAS, f"synchronous={sqlite_synchronous}")
            event.listen(self.engine, "connect", functools.partial(on_connect, pragmas))

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
        p = self.statements.marker
        with self._connection() as conn:
            if self.is_postgres:
                with conn.transaction():
                    # FOR UPDATE: a second process starting at once waits, then finds it done.
                    (version,) = conn.execute(
                        "SELECT version FROM schema_version FOR UPDATE"
                    ).fetchone()
                    if version == 1:
                        digest_api_keys(conn, p)
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                (version,) = conn.execute("SELECT version FROM schema_version").fetchone()
                if version == 1:
                    digest_api_keys(conn, p)
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
                write_pg(conn, batch)
            else:
                write_sqlite(conn, batch, self._note_busy)
        checkpointer = self._checkpointer
        if checkpointer is not None:
            checkpointer.note_write()

    def _note_busy(self, seconds: float) -> None:
        with self._lock:
            self.busy_wait_seconds += seconds

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
        sql = self.statements
        with self.read_transaction() as conn:
            results = [
                conn.execute(q).fetchall()
                for q in (sql.load_users, sql.load_balances, sql.load_orders, sql.max_ids)
            ]
        users, balances, orders, ((max_order, max_trade),) = results
        return Snapshot(
            users=[self._user(r) for r in users],
            balances=[self._balance(r) for r in balances],
            open_orders=[self._order(r) for r in orders],
            max_order_id=int(max_order),
            max_trade_id=int(max_trade),
        )

    @contextlib.contextmanager
    def read_transaction(self) -> Iterator[Any]:
        """A DBAPI connection inside one read-only transaction whose view of the database is
        fixed when the block is entered (PostgreSQL: REPEATABLE READ; SQLite: its WAL read
        snapshot), so that the reads inside it agree with each other whatever commits later.
        The connection may be used from another thread inside the block, one at a time."""
        with self._connection() as conn:
            if self.is_postgres:
                with conn.transaction():
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    conn.execute("SELECT version FROM schema_version").fetchall()
                    yield conn
                return
            conn.execute("BEGIN")
            try:
                conn.execute("SELECT version FROM schema_version").fetchall()
                yield conn
            finally:
                conn.execute("COMMIT")

    def orders_for_user(self, user_id: uuid.UUID, limit: int = 50) -> list[OrderRecord]:
        """The user's orders, newest first."""
        rows = self._fetch(
            "orders_for_user", self.statements.orders_for_user, (self._key(user_id), limit)
        )
        return [self._order(r) for r in rows]

    def balances_for_user(self, user_id: uuid.UUID) -> list[BalanceRecord]:
        rows = self._fetch(
            "balances_for_user", self.statements.balances_for_user, (self._key(user_id),)
        )
        return [self._balance(r) for r in rows]

    def recent_trades(self, symbol: str, since_us: int) -> list[TradeRecord]:
        """Trades of `symbol` created after `since_us`, oldest first."""
        rows = self._fetch("recent_trades", self.statements.recent_trades, (symbol, since_us))
        return [self._trade(r) for r in rows]

    def daily_volume(self, since_us: int) -> dict[str, int]:
        """Traded lots per symbol since `since_us`."""
        rows = self._fetch("daily_volume", self.statements.daily_volume, (since_us,))
        return {symbol: int(volume) for symbol, volume in rows}

    def user_by_api_key(self, api_key: str) -> UserRecord | None:
        """The user holding `api_key`, found by its digest (the key itself is not stored)."""
        digest = key_digest(api_key)
        rows = self._fetch("user_by_api_key", self.statements.user_by_api_key, (digest,))
        return self._user(rows[0]) if rows else None

    def orderbook_levels(
        self, symbol: str, side: str, limit_price: int | None = None, depth: int = 50
    ) -> list[tuple[int, int]]:
        """Open quantity per price level of one side, best first, at most `depth` levels.

        `limit_price` keeps the levels at or better than it (BUY: price >= it; SELL: <=).
        """
        if side not in ("BUY", "SELL"):
            raise ValueError(f"side must be BUY or SELL, not {side!r}")
        sql = self.statements.book[(side, limit_price is not None)]
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
        self._checkpointer = Checkpointer(self._sqlite_path, interval_s, every_writes)
        self._checkpointer.start()

    def stop_checkpointer(self) -> None:
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.stop()

    def close(self) -> None:
        self.stop_checkpointer()
        self.engine.dispose()
