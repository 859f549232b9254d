"""The Store on SQLite and on a real PostgreSQL server: schema, writes, snapshot and queries."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import event

from exchange_ref.keys import key_digest
from exchange_ref.storage import (
    BalanceRecord,
    OrderRecord,
    Store,
    TradeRecord,
    UserRecord,
    WriteBatch,
    normalize_url,
)
from exchange_ref.storage.schema import INDEXES, SCHEMA_VERSION

T0 = 1_760_000_000_000_000  # µs since the epoch (2025-10-09)
ALICE = uuid.UUID("00000000-0000-4000-8000-00000000a11c")
BOB = uuid.UUID("00000000-0000-4000-8000-000000000b0b")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Store:
    fixture = "sqlite_store" if request.param == "sqlite" else "pg_store"
    result: Store = request.getfixturevalue(fixture)
    return result


def order(
    oid: int,
    user: uuid.UUID = ALICE,
    side: str = "BUY",
    price: int | None = 100,
    qty: int = 10,
    filled: int = 0,
    status: str = "PENDING",
    symbol: str = "BTCUSD",
    at: int | None = None,
) -> OrderRecord:
    at = T0 + oid if at is None else at
    kind = "LIMIT" if price is not None else "MARKET"
    tif = "GTC" if price is not None else "IOC"
    return OrderRecord(oid, user, symbol, side, kind, tif, price, qty, filled, status, at, at)


def trade(tid: int, symbol: str = "BTCUSD", qty: int = 1, at: int | None = None) -> TradeRecord:
    at = T0 + tid if at is None else at
    return TradeRecord(tid, symbol, 100, qty, 1, 2, ALICE, BOB, "SELL", at)


def users_batch() -> WriteBatch:
    return WriteBatch(
        users=[
            UserRecord(ALICE, "alice", key_digest("key-a"), T0),
            UserRecord(BOB, "bob", key_digest("key-b"), T0 + 1),
        ]
    )


def test_normalize_url() -> None:
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql://u@h:5/db") == "postgresql+psycopg://u@h:5/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    with pytest.raises(ValueError):
        normalize_url("mysql://u@h/db")
    with pytest.raises(ValueError):
        Store("sqlite://")


def test_sqlite_relative_path_creates_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    store = Store("sqlite:///nested/dir/exchange.db")
    try:
        store.create_schema()
        assert (tmp_path / "nested" / "dir" / "exchange.db").exists()
    finally:
        store.close()


def test_sqlite_missing_directory_is_refused_unless_created(tmp_path: Path) -> None:
    from exchange_ref.storage import MissingDirectory

    missing = tmp_path / "missing" / "dir"
    with pytest.raises(MissingDirectory, match=str(missing)):
        Store(f"sqlite:///{missing / 'x.db'}", create_dirs=False)
    assert not missing.exists()
    store = Store(f"sqlite:///{tmp_path / 'x.db'}", create_dirs=False)  # it exists: fine
    store.close()


def test_sqlite_settings(sqlite_store: Store) -> None:
    with sqlite_store._connection() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0


def test_sqlite_synchronous_full_is_a_setting(tmp_path: Path, monkeypatch) -> None:
    from exchange_ref.server import ServerThread
    from exchange_ref.settings import ExchangeSettings
    from tests.factories import exchange_settings

    monkeypatch.setenv("PINCEX_SQLITE_SYNCHRONOUS", "full")
    assert ExchangeSettings().sqlite_synchronous == "FULL"
    monkeypatch.setenv("PINCEX_SQLITE_SYNCHRONOUS", "sometimes")
    with pytest.raises(ValueError, match="NORMAL"):
        ExchangeSettings()
    with pytest.raises(ValueError, match="NORMAL or FULL"):
        Store(f"sqlite:///{tmp_path / 'x.db'}", sqlite_synchronous="OFF")
    settings = exchange_settings(tmp_path, sqlite_synchronous="FULL")
    with ServerThread(settings) as server, server.service.store._connection() as conn:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_schema_is_idempotent(store: Store) -> None:
    store.write(users_batch())
    store.create_schema()
    store.create_schema()
    assert store.schema_version() == SCHEMA_VERSION
    assert len(store.load().users) == 2


def test_empty_database_loads_empty(store: Store) -> None:
    snapshot = store.load()
    assert (snapshot.users, snapshot.balances, snapshot.open_orders) == ([], [], [])
    assert (snapshot.max_order_id, snapshot.max_trade_id) == (0, 0)


def test_write_and_load_round_trip(store: Store) -> None:
    first = users_batch()
    first.record_order(order(1))
    first.record_order(order(2, user=BOB, side="SELL", price=105, status="PENDING"))
    first.record_order(order(3, price=None, status="FILLED", filled=10))
    first.record_order(order(4, side="SELL", price=110))
    first.update_order(4, 3, "PARTIAL", T0 + 50)  # folded into the insert
    first.trades.append(trade(1))
    first.set_balance(ALICE, "USD", 1_000, 200)
    first.set_balance(BOB, "BTC", 5, 0)
    store.write(first)

    second = WriteBatch()
    second.update_order(1, 4, "PARTIAL", T0 + 100)
    second.update_order(2, 10, "FILLED", T0 + 101)
    second.record_order(order(6, user=BOB, side="SELL", price=104))
    second.record_order(order(5, price=99))  # ids out of order within the batch
    second.trades.extend([trade(2), trade(3)])
    second.set_balance(ALICE, "USD", 900, 150)
    second.set_balance(ALICE, "BTC", 4, 0)
    store.write(second)

    snapshot = store.load()
    assert {u.id: u for u in snapshot.users} == {u.id: u for u in users_batch().users}
    assert [o.id for o in snapshot.open_orders] == [1, 4, 5, 6]
    by_id = {o.id: o for o in snapshot.open_orders}
    assert by_id[1] == OrderRecord(
        1, ALICE, "BTCUSD", "BUY", "LIMIT", "GTC", 100, 10, 4, "PARTIAL", T0 + 1, T0 + 100
    )
    assert by_id[4].filled_quantity == 3 and by_id[4].status == "PARTIAL"
    assert by_id[4].updated_at_us == T0 + 50
    assert by_id[5] == order(5, price=99)
    assert sorted((b.user_id, b.asset, b.available, b.locked) for b in snapshot.balances) == sorted(
        [(ALICE, "USD", 900, 150), (ALICE, "BTC", 4, 0), (BOB, "BTC", 5, 0)]
    )
    assert (snapshot.max_order_id, snapshot.max_trade_id) == (6, 3)
    # Finished orders are kept, with their final state, exact times and NULL market price.
    everything = {o.id: o for o in store.orders_for_user(ALICE) + store.orders_for_user(BOB)}
    assert everything[2].status == "FILLED" and everything[2].filled_quantity == 10
    assert everything[3] == order(3, price=None, status="FILLED", filled=10)


def test_text_values_survive_the_array_encoding(store: Store) -> None:
    names = ['quote"d', "comma,brace{}", "back\\slash", "", "NULL", " padded ", "ünï€ødé"]
    batch = WriteBatch(
        users=[
            UserRecord(uuid.uuid4(), name, key_digest(f"key-{i}"), T0)
            for i, name in enumerate(names)
        ]
    )
    store.write(batch)
    assert sorted(u.name for u in store.load().users) == sorted(names)
    assert store.user_by_api_key("key-0") == batch.users[0]


def test_failed_write_leaves_nothing_of_itself(store: Store) -> None:
    first = users_batch()
    first.record_order(order(1))
    first.trades.append(trade(1))
    first.set_balance(ALICE, "USD", 100, 0)
    store.write(first)
    before = store.load()

    bad = WriteBatch(users=[UserRecord(uuid.uuid4(), "carol", key_digest("key-c"), T0)])
    bad.record_order(order(2))
    bad.update_order(1, 5, "PARTIAL", T0 + 9)
    bad.trades.extend([trade(2), trade(1)])  # duplicate trade id, after valid rows
    bad.set_balance(ALICE, "USD", 0, 0)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        store.write(bad)

    assert store.load() == before
    assert store.user_by_api_key("key-c") is None
    # The store is still usable after the failure.
    good = WriteBatch()
    good.record_order(order(2))
    store.write(good)
    assert [o.id for o in store.load().open_orders] == [1, 2]


@pytest.mark.parametrize(
    "bad",
    [
        order(1, status="BOGUS"),
        order(1, side="HOLD"),
        OrderRecord(1, ALICE, "BTCUSD", "BUY", "STOP", "GTC", 1, 1, 0, "PENDING", T0, T0),
        OrderRecord(1, ALICE, "BTCUSD", "BUY", "LIMIT", "DAY", 1, 1, 0, "PENDING", T0, T0),
    ],
)
def test_enum_columns_reject_unknown_values(store: Store, bad: OrderRecord) -> None:
    batch = WriteBatch()
    batch.record_order(bad)
    with pytest.raises(Exception, match=r"(?i)check|enum|invalid input"):
        store.write(batch)
    assert store.load().max_order_id == 0


def test_orders_for_user_newest_first_and_limited(store: Store) -> None:
    batch = users_batch()
    for oid in range(1, 21):
        batch.record_order(order(oid, user=ALICE if oid % 4 else BOB, at=T0 + 1_000 * (25 - oid)))
    store.write(batch)
    mine = store.orders_for_user(ALICE, limit=5)
    assert [o.id for o in mine] == [1, 2, 3, 5, 6]
    assert [o.id for o in store.orders_for_user(BOB)] == [4, 8, 12, 16, 20]
    assert len(store.orders_for_user(ALICE)) == 15
    assert store.orders_for_user(uuid.uuid4()) == []


def test_balances_and_users(store: Store) -> None:
    batch = users_batch()
    batch.set_balance(ALICE, "USD", 7, 3)
    batch.set_balance(ALICE, "BTC", 1, 0)
    batch.set_balance(BOB, "USD", 9, 0)
    store.write(batch)
    assert store.balances_for_user(ALICE) == [
        BalanceRecord(ALICE, "BTC", 1, 0),
        BalanceRecord(ALICE, "USD", 7, 3),
    ]
    assert store.user_by_api_key("key-b") == UserRecord(BOB, "bob", key_digest("key-b"), T0 + 1)
    assert store.user_by_api_key("nope") is None


def test_recent_trades_and_daily_volume(store: Store) -> None:
    batch = WriteBatch()
    batch.trades.extend(
        [
            trade(1, "BTCUSD", qty=5, at=T0 - 90_000_000_000),  # 25 h before T0: outside
            trade(2, "BTCUSD", qty=7, at=T0 - 7_200_000_000),  # 2 h before
            trade(3, "BTCUSD", qty=11, at=T0 - 1_800_000_000),  # 30 min before
            trade(4, "ETHUSD", qty=13, at=T0 - 600_000_000),
            trade(5, "BTCUSD", qty=17, at=T0),
        ]
    )
    store.write(batch)
    hour_ago = T0 - 3_600_000_000
    assert [t.id for t in store.recent_trades("BTCUSD", hour_ago)] == [3, 5]
    assert store.recent_trades("BTCUSD", hour_ago)[0] == batch.trades[2]
    assert store.recent_trades("SOLUSD", hour_ago) == []
    assert store.recent_trades("BTCUSD", T0) == []  # strictly after
    assert store.daily_volume(T0 - 86_400_000_000) == {"BTCUSD": 35, "ETHUSD": 13}
    assert store.daily_volume(T0) == {}


def _python_levels(
    orders: list[OrderRecord], symbol: str, side: str, limit: int | None, depth: int
) -> list[tuple[int, int]]:
    levels: dict[int, int] = defaultdict(int)
    for o in orders:
        if o.symbol != symbol or o.side != side or o.status not in ("PENDING", "PARTIAL"):
            continue
        assert o.price is not None
        if limit is not None and (o.price < limit if side == "BUY" else o.price > limit):
            continue
        levels[o.price] += o.quantity - o.filled_quantity
    return sorted(levels.items(), reverse=side == "BUY")[:depth]


def test_orderbook_levels_match_a_python_aggregation(store: Store) -> None:
    import random

    rng = random.Random(7)
    statuses = ["PENDING", "PENDING", "PARTIAL", "FILLED", "CANCELLED"]
    orders = []
    for oid in range(1, 401):
        qty = rng.randint(1, 50)
        status = rng.choice(statuses)
        filled = rng.randint(1, qty - 1) if status == "PARTIAL" and qty > 1 else 0
        if status == "PARTIAL" and qty == 1:
            status = "PENDING"
        side = rng.choice(["BUY", "SELL"])
        price = rng.randint(90, 100) if side == "BUY" else rng.randint(99, 110)
        symbol = rng.choice(["BTCUSD", "BTCUSD", "ETHUSD"])
        orders.append(order(oid, side=side, price=price, qty=qty, filled=filled, status=status,
                            symbol=symbol))  # fmt: skip
    first, second = WriteBatch(), WriteBatch()
    for o in orders[:200]:
        first.record_order(o)
    for o in orders[200:]:
        second.record_order(o)
    store.write(first)
    # Fill some resting orders in a later batch, as the engine would.
    for o in orders[:200:7]:
        if o.status == "PENDING" and o.quantity > 2:
            o.filled_quantity, o.status = 2, "PARTIAL"
            second.update_order(o.id, 2, "PARTIAL", T0 + 10_000)
    store.write(second)

    for symbol in ("BTCUSD", "ETHUSD", "SOLUSD"):
        for side in ("BUY", "SELL"):
            for limit in (None, 95, 100, 105):
                for depth in (50, 3):
                    expected = _python_levels(orders, symbol, side, limit, depth)
                    got = store.orderbook_levels(symbol, side, limit_price=limit, depth=depth)
                    assert got == expected, (symbol, side, limit, depth)
    assert store.orderbook_levels("BTCUSD", "BUY")[0][0] >= 99  # best bid first
    with pytest.raises(ValueError):
        store.orderbook_levels("BTCUSD", "buy")


def test_on_query_times_each_query(tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    store = Store(f"sqlite:///{tmp_path / 'q.db'}", on_query=lambda n, s: seen.append((n, s)))
    try:
        store.create_schema()
        store.orders_for_user(ALICE)
        store.balances_for_user(ALICE)
        store.recent_trades("BTCUSD", 0)
        store.daily_volume(0)
        store.user_by_api_key("x")
        store.orderbook_levels("BTCUSD", "SELL", 5)
    finally:
        store.close()
    assert [name for name, _ in seen] == [
        "orders_for_user",
        "balances_for_user",
        "recent_trades",
        "daily_volume",
        "user_by_api_key",
        "orderbook_levels",
    ]
    assert all(0 <= seconds < 5 for _, seconds in seen)


def test_pool_status_counts_active_idle_and_waiting(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'p.db'}", pool_size=1)
    try:
        store.create_schema()
        assert store.pool_status() == {"active": 0, "idle": 1, "waiting": 0, "max": 1}
        release = threading.Event()
        done = threading.Event()
        with store._connection():
            assert store.pool_status()["active"] == 1

            def query() -> None:
                store.daily_volume(0)
                done.set()

            thread = threading.Thread(target=query)
            thread.start()
            deadline = time.monotonic() + 5
            while store.pool_status()["waiting"] != 1 and time.monotonic() < deadline:
                time.sleep(0.005)
            assert store.pool_status()["waiting"] == 1
            release.set()
        assert done.wait(5)
        thread.join()
        assert store.pool_status() == {"active": 0, "idle": 1, "waiting": 0, "max": 1}
    finally:
        store.close()


def test_sqlite_busy_wait_is_counted(sqlite_store: Store) -> None:
    assert sqlite_store._sqlite_path is not None
    blocker = sqlite3.connect(
        sqlite_store._sqlite_path, isolation_level=None, check_same_thread=False
    )
    blocker.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.2, blocker.execute, ["COMMIT"])
    timer.start()
    try:
        batch = WriteBatch()
        batch.record_order(order(1))
        sqlite_store.write(batch)
    finally:
        timer.join()
        blocker.close()
    assert 0.1 < sqlite_store.busy_wait_seconds < 5
    waited = sqlite_store.busy_wait_seconds
    sqlite_store.write(WriteBatch(trades=[trade(1)]))
    assert sqlite_store.busy_wait_seconds == waited  # no contention, nothing added


def test_sqlite_checkpointer_checkpoints(sqlite_store: Store) -> None:
    sqlite_store.start_checkpointer(interval_s=0.01, every_writes=1)
    checkpointer = sqlite_store._checkpointer
    assert checkpointer is not None
    for oid in range(1, 6):
        batch = WriteBatch()
        batch.record_order(order(oid))
        sqlite_store.write(batch)
    deadline = time.monotonic() + 5
    while checkpointer.last_result[1] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    _busy, frames, done = checkpointer.last_result
    assert frames > 0 and done == frames
    sqlite_store.close()  # stops the thread
    assert not checkpointer._thread.is_alive()


@pytest.mark.postgres
def test_postgres_indexes_built_concurrently(pg_store: Store) -> None:
    statements: list[str] = []
    event.listen(
        pg_store.engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(statement),
    )
    pg_store.create_schema()
    for index in INDEXES:
        assert any(
            s.startswith(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index.name} ")
            for s in statements
        )
    with pg_store._connection() as conn:
        rows = dict(
            conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            ).fetchall()
        )
        invalid = conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone()
        types = {r[0] for r in conn.execute("SELECT typname FROM pg_type WHERE typtype = 'e'")}
    assert "(user_id, created_at DESC)" in rows["idx_orders_user_created"]
    assert "(symbol, status) WHERE (status = ANY" in rows["idx_orders_symbol_status"]
    assert {"idx_trades_symbol_created", "idx_trades_created"} <= set(rows)
    assert invalid == (0,)
    assert {"order_side", "order_type", "order_status"} <= types


@pytest.mark.postgres
def test_postgres_queries_can_use_the_indexes(pg_store: Store) -> None:
    with pg_store._connection() as conn:
        conn.execute("SET enable_seqscan = off")
        sql = pg_store.statements

        def plan(query: str, params: tuple[object, ...]) -> str:
            rows = conn.execute("EXPLAIN " + query, params).fetchall()
            return "\n".join(r[0] for r in rows)

        assert "idx_orders_user_created" in plan(sql.orders_for_user, (ALICE, 50))
        assert "idx_orders_symbol_status" in plan(sql.book[("BUY", True)], ("BTCUSD", "BUY", 5, 50))
        assert "idx_trades_symbol_created" in plan(sql.recent_trades, ("BTCUSD", T0))
        assert "idx_trades_created" in plan(sql.daily_volume, (T0,))
        assert "Index" in plan("SELECT * FROM orders WHERE status IN ('PENDING', 'PARTIAL')", ())
        conn.execute("RESET enable_seqscan")


def test_sqlite_indexes_and_query_plans(sqlite_store: Store) -> None:
    with sqlite_store._connection() as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        sql = sqlite_store.statements

        def plan(query: str, params: tuple[object, ...]) -> str:
            return " ".join(r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + query, params))

        assert {index.name for index in INDEXES} <= names
        assert "idx_orders_user_created" in plan(sql.orders_for_user, (ALICE.hex, 50))
        assert "idx_orders_symbol_status" in plan(
            sql.book[("SELL", True)], ("BTCUSD", "SELL", 5, 50)
        )
        assert "idx_trades_symbol_created" in plan(sql.recent_trades, ("BTCUSD", T0))
        assert "idx_trades_created" in plan(sql.daily_volume, (T0,))
