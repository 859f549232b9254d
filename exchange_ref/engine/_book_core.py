"""The order book's implementation; `exchange_ref.engine.book` documents the contract.

This module imports nothing from the project so that `_book_build` can compile it alone with
mypyc; the same source runs, slower, as plain Python.

Layout, chosen by profiling the replay benchmark:

* each side is a `_Half`: a dict `key -> _Level` and a sorted list of the keys, best last, so
  the best level is `keys[-1]` (cached in `top`) and removing it is a `list.pop()`. A bid's key
  is its price, an ask's key minus its price: on both sides a larger key is a better price, and
  a taker crosses a level when `key >= threshold` with `threshold = sign * limit_price`;
* each `_Level` keeps its aggregate quantity and a doubly linked FIFO of `_Order`s, so a cancel
  unlinks in O(1) and leaves no garbage behind;
* `_orders` maps an order id to its `_Order`, which points at its level;
* removed `_Order`s go to a bounded pool and are reused by the next orders to rest, which
  saves an allocation and a deallocation per order.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from typing import Final

__all__ = ["MAX_PRICE", "Execution", "OrderBook"]

MAX_PRICE: Final = (1 << 62) - 1
"""Largest accepted limit price, in ticks."""

_EMPTY: Final = -(1 << 62)  # the `top` key of an empty side: below every threshold
_NO_LIMIT: Final = _EMPTY + 1  # threshold of a market order: crossed by every level
_SPARE_ORDERS: Final = 4096  # removed `_Order` objects kept for reuse

Fill = tuple[int, int, int, int, int]


class Execution:
    """What one `submit` did; see `exchange_ref.engine.book`."""

    __slots__ = ("_fills", "_stp", "filled", "first_seq", "killed", "last_seq", "resting")

    def __init__(
        self,
        filled: int,
        resting: int,
        fills: list[Fill] | None,
        stp_cancelled: list[tuple[int, int, int]] | None,
        killed: bool,
        first_seq: int,
        last_seq: int,
    ) -> None:
        self.filled = filled
        self.resting = resting
        self._fills = fills
        self._stp = stp_cancelled
        self.killed = killed
        self.first_seq = first_seq
        self.last_seq = last_seq

    @property
    def fills(self) -> list[Fill]:
        """(maker_id, maker_owner, price, qty, maker_remaining_after) per maker, in order."""
        fills = self._fills
        if fills is None:  # most orders trade nothing: the list is made on first use
            fills = self._fills = []
        return fills

    @property
    def stp_cancelled(self) -> list[tuple[int, int, int]]:
        """(order_id, price, remaining) per maker cancelled by self-trade prevention."""
        stp = self._stp
        if stp is None:
            stp = self._stp = []
        return stp

    def __repr__(self) -> str:
        return (
            f"Execution(filled={self.filled}, resting={self.resting}, fills={self.fills}, "
            f"stp_cancelled={self.stp_cancelled}, killed={self.killed}, "
            f"first_seq={self.first_seq}, last_seq={self.last_seq})"
        )


class _Level:
    __slots__ = ("head", "key", "price", "qty", "side", "tail")

    def __init__(self, side: int, price: int, key: int) -> None:
        self.side = side
        self.price = price
        self.key = key
        self.qty = 0
        self.head: _Order | None = None
        self.tail: _Order | None = None


class _Order:
    __slots__ = ("level", "nxt", "oid", "owner", "prv", "remaining")

    def __init__(self, oid: int, remaining: int, owner: int, level: _Level) -> None:
        self.oid = oid
        self.remaining = remaining
        self.owner = owner
        self.level = level
        self.prv: _Order | None = None
        self.nxt: _Order | None = None


class _Half:
    """One side of the book."""

    __slots__ = ("keys", "levels", "side", "sign", "top")

    def __init__(self, side: int) -> None:
        self.side = side
        self.sign = 1 if side == 0 else -1
        self.levels: dict[int, _Level] = {}
        self.keys: list[int] = []
        self.top = _EMPTY

    def drop(self, level: _Level) -> None:
        """Forget an empty level."""
        key = level.key
        del self.levels[key]
        keys = self.keys
        if key == self.top:
            keys.pop()
            self.top = keys[-1] if keys else _EMPTY
        else:
            del keys[bisect_left(keys, key)]


class OrderBook:
    """A price-time priority limit order book of one symbol; integers only."""

    __slots__ = ("_asks", "_bids", "_orders", "_spare", "seq")

    def __init__(self, start_seq: int = 0) -> None:
        self.seq = start_seq
        self._bids = _Half(0)
        self._asks = _Half(1)
        self._orders: dict[int, _Order] = {}
        self._spare: list[_Order] = []

    # -- commands --------------------------------------------------------------------------

    def submit(
        self,
        order_id: int,
        side: int,
        price: int,
        qty: int,
        owner: int = 0,
        market: bool = False,
        tif: int = 0,
    ) -> Execution:
        """Match a new order, then rest what is left of a GTC limit order."""
        if qty <= 0:
            raise ValueError(f"quantity must be positive, got {qty}")
        if side == 0:
            own = self._bids
            opp = self._asks
        elif side == 1:
            own = self._asks
            opp = self._bids
        else:
            raise ValueError(f"side must be 0 (buy) or 1 (sell), got {side}")
        if market:
            threshold = _NO_LIMIT
        elif 0 < price <= MAX_PRICE:
            threshold = -price if side == 0 else price
        else:
            raise ValueError(f"limit price must be in 1..{MAX_PRICE} ticks, got {price}")
        if tif < 0 or tif > 2:
            raise ValueError(f"tif must be 0 (GTC), 1 (IOC) or 2 (FOK), got {tif}")
        first = self.seq + 1
        fills: list[Fill] | None = None
        stp: list[tuple[int, int, int]] | None = None
        if opp.top < threshold:  # nothing to match: most orders are passive
            left = qty
            if tif != 0 or market:
                if order_id in self._orders:
                    raise ValueError(f"order id {order_id} is already live")
                return Execution(0, 0, None, None, tif == 2, first, first - 1)
        else:
            if order_id in self._orders:
                raise ValueError(f"order id {order_id} is already live")
            if tif == 2 and self._fillable(opp, threshold, qty, owner)[0] < qty:
                return Execution(0, 0, None, None, True, first, first - 1)
            fills = []
            stp = []
            left = self._match(opp, threshold, qty, owner, fills, stp)
            if left == 0 or tif != 0 or market:
                return Execution(qty - left, 0, fills, stp, False, first, self.seq)
        # Rest `left` lots at `price` (inline: this is the hottest path of the book).
        key = price if side == 0 else -price
        levels = own.levels
        level = levels.get(key)
        fresh = level is None
        if level is None:
            level = _Level(side, price, key)
        spare = self._spare
        if spare:
            order = spare.pop()
            order.oid = order_id
            order.remaining = left
            order.owner = owner
            order.level = level
        else:
            order = _Order(order_id, left, owner, level)
        if self._orders.setdefault(order_id, order) is not order:
            spare.append(order)
            raise ValueError(f"order id {order_id} is already live")
        if fresh:
            levels[key] = level
            if key > own.top:
                own.keys.append(key)
                own.top = key
            else:
                insort(own.keys, key)
        tail = level.tail
        if tail is None:
            level.head = order
        else:
            tail.nxt = order
            order.prv = tail
        level.tail = order
        level.qty += left
        seq = self.seq + 1
        self.seq = seq
        return Execution(qty - left, left, fills, stp, False, first, seq)

    def cancel(self, order_id: int) -> tuple[int, int, int, int] | None:
        """Remove a resting order: (side, price, remaining, owner), or None if not resting."""
        order = self._orders.pop(order_id, None)
        if order is None:
            return None
        level = order.level
        prv = order.prv
        nxt = order.nxt
        if prv is None:
            level.head = nxt
        else:
            prv.nxt = nxt
            order.prv = None
        if nxt is None:
            level.tail = prv
        else:
            nxt.prv = prv
            order.nxt = None
        remaining = order.remaining
        owner = order.owner
        level.qty -= remaining
        if level.head is None:
            (self._bids if level.side == 0 else self._asks).drop(level)
        self.seq += 1
        if len(self._spare) < _SPARE_ORDERS:
            self._spare.append(order)
        return (level.side, level.price, remaining, owner)

    def restore(self, order_id: int, side: int, price: int, qty: int, owner: int = 0) -> None:
        """Rest an order without matching, behind those already at its price (recovery)."""
        opp = self._opposite(side)
        if 0 < price <= MAX_PRICE and opp.top >= opp.sign * price:
            raise ValueError(f"order {order_id} at {price} would cross the book")
        self.submit(order_id, side, price, qty, owner)  # rests: it crosses nothing

    # -- queries ---------------------------------------------------------------------------

    def best_bid(self) -> int | None:
        top = self._bids.top
        return None if top == _EMPTY else top

    def best_ask(self) -> int | None:
        top = self._asks.top
        return None if top == _EMPTY else -top

    def level_qty(self, side: int, price: int) -> int:
        """Aggregate resting lots at `price` on `side`, 0 if none."""
        half = self._half(side)
        level = half.levels.get(half.sign * price)
        return 0 if level is None else level.qty

    def depth(self, side: int, n: int) -> list[tuple[int, int]]:
        """Up to `n` (price, total lots) levels of `side`, best first."""
        half = self._half(side)
        levels = half.levels
        keys = half.keys
        out: list[tuple[int, int]] = []
        i = len(keys) - 1
        stop = max(i - n, -1)
        while i > stop:
            level = levels[keys[i]]
            out.append((level.price, level.qty))
            i -= 1
        return out

    def fillable(
        self, side: int, qty: int, limit_price: int | None, owner: int = 0
    ) -> tuple[int, int]:
        """(lots, sum of price*lots) a taker on `side` would fill now; changes nothing."""
        if qty <= 0:
            raise ValueError(f"quantity must be positive, got {qty}")
        opp = self._opposite(side)
        threshold = _NO_LIMIT if limit_price is None else opp.sign * limit_price
        return self._fillable(opp, threshold, qty, owner)

    def get(self, order_id: int) -> tuple[int, int, int, int] | None:
        """(side, price, remaining, owner) of a resting order, None if not resting."""
        order = self._orders.get(order_id)
        if order is None:
            return None
        level = order.level
        return (level.side, level.price, order.remaining, order.owner)

    def orders(self) -> Iterator[tuple[int, int, int, int, int]]:
        """Every resting (order_id, side, price, remaining, owner): bids, then asks, best
        price first, FIFO within a level. Do not change the book while iterating."""
        for half in (self._bids, self._asks):
            levels = half.levels
            keys = half.keys
            for i in range(len(keys) - 1, -1, -1):
                level = levels[keys[i]]
                order = level.head
                while order is not None:
                    yield (order.oid, half.side, level.price, order.remaining, order.owner)
                    order = order.nxt

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    # -- internals -------------------------------------------------------------------------

    def _half(self, side: int) -> _Half:
        if side == 0:
            return self._bids
        if side == 1:
            return self._asks
        raise ValueError(f"side must be 0 (buy) or 1 (sell), got {side}")

    def _opposite(self, side: int) -> _Half:
        if side == 0:
            return self._asks
        if side == 1:
            return self._bids
        raise ValueError(f"side must be 0 (buy) or 1 (sell), got {side}")

    def _match(
        self,
        opp: _Half,
        threshold: int,
        qty: int,
        owner: int,
        fills: list[Fill],
        stp: list[tuple[int, int, int]],
    ) -> int:
        """Take up to `qty` from the levels of `opp` crossing `threshold`; return what is left."""
        orders = self._orders
        spare = self._spare
        levels = opp.levels
        keys = opp.keys
        seq = self.seq
        left = qty
        top = opp.top
        while top >= threshold:
            level = levels[top]
            price = level.price
            taken = 0
            maker = level.head
            while maker is not None:
                rem = maker.remaining
                if owner != 0 and maker.owner == owner:  # self-trade: cancel the maker
                    del orders[maker.oid]
                    stp.append((maker.oid, price, rem))
                    taken += rem
                elif rem <= left:
                    del orders[maker.oid]
                    fills.append((maker.oid, maker.owner, price, rem, 0))
                    taken += rem
                    left -= rem
                else:
                    maker.remaining = rem - left
                    fills.append((maker.oid, maker.owner, price, left, rem - left))
                    taken += left
                    left = 0
                    seq += 1
                    break
                seq += 1
                nxt = maker.nxt
                maker.nxt = None
                maker.prv = None
                if len(spare) < _SPARE_ORDERS:
                    spare.append(maker)
                maker = nxt
                if left == 0:
                    break
            level.qty -= taken
            if maker is not None:  # the taker is done inside this level
                maker.prv = None
                level.head = maker
                break
            level.head = level.tail = None
            del levels[top]
            keys.pop()
            top = keys[-1] if keys else _EMPTY
            if left == 0:
                break
        opp.top = top
        self.seq = seq
        return left

    def _fillable(self, opp: _Half, threshold: int, qty: int, owner: int) -> tuple[int, int]:
        levels = opp.levels
        keys = opp.keys
        need = qty
        notional = 0
        i = len(keys) - 1
        while i >= 0 and need > 0:
            key = keys[i]
            if key < threshold:
                break
            level = levels[key]
            if owner == 0:
                take = level.qty
            else:
                take = 0
                order = level.head
                while order is not None and take < need:
                    if order.owner != owner:
                        take += order.remaining
                    order = order.nxt
            if take > need:
                take = need
            need -= take
            notional += take * level.price
            i -= 1
        return qty - need, notional
