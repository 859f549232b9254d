"""Order flows for the engine replay benchmark: a seeded generator and a strict CSV reader.

A flow file is CSV with the header `op,order_id,side,price,quantity`, one operation a line:

    limit,1,buy,49999.5,0.012      a GTC limit order
    market,2,sell,,0.5             a market order (empty price)
    cancel,1,,,                    cancel order 1 (empty side, price and quantity)

Prices and quantities are decimal strings of the symbol (BTCUSD: tick 0.01, lot 0.00001). Order
ids of limit and market orders are unique in a file; a cancel may name any id, and cancelling an
unknown or finished order is a no-op. The reader accepts `buy`/`sell` as the side of a cancel
and ignores it.

The generator plays the flow into the engine's `OrderBook` while it writes: passive limits near
the touch, cancels of resting orders (2% aimed at orders that may have been filled since), and
takers that sweep one to five levels (a third market orders, the rest aggressive limits whose
remainder may rest). Cancels are drawn more often as the book grows, so it settles at a few
thousand live orders.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, DecimalException
from pathlib import Path

from exchange_ref.engine.book import MAX_PRICE, OrderBook
from exchange_ref.engine.types import SymbolSpec, format_decimal

__all__ = [
    "HEADER",
    "OP_CANCEL",
    "OP_LIMIT",
    "OP_MARKET",
    "FlowError",
    "FlowSummary",
    "Op",
    "generate_flow",
    "read_flow",
    "write_flow",
]

HEADER = "op,order_id,side,price,quantity"
OP_LIMIT, OP_MARKET, OP_CANCEL = 0, 1, 2

Op = tuple[int, int, int, int, int]
"""(op, order_id, side, price ticks, quantity lots); 0 for the fields an op does not use."""

_OPS = {"limit": OP_LIMIT, "market": OP_MARKET, "cancel": OP_CANCEL}
_SIDES = {"buy": 0, "sell": 1}
_SIDE_NAMES = ("buy", "sell")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_MAX_LOTS = (1 << 62) - 1

# Generator parameters: a BTC-like book around 50000 with a ~3000-order steady state.
_START_PRICE = Decimal("50000")
_CANCEL_SCALE = 4000  # live orders at which half of the non-taker operations are cancels
_TAKER_SHARE = 0.05
_MARKET_SHARE_OF_TAKERS = 0.35
_STALE_CANCEL_SHARE = 0.02
_PASSIVE_DEPTH_TICKS = 30.0  # mean distance of a passive order behind the touch
_SIZE_MEDIAN_UNITS = 0.2  # of the base asset, lognormal
_SIZE_SIGMA = 1.1


class FlowError(ValueError):
    """A flow file that cannot be replayed; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class FlowSummary:
    operations: int
    limits: int
    markets: int
    cancels: int
    live_orders: int


def _decimals(unit: Decimal) -> int | None:
    """Decimal places of `unit` when it is a power of ten (fast integer formatting), else None."""
    shape = unit.normalize().as_tuple()
    if shape.digits == (1,) and isinstance(shape.exponent, int) and shape.exponent <= 0:
        return -shape.exponent
    return None


def _fmt(value: int, unit: Decimal, decimals: int | None) -> str:
    if decimals is None:
        return format_decimal(unit * value)
    if decimals == 0:
        return str(value)
    whole, frac = divmod(value, 10**decimals)
    if frac == 0:
        return str(whole)
    return f"{whole}.{frac:0{decimals}d}".rstrip("0")


