"""Random operation sequences: the book's invariants, and agreement with the baseline book."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.bench.baseline_book import BaselineBook
from exchange_ref.engine import _book_core
from exchange_ref.engine import book as book_module

IMPLEMENTATIONS = [pytest.param(_book_core.OrderBook, id="python")]
if book_module.COMPILED:
    IMPLEMENTATIONS.append(pytest.param(book_module.OrderBook, id="mypyc"))

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("submit"),
            st.integers(0, 1),
            st.integers(97, 103),  # a narrow band: orders meet often
            st.integers(1, 12),
            st.integers(0, 2),  # owner, 0 anonymous
            st.sampled_from([False] * 9 + [True]),  # market about one time in ten
            st.integers(0, 2),
        ),
        st.tuples(st.just("cancel"), st.integers(0, 200)),
    ),
    min_size=20,
    max_size=200,
)


def _check_book(book) -> None:
    bid, ask = book.best_bid(), book.best_ask()
    assert bid is None or ask is None or bid < ask, "crossed book"
    resting = list(book.orders())
    assert len(resting) == len(book)
    per_level: dict[tuple[int, int], int] = defaultdict(int)
    for order_id, side, price, remaining, owner in resting:
        assert remaining > 0
        assert book.get(order_id) == (side, price, remaining, owner)
        per_level[side, price] += remaining
    for (side, price), lots in per_level.items():
        assert book.level_qty(side, price) == lots
    for side in (0, 1):
        depth = book.depth(side, 1000)
        assert depth == sorted(
            ((p, q) for (s, p), q in per_level.items() if s == side), reverse=side == 0
        )
        best = bid if side == 0 else ask
        assert (depth[0][0] if depth else None) == best


@pytest.mark.parametrize("make", IMPLEMENTATIONS)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
def test_random_flows_keep_the_invariants_and_match_the_baseline(make, ops) -> None:
    book = make()
    baseline = BaselineBook()
    remaining: dict[int, int] = {}  # resting order id -> lots left, as the executions tell
    rested = filled_from_makers = cancelled = 0
    for n, op in enumerate(ops, start=1):
        seq_before = book.seq
        if op[0] == "cancel":
            target = op[1]
            got = book.cancel(target)
            assert got == baseline.cancel(target)
            if got is None:
                assert book.seq == seq_before
            else:
                assert got[2] == remaining.pop(target)
                cancelled += got[2]
                assert book.seq == seq_before + 1
        else:
            _, side, price, qty, owner, market, tif = op
            ex = book.submit(n, side, price, qty, owner, market, tif)
            ref = baseline.submit(n, side, price, qty, owner, market, tif)
            assert (ex.filled, ex.resting, ex.fills, ex.stp_cancelled, ex.killed) == (
                ref.filled,
                ref.resting,
                ref.fills,
                ref.stp_cancelled,
                ref.killed,
            )
            assert ex.filled == sum(f[3] for f in ex.fills)
            assert ex.filled + ex.resting <= qty
            for maker_id, _owner, _price, lots, left in ex.fills:
                assert 0 < lots <= remaining[maker_id]
                assert left == remaining[maker_id] - lots
                filled_from_makers += lots
                if left:
                    remaining[maker_id] = left
                else:
                    del remaining[maker_id]
            for maker_id, _price, lots in ex.stp_cancelled:
                assert remaining.pop(maker_id) == lots
                cancelled += lots
            if ex.killed:
                assert tif == 2 and ex.filled == ex.resting == 0 and not ex.fills
            if ex.resting:
                assert not market and tif == 0
                remaining[n] = ex.resting
                rested += ex.resting
            changes = len(ex.fills) + len(ex.stp_cancelled) + (1 if ex.resting else 0)
            assert (ex.first_seq, ex.last_seq) == (seq_before + 1, seq_before + changes)
            assert book.seq == ex.last_seq
        _check_book(book)
        assert (book.best_bid(), book.best_ask()) == (baseline.best_bid(), baseline.best_ask())
        assert len(book) == len(baseline)
        resting_lots = sum(order[3] for order in book.orders())
        assert resting_lots == rested - filled_from_makers - cancelled
        assert {order[0]: order[3] for order in book.orders()} == remaining
