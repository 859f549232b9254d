"""SQLite specifics: the file, the connection pragmas, batched writes and the WAL checkpointer.

Writes run `executemany` of prepared statements inside `BEGIN IMMEDIATE ... COMMIT`; WAL
checkpoints are taken off the hot path by a `Checkpointer` thread (automatic ones are off).
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from operator import attrgetter
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy.engine import URL

from exchange_ref.storage.errors import MissingDirectory
from exchange_ref.storage.records import WriteBatch
from exchange_ref.storage.statements import SQLITE_WRITE

__all__ = [
    "BUSY_TIMEOUT_MS",
    "PRAGMAS",
    "SQLITE_SYNCHRONOUS",
    "Checkpointer",
    "on_connect",
    "sqlite_file",
    "write_sqlite",
]

# SQLite's busy handler sleeps at least 1 ms; a BEGIN IMMEDIATE slower than this has waited.
_BUSY_THRESHOLD_S = 0.0005
BUSY_TIMEOUT_MS = 10_000
SQLITE_SYNCHRONOUS = ("NORMAL", "FULL")
PRAGMAS = (
    "journal_mode=WAL",
    f"busy_timeout={BUSY_TIMEOUT_MS}",
    "wal_autocheckpoint=0",
    "cache_size=-65536",
    "temp_store=MEMORY",
)
_Row = tuple[Any, ...]
_USER_TAIL = attrgetter("name", "api_key_digest", "created_at_us")
_ORDER_TAIL = attrgetter(
    "symbol", "side", "type", "time_in_force", "price", "quantity", "filled_quantity", "status",
    "created_at_us", "updated_at_us",
)  # fmt: skip
_UPDATE_TAIL = attrgetter("filled_quantity", "status", "updated_at_us")
_TRADE_HEAD = attrgetter("id", "symbol", "price", "quantity", "buy_order_id", "sell_order_id")


def sqlite_file(url: URL, create_dirs: bool = True) -> Path:
    """The database file of a SQLite URL; its directory is created when `create_dirs`, else
    a missing one raises `MissingDirectory`. An in-memory database is refused (ValueError)."""
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        raise ValueError("Store needs a SQLite file (sqlite:///path.db), not an in-memory DB")
    path = Path(database)
    if create_dirs:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        raise MissingDirectory(path.parent)
    return path


def on_connect(pragmas: tuple[str, ...], dbapi_connection: Any, _record: Any) -> None:
    """SQLAlchemy `connect` listener: apply `pragmas` to a new connection."""
    cursor = dbapi_connection.cursor()
    try:
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def write_sqlite(
    conn: sqlite3.Connection, batch: WriteBatch, on_busy: Callable[[float], None]
) -> None:
    """Write `batch` in one transaction; `on_busy(seconds)` is told how long it waited for the
    write lock, when it did wait."""
    started = perf_counter()
    try:
        conn.execute("BEGIN IMMEDIATE")  # takes the write lock: the only place writes wait
    finally:
        waited = perf_counter() - started
        if waited > _BUSY_THRESHOLD_S:
            on_busy(waited)
    try:
        for sql, rows in _sqlite_rows(batch):
            conn.executemany(sql, rows)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@functools.lru_cache(maxsize=65_536)
def _hex(user_id: uuid.UUID) -> str:
    """A user id as SQLite stores it (32 hex digits); users are few, so memoised."""
    return user_id.hex


def _sqlite_rows(batch: WriteBatch) -> Iterator[tuple[str, list[_Row]]]:
    if batch.users:
        yield SQLITE_WRITE["users"], [(u.id.hex, *_USER_TAIL(u)) for u in batch.users]
    if batch.orders:
        orders = batch.orders.values()
        yield SQLITE_WRITE["orders"], [(o.id, _hex(o.user_id), *_ORDER_TAIL(o)) for o in orders]
    if batch.order_updates:
        updates = batch.order_updates.values()
        yield SQLITE_WRITE["updates"], [(*_UPDATE_TAIL(u), u.id) for u in updates]
    if batch.trades:
        yield (
            SQLITE_WRITE["trades"],
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
            SQLITE_WRITE["balances"],
            [(b.user_id.hex, b.asset, b.available, b.locked, now_us) for b in balances],
        )


class Checkpointer:
    """A thread running `PRAGMA wal_checkpoint(PASSIVE)` on its own connection every
    `interval_s` seconds or after `every_writes` writes, whichever comes first."""

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
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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