def generate_flow(
    n: int, seed: int, spec: SymbolSpec, book: OrderBook | None = None
) -> Iterator[str]:
    """Yield the CSV lines (without newline) of an `n`-operation flow, header first.

    `book`, empty, is the one the generator plays the flow into (a fresh one when None).
    """
    rng = random.Random(seed)
    rand = rng.random
    expovariate = rng.expovariate
    lognormvariate = rng.lognormvariate
    if book is None:
        book = OrderBook()
    price_dec = _decimals(spec.tick_size)
    qty_dec = _decimals(spec.lot_size)
    price_cache: dict[int, str] = {}

    def price_text(ticks: int) -> str:
        text = price_cache.get(ticks)
        if text is None:
            text = price_cache[ticks] = _fmt(ticks, spec.tick_size, price_dec)
        return text

    start = int(_START_PRICE / spec.tick_size)
    one_unit = max(1, int(1 / spec.lot_size))  # lots in one unit of the base asset
    size_mu = math.log(_SIZE_MEDIAN_UNITS * one_unit)
    round_lots = max(1, one_unit // 1000)  # most sizes are whole thousandths of a unit
    resting: list[int] = []  # ids that rested, some since filled
    next_id = 0

    def size() -> int:
        lots = int(lognormvariate(size_mu, _SIZE_SIGMA))
        if rand() < 0.8:
            lots = lots // round_lots * round_lots
        return max(lots, round_lots)

    yield HEADER
    for _ in range(n):
        bid = book.best_bid()
        ask = book.best_ask()
        x = rand()
        if x < _TAKER_SHARE and (bid is not None or ask is not None):
            if bid is not None and ask is not None:
                mid = (bid + ask) // 2
            else:
                mid = bid if bid is not None else (ask or start)
            lean = 0.1 * math.tanh((mid - start) * 1000 / start)  # lean back to the start
            side = 1 if (rand() < 0.5 + lean) else 0
            if (ask if side == 0 else bid) is None:
                side ^= 1
            levels = book.depth(1 - side, 1 + min(4, int(expovariate(1.0))))
            want = sum(q for _, q in levels[:-1]) + max(1, int(levels[-1][1] * rand()))
            next_id += 1
            if rand() < _MARKET_SHARE_OF_TAKERS:
                book.submit(next_id, side, 0, want, 0, True)
                yield f"market,{next_id},{_SIDE_NAMES[side]},,{_fmt(want, spec.lot_size, qty_dec)}"
                continue
            want = max(1, int(want * (0.6 + 0.7 * rand())))
            price = levels[-1][0]
            ex = book.submit(next_id, side, price, want)
            if ex.resting:
                resting.append(next_id)
            yield (
                f"limit,{next_id},{_SIDE_NAMES[side]},{price_text(price)},"
                f"{_fmt(want, spec.lot_size, qty_dec)}"
            )
            continue
        live = len(book)
        if resting and rand() < min(0.9, 0.5 * live / _CANCEL_SCALE):
            stale = rand() < _STALE_CANCEL_SHARE
            while resting:
                i = int(rand() * len(resting))
                victim = resting[i]
                resting[i] = resting[-1]
                resting.pop()
                if stale or victim in book:
                    break
            book.cancel(victim)
            yield f"cancel,{victim},,,"
            continue
        side = 0 if rand() < 0.5 else 1
        distance = int(expovariate(1.0 / _PASSIVE_DEPTH_TICKS))
        if side == 0:
            anchor = ask - 1 if ask is not None else (bid if bid is not None else start - 1)
            price = max(1, anchor - distance)
        else:
            anchor = bid + 1 if bid is not None else (ask if ask is not None else start + 1)
            price = anchor + distance
        qty = size()
        next_id += 1
        book.submit(next_id, side, price, qty)
        resting.append(next_id)
        yield (
            f"limit,{next_id},{_SIDE_NAMES[side]},{price_text(price)},"
            f"{_fmt(qty, spec.lot_size, qty_dec)}"
        )


def write_flow(path: Path, n: int, seed: int, spec: SymbolSpec) -> FlowSummary:
    """Write an `n`-operation flow to `path`; the same n, seed and symbol give the same bytes."""
    book = OrderBook()
    counts = {"l": 0, "m": 0, "c": 0}
    chunk: list[str] = []
    with path.open("w", encoding="ascii", newline="\n") as out:
        out.write(HEADER + "\n")
        lines = generate_flow(n, seed, spec, book)
        next(lines)  # the header
        for line in lines:
            counts[line[0]] += 1
            chunk.append(line)
            if len(chunk) >= 65_536:
                out.write("\n".join(chunk) + "\n")
                chunk.clear()
        if chunk:
            out.write("\n".join(chunk) + "\n")
    return FlowSummary(n, counts["l"], counts["m"], counts["c"], len(book))


def _units(
    text: str, unit: Decimal, what: str, unit_name: str, cache: dict[str, int], limit: int
) -> int:
    """Whole units of `unit` in the decimal string `text`; raises ValueError with a reason."""
    value = cache.get(text)
    if value is not None:
        return value
    if not text:
        raise ValueError(f"{what} is missing")
    if _DECIMAL.fullmatch(text) is None:
        raise ValueError(f"{what} {text!r} is not a decimal number")
    if text.startswith("-"):
        raise ValueError(f"{what} {text!r} must be positive")
    try:
        whole, rest = divmod(Decimal(text), unit)
    except DecimalException:
        raise ValueError(f"{what} {text!r} is out of range") from None
    if rest != 0:
        raise ValueError(
            f"{what} {text!r} is not a multiple of the {unit_name} {format_decimal(unit)}"
        )
    value = int(whole)
    if value <= 0:
        raise ValueError(f"{what} {text!r} must be positive")
    if value > limit:
        raise ValueError(f"{what} {text!r} is too large")
    cache[text] = value
    return value


def read_flow(path: Path, spec: SymbolSpec) -> list[Op]:
    """Parse a flow file into operation tuples; FlowError names the first bad line."""
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise FlowError(f"{path}: {exc.strerror or exc}") from None
    with handle:
        try:
            return _parse(handle, path, spec)
        except UnicodeDecodeError:
            raise FlowError(f"{path}: not a UTF-8 text file") from None


def _parse(lines: Iterator[str], path: Path, spec: SymbolSpec) -> list[Op]:
    header = next(lines, None)
    if header is None:
        raise FlowError(f"{path} line 1: empty file, expected the header {HEADER!r}")
    if header.rstrip("\r\n") != HEADER:
        raise FlowError(f"{path} line 1: header must be {HEADER!r}, got {header.rstrip()!r}")
    ops: list[Op] = []
    append = ops.append
    submitted: set[int] = set()
    prices: dict[str, int] = {}
    quantities: dict[str, int] = {}
    tick, lot = spec.tick_size, spec.lot_size
    for lineno, line in enumerate(lines, 2):
        try:
            fields = line.rstrip("\r\n").split(",")
            if len(fields) != 5:
                if not line.strip():
                    continue  # a blank line
                raise ValueError(
                    f"expected 5 fields ({HEADER}), got {len(fields)}: {line.rstrip()!r}"
                )
            name, id_text, side_text, price_text, qty_text = fields
            op = _OPS.get(name)
            if op is None:
                raise ValueError(f"unknown op {name!r} (expected limit, market or cancel)")
            if not (id_text.isascii() and id_text.isdigit()):
                raise ValueError(f"order_id {id_text!r} is not a non-negative integer")
            order_id = int(id_text)
            if op == OP_CANCEL:
                if side_text and side_text not in _SIDES:
                    raise ValueError(f"side {side_text!r} must be buy, sell or empty")
                if price_text or qty_text:
                    raise ValueError("a cancel takes no price and no quantity")
                append((OP_CANCEL, order_id, 0, 0, 0))
                continue
            side = _SIDES.get(side_text)
            if side is None:
                raise ValueError(f"side {side_text!r} must be buy or sell")
            if order_id in submitted:
                raise ValueError(f"order_id {order_id} is used by an earlier order")
            submitted.add(order_id)
            qty = _units(qty_text, lot, "quantity", "lot", quantities, _MAX_LOTS)
            if op == OP_MARKET:
                if price_text:
                    raise ValueError(f"a market order takes no price, got {price_text!r}")
                append((OP_MARKET, order_id, side, 0, qty))
            else:
                price = _units(price_text, tick, "price", "tick", prices, MAX_PRICE)
                append((OP_LIMIT, order_id, side, price, qty))
        except ValueError as exc:
            raise FlowError(f"{path} line {lineno}: {exc}") from None
    return ops
