"""A symbol's ticker: its last trade and a rolling 24 h volume, in one-minute buckets."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["Ticker", "TickerView"]

_DAY_US = 86_400_000_000
_MINUTE_US = 60_000_000


class Ticker:
    """Trades of one symbol folded into what a ticker shows; `add` each trade as it happens."""

    __slots__ = ("buckets", "last_price", "last_qty", "last_time_us", "lots", "trades", "value")

    def __init__(self) -> None:
        self.last_price = 0
        self.last_qty = 0
        self.last_time_us = 0
        self.trades = 0
        self.lots = 0  # over the buckets kept
        self.value = 0  # ticks x lots over the buckets kept
        self.buckets: deque[list[int]] = deque()  # [minute, lots, ticks x lots]

    def add(self, price: int, qty: int, at_us: int) -> None:
        self.last_price, self.last_qty, self.last_time_us = price, qty, at_us
        self.trades += 1
        self.lots += qty
        self.value += price * qty
        minute = at_us // _MINUTE_US
        if self.buckets and self.buckets[-1][0] == minute:
            bucket = self.buckets[-1]
            bucket[1] += qty
            bucket[2] += price * qty
        else:
            self.buckets.append([minute, qty, price * qty])

    def volume(self, now_us: int) -> tuple[int, int]:
        """Lots and ticks x lots traded in the 24 h before `now_us` (older buckets are dropped)."""
        horizon = (now_us - _DAY_US) // _MINUTE_US
        buckets = self.buckets
        while buckets and buckets[0][0] <= horizon:
            _, lots, value = buckets.popleft()
            self.lots -= lots
            self.value -= value
        return self.lots, self.value


@dataclass(slots=True, frozen=True)
class TickerView:
    """A symbol's ticker at one moment, in ticks, lots and counts (None: nothing there yet)."""

    symbol: str
    last_price: int | None
    last_qty: int | None
    best_bid: int | None
    best_bid_qty: int | None
    best_ask: int | None
    best_ask_qty: int | None
    volume_lots: int
    volume_value: int  # ticks x lots
    trades: int
    seq: int
    time_us: int
