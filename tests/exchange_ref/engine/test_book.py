"""The order book's semantics, case by case, against the pure-Python and compiled books."""

from __future__ import annotations

import pytest

from exchange_ref.engine import _book_core
from exchange_ref.engine import book as book_module
from exchange_ref.engine.types import Side, TimeInForce

BUY, SELL = 0, 1
GTC, IOC, FOK = 0, 1, 2

IMPLEMENTATIONS = [pytest.param(_book_core.OrderBook, id="python")]
if book_module.COMPILED:
    IMPLEMENTATIONS.append(pytest.param(book_module.OrderBook, id="mypyc"))


@pytest.fixture(params=IMPLEMENTATIONS)
def make(request):
    """The OrderBook class under test."""
    return request.param


def summary(ex):
    return (ex.filled, ex.resting, ex.fills, ex.stp_cancelled, ex.killed)


def seqs(ex):
    return (ex.first_seq, ex.last_seq)


def test_the_module_exports_the_compiled_book_when_it_is_fresh():
    expected = "exchange_ref.engine._book_native" if book_module.COMPILED else "_book_core"
    assert book_module.OrderBook.__module__.endswith(expected)
    assert book_module.Execution.__module__ == book_module.OrderBook.__module__


def test_a_limit_order_that_crosses_nothing_rests(make):
    book = make()
    ex = book.submit(1, BUY, 100, 5)
    assert summary(ex) == (0, 5, [], [], False)
    assert seqs(ex) == (1, 1)
    assert book.seq == 1
    assert (book.best_bid(), book.best_ask()) == (100, None)
    assert book.level_qty(BUY, 100) == 5
    assert book.get(1) == (BUY, 100, 5, 0)
    assert len(book) == 1
    assert 1 in book
    assert 2 not in book


def test_price_priority_best_ask_first(make):
    book = make()
    book.submit(1, SELL, 102, 1)
    book.submit(2, SELL, 101, 1)
    book.submit(3, SELL, 103, 1)
    ex = book.submit(4, BUY, 103, 1)
    assert summary(ex) == (1, 0, [(2, 0, 101, 1, 0)], [], False)
    assert book.best_ask() == 102


def test_price_priority_best_bid_first(make):
    book = make()
    book.submit(1, BUY, 98, 1)
    book.submit(2, BUY, 99, 1)
    book.submit(3, BUY, 97, 1)
    ex = book.submit(4, SELL, 97, 2)
    assert ex.fills == [(2, 0, 99, 1, 0), (1, 0, 98, 1, 0)]
    assert book.best_bid() == 97


def test_time_priority_within_a_level_and_partial_fill_of_the_maker(make):
    book = make()
    book.submit(1, SELL, 101, 3)
    book.submit(2, SELL, 101, 4)
    ex = book.submit(3, BUY, 101, 5)
    assert summary(ex) == (5, 0, [(1, 0, 101, 3, 0), (2, 0, 101, 2, 2)], [], False)
    assert seqs(ex) == (3, 4)
    assert book.get(1) is None
    assert book.get(2) == (SELL, 101, 2, 0)
    assert book.level_qty(SELL, 101) == 2
    assert list(book.orders()) == [(2, SELL, 101, 2, 0)]


def test_partial_fill_of_the_taker_rests_the_remainder_at_its_price(make):
    book = make()
    book.submit(1, SELL, 101, 3)
    ex = book.submit(2, BUY, 102, 5)
    assert summary(ex) == (3, 2, [(1, 0, 101, 3, 0)], [], False)
    assert seqs(ex) == (2, 3)  # one fill, one rest
    assert (book.best_bid(), book.best_ask()) == (102, None)
    assert book.get(2) == (BUY, 102, 2, 0)


def test_a_sweep_takes_several_levels_at_the_makers_prices(make):
    book = make()
    book.submit(1, SELL, 101, 2)
    book.submit(2, SELL, 102, 3)
    book.submit(3, SELL, 103, 4)
    book.submit(4, SELL, 105, 1)
    ex = book.submit(5, BUY, 103, 8)
    assert ex.fills == [(1, 0, 101, 2, 0), (2, 0, 102, 3, 0), (3, 0, 103, 3, 1)]
    assert (ex.filled, ex.resting) == (8, 0)
    assert seqs(ex) == (5, 7)
    assert book.best_ask() == 103
    assert book.depth(SELL, 5) == [(103, 1), (105, 1)]


