"""The wire JSON of the exchange's domain values: orders, trades, tickers, books, balances.

One `WireViews` per app: it memoises number formatting per symbol (prices and sizes repeat
near the touch), caches the market views until the book changes, and writes the market-data
payloads for the service (it is the service's `FeedFormat`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from exchange_ref.audit import AuditReport, AuditSnapshot
from exchange_ref.engine.exchange import Cancellation, Placement, Trade
from exchange_ref.engine.types import (
    DEFAULT_SYMBOLS,
    SIDE_NAMES,
    TIF_NAMES,
    TYPE_NAMES,
    Side,
    SymbolSpec,
    atoms_to_str,
)
from exchange_ref.feed.format import Level
from exchange_ref.metrics import ChildCache
from exchange_ref.service import ExchangeService
from exchange_ref.storage.records import OrderRecord
from exchange_ref.ticker import TickerView

__all__ = ["WireViews"]

_NO_TRADES: tuple[()] = ()
_BUY = int(Side.BUY)


def _cached(fmt: Callable[[int], str], limit: int = 65_536) -> Callable[[int], str]:
    """Memoise an integer-to-text formatter."""
    memo: dict[int, str] = {}

    def lookup(units: int) -> str:
        text = memo.get(units)
        if text is None:
            if len(memo) >= limit:
                memo.clear()
            text = memo[units] = fmt(units)
        return text

    return lookup


class WireViews:
    """Converters from domain values to the specification's JSON, for the symbols `specs`."""

    def __init__(self, specs: dict[str, SymbolSpec], cache_requests: ChildCache) -> None:
        self.specs = specs
        self._formatters = {
            s: (_cached(spec.price_str), _cached(spec.qty_str)) for s, spec in specs.items()
        }
        self._cache: dict[tuple[str, str, int], tuple[int, dict[str, Any]]] = {}
        self._cache_requests = cache_requests

    # ------------------------------------------------------------------ orders
    def order(self, p: Placement, client_id: str | None) -> dict[str, Any]:
        price_str, qty_str = self._formatters[p.symbol]
        return {
            "orderId": p.order_id,
            "clientOrderId": client_id,
            "symbol": p.symbol,
            "side": SIDE_NAMES[p.side],
            "type": TYPE_NAMES[p.type],
            "timeInForce": TIF_NAMES[p.tif],
            "price": price_str(p.price) if p.price is not None else None,
            "quantity": qty_str(p.quantity),
            "filledQuantity": qty_str(p.filled),
            "status": p.status,
            "createdAt": p.time_us // 1000,
            "trades": [
                {"tradeId": t.id, "price": price_str(t.price), "quantity": qty_str(t.quantity)}
                for t in p.trades
            ]
            if p.trades
            else _NO_TRADES,
        }

    def cancellation(self, c: Cancellation) -> dict[str, Any]:
        spec = self.specs[c.symbol]
        return {
            "orderId": c.order_id,
            "symbol": c.symbol,
            "side": SIDE_NAMES[c.side],
            "price": spec.price_str(c.price),
            "quantity": spec.qty_str(c.quantity),
            "filledQuantity": spec.qty_str(c.filled),
            "status": "CANCELLED",
        }

    def stored_order(self, rec: OrderRecord) -> dict[str, Any]:
        spec = self.specs.get(rec.symbol) or DEFAULT_SYMBOLS[rec.symbol]
        return {
            "orderId": rec.id,
            "symbol": rec.symbol,
            "side": rec.side,
            "type": rec.type,
            "timeInForce": rec.time_in_force,
            "price": spec.price_str(rec.price) if rec.price is not None else None,
            "quantity": spec.qty_str(rec.quantity),
            "filledQuantity": spec.qty_str(rec.filled_quantity),
            "status": rec.status,
            "createdAt": rec.created_at_us // 1000,
            "updatedAt": rec.updated_at_us // 1000,
        }

    @staticmethod
    def balances(rows: list[tuple[str, int, int]]) -> list[dict[str, str]]:
        return [
            {
                "asset": asset,
                "available": atoms_to_str(available),
                "locked": atoms_to_str(locked),
                "total": atoms_to_str(available + locked),
            }
            for asset, available, locked in rows
        ]

    # ------------------------------------------------------------------ audit
    @staticmethod
    def audit_snapshot(snap: AuditSnapshot) -> dict[str, Any]:
        return {
            "snapshot": snap.id,
            "max_trade_id": snap.max_trade_id,
            "max_order_id": snap.max_order_id,
        }

    @staticmethod
    def audit_report(report: AuditReport) -> dict[str, Any]:
        return {
            "passed": report.passed,
            "snapshot": report.snapshot,
            "max_order_id": report.max_order_id,
            "max_trade_id": report.max_trade_id,
            "seconds": round(report.seconds, 6),
            "checks": [
                {"name": c.name, "passed": c.passed, "detail": c.detail} for c in report.checks
            ],
        }

    # ------------------------------------------------------------------ market views (cached)
    def ticker(self, service: ExchangeService, symbol: str) -> dict[str, Any]:
        """`GET /api/v1/market/ticker`: rebuilt only when the book or the trades changed."""
        spec = service.spec_of(symbol)
        return self._view(
            "ticker",
            (spec.symbol, "ticker", 0),
            service.ticker_stamp(spec.symbol),
            lambda: self.ticker_event(service.ticker_view(spec.symbol, service.clock_us())),
        )

    def orderbook(self, service: ExchangeService, symbol: str, depth: int) -> dict[str, Any]:
        """`GET /api/v1/market/orderbook`: rebuilt only when the book changed."""
        spec = service.spec_of(symbol)

        def build() -> dict[str, Any]:
            seq, bids, asks = service.depth(spec.symbol, depth)
            return {
                "symbol": spec.symbol,
                "lastUpdateId": seq,
                "bids": [[spec.price_str(p), spec.qty_str(q)] for p, q in bids],
                "asks": [[spec.price_str(p), spec.qty_str(q)] for p, q in asks],
            }

        key = (spec.symbol, "depth", depth)
        return self._view("orderbook", key, service.book_seq(spec.symbol), build)

    def _view(
        self,
        kind: str,
        key: tuple[str, str, int],
        stamp: int,
        build: Callable[[], dict[str, Any]],
    ) -> dict[str, Any]:
        """The view cached under `key` while its `stamp` holds, else `build()` (counted in
        `cache_requests{kind}` as a hit or a miss)."""
        cached = self._cache.get(key)
        if cached is not None and cached[0] == stamp:
            self._cache_requests(kind, "hit").inc()
            return cached[1]
        self._cache_requests(kind, "miss").inc()
        data = build()
        self._cache[key] = (stamp, data)
        return data

    # ------------------------------------------------------------------ market data (FeedFormat)
    def depth_event(self, symbol: str, first: int, last: int, levels: list[Level]) -> Any:
        spec = self.specs[symbol]
        bids: list[list[str]] = []
        asks: list[list[str]] = []
        for side, price, qty in levels:
            (bids if side == _BUY else asks).append([spec.price_str(price), spec.qty_str(qty)])
        return {"symbol": symbol, "U": first, "u": last, "bids": bids, "asks": asks}

    def trade_event(self, t: Trade) -> Any:
        spec = self.specs[t.symbol]
        return {
            "symbol": t.symbol,
            "tradeId": t.id,
            "price": spec.price_str(t.price),
            "quantity": spec.qty_str(t.quantity),
            "takerSide": SIDE_NAMES[t.taker_side],
            "time": t.time_us // 1000,
        }

    def ticker_event(self, v: TickerView) -> dict[str, Any]:
        spec = self.specs[v.symbol]
        price, qty = spec.price_str, spec.qty_str
        return {
            "symbol": v.symbol,
            "lastPrice": price(v.last_price) if v.last_price is not None else None,
            "lastQuantity": qty(v.last_qty) if v.last_qty is not None else None,
            "bestBid": price(v.best_bid) if v.best_bid is not None else None,
            "bestBidQuantity": qty(v.best_bid_qty) if v.best_bid_qty is not None else None,
            "bestAsk": price(v.best_ask) if v.best_ask is not None else None,
            "bestAskQuantity": qty(v.best_ask_qty) if v.best_ask_qty is not None else None,
            "volume24h": qty(v.volume_lots),
            "quoteVolume24h": atoms_to_str(v.volume_value * spec.quote_atoms_per_tick_lot),
            "trades": v.trades,
            "lastUpdateId": v.seq,
            "time": v.time_us // 1000,
        }
