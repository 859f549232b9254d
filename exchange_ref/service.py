"""The exchange service: the pure engine, wrapped with persistence, metrics and market data.

Every mutation runs synchronously on the event loop (matching never waits on the database) and
records what it changed into the committer's current batch; the caller then awaits
`committer.durable()` and only then answers, so nothing is acknowledged before it is committed.
Market data describing a change is published once the change is committed, in book-sequence
order.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from time import perf_counter
from typing import Any

from common.redact import redact
from exchange_ref.api.wire import ParsedOrder, WireError, clip, parse_order
from exchange_ref.engine.errors import EngineError, NotOrderOwner, OrderNotFound
from exchange_ref.engine.exchange import Cancellation, Exchange, OpenOrder, Placement
from exchange_ref.engine.types import (
    ATOMS_PER_UNIT,
    DEFAULT_SYMBOLS,
    OrderStatus,
    OrderType,
    Side,
    SymbolSpec,
    TimeInForce,
    atoms_to_str,
)
from exchange_ref.feed.hub import MarketDataHub
from exchange_ref.keys import MAX_KEY_LENGTH, key_digest, new_api_key, same_key
from exchange_ref.metrics import ExchangeMetrics
from exchange_ref.settings import ExchangeSettings
from exchange_ref.storage.committer import Committer
from exchange_ref.storage.records import OrderRecord, TradeRecord, UserRecord
from exchange_ref.storage.store import Store

__all__ = ["ExchangeService", "User", "wall_clock_us"]

_SIDE_NAMES = {Side.BUY: "BUY", Side.SELL: "SELL"}
_TYPE_NAMES = {OrderType.LIMIT: "LIMIT", OrderType.MARKET: "MARKET"}
_TIF_NAMES = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}
_SIDE_BY_NAME = {v: k for k, v in _SIDE_NAMES.items()}
_TYPE_BY_NAME = {v: k for k, v in _TYPE_NAMES.items()}
_TIF_BY_NAME = {v: k for k, v in _TIF_NAMES.items()}
_DAY_US = 86_400_000_000
_NO_TRADES: tuple[()] = ()
log = logging.getLogger("pincex.exchange")


def wall_clock_us() -> int:
    return time.time_ns() // 1000


def _cached(fmt: Callable[[int], str], limit: int = 65_536) -> Callable[[int], str]:
    """Memoise an integer-to-text formatter (prices and sizes repeat near the touch)."""
    memo: dict[int, str] = {}

    def lookup(units: int) -> str:
        text = memo.get(units)
        if text is None:
            if len(memo) >= limit:
                memo.clear()
            text = memo[units] = fmt(units)
        return text

    return lookup


@dataclass(slots=True, frozen=True)
class User:
    id: uuid.UUID
    owner: int
    name: str


class _Ticker:
    """Last trade and a rolling 24 h volume per symbol, in one-minute buckets."""

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
        minute = at_us // 60_000_000
        if self.buckets and self.buckets[-1][0] == minute:
            bucket = self.buckets[-1]
            bucket[1] += qty
            bucket[2] += price * qty
        else:
            self.buckets.append([minute, qty, price * qty])

    def volume(self, now_us: int) -> tuple[int, int]:
        horizon = (now_us - _DAY_US) // 60_000_000
        buckets = self.buckets
        while buckets and buckets[0][0] <= horizon:
            _, lots, value = buckets.popleft()
            self.lots -= lots
            self.value -= value
        return self.lots, self.value


class ExchangeService:
    """One exchange process's state and behaviour; driven by the API on one event loop."""

    def __init__(
        self,
        settings: ExchangeSettings,
        store: Store,
        committer: Committer,
        metrics: ExchangeMetrics,
        hub: MarketDataHub,
        clock_us: Callable[[], int] = wall_clock_us,
    ) -> None:
        self.settings = settings
        self.store = store
        self.committer = committer
        self.metrics = metrics
        self.hub = hub
        self.clock_us = clock_us
        self.specs: dict[str, SymbolSpec] = {s: DEFAULT_SYMBOLS[s] for s in settings.symbols}
        self.exchange = Exchange(self.specs.values())
        self.users_by_digest: dict[str, User] = {}  # by key_digest(api key)
        self.users_by_owner: dict[int, User] = {}
        self.next_order_id = 1
        self.ready = False
        self.failed: str | None = None
        self.admin_key = settings.admin_key or secrets.token_urlsafe(24)
        self._tickers = {s: _Ticker() for s in self.specs}
        self._streams = {
            s: (f"{s.lower()}@depth", f"{s.lower()}@trade", f"{s.lower()}@ticker")
            for s in self.specs
        }
        # market data waiting for its commit: (stream, data, event_time_us)
        self._outbox: list[tuple[str, dict[str, Any], int]] = []
        self._outbox_base = 0  # events published so far (absolute index of _outbox[0])
        self._cache: dict[tuple[str, str, int], tuple[int, dict[str, Any]]] = {}
        self._children: dict[object, Any] = {}  # resolved metric children
        self._engine_lock = metrics.lock_wait.labels("engine")
        self._formatters = {
            s: (_cached(spec.price_str), _cached(spec.qty_str)) for s, spec in self.specs.items()
        }

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Create the schema, rebuild books and balances from storage, start the committer."""
        self.store.create_schema()
        snapshot = self.store.load()
        for record in snapshot.users:
            self._add_user(record)
        owner_of = {u.id: u.owner for u in self.users_by_owner.values()}
        for bal in snapshot.balances:
            owner = owner_of.get(bal.user_id)
            if owner is not None:
                self.exchange.accounts.set(owner, bal.asset, bal.available, bal.locked)
        for rec in snapshot.open_orders:
            if rec.symbol not in self.specs or rec.price is None:
                continue
            self.exchange.restore(
                OpenOrder(
                    rec.id,
                    owner_of[rec.user_id],
                    rec.symbol,
                    _SIDE_BY_NAME[rec.side],
                    _TYPE_BY_NAME[rec.type],
                    _TIF_BY_NAME[rec.time_in_force],
                    rec.price,
                    rec.quantity,
                    rec.filled_quantity,
                )
            )
        self.exchange.accounts.touched.clear()
        self.exchange.next_trade_id = snapshot.max_trade_id + 1
        self.next_order_id = snapshot.max_order_id + 1
        await self.committer.start()
        self.ready = True

    async def stop(self) -> None:
        """Flush every pending write; called after the server stopped taking requests."""
        self.ready = False
        await self.committer.stop()
        self._publish_committed(len(self._outbox) + self._outbox_base)

    # ------------------------------------------------------------------ users
    def _add_user(self, record: UserRecord) -> User:
        user = User(record.id, len(self.users_by_owner) + 1, record.name)
        self.users_by_digest[record.api_key_digest] = user
        self.users_by_owner[user.owner] = user
        return user

    def authenticate(self, api_key: str | None) -> User | None:
        """The user holding `api_key`, looked up by its digest; None when nobody does."""
        if not api_key or len(api_key) > MAX_KEY_LENGTH:
            return None
        return self.users_by_digest.get(key_digest(api_key))

    def is_admin(self, api_key: str | None) -> bool:
        return bool(api_key) and same_key(api_key or "", self.admin_key)

    def create_users(
        self, count: int, deposits: dict[str, Decimal], prefix: str = "user"
    ) -> list[tuple[User, str]]:
        """Create users with fresh API keys and the given deposits (recorded, not yet durable).

        Returns each user with its key: the only time the key is known, since only its digest
        is kept."""
        now = self.clock_us()
        batch = self.committer.batch
        accounts = self.exchange.accounts
        users = []
        per_user = {a: int(v * ATOMS_PER_UNIT) for a, v in deposits.items() if v > 0}
        for asset, atoms in per_user.items():
            if not accounts.can_deposit(asset, atoms * count):
                raise EngineError(
                    f"deposits refused: {count} x {deposits[asset]} {asset} would take the "
                    f"exchange's total {asset} past its 64-bit limit",
                    "SUPPLY_LIMIT",
                )
        for _ in range(count):
            api_key = new_api_key()
            record = UserRecord(uuid.uuid4(), "", key_digest(api_key), now)
            record.name = f"{prefix}-{record.id.hex[:8]}"
            batch.users.append(record)
            user = self._add_user(record)
            for asset, atoms in per_user.items():
                accounts.deposit(user.owner, asset, atoms)
            users.append((user, api_key))
        self._flush_balances()
        return users

    def assets(self) -> list[str]:
        seen: dict[str, None] = {}
        for spec in self.specs.values():
            seen[spec.base] = None
            seen[spec.quote] = None
        return list(seen)

    # ------------------------------------------------------------------ orders
    def parse(self, item: Any) -> ParsedOrder:
        """Check one order object without acting on it; raise WireError when it is refused.

        Parsing changes nothing, so even a defect in it is answered as a refusal (and logged)
        rather than as a failed request."""
        try:
            return parse_order(item, self.specs)
        except WireError:
            raise
        except Exception:
            log.exception("reading an order object failed")
            raise WireError("INVALID_ORDER", "the order object could not be read") from None

    def place(self, user: User, item: Any, received_us: int) -> dict[str, Any]:
        """Parse, match and record one order object; raise WireError/EngineError otherwise."""
        return self.place_parsed(user, parse_order(item, self.specs), received_us)

    def place_parsed(self, user: User, parsed: ParsedOrder, received_us: int) -> dict[str, Any]:
        """Match and record an order `parse` accepted; raise EngineError when it is refused."""
        order_id = self.next_order_id
        try:
            placement = self.exchange.place(
                order_id,
                user.owner,
                parsed.spec.symbol,
                parsed.side,
                parsed.type,
                parsed.tif,
                parsed.price,
                parsed.quantity,
                received_us,
            )
        except EngineError:
            self._processed(parsed.spec.symbol, _SIDE_NAMES[parsed.side], "REJECTED").inc()
            raise
        self.next_order_id = order_id + 1
        self._record_placement(user, placement, parsed.spec)
        return self._order_json(placement, parsed.spec, parsed.client_order_id)

    def place_timed(self, user: User, parsed: ParsedOrder, received_us: int) -> dict[str, Any]:
        """`place_parsed`, observing the engine's book-update time."""
        start = perf_counter()
        out = self.place_parsed(user, parsed, received_us)
        self._book_update(out["symbol"]).observe(perf_counter() - start)
        return out

    def _record_placement(self, user: User, p: Placement, spec: SymbolSpec) -> None:
        batch = self.committer.batch
        side = _SIDE_NAMES[p.side]
        batch.record_order(
            OrderRecord(
                p.order_id,
                user.id,
                p.symbol,
                side,
                _TYPE_NAMES[p.type],
                _TIF_NAMES[p.tif],
                p.price,
                p.quantity,
                p.filled,
                p.status,  # a StrEnum: already its text
                p.time_us,
                p.time_us,
            )
        )
        users = self.users_by_owner
        for maker in p.makers:
            batch.update_order(maker.order_id, maker.filled, maker.status, p.time_us)
        ticker = self._tickers[p.symbol]
        for t in p.trades:
            batch.trades.append(
                TradeRecord(
                    t.id,
                    t.symbol,
                    t.price,
                    t.quantity,
                    t.buy_order_id,
                    t.sell_order_id,
                    users[t.buyer].id,
                    users[t.seller].id,
                    _SIDE_NAMES[t.taker_side],
                    t.time_us,
                )
            )
            ticker.add(t.price, t.quantity, t.time_us)
        if p.trades:
            self._trades_counter(p.symbol).inc(len(p.trades))
        # Market data is built only for streams someone is subscribed to.
        depth, trade, ticker_stream = self._streams[p.symbol]
        has = self.hub.has_subscribers
        if p.last_seq >= p.first_seq and has(depth):
            self._outbox.append(
                (depth, self._depth_delta(p.symbol, p.first_seq, p.last_seq, p.levels), p.time_us)
            )
        if p.trades:
            want_trade, want_ticker = has(trade), has(ticker_stream)
            for t in p.trades:
                if want_trade:
                    self._outbox.append(
                        (
                            trade,
                            {
                                "symbol": t.symbol,
                                "tradeId": t.id,
                                "price": spec.price_str(t.price),
                                "quantity": spec.qty_str(t.quantity),
                                "takerSide": _SIDE_NAMES[t.taker_side],
                                "time": t.time_us // 1000,
                            },
                            t.time_us,
                        )
                    )
                if want_ticker:
                    self._outbox.append(
                        (ticker_stream, self._ticker_json(p.symbol, t.time_us), t.time_us)
                    )

    def cancel(self, user: User, order_id: int) -> dict[str, Any]:
        """Cancel one of the user's open orders. Someone else's order is answered exactly as an
        unknown one, so that order ids cannot be probed."""
        now = self.clock_us()
        try:
            c: Cancellation = self.exchange.cancel(user.owner, order_id, now)
        except NotOrderOwner:
            raise OrderNotFound(f"order {order_id} is not open") from None
        spec = self.specs[c.symbol]
        self.committer.batch.update_order(order_id, c.filled, OrderStatus.CANCELLED.value, now)
        self._processed(c.symbol, _SIDE_NAMES[c.side], "CANCELLED").inc()
        depth = self._streams[c.symbol][0]
        if self.hub.has_subscribers(depth):
            self._outbox.append(
                (depth, self._depth_delta(c.symbol, c.seq, c.seq, {(int(c.side), c.price)}), now)
            )
        return {
            "orderId": c.order_id,
            "symbol": c.symbol,
            "side": _SIDE_NAMES[c.side],
            "price": spec.price_str(c.price),
            "quantity": spec.qty_str(c.quantity),
            "filledQuantity": spec.qty_str(c.filled),
            "status": "CANCELLED",
        }

    def count_processed(self, orders: list[dict[str, Any]]) -> None:
        """Count acknowledged orders in `pincex_orders_processed_total` (once per request)."""
        counts: dict[tuple[str, str, str], int] = {}
        for order in orders:
            key = (order["symbol"], order["side"], order["status"])
            counts[key] = counts.get(key, 0) + 1
        for (symbol, side, status), count in counts.items():
            self._processed(symbol, side, status).inc(count)

    def _processed(self, symbol: str, side: str, status: str) -> Any:
        key = (symbol, side, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.metrics.orders_processed.labels(*key)
        return child

    def processing_histogram(self, symbol: str, side: str, type_: str) -> Any:
        key = ("processing", symbol, side, type_)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.metrics.order_processing.labels(symbol, side, type_)
        return child

    def engine_wait(self, arrived: float) -> None:
        """Observe how long a request waited for the engine, which one event loop serialises
        (its lock): from the request's arrival to the start of its matching."""
        self._engine_lock.observe(perf_counter() - arrived)

    def _book_update(self, symbol: str) -> Any:
        key = ("book", symbol)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.metrics.book_update.labels(symbol)
        return child

    def _trades_counter(self, symbol: str) -> Any:
        child = self._children.get(symbol)
        if child is None:
            child = self._children[symbol] = self.metrics.trades.labels(symbol)
        return child

    def _flush_balances(self) -> None:
        accounts = self.exchange.accounts
        batch = self.committer.batch
        users = self.users_by_owner
        for owner, asset in accounts.touched:
            available, locked = accounts.get(owner, asset)
            batch.set_balance(users[owner].id, asset, available, locked)
        accounts.touched.clear()

    # ------------------------------------------------------------------ durability + publishing
    async def durable(self) -> None:
        """Return once everything recorded so far is committed; then publish its market data."""
        self._flush_balances()
        mark = self._outbox_base + len(self._outbox)
        self.metrics.pending_writes.set(self.committer.pending)
        try:
            await self.committer.durable()
        except Exception as exc:
            # Memory now holds changes the database refused: stop taking work and fail the
            # liveness probe so the process is restarted and rebuilt from what was committed.
            self.failed = redact(f"{type(exc).__name__}: {exc}")
            self.ready = False
            log.error("storage write failed; refusing work until restarted: %s", self.failed)
            raise WireError(
                "STORAGE_FAILURE",
                "the exchange could not commit; it must be "
                "restarted (nothing of this request was acknowledged)",
                503,
            ) from None
        self._publish_committed(mark)

    def _publish_committed(self, mark: int) -> None:
        count = mark - self._outbox_base
        if count <= 0:
            return
        events = self._outbox[:count]
        del self._outbox[:count]
        self._outbox_base = mark
        publish = self.hub.publish
        for stream, data, at_us in events:
            publish(stream, data, at_us)

    def overloaded(self) -> str | None:
        if self.committer.pending > self.settings.max_pending_orders:
            return "pending_writes"
        return None

    # ------------------------------------------------------------------ views
    def _order_json(self, p: Placement, spec: SymbolSpec, client_id: str | None) -> dict[str, Any]:
        price_str, qty_str = self._formatters[p.symbol]
        return {
            "orderId": p.order_id,
            "clientOrderId": client_id,
            "symbol": p.symbol,
            "side": _SIDE_NAMES[p.side],
            "type": _TYPE_NAMES[p.type],
            "timeInForce": _TIF_NAMES[p.tif],
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

    def _depth_delta(
        self, symbol: str, first: int, last: int, levels: Iterable[tuple[int, int]]
    ) -> dict[str, Any]:
        book = self.exchange.books[symbol]
        spec = self.specs[symbol]
        bids: list[list[str]] = []
        asks: list[list[str]] = []
        for side, price in sorted(levels):
            row = [spec.price_str(price), spec.qty_str(book.level_qty(side, price))]
            (bids if side == int(Side.BUY) else asks).append(row)
        return {"symbol": symbol, "U": first, "u": last, "bids": bids, "asks": asks}

    def _ticker_json(self, symbol: str, now_us: int) -> dict[str, Any]:
        spec = self.specs[symbol]
        book = self.exchange.books[symbol]
        t = self._tickers[symbol]
        bid, ask = book.best_bid(), book.best_ask()
        lots, value = t.volume(now_us)
        return {
            "symbol": symbol,
            "lastPrice": spec.price_str(t.last_price) if t.trades else None,
            "lastQuantity": spec.qty_str(t.last_qty) if t.trades else None,
            "bestBid": spec.price_str(bid) if bid is not None else None,
            "bestBidQuantity": spec.qty_str(book.level_qty(0, bid)) if bid is not None else None,
            "bestAsk": spec.price_str(ask) if ask is not None else None,
            "bestAskQuantity": spec.qty_str(book.level_qty(1, ask)) if ask is not None else None,
            "volume24h": spec.qty_str(lots),
            "quoteVolume24h": atoms_to_str(value * spec.quote_atoms_per_tick_lot),
            "trades": t.trades,
            "lastUpdateId": book.seq,
            "time": now_us // 1000,
        }

    def spec_of(self, symbol: str) -> SymbolSpec:
        spec = self.specs.get(symbol.upper())
        if spec is None:
            raise WireError(
                "UNKNOWN_SYMBOL", f"unknown symbol {clip(symbol)}; known: {', '.join(self.specs)}"
            )
        return spec

    def ticker(self, symbol: str) -> dict[str, Any]:
        spec = self.spec_of(symbol)
        book = self.exchange.books[spec.symbol]
        key = (spec.symbol, "ticker", 0)
        stamp = book.seq * 1_000_003 + self._tickers[spec.symbol].trades
        cached = self._cache.get(key)
        if cached is not None and cached[0] == stamp:
            self.metrics.cache_requests.labels("ticker", "hit").inc()
            return cached[1]
        self.metrics.cache_requests.labels("ticker", "miss").inc()
        data = self._ticker_json(spec.symbol, self.clock_us())
        self._cache[key] = (stamp, data)
        return data

    def orderbook(self, symbol: str, depth: int) -> dict[str, Any]:
        spec = self.spec_of(symbol)
        book = self.exchange.books[spec.symbol]
        key = (spec.symbol, "depth", depth)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == book.seq:
            self.metrics.cache_requests.labels("orderbook", "hit").inc()
            return cached[1]
        self.metrics.cache_requests.labels("orderbook", "miss").inc()
        data = {
            "symbol": spec.symbol,
            "lastUpdateId": book.seq,
            "bids": [[spec.price_str(p), spec.qty_str(q)] for p, q in book.depth(0, depth)],
            "asks": [[spec.price_str(p), spec.qty_str(q)] for p, q in book.depth(1, depth)],
        }
        self._cache[key] = (book.seq, data)
        return data

    def balances(self, user: User) -> list[dict[str, str]]:
        held = self.exchange.accounts.assets_of(user.owner)
        out = []
        for asset in self.assets():
            available, locked = held.get(asset, (0, 0))
            out.append(
                {
                    "asset": asset,
                    "available": atoms_to_str(available),
                    "locked": atoms_to_str(locked),
                    "total": atoms_to_str(available + locked),
                }
            )
        return out

    def stored_order_json(self, rec: OrderRecord) -> dict[str, Any]:
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