def test_a_sweep_stops_at_the_limit_price(make):
    book = make()
    book.submit(1, BUY, 100, 2)
    book.submit(2, BUY, 99, 2)
    book.submit(3, BUY, 98, 2)
    ex = book.submit(4, SELL, 99, 10)
    assert ex.fills == [(1, 0, 100, 2, 0), (2, 0, 99, 2, 0)]
    assert (ex.filled, ex.resting) == (4, 6)
    assert (book.best_bid(), book.best_ask()) == (98, 99)


def test_ioc_drops_the_remainder(make):
    book = make()
    book.submit(1, SELL, 101, 2)
    ex = book.submit(2, BUY, 101, 5, tif=IOC)
    assert summary(ex) == (2, 0, [(1, 0, 101, 2, 0)], [], False)
    assert seqs(ex) == (2, 2)
    assert 2 not in book
    assert (book.best_bid(), book.best_ask()) == (None, None)


def test_ioc_that_crosses_nothing_changes_nothing(make):
    book = make()
    book.submit(1, SELL, 101, 2)
    ex = book.submit(2, BUY, 100, 5, tif=IOC)
    assert summary(ex) == (0, 0, [], [], False)
    assert seqs(ex) == (2, 1)
    assert book.seq == 1


def test_fok_that_cannot_fill_entirely_is_killed_and_changes_nothing(make):
    book = make()
    book.submit(1, SELL, 101, 2)
    book.submit(2, SELL, 102, 2)
    book.submit(3, SELL, 104, 9)
    before = list(book.orders())
    ex = book.submit(4, BUY, 102, 5, tif=FOK)  # 4 lots at or under 102
    assert summary(ex) == (0, 0, [], [], True)
    assert seqs(ex) == (4, 3)
    assert book.seq == 3
    assert list(book.orders()) == before
    assert 4 not in book


def test_fok_on_an_empty_side_is_killed(make):
    book = make()
    ex = book.submit(1, BUY, 102, 5, tif=FOK)
    assert summary(ex) == (0, 0, [], [], True)
    assert book.seq == 0


def test_fok_that_can_fill_executes_in_full(make):
    book = make()
    book.submit(1, SELL, 101, 2)
    book.submit(2, SELL, 102, 2)
    ex = book.submit(3, BUY, 102, 4, tif=FOK)
    assert summary(ex) == (4, 0, [(1, 0, 101, 2, 0), (2, 0, 102, 2, 0)], [], False)
    assert seqs(ex) == (3, 4)
    assert book.best_ask() is None


def test_market_buy_sweeps_ignoring_the_price_argument(make):
    book = make()
    book.submit(1, SELL, 101, 2)
    book.submit(2, SELL, 105, 3)
    ex = book.submit(3, BUY, 1, 4, market=True)
    assert summary(ex) == (4, 0, [(1, 0, 101, 2, 0), (2, 0, 105, 2, 1)], [], False)
    assert book.best_ask() == 105


def test_market_sell_drops_what_the_book_cannot_fill_even_as_gtc(make):
    book = make()
    book.submit(1, BUY, 99, 2)
    book.submit(2, BUY, 97, 1)
    ex = book.submit(3, SELL, 0, 10, market=True, tif=GTC)
    assert summary(ex) == (3, 0, [(1, 0, 99, 2, 0), (2, 0, 97, 1, 0)], [], False)
    assert len(book) == 0
    assert (book.best_bid(), book.best_ask()) == (None, None)


def test_market_order_on_an_empty_book(make):
    book = make(start_seq=7)
    ex = book.submit(1, BUY, 0, 5, market=True)
    assert summary(ex) == (0, 0, [], [], False)
    assert seqs(ex) == (8, 7)
    assert book.seq == 7
    ex = book.submit(2, SELL, 0, 5, market=True, tif=FOK)
    assert ex.killed is True


