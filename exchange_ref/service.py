"""The exchange service: the pure engine, wrapped with persistence, metrics and market data.

Every mutation runs synchronously on the event loop (matching never waits on the database) and
records what it changed into the committer's current batch; the caller then awaits
`durable()` and only then answers, so nothing is acknowledged before it is committed. Market
data describing a change is published once the change is committed, in book-sequence order.

The service speaks in domain terms (users, placements, cancellations, ticks and lots) and
raises domain errors (`exchange_ref.engine.errors`, `exchange_ref.errors`); the API turns them
into the wire format and HTTP statuses.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from time import perf_counter
from typing import Any, TypeVar

from common.redact import redact
from exchange_ref.echo import clip
from exchange_ref.engine.errors import EngineError, NotOrderOwner, OrderNotFound, UnknownSymbol
from exchange_ref.engine.exchange import Cancellation, Exchange, OpenOrder, Placement
from exchange_ref.engine.types import (
    ATOMS_PER_UNIT,
    DEFAULT_SYMBOLS,
    SIDE_BY_NAME,
    SIDE_NAMES,
    TIF_BY_NAME,
    TIF_NAMES,
    TYPE_BY_NAME,
    TYPE_NAMES,
    OrderStatus,
    OrderType,
    Side,
    SymbolSpec,
    TimeInForce,
)
from exchange_ref.errors import NotDurable
from exchange_ref.feed.format import FeedFormat, Level
from exchange_ref.feed.hub import MarketDataHub
from exchange_ref.keys import key_digest, new_api_key, same_key
from exchange_ref.metrics import ChildCache, ExchangeMetrics
from exchange_ref.settings import ExchangeSettings
from exchange_ref.storage.committer import Committer
from exchange_ref.storage.records import OrderRecord, TradeRecord, UserRecord
from exchange_ref.storage.store import Store
from exchange_ref.ticker import Ticker, TickerView
from exchange_ref.users import User, UserRegistry

__all__ = ["ExchangeService", "User", "wall_clock_us"]

log = logging.getLogger("pincex.exchange")
T = TypeVar("T")
Quote = tuple[int, int]  # a book level: (price in ticks, quantity in lots)


def wall_clock_us() -> int:
    return time.time_ns() // 1000


class ExchangeService:
    """One exchange process's state and behaviour; driven by the API on one event loop.

    `feed` writes market-data payloads; without it nothing is published (no transport to
    publish to, e.g. when seeding users offline)."""

    def __init__(
        self,
        settings: ExchangeSettings,
        store: Store,
        committer: Committer,
        metrics: ExchangeMetrics,
        hub: MarketDataHub,
        clock_us: Callable[[], int] = wall_clock_us,
        feed: FeedFormat | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.committer = committer
        self.metrics = metrics
        self.hub = hub
        self.clock_us = clock_us
        self.feed = feed
        self.specs: dict[str, SymbolSpec] = {s: DEFAULT_SYMBOLS[s] for s in settings.symbols}
        self.exchange = Exchange(self.specs.values())
        self.users = UserRegistry()
        # what each user created by this process was given (the audit's starting balances)
        self.deposits: dict[uuid.UUID, dict[str, int]] = {}
        self.next_order_id = 1
        self.ready = False
        self.failed: str | None = None
        self.admin_key = settings.admin_key or secrets.token_urlsafe(24)
        self.tickers = {s: Ticker() for s in self.specs}
        self._streams = {
            s: (f"{s.lower()}@depth", f"{s.lower()}@trade", f"{s.lower()}@ticker")
            for s in self.specs
        }
        # market data waiting for its commit: (stream, data, event_time_us)
        self._outbox: list[tuple[str, Any, int]] = []
        self._outbox_base = 0  # events published so far (absolute index of _outbox[0])
        self.processed = ChildCache(metrics.orders_processed)  # (symbol, side, status)
        self.processing = ChildCache(metrics.order_processing)  # (symbol, side, type)
        self._book_update = ChildCache(metrics.book_update)
        self._trades = ChildCache(metrics.trades)
        self._engine_lock = metrics.lock_wait.labels("engine")

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Create the schema, rebuild books and balances from storage, start the committer."""
        self.store.create_schema()
        snapshot = self.store.load()
        for record in snapshot.users:
            self.users.add(record)
        owner_of = {u.id: u.owner for u in self.users.by_owner.values()}
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
                    SIDE_BY_NAME[rec.side],
                    TYPE_BY_NAME[rec.type],
                    TIF_BY_NAME[rec.time_in_force],
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
    def authenticate(self, api_key: str | None) -> User | None:
        """The user holding `api_key`; None when nobody does."""
        return self.users.find(api_key)

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
            user = self.users.add(record)
            for asset, atoms in per_user.items():
                accounts.deposit(user.owner, asset, atoms)
            self.deposits[user.id] = per_user
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
    def place(
        self,
        user: User,
        spec: SymbolSpec,
        side: Side,
        type_: OrderType,
        tif: TimeInForce,
        price: int | None,
        quantity: int,
        received_us: int,
    ) -> Placement:
        """Match and record one order; raise EngineError when it is refused. The engine's
        book-update time is observed."""
        start = perf_counter()
        order_id = self.next_order_id
        symbol = spec.symbol
        try:
            placement = self.exchange.place(
                order_id, user.owner, symbol, side, type_, tif, price, quantity, received_us
            )
        except EngineError:
            self.processed(symbol, SIDE_NAMES[side], "REJECTED").inc()
            raise
        self.next_order_id = order_id + 1
        self._record_placement(user, placement)
        self._book_update(symbol).observe(perf_counter() - start)
        return placement

    def _record_placement(self, user: User, p: Placement) -> None:
        batch = self.committer.batch
        batch.record_order(
            OrderRecord(
                p.order_id,
                user.id,
                p.symbol,
                SIDE_NAMES[p.side],
                TYPE_NAMES[p.type],
                TIF_NAMES[p.tif],
                p.price,
                p.quantity,
                p.filled,
                p.status,  # a StrEnum: already its text
                p.time_us,
                p.time_us,
            )
        )
        users = self.users.by_owner
        for maker in p.makers:
            batch.update_order(maker.order_id, maker.filled, maker.status, p.time_us)
        ticker = self.tickers[p.symbol]
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
                    SIDE_NAMES[t.taker_side],
                    t.time_us,
                )
            )
            ticker.add(t.price, t.quantity, t.time_us)
        if p.trades:
            self._trades(p.symbol).inc(len(p.trades))
        feed = self.feed
        if feed is None:
            return
        # Market data is built only for streams someone is subscribed to.
        depth, trade, ticker_stream = self._streams[p.symbol]
        has = self.hub.has_subscribers
        if p.last_seq >= p.first_seq and has(depth):
            levels = self._levels(p.symbol, p.levels)
            self._outbox.append(
                (depth, feed.depth_event(p.symbol, p.first_seq, p.last_seq, levels), p.time_us)
            )
        if p.trades:
            want_trade, want_ticker = has(trade), has(ticker_stream)
            for t in p.trades:
                if want_trade:
                    self._outbox.append((trade, feed.trade_event(t), t.time_us))
                if want_ticker:
                    view = self.ticker_view(p.symbol, t.time_us)
                    self._outbox.append((ticker_stream, feed.ticker_event(view), t.time_us))

    def _levels(self, symbol: str, changed: Iterable[tuple[int, int]]) -> list[Level]:
        book = self.exchange.books[symbol]
        return [(side, price, book.level_qty(side, price)) for side, price in sorted(changed)]

    def cancel(self, user: User, order_id: int) -> Cancellation:
        """Cancel one of the user's open orders. Someone else's order is answered exactly as an
        unknown one, so that order ids cannot be probed."""
        now = self.clock_us()
        try:
            c: Cancellation = self.exchange.cancel(user.owner, order_id, now)
        except NotOrderOwner:
            raise OrderNotFound(f"order {order_id} is not open") from None
        self.committer.batch.update_order(order_id, c.filled, OrderStatus.CANCELLED.value, now)
        self.processed(c.symbol, SIDE_NAMES[c.side], "CANCELLED").inc()
        depth = self._streams[c.symbol][0]
        if self.feed is not None and self.hub.has_subscribers(depth):
            levels = self._levels(c.symbol, ((int(c.side), c.price),))
            self._outbox.append((depth, self.feed.depth_event(c.symbol, c.seq, c.seq, levels), now))
        return c

    def engine_wait(self, arrived: float) -> None:
        """Observe how long a request waited for the engine, which one event loop serialises
        (its lock): from the request's arrival to the start of its matching."""
        self._engine_lock.observe(perf_counter() - arrived)

    def _flush_balances(self) -> None:
        accounts = self.exchange.accounts
        batch = self.committer.batch
        users = self.users.by_owner
        for owner, asset in accounts.touched:
            available, locked = accounts.get(owner, asset)
            batch.set_balance(users[owner].id, asset, available, locked)
        accounts.touched.clear()

    # ------------------------------------------------------------------ durability + publishing
    async def durable(self) -> None:
        """Return once everything recorded so far is committed; then publish its market data.

        Raises NotDurable when the commit fails: memory then holds changes the database
        refused, so the service stops taking work and fails the liveness probe to be restarted
        and rebuilt from what was committed."""
        self._flush_balances()
        mark = self._outbox_base + len(self._outbox)
        self.metrics.pending_writes.set(self.committer.pending)
        try:
            await self.committer.durable()
        except Exception as exc:
            raise self._storage_failed(exc) from None
        self._publish_committed(mark)

    async def at_rest(self, capture: Callable[[], T]) -> T:
        """`capture()`, run at a moment when the database holds exactly what is in memory.

        Commits are held, the one in flight is awaited, and everything recorded is written at
        once on the event loop (blocking it for that one write); `capture` must not await.
        Commits resume as it returns. Raises NotDurable when that write fails."""
        async with self.committer.held():
            self._flush_balances()
            mark = self._outbox_base + len(self._outbox)
            try:
                self.committer.commit_now()
            except Exception as exc:
                raise self._storage_failed(exc) from None
            self._publish_committed(mark)
            return capture()

    def _storage_failed(self, exc: Exception) -> NotDurable:
        self.failed = redact(f"{type(exc).__name__}: {exc}")
        self.ready = False
        log.error("storage write failed; refusing work until restarted: %s", self.failed)
        return NotDurable(
            "the exchange could not commit; it must be "
            "restarted (nothing of this request was acknowledged)"
        )

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

    # ------------------------------------------------------------------ queries
    def spec_of(self, symbol: str) -> SymbolSpec:
        """The rules of a traded symbol (any case); UnknownSymbol otherwise."""
        spec = self.specs.get(symbol.upper())
        if spec is None:
            known = ", ".join(self.specs)
            raise UnknownSymbol(f"unknown symbol {clip(symbol)}; known: {known}")
        return spec

    def book_seq(self, symbol: str) -> int:
        """The book's update id: it changes whenever the book does."""
        return self.exchange.books[symbol].seq

    def ticker_stamp(self, symbol: str) -> int:
        """A number that changes whenever the symbol's ticker may have (its book or trades)."""
        return self.exchange.books[symbol].seq * 1_000_003 + self.tickers[symbol].trades

    def ticker_view(self, symbol: str, now_us: int) -> TickerView:
        book = self.exchange.books[symbol]
        t = self.tickers[symbol]
        bid, ask = book.best_bid(), book.best_ask()
        lots, value = t.volume(now_us)
        traded = t.trades > 0
        return TickerView(
            symbol,
            t.last_price if traded else None,
            t.last_qty if traded else None,
            bid,
            book.level_qty(0, bid) if bid is not None else None,
            ask,
            book.level_qty(1, ask) if ask is not None else None,
            lots,
            value,
            t.trades,
            book.seq,
            now_us,
        )

    def depth(
        self, symbol: str, levels: int
    ) -> tuple[int, list[tuple[int, int]], list[tuple[int, int]]]:
        """The book's update id with its best `levels` bid and ask levels (price, quantity)."""
        book = self.exchange.books[symbol]
        return book.seq, list(book.depth(0, levels)), list(book.depth(1, levels))

    def balances(self, user: User) -> list[tuple[str, int, int]]:
        """(asset, available, locked) in atoms for every asset the exchange trades."""
        held = self.exchange.accounts.assets_of(user.owner)
        return [(asset, *held.get(asset, (0, 0))) for asset in self.assets()]

    async def order_history(self, user: User, limit: int) -> list[OrderRecord]:
        """The user's most recent stored orders, newest first (read off the event loop)."""
        return await asyncio.to_thread(self.store.orders_for_user, user.id, limit)
