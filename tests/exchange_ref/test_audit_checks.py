"""The audit's checks as pure functions over literal states: what only a broken engine could
produce (a crossed book) and how the figures are compared."""

from __future__ import annotations

import uuid

from exchange_ref.audit import merge_ranges
from exchange_ref.audit_checks import (
    balances_reconcile,
    book_not_crossed,
    locks_match_open_orders,
    orders_present,
)
from exchange_ref.audit_state import AuditSnapshot, BookState, DurableState, MemoryState
from exchange_ref.engine.types import DEFAULT_SYMBOLS

A = uuid.UUID(int=1)
B = uuid.UUID(int=2)
SPECS = {"BTCUSD": DEFAULT_SYMBOLS["BTCUSD"]}  # a lot is 1000 BTC atoms, a tick x lot 10 USD


def durable(**overrides: object) -> DurableState:
    values: dict[str, object] = {
        "max_order_id": 0,
        "max_trade_id": 0,
        "balances": {},
        "open_locks": {},
        "open_orders": {},
        "acknowledged": 0,
        "ranges": 0,
        "ids_what": "acknowledged orders",
        "missing": (0, []),
        "overfilled": (0, []),
        "fill_scope": "every stored order",
        "fill_mismatches": (0, []),
        "trade_flows": None,
    }
    values.update(overrides)
    return DurableState(**values)  # type: ignore[arg-type]


def memory(
    books: dict[str, BookState] | None = None,
    deposits: dict[tuple[uuid.UUID, str], int] | None = None,
) -> MemoryState:
    return MemoryState({}, {}, books or {}, 0, 0, deposits or {})


def test_a_crossed_book_fails_with_its_prices() -> None:
    crossed = memory({"BTCUSD": BookState({1: 5, 2: 5}, 5_000_100, 5_000_000)})
    check = book_not_crossed(crossed, durable(open_orders={"BTCUSD": {1: 5, 2: 5}}))
    assert not check.passed
    assert "BTCUSD crossed: best bid 5000100 >= best ask 5000000" in check.detail


def test_the_book_and_the_stored_open_orders_must_agree_order_by_order() -> None:
    mem = memory({"BTCUSD": BookState({1: 5, 2: 7}, 4_999_900, 5_000_000)})
    assert book_not_crossed(mem, durable(open_orders={"BTCUSD": {1: 5, 2: 7}})).passed
    check = book_not_crossed(mem, durable(open_orders={"BTCUSD": {1: 5, 2: 6, 3: 1}}))
    assert not check.passed
    assert check.detail.startswith("2 wrong in 1 book (best bid < best ask) and its 2 resting")
    assert "order 2: book 7, store 6" in check.detail
    assert "order 3: book absent, store 1" in check.detail


def test_locks_are_what_the_open_orders_hold_in_atoms() -> None:
    # A buys 3 lots at 100 ticks (3000 USD atoms locked), B sells 4 lots (4000 BTC atoms)
    locks = {(A, "BTCUSD", "BUY"): 300, (B, "BTCUSD", "SELL"): 4}
    ok = {(A, "USD"): (0, 3000), (B, "BTC"): (0, 4000)}
    assert locks_match_open_orders(durable(open_locks=locks, balances=ok), SPECS).passed
    off = {(A, "USD"): (0, 3000), (B, "BTC"): (0, 3999), (B, "USD"): (0, 1)}
    check = locks_match_open_orders(durable(open_locks=locks, balances=off), SPECS)
    assert not check.passed and check.detail.startswith("2 of 3 locked balances")


def test_balances_reconcile_with_the_trades_after_the_snapshot() -> None:
    snap = AuditSnapshot(
        "s1",
        10,
        4,
        {(A, "USD"): 10_000, (A, "BTC"): 0, (B, "BTC"): 5000},
        frozenset({A, B}),
        {"USD": 10_000, "BTC": 5000},
    )
    # A bought 2 lots from B for 50 ticks x lots: +2000 BTC atoms, -500 USD atoms
    flows = {(A, "BTCUSD"): (2, 50), (B, "BTCUSD"): (-2, -50)}
    now = {
        (A, "USD"): (9_500, 0),
        (A, "BTC"): (2000, 0),
        (B, "BTC"): (3000, 0),
        (B, "USD"): (500, 0),
    }
    mem = memory()
    assert balances_reconcile(mem, durable(balances=now, trade_flows=flows), snap, SPECS).passed
    now[(B, "USD")] = (499, 0)
    check = balances_reconcile(mem, durable(balances=now, trade_flows=flows), snap, SPECS)
    assert not check.passed
    assert f"user {B} USD: moved 499 atoms, trades say 500" in check.detail


def test_a_user_created_after_the_snapshot_reconciles_from_its_deposit() -> None:
    c = uuid.UUID(int=3)
    snap = AuditSnapshot("s1", 0, 0, {(A, "USD"): 1000}, frozenset({A}), {"USD": 1000})
    # C (created since with 5000 BTC atoms) sold A 1 lot for 20 ticks x lots (200 USD atoms)
    flows = {(A, "BTCUSD"): (1, 20), (c, "BTCUSD"): (-1, -20)}
    now = {(A, "USD"): (800, 0), (A, "BTC"): (1000, 0), (c, "BTC"): (4000, 0), (c, "USD"): (200, 0)}
    d = durable(balances=now, trade_flows=flows)
    check = balances_reconcile(memory(deposits={(c, "BTC"): 5000}), d, snap, SPECS)
    assert check.passed, check.detail
    assert "4 balances of 2 users" in check.detail and "1 users created since" in check.detail
    check = balances_reconcile(memory(deposits={(c, "BTC"): 4000}), d, snap, SPECS)
    assert not check.passed
    assert f"user {c} BTC: moved 0 atoms, trades say -1000" in check.detail


def test_missing_orders_are_counted_and_the_first_named() -> None:
    check = orders_present(durable(acknowledged=10, ranges=2, missing=(3, [4, 5, 9])))
    assert not check.passed
    assert (
        check.detail == "3 of 10 acknowledged orders (2 id ranges) not in the store; first: 4, 5, 9"
    )


def test_ranges_are_merged_when_they_overlap_or_touch() -> None:
    assert merge_ranges([(5, 9), (1, 2), (3, 3), (8, 12), (20, 20)]) == [(1, 3), (5, 12), (20, 20)]
    assert merge_ranges([]) == []