def test_market_fok_has_no_price_limit(make):
    book = make()
    book.submit(1, SELL, 101, 2)
    book.submit(2, SELL, 500, 2)
    ex = book.submit(3, BUY, 0, 4, market=True, tif=FOK)
    assert (ex.filled, ex.killed) == (4, False)


def test_cancel(make):
    book = make()
    book.submit(1, BUY, 100, 5, owner=9)
    book.submit(2, BUY, 100, 1)
    assert book.cancel(1) == (BUY, 100, 5, 9)
    assert book.seq == 3
    assert book.cancel(1) is None
    assert book.cancel(42) is None
    assert book.seq == 3
    assert book.level_qty(BUY, 100) == 1
    assert book.cancel(2) == (BUY, 100, 1, 0)
    assert (book.best_bid(), book.level_qty(BUY, 100), len(book)) == (None, 0, 0)


def test_cancel_of_a_partly_filled_order_returns_what_is_left(make):
    book = make()
    book.submit(1, SELL, 101, 5)
    book.submit(2, BUY, 101, 2)
    assert book.cancel(1) == (SELL, 101, 3, 0)
    assert book.cancel(2) is None  # filled in full: finished


def test_cancel_in_the_middle_of_a_level_keeps_fifo(make):
    book = make()
    for order_id in (1, 2, 3):
        book.submit(order_id, SELL, 101, 1)
    book.cancel(2)
    ex = book.submit(4, BUY, 101, 2)
    assert [f[0] for f in ex.fills] == [1, 3]


def test_self_trade_prevention_cancels_the_resting_order_and_goes_on(make):
    book = make()
    book.submit(1, SELL, 101, 2, owner=7)
    book.submit(2, SELL, 101, 3, owner=8)
    ex = book.submit(3, BUY, 101, 4, owner=7)
    assert summary(ex) == (3, 1, [(2, 8, 101, 3, 0)], [(1, 101, 2)], False)
    assert seqs(ex) == (3, 5)  # cancel, fill, rest
    assert book.get(1) is None
    assert (book.best_bid(), book.best_ask()) == (101, None)


def test_anonymous_orders_never_self_trade(make):
    book = make()
    book.submit(1, SELL, 101, 2)
    ex = book.submit(2, BUY, 101, 2)
    assert (ex.fills, ex.stp_cancelled) == ([(1, 0, 101, 2, 0)], [])


def test_fok_does_not_count_own_orders(make):
    book = make()
    book.submit(1, SELL, 101, 2, owner=7)
    book.submit(2, SELL, 101, 1, owner=8)
    ex = book.submit(3, BUY, 101, 2, owner=7, tif=FOK)
    assert summary(ex) == (0, 0, [], [], True)
    assert book.get(1) == (SELL, 101, 2, 7)
    ex = book.submit(4, BUY, 101, 1, owner=7, tif=FOK)
    assert summary(ex) == (1, 0, [(2, 8, 101, 1, 0)], [(1, 101, 2)], False)


def test_restore_rests_in_call_order_without_matching(make):
    book = make(start_seq=10)
    book.restore(5, SELL, 101, 2)
    book.restore(3, SELL, 101, 4, owner=2)
    book.restore(9, BUY, 99, 1)
    assert book.seq == 13
    assert list(book.orders()) == [(9, BUY, 99, 1, 0), (5, SELL, 101, 2, 0), (3, SELL, 101, 4, 2)]
    ex = book.submit(11, BUY, 101, 3)
    assert ex.fills == [(5, 0, 101, 2, 0), (3, 2, 101, 1, 3)]


def test_restore_refuses_a_live_id_and_a_crossing_price(make):
    book = make()
    book.restore(1, SELL, 101, 2)
    with pytest.raises(ValueError, match="already live"):
        book.restore(1, SELL, 102, 2)
    with pytest.raises(ValueError, match="cross"):
        book.restore(2, BUY, 101, 2)
    with pytest.raises(ValueError):
        book.restore(3, BUY, 100, 0)
    assert book.seq == 1
    assert list(book.orders()) == [(1, SELL, 101, 2, 0)]


