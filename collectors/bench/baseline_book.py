"""The straightforward order book the engine's book is measured against.

The textbook layout: a `SortedDict` of price -> `deque` of orders per side, an id -> order dict,
and lazily deleted cancels (a cancelled order is flagged and stays in its queue until matching
or a best-price query reaches it). Same `submit`/`cancel` signature and the same semantics as
`exchange_ref.engine.book.OrderBook`, including self-trade prevention ("cancel resting") and FOK,
so replays and property tests can compare the two fill by fill.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from sortedcontainers import SortedDict

__all__ = ["BaselineBook", "BaselineExecution"]

_BUY = 0
_GTC, _IOC, _FOK = 0, 1, 2


@dataclass(slots=True)
class _Order:
    order_id: int
    side: int
    price: int
    remaining: int
    owner: int
    cancelled: bool = False


@dataclass(slots=True)
class BaselineExecution:
    """What one `submit` did: the engine's `Execution` without sequence numbers."""

    filled: int = 0
    resting: int = 0
    fills: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    stp_cancelled: list[tuple[int, int, int]] = field(default_factory=list)
    killed: bool = False


class BaselineBook:
    """Price-time priority book: SortedDict of deques, lazily deleted cancels."""

    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict()  # price -> deque[_Order]; best is the last key
        self.asks: SortedDict = SortedDict()  # best is the first key
        self.live: dict[int, _Order] = {}

    def submit(
        self,
        order_id: int,
        side: int,
        price: int,
        qty: int,
        owner: int = 0,
        market: bool = False,
        tif: int = 0,
    ) -> BaselineExecution:
        if qty <= 0:
            raise ValueError(f"quantity must be positive, got {qty}")
        if not market and price <= 0:
            raise ValueError(f"limit price must be positive, got {price}")
        if side not in (0, 1) or tif not in (_GTC, _IOC, _FOK):
            raise ValueError("bad side or time in force")
        if order_id in self.live:
            raise ValueError(f"order id {order_id} is already live")
        limit = None if market else price
        result = BaselineExecution()
        if tif == _FOK and self.fillable(side, qty, limit, owner) < qty:
            result.killed = True
            return result
        book = self.asks if side == _BUY else self.bids
        remaining = qty
        while remaining and book:
            best = book.keys()[0] if side == _BUY else book.keys()[-1]
            if limit is not None and (best > limit if side == _BUY else best < limit):
                break
            queue: deque[_Order] = book[best]
            while queue and remaining:
                maker = queue[0]
                if maker.cancelled:
                    queue.popleft()
                elif owner and maker.owner == owner:
                    queue.popleft()
                    del self.live[maker.order_id]
                    result.stp_cancelled.append((maker.order_id, best, maker.remaining))
                else:
                    take = min(remaining, maker.remaining)
                    maker.remaining -= take
                    remaining -= take
                    result.fills.append((maker.order_id, maker.owner, best, take, maker.remaining))
                    if maker.remaining == 0:
                        queue.popleft()
                        del self.live[maker.order_id]
            if not queue:
                del book[best]
        result.filled = qty - remaining
        if remaining and not market and tif == _GTC:
            own = self.bids if side == _BUY else self.asks
            order = _Order(order_id, side, price, remaining, owner)
            own.setdefault(price, deque()).append(order)
            self.live[order_id] = order
            result.resting = remaining
        return result

    def cancel(self, order_id: int) -> tuple[int, int, int, int] | None:
        order = self.live.pop(order_id, None)
        if order is None:
            return None
        order.cancelled = True
        return (order.side, order.price, order.remaining, order.owner)

    def fillable(self, side: int, qty: int, limit: int | None, owner: int = 0) -> int:
        """Lots a taker on `side` would fill now, skipping makers of `owner` (not 0)."""
        book = self.asks if side == _BUY else self.bids
        prices = book.keys() if side == _BUY else reversed(book.keys())
        total = 0
        for price in prices:
            if limit is not None and (price > limit if side == _BUY else price < limit):
                break
            for maker in book[price]:
                if not maker.cancelled and not (owner and maker.owner == owner):
                    total += maker.remaining
            if total >= qty:
                return qty
        return total

    def best_bid(self) -> int | None:
        return self._best(self.bids, -1)

    def best_ask(self) -> int | None:
        return self._best(self.asks, 0)

    def __len__(self) -> int:
        return len(self.live)

    @staticmethod
    def _best(book: SortedDict, index: int) -> int | None:
        while book:
            price, queue = book.peekitem(index)
            while queue and queue[0].cancelled:
                queue.popleft()
            if queue:
                return int(price)
            del book[price]
        return None
