"""The exchange core: books per symbol plus accounts, with funds locked, released and settled.

Pure like the book: the caller passes order ids, trade ids come from a counter it seeds, and
time arrives as `now_us`. A placement either raises `OrderRejected` having changed nothing, or
returns a `Placement` describing everything it changed (the order, trades, makers touched,
book levels touched and the book's sequence numbers), which the service persists and
publishes.

Funds: a resting BUY keeps `price * remaining` quote locked, a resting SELL its remaining base.
A taker BUY limit locks at its own limit price and gets back the difference when it trades
better; a MARKET BUY locks exactly what the book would cost it (the engine is single-threaded,
so the cost it quotes is the cost it executes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from exchange_ref.engine.accounts import Accounts
from exchange_ref.engine.book import OrderBook
from exchange_ref.engine.errors import NotOrderOwner, OrderNotFound, OrderRejected
from exchange_ref.engine.types import OrderStatus, OrderType, Side, SymbolSpec, TimeInForce

__all__ = ["Cancellation", "Exchange", "MakerUpdate", "OpenOrder", "Placement", "Trade"]

_BUY = int(Side.BUY)
_SELL = int(Side.SELL)


@dataclass(slots=True)
class OpenOrder:
    """What the exchange remembers of a resting order besides its book entry."""

    order_id: int
    owner: int
    symbol: str
    side: Side
    type: OrderType
    tif: TimeInForce
    price: int
    quantity: int
    filled: int


@dataclass(slots=True)
class Trade:
    id: int
    symbol: str
    price: int
    quantity: int
    buy_order_id: int
    sell_order_id: int
    buyer: int
    seller: int
    taker_side: Side
    time_us: int


@dataclass(slots=True)
class MakerUpdate:
    """A resting order changed by a placement: filled more, or cancelled by self-trade rules."""

    order_id: int
    owner: int
    filled: int
    status: OrderStatus


@dataclass(slots=True)
class Placement:
    order_id: int
    owner: int
    symbol: str
    side: Side
    type: OrderType
    tif: TimeInForce
    price: int | None
    quantity: int
    filled: int
    status: OrderStatus
    time_us: int
    trades: list[Trade] = field(default_factory=list)
    makers: list[MakerUpdate] = field(default_factory=list)
    first_seq: int = 0
    last_seq: int = 0
    # (side, price) of every book level this placement changed.
    levels: set[tuple[int, int]] = field(default_factory=set)


@dataclass(slots=True)
class Cancellation:
    order_id: int
    owner: int
    symbol: str
    side: Side
    price: int
    quantity: int
    filled: int
    seq: int
    time_us: int


class Exchange:
    """Books and accounts of all symbols; one caller at a time (the event loop)."""

    def __init__(self, specs: Iterable[SymbolSpec], next_trade_id: int = 1) -> None:
        self.specs: dict[str, SymbolSpec] = {s.symbol: s for s in specs}
        self.books: dict[str, OrderBook] = {s: OrderBook() for s in self.specs}
        self.accounts = Accounts()
        self.open: dict[int, OpenOrder] = {}
        self.next_trade_id = next_trade_id

    # ------------------------------------------------------------------ placement
    def place(
        self,
        order_id: int,
        owner: int,
        symbol: str,
        side: Side,
        type_: OrderType,
        tif: TimeInForce,
        price: int | None,
        quantity: int,
        now_us: int,
    ) -> Placement:
        """Validate, lock funds, match and settle one order; raise OrderRejected otherwise."""
        spec = self.specs.get(symbol)
        if spec is None:
            raise OrderRejected(f"unknown symbol {symbol!r}", "UNKNOWN_SYMBOL")
        if quantity <= 0:
            raise OrderRejected("quantity must be positive", "INVALID_QUANTITY")
        book = self.books[symbol]
        market = type_ is OrderType.MARKET
        accounts = self.accounts
        q_unit = spec.quote_atoms_per_tick_lot
        b_unit = spec.base_atoms_per_lot

        if market:
            price = None
            if side is Side.BUY:
                lots, cost = book.fillable(_BUY, quantity, None, owner)
                if tif is TimeInForce.FOK and lots < quantity:
                    return self._killed(
                        order_id, owner, spec, side, type_, tif, None, quantity, now_us
                    )
                lock_quote = cost * q_unit
                accounts.lock(owner, spec.quote, lock_quote, "market buy at current book")
            else:
                lock_quote = 0
                accounts.lock(owner, spec.base, quantity * b_unit, "sell order")
        else:
            if price is None or price <= 0:
                raise OrderRejected("a LIMIT order needs a positive price", "INVALID_PRICE")
            notional = price * quantity * q_unit
            if notional < spec.min_notional_atoms:
                raise OrderRejected(
                    f"order value {spec.price_str(price)} x {spec.qty_str(quantity)} is below "
                    f"the minimum notional {spec.min_notional} {spec.quote}",
                    "MIN_NOTIONAL",
                )
            if side is Side.BUY:
                lock_quote = notional
                accounts.lock(owner, spec.quote, notional, "buy order")
            else:
                lock_quote = 0
                accounts.lock(owner, spec.base, quantity * b_unit, "sell order")

        ex = book.submit(order_id, int(side), price or 0, quantity, owner, market, int(tif))
        placement = Placement(
            order_id,
            owner,
            symbol,
            side,
            type_,
            tif,
            price,
            quantity,
            ex.filled,
            OrderStatus.PENDING,
            now_us,
            first_seq=ex.first_seq,
            last_seq=ex.last_seq,
        )
        levels = placement.levels
        if ex.killed:
            self._release_taker(owner, spec, side, lock_quote, quantity, 0)
            placement.status = OrderStatus.CANCELLED
            return placement

        opposite = _SELL if side is Side.BUY else _BUY
        paid_quote = 0
        trades = placement.trades
        makers = placement.makers
        open_orders = self.open
        for maker_id, maker_owner, fill_price, fill_qty, maker_left in ex.fills:
            value = fill_price * fill_qty * q_unit
            base_amount = fill_qty * b_unit
            trade_id = self.next_trade_id
            self.next_trade_id = trade_id + 1
            if side is Side.BUY:
                # maker sells: its locked base goes to the taker, the taker's quote to it
                accounts.settle(maker_owner, spec.base, base_amount, owner)
                accounts.settle(owner, spec.quote, value, maker_owner)
                paid_quote += value
                trades.append(
                    Trade(
                        trade_id,
                        symbol,
                        fill_price,
                        fill_qty,
                        order_id,
                        maker_id,
                        owner,
                        maker_owner,
                        side,
                        now_us,
                    )
                )
            else:
                accounts.settle(maker_owner, spec.quote, value, owner)
                accounts.settle(owner, spec.base, base_amount, maker_owner)
                trades.append(
                    Trade(
                        trade_id,
                        symbol,
                        fill_price,
                        fill_qty,
                        maker_id,
                        order_id,
                        maker_owner,
                        owner,
                        side,
                        now_us,
                    )
                )
            maker = open_orders[maker_id]
            maker.filled += fill_qty
            if maker_left == 0:
                del open_orders[maker_id]
                makers.append(MakerUpdate(maker_id, maker_owner, maker.filled, OrderStatus.FILLED))
            else:
                makers.append(MakerUpdate(maker_id, maker_owner, maker.filled, OrderStatus.PARTIAL))
            levels.add((opposite, fill_price))
        for maker_id, maker_price, remaining in ex.stp_cancelled:
            maker = open_orders.pop(maker_id)
            self._release_resting(maker, remaining)
            makers.append(MakerUpdate(maker_id, maker.owner, maker.filled, OrderStatus.CANCELLED))
            levels.add((opposite, maker_price))

        filled = ex.filled
        if ex.resting:
            assert price is not None
            levels.add((int(side), price))
            open_orders[order_id] = OpenOrder(
                order_id, owner, symbol, side, type_, tif, price, quantity, filled
            )
            placement.status = OrderStatus.PARTIAL if filled else OrderStatus.PENDING
            # a resting buy keeps price * remaining locked: release what it saved on its fills
            if side is Side.BUY:
                accounts.unlock(
                    owner, spec.quote, lock_quote - paid_quote - price * ex.resting * q_unit
                )
        else:
            placement.status = OrderStatus.FILLED if filled == quantity else OrderStatus.CANCELLED
            self._release_taker(owner, spec, side, lock_quote - paid_quote, quantity, filled)
        return placement

    def _release_taker(
        self, owner: int, spec: SymbolSpec, side: Side, quote_left: int, quantity: int, filled: int
    ) -> None:
        if side is Side.BUY:
            self.accounts.unlock(owner, spec.quote, quote_left)
        else:
            self.accounts.unlock(owner, spec.base, (quantity - filled) * spec.base_atoms_per_lot)

    def _release_resting(self, order: OpenOrder, remaining: int) -> None:
        spec = self.specs[order.symbol]
        if order.side is Side.BUY:
            self.accounts.unlock(
                order.owner, spec.quote, order.price * remaining * spec.quote_atoms_per_tick_lot
            )
        else:
            self.accounts.unlock(order.owner, spec.base, remaining * spec.base_atoms_per_lot)

    def _killed(
        self,
        order_id: int,
        owner: int,
        spec: SymbolSpec,
        side: Side,
        type_: OrderType,
        tif: TimeInForce,
        price: int | None,
        quantity: int,
        now_us: int,
    ) -> Placement:
        seq = self.books[spec.symbol].seq
        return Placement(
            order_id,
            owner,
            spec.symbol,
            side,
            type_,
            tif,
            price,
            quantity,
            0,
            OrderStatus.CANCELLED,
            now_us,
            first_seq=seq + 1,
            last_seq=seq,
        )

    # ------------------------------------------------------------------ cancel
    def cancel(self, owner: int, order_id: int, now_us: int) -> Cancellation:
        order = self.open.get(order_id)
        if order is None:
            raise OrderNotFound(f"order {order_id} is not open")
        if order.owner != owner:
            raise NotOrderOwner(f"order {order_id} belongs to another user")
        book = self.books[order.symbol]
        removed = book.cancel(order_id)
        if removed is None:  # pragma: no cover - book and open map agree by construction
            raise AssertionError(f"order {order_id} open but not in the book")
        del self.open[order_id]
        _side, price, remaining, _owner = removed
        self._release_resting(order, remaining)
        return Cancellation(
            order_id,
            owner,
            order.symbol,
            order.side,
            price,
            order.quantity,
            order.filled,
            book.seq,
            now_us,
        )

    # ------------------------------------------------------------------ recovery
    def restore(self, order: OpenOrder) -> None:
        """Put back a resting order read from storage (its funds are in the restored balances)."""
        if order.symbol not in self.books:
            raise ValueError(f"stored order {order.order_id} has unknown symbol {order.symbol}")
        self.books[order.symbol].restore(
            order.order_id, int(order.side), order.price, order.quantity - order.filled, order.owner
        )
        self.open[order.order_id] = order

    def locked_by_orders(self) -> dict[tuple[int, str], int]:
        """Funds that the open orders should hold locked, per (owner, asset)."""
        out: dict[tuple[int, str], int] = {}
        for order in self.open.values():
            spec = self.specs[order.symbol]
            remaining = order.quantity - order.filled
            if order.side is Side.BUY:
                key, amount = (
                    (order.owner, spec.quote),
                    order.price * remaining * spec.quote_atoms_per_tick_lot,
                )
            else:
                key, amount = (order.owner, spec.base), remaining * spec.base_atoms_per_lot
            out[key] = out.get(key, 0) + amount
        return out
