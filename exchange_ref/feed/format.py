"""What the service needs to publish market data without knowing its wire format."""

from __future__ import annotations

from typing import Any, Protocol

from exchange_ref.engine.exchange import Trade
from exchange_ref.ticker import TickerView

__all__ = ["FeedFormat", "Level"]

Level = tuple[int, int, int]  # (side, price in ticks, quantity in lots; 0 removes the level)


class FeedFormat(Protocol):
    """Writes the payload of each market-data event (`exchange_ref.api.views` is the wire's)."""

    def depth_event(self, symbol: str, first: int, last: int, levels: list[Level]) -> Any:
        """Book levels changed by updates `first`..`last`, in (side, price) order."""
        ...

    def trade_event(self, trade: Trade) -> Any: ...

    def ticker_event(self, view: TickerView) -> Any: ...