def test_depth_level_qty_and_fillable(make):
    book = make()
    book.submit(1, BUY, 99, 1)
    book.submit(2, BUY, 99, 2, owner=4)
    book.submit(3, BUY, 98, 5)
    book.submit(4, BUY, 97, 1)
    book.submit(5, SELL, 103, 6)
    assert book.depth(BUY, 2) == [(99, 3), (98, 5)]
    assert book.depth(BUY, 10) == [(99, 3), (98, 5), (97, 1)]
    assert book.depth(SELL, 10) == [(103, 6)]
    assert book.depth(BUY, 0) == []
    assert book.level_qty(BUY, 99) == 3
    assert book.level_qty(BUY, 50) == 0
    assert book.level_qty(SELL, 99) == 0
    # a taker selling 4 down to 98: 3 at 99, 1 at 98
    assert book.fillable(SELL, 4, 98) == (4, 3 * 99 + 98)
    assert book.fillable(SELL, 4, 99) == (3, 3 * 99)
    assert book.fillable(SELL, 100, None) == (9, 3 * 99 + 5 * 98 + 97)
    assert book.fillable(SELL, 4, None, owner=4) == (4, 99 + 3 * 98)
    assert book.fillable(BUY, 10, 102) == (0, 0)
    assert book.fillable(BUY, 2, None) == (2, 2 * 103)
    assert book.seq == 5  # queries change nothing


def test_orders_lists_bids_then_asks_best_first_fifo_within_a_level(make):
    book = make()
    book.submit(1, BUY, 98, 1)
    book.submit(2, SELL, 103, 1)
    book.submit(3, BUY, 99, 1)
    book.submit(4, SELL, 102, 1)
    book.submit(5, BUY, 99, 2)
    assert list(book.orders()) == [
        (3, BUY, 99, 1, 0),
        (5, BUY, 99, 2, 0),
        (1, BUY, 98, 1, 0),
        (4, SELL, 102, 1, 0),
        (2, SELL, 103, 1, 0),
    ]


def test_seq_counts_every_book_change(make):
    book = make(start_seq=100)
    assert book.seq == 100
    assert seqs(book.submit(1, SELL, 101, 1)) == (101, 101)
    assert seqs(book.submit(2, SELL, 101, 1)) == (102, 102)
    assert seqs(book.submit(3, SELL, 102, 5)) == (103, 103)
    ex = book.submit(4, BUY, 102, 4)  # removes 1 and 2, reduces 3: three changes
    assert seqs(ex) == (104, 106)
    book.cancel(3)
    assert book.seq == 107


def test_invalid_orders_raise_and_change_nothing(make):
    book = make()
    book.submit(1, BUY, 100, 1)
    for args, kwargs in [
        ((2, BUY, 100, 0), {}),
        ((2, BUY, 100, -3), {}),
        ((2, BUY, 0, 1), {}),
        ((2, BUY, -5, 1), {}),
        ((2, 2, 100, 1), {}),
        ((2, BUY, 100, 1), {"tif": 3}),
        ((1, BUY, 99, 1), {}),  # order 1 is live
        ((1, SELL, 100, 1), {}),  # even when it would trade
    ]:
        with pytest.raises(ValueError):
            book.submit(*args, **kwargs)
    assert book.seq == 1
    assert list(book.orders()) == [(1, BUY, 100, 1, 0)]
    assert book.submit(2, SELL, 0, 1, market=True).filled == 1  # a market order needs no price
    assert book.submit(1, BUY, 100, 1).resting == 1  # a finished id can be used again


def test_enum_members_are_accepted(make):
    book = make()
    book.submit(1, Side.SELL, 101, 2)
    ex = book.submit(2, Side.BUY, 101, 1, tif=TimeInForce.FOK)
    assert ex.fills == [(1, 0, 101, 1, 1)]
    assert book.depth(Side.SELL, 1) == [(101, 1)]


def test_execution_lists_are_the_callers_own(make):
    book = make()
    first = book.submit(1, BUY, 100, 1)
    second = book.submit(2, BUY, 100, 1)
    first.fills.append((0, 0, 0, 0, 0))
    assert first.fills is first.fills
    assert second.fills == []
    assert "resting=1" in repr(second)
