"""The matching engine's order book: one symbol, price-time priority, integers only.

    book = OrderBook()
    ex = book.submit(1, Side.BUY, 5_000_000, 100_000)  # BTCUSD: 1 BTC at 50000.00
    (ex.filled, ex.resting, ex.fills)  # (0, 100000, [])

Pure: no I/O, no clock, no randomness; the caller assigns order ids. Prices are ticks and
quantities lots of the symbol (`SymbolSpec` converts). Sides are ints, BUY=0 and SELL=1; time in
force GTC=0, IOC=1, FOK=2 (`Side` and `TimeInForce` members can be passed).

`submit(order_id, side, price, qty, owner=0, market=False, tif=0) -> Execution`:

* a LIMIT order matches the opposite side while its best price crosses (buy: ask <= price; sell:
  bid >= price), at the maker's price, FIFO within a level. GTC rests the remainder at `price`;
  IOC drops it.
* a MARKET order (`price` ignored) sweeps until filled or the opposite side is empty; the
  remainder is dropped (GTC and IOC both act as IOC).
* FOK (limit or market) first asks `fillable`; when it is short of `qty` the order is killed:
  `killed=True` and nothing changes, not even `seq`. Otherwise it executes in full.
* Self-trade prevention, "cancel resting" (expire maker): when `owner != 0` and a resting maker
  has the same owner, the maker is cancelled (removed, reported in `stp_cancelled`, one `seq`)
  and matching goes on with the next maker. `owner == 0` is anonymous and never self-trades.
* ValueError for `qty <= 0`, a limit price outside 1..MAX_PRICE, a side or tif out of range, or
  an order id that is still resting.

`Execution` (slotted): `filled` lots the taker got; `resting` lots of it left on the book;
`fills`, one `(maker_id, maker_owner, price, qty, maker_remaining_after)` per maker touched in
match order; `stp_cancelled`, `(order_id, price, remaining)` per maker removed by self-trade
prevention; `killed`; `first_seq..last_seq`, the sequence numbers the call used
(`last_seq == first_seq - 1` when nothing changed).

`seq` starts at `start_seq` and grows by exactly one per book change: an order rested, a maker
reduced or removed by a fill, an order cancelled (`cancel` or self-trade prevention).

Other commands and queries: `cancel(id) -> (side, price, remaining, owner) | None`;
`restore(id, side, price, qty, owner=0)` rests without matching, in call order (crash recovery;
ValueError on a live id or a price crossing the other side); `best_bid()`, `best_ask()`;
`level_qty(side, price)`; `depth(side, n)`; `fillable(side, qty, limit_price, owner=0) ->
(lots, sum of price*lots)` for a taker on `side`, skipping makers of `owner` when it is not 0;
`get(id)`; `orders()` (bids then asks, best first, FIFO); `len(book)`; `id in book`.

The implementation is `_book_core`. When `python -m exchange_ref.engine._book_build` (run by
`make`) has compiled it with mypyc, this module exports the compiled classes, unless the
compiled copy is older than the source, in which case it warns and falls back to Python.
"""

from __future__ import annotations

import hashlib
import importlib
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from exchange_ref.engine import _book_core

__all__ = ["COMPILED", "IMPLEMENTATION", "MAX_PRICE", "Execution", "OrderBook"]

NATIVE_MODULE = "exchange_ref.engine._book_native"
MAX_PRICE = _book_core.MAX_PRICE


def source_digest() -> str:
    """SHA-256 of the implementation's source, which the compiled copy records."""
    return hashlib.sha256(Path(_book_core.__file__).read_bytes()).hexdigest()


def _load_native() -> ModuleType | None:
    try:
        native = importlib.import_module(NATIVE_MODULE)
    except ImportError:
        return None
    if getattr(native, "SOURCE_SHA256", None) != source_digest():
        warnings.warn(
            "the compiled order book is older than exchange_ref/engine/_book_core.py; using the"
            " pure-Python book (rebuild: python -m exchange_ref.engine._book_build)",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return native


_native = _load_native()
COMPILED: bool = _native is not None
IMPLEMENTATION: ModuleType = _native if _native is not None else _book_core
"""The module the classes below come from: the compiled `_book_native` or `_book_core`."""

if TYPE_CHECKING:
    from exchange_ref.engine._book_core import Execution, OrderBook
else:
    OrderBook = IMPLEMENTATION.OrderBook
    Execution = IMPLEMENTATION.Execution
