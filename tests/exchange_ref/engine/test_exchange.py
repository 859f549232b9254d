"""Accounts through the exchange core: locks, releases, settlement, conservation."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_ref.engine.errors import NotOrderOwner, OrderNotFound, OrderRejected
from exchange_ref.engine.types import OrderStatus, OrderType, Side, TimeInForce
from tests.factories import atoms, funded_exchange, px, qty

LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
GTC, IOC, FOK = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK


def place(ex, oid, owner, side, price, quantity, type_=LIMIT, tif=GTC):
    return ex.place(
        oid, owner, "BTCUSD", side, type_, tif, px(price) if price else None, qty(quantity), 1_000
    )


def test_resting_buy_locks_price_times_quantity():
    ex = funded_exchange()
    p = place(ex, 1, 1, Side.BUY, "50000", "2")
    assert p.status is OrderStatus.PENDING
    assert ex.accounts.get(1, "USD") == (atoms("900000"), atoms("100000"))


def test_resting_sell_locks_base():
    ex = funded_exchange()
    place(ex, 1, 1, Side.SELL, "50000", "2")
    assert ex.accounts.get(1, "BTC") == (atoms("98"), atoms("2"))


def test_fill_settles_both_sides_at_maker_price_and_refunds_taker_improvement():
    ex = funded_exchange()
    place(ex, 1, 1, Side.SELL, "50000", "1")
    p = place(ex, 2, 2, Side.BUY, "51000", "1")
    assert p.status is OrderStatus.FILLED
    assert [(t.price, t.quantity, t.buyer, t.seller) for t in p.trades] == [
        (px("50000"), qty("1"), 2, 1)
    ]
    assert ex.accounts.get(2, "USD") == (atoms("950000"), 0)
    assert ex.accounts.get(2, "BTC") == (atoms("101"), 0)
    assert ex.accounts.get(1, "USD") == (atoms("1050000"), 0)
    assert ex.accounts.get(1, "BTC") == (atoms("99"), 0)


def test_partial_fill_then_rest_keeps_only_the_rest_locked():
    ex = funded_exchange()
    place(ex, 1, 1, Side.SELL, "49000", "1")
    p = place(ex, 2, 2, Side.BUY, "50000", "3")
    assert p.status is OrderStatus.PARTIAL and p.filled == qty("1")
    # paid 49000 for one, keeps 2 x 50000 locked for the rest
    assert ex.accounts.get(2, "USD") == (
        atoms("1000000") - atoms("49000") - atoms("100000"),
        atoms("100000"),
    )


def test_insufficient_balance_is_rejected_and_changes_nothing():
    ex = funded_exchange(usd="1000")
    before = ex.accounts.get(1, "USD")
    with pytest.raises(OrderRejected) as err:
        place(ex, 1, 1, Side.BUY, "50000", "1")
    assert err.value.code == "INSUFFICIENT_BALANCE"
    assert ex.accounts.get(1, "USD") == before
    assert len(ex.books["BTCUSD"]) == 0


def test_min_notional_is_enforced():
    ex = funded_exchange()
    with pytest.raises(OrderRejected) as err:
        place(ex, 1, 1, Side.BUY, "1", "0.001")
    assert err.value.code == "MIN_NOTIONAL"


def test_cancel_releases_and_checks_owner():
    ex = funded_exchange()
    place(ex, 1, 1, Side.BUY, "50000", "1")
    with pytest.raises(NotOrderOwner):
        ex.cancel(2, 1, 5)
    c = ex.cancel(1, 1, 5)
    assert c.quantity == qty("1") and c.filled == 0
    assert ex.accounts.get(1, "USD") == (atoms("1000000"), 0)
    with pytest.raises(OrderNotFound):
        ex.cancel(1, 1, 6)


def test_market_buy_locks_what_the_book_costs():
    ex = funded_exchange()
    place(ex, 1, 1, Side.SELL, "50000", "1")
    place(ex, 2, 1, Side.SELL, "50100", "1")
    p = place(ex, 3, 2, Side.BUY, None, "1.5", MARKET, IOC)
    assert p.status is OrderStatus.FILLED
    assert ex.accounts.get(2, "USD") == (atoms("1000000") - atoms("50000") - atoms("25050"), 0)


def test_market_buy_beyond_balance_is_rejected():
    ex = funded_exchange(usd="60000")
    place(ex, 1, 1, Side.SELL, "50000", "2")
    with pytest.raises(OrderRejected):
        place(ex, 2, 2, Side.BUY, None, "2", MARKET, IOC)


def test_fok_not_fillable_is_cancelled_and_releases_funds():
    ex = funded_exchange()
    place(ex, 1, 1, Side.SELL, "50000", "1")
    p = place(ex, 2, 2, Side.BUY, "50000", "2", LIMIT, FOK)
    assert p.status is OrderStatus.CANCELLED and p.filled == 0 and not p.trades
    assert ex.accounts.get(2, "USD") == (atoms("1000000"), 0)


def test_self_trade_cancels_the_resting_order_and_releases_it():
    ex = funded_exchange()
    place(ex, 1, 1, Side.SELL, "50000", "1")
    p = place(ex, 2, 1, Side.BUY, "50000", "1")
    assert not p.trades
    assert [(m.order_id, m.status) for m in p.makers] == [(1, OrderStatus.CANCELLED)]
    assert ex.accounts.get(1, "BTC") == (atoms("100"), 0)
    assert 1 not in ex.open


_op = st.tuples(
    st.sampled_from(["limit", "limit", "limit", "market", "cancel"]),
    st.integers(1, 4),  # owner
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(49_990, 50_010),  # whole dollars
    st.integers(1, 300),  # hundredths of a BTC
    st.sampled_from([GTC, GTC, IOC, FOK]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_op, min_size=1, max_size=80))
def test_funds_are_conserved_and_never_negative(ops):
    ex = funded_exchange(owners=4, usd="400000", btc="8")
    totals = ex.accounts.totals()
    oid = 0
    for kind, owner, side, dollars, hundredths, tif in ops:
        oid += 1
        try:
            if kind == "cancel":
                if ex.open:
                    victim = sorted(ex.open)[dollars % len(ex.open)]
                    ex.cancel(ex.open[victim].owner, victim, oid)
                continue
            if kind == "market":
                ex.place(oid, owner, "BTCUSD", side, MARKET, IOC, None, hundredths * 1000, oid)
            else:
                ex.place(
                    oid, owner, "BTCUSD", side, LIMIT, tif, dollars * 100, hundredths * 1000, oid
                )
        except OrderRejected:
            pass
        assert ex.accounts.totals() == totals
        for _owner, _asset, available, locked in ex.accounts:
            assert available >= 0 and locked >= 0
        locks = ex.locked_by_orders()
        for o, asset, _available, locked in ex.accounts:
            assert locked == locks.get((o, asset), 0)
        bid, ask = ex.books["BTCUSD"].best_bid(), ex.books["BTCUSD"].best_ask()
        assert bid is None or ask is None or bid < ask
